"""Qt's messages go to Python logging: the offscreen platform's notices stay off the terminal."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap

from PySide6 import QtCore

from n1studio.app.runtime import qtlog

# A window shown on the offscreen platform, as `n1studio demo` does: Qt says "This plugin
# does not support propagateSizeHints()" unless its messages are routed.
SHOW_A_WINDOW = textwrap.dedent("""
    import logging, sys
    from PySide6 import QtCore, QtWidgets
    logging.basicConfig(level=logging.%s, format="%%(levelname)s %%(name)s: %%(message)s")
    if sys.argv[1] == "routed":
        from n1studio.app.runtime import qtlog
        qtlog.install()
    app = QtWidgets.QApplication([])
    w = QtWidgets.QMainWindow()
    w.resize(300, 200)
    w.show()
    w.setMinimumSize(200, 150)  # size hints change on a shown window: the plugin says so
    app.processEvents()
    QtCore.qWarning("something the user should see")
    w.close()
""")


def _run(mode: str, level: str = "WARNING") -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "-c", SHOW_A_WINDOW % level, mode], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_offscreen_notice_is_quiet_and_real_warnings_still_show():
    raw = _run("raw")
    assert "does not support propagateSizeHints" in raw.stderr  # what the user used to see
    routed = _run("routed")
    assert routed.returncode == 0, routed.stderr
    assert "does not support" not in routed.stderr
    # a genuine Qt warning keeps its weight, through the n1studio.qt logger
    assert "WARNING n1studio.qt: something the user should see" in routed.stderr.splitlines()
    # and the notice is still there for whoever asks for the debug log
    debug = _run("routed", "DEBUG")
    assert "DEBUG n1studio.qt: This plugin does not support propagateSizeHints()" in \
        debug.stderr.splitlines()


def test_levels():
    W, C = QtCore.QtMsgType.QtWarningMsg, QtCore.QtMsgType.QtCriticalMsg
    assert qtlog.level_for(W, "This plugin does not support propagateSizeHints()") == logging.DEBUG
    painter = "QPainter::begin: Paint device returned engine == 0"
    assert qtlog.level_for(W, painter) == logging.WARNING
    assert qtlog.level_for(C, "could not connect to display") == logging.ERROR
    assert qtlog.level_for(QtCore.QtMsgType.QtInfoMsg, "x") == logging.INFO


def test_many_qt_messages_do_not_break_the_interpreter():
    """PySide6 6.12.0's handler wrapper dropped a reference to None per message, so a chatty
    session aborted ("deallocating None") after a few thousand; with the pinned PySide6,
    20,000 messages through the app's handler leave None's count where it was (within what
    the logging module itself holds while it runs)."""
    code = textwrap.dedent("""
        import sys
        from PySide6 import QtCore
        from n1studio.app.runtime import qtlog
        qtlog.install()
        before = sys.getrefcount(None)
        for _ in range(20000):
            QtCore.qWarning("This plugin does not support propagateSizeHints()")
        print(sys.getrefcount(None) - before)
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert abs(int(proc.stdout.strip())) < 100  # stable, not -20000
    assert "does not support" not in proc.stderr
