"""The cause of "Fatal Python error: bool_dealloc" at quit, and the guard against it.

PySide6 6.12.0 on CPython 3.11 drops a reference to True on every `Signal.emit()` and one to
None on every call of a method returning None and every Qt message through a Python
handler: a session of a thousand emits (a streamed answer is one emit per token) brings a
count to zero and the interpreter aborts. pyproject.toml pins 6.11.3, which drops none;
these tests measure the installed PySide6 in a fresh process with no workaround, so a
release with the leak fails here, by name, rather than in a user's session.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(sys.version_info >= (3, 12),
                                reason="None and the bools are immortal there")

# what each path drops per call, measured in a fresh process (a leaking build may abort)
PROBE = textwrap.dedent("""
    import json, sys
    from PySide6 import QtCore
    app = QtCore.QCoreApplication([])

    class Probe(QtCore.QObject):
        pinged = QtCore.Signal()
        flag = QtCore.Signal(bool)

    p = Probe()
    QtCore.qInstallMessageHandler(lambda *a: None)
    paths = {"method returning None": lambda: p.setObjectName("probe"),
             "Signal.emit()": p.pinged.emit, "Signal.emit(False)": lambda: p.flag.emit(False),
             "Qt message through a Python handler": lambda: QtCore.qDebug("probe")}
    out = {}
    for name, call in paths.items():
        for _ in range(20):
            call()  # the first calls may keep a reference for good (caches): not a leak
        before = {k: sys.getrefcount(v) for k, v in (("None", None), ("True", True),
                                                     ("False", False))}
        for _ in range(200):
            call()
        out[name] = {k: before[k] - sys.getrefcount(v) for k, v in (("None", None),
                     ("True", True), ("False", False))}
    print(json.dumps(out))
""")

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

ENV = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}


def test_the_installed_pyside_drops_no_references_to_none_or_the_bools():
    from PySide6 import __version__

    proc = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          timeout=120, check=False, env=ENV)
    assert proc.returncode == 0, f"PySide6 {__version__} aborted: {proc.stderr[-1500:]}"
    drops = json.loads(proc.stdout)
    assert all(n == 0 for d in drops.values() for n in d.values()), \
        f"PySide6 {__version__} drops references (per 200 calls): {drops}"


@pytest.mark.parametrize("mode", ["raw", "installed"])
def test_a_long_session_quits_cleanly(mode):
    """20,000 emits of each kind, with Qt's own message output and with the app's handler
    (`qtlog.install`, what `n1studio gui` and `demo` call)."""
    res = subprocess.run([sys.executable, "-c", SESSION, mode], capture_output=True,
                         text=True, timeout=120, check=False, env=ENV)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip() == "quit cleanly"
    assert "Fatal Python error" not in res.stderr
