"""The cause of "Fatal Python error: bool_dealloc" at quit, and its cure.

PySide6 6.12.0 on CPython 3.11 drops a reference to True on every `Signal.emit()` and one to
None on every call of a method returning None (measured by `qtlog.measure_drops`). A long
session (each streamed token is an emit) brings a count to zero and the interpreter aborts,
often while quitting. `qtlog.install()` (what `n1studio gui` and `demo` call) makes them
immortal as Python 3.12 does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

SESSION = textwrap.dedent("""
    import sys
    from PySide6 import QtCore, QtWidgets
    app = QtWidgets.QApplication([])
    if sys.argv[1] == "installed":
        from n1studio.app.runtime import qtlog
        qtlog.install()

    class Job(QtCore.QObject):
        token = QtCore.Signal(str)
        done = QtCore.Signal(bool)

    label = QtWidgets.QLabel()
    job = Job()
    job.token.connect(label.setText)
    job.done.connect(label.setEnabled)
    for k in range(20000):  # a long session: tokens streamed, widgets updated
        job.token.emit(str(k))
        job.done.emit(k % 2 == 0)
        label.update()
    label.close()
    print("quit cleanly", flush=True)
""")


def _session(mode: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", SESSION, mode], capture_output=True, text=True,
                          timeout=120, check=False,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None and bools are immortal there")
def test_pyside_drops_references_to_singletons():
    from n1studio.app.runtime import qtlog

    drops = qtlog.measure_drops()
    if not any(drops.values()):
        pytest.skip(f"this PySide6 drops no references: {drops}")
    assert drops["True"] == pytest.approx(1.0)  # Signal.emit()
    assert drops["None"] == pytest.approx(1.0)  # a method returning None
    raw = _session("raw")
    assert raw.returncode != 0
    assert "_dealloc" in raw.stderr  # bool_dealloc or none_dealloc: the abort users saw


def test_a_long_session_with_qtlog_installed_quits_cleanly():
    res = _session("installed")
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip() == "quit cleanly"
    assert "Fatal Python error" not in res.stderr
