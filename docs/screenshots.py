"""Retake the README's screenshots from the real window (offscreen):

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screenshots.py

docs/screenshot-presentation.png: presentation mode (F5) at 1600x900, pandapower's case14
with line:3 out of service; docs/screenshot-compare.png: two N-1 variants side by side.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from PySide6 import QtCore, QtWidgets

HERE = Path(__file__).resolve().parent


def wait(app, pred, ms=120_000):
    from PySide6.QtTest import QTest

    t = QtCore.QElapsedTimer()
    t.start()
    while not pred() and t.elapsed() < ms:
        QTest.qWait(50)


def settle(app, ms=300):
    from PySide6.QtTest import QTest

    QTest.qWait(ms)


def main() -> int:
    from n1studio.app.window.main_window import MainWindow

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv)
    tmp = tempfile.mkdtemp()
    settings = QtCore.QSettings(str(Path(tmp) / "prefs.ini"), QtCore.QSettings.Format.IniFormat)
    w = MainWindow(settings=settings)
    w.resize(1600, 900)
    w.show()
    w.open_case("case14")
    wait(app, lambda: w.session is not None and not w.ref_jobs and not w.jobs)
    w.take_out("line:3")
    w.activate(0)
    w.take_out("line:7")
    wait(app, lambda: not w.ref_jobs)
    w.activate(1)
    settle(app)

    w.act_present.trigger()
    settle(app, 600)
    w.grab().save(str(HERE / "screenshot-presentation.png"))
    w.act_present.trigger()
    settle(app)

    w.compare_with(2)
    settle(app, 600)
    w.grab().save(str(HERE / "screenshot-compare.png"))
    w.close()
    w.wait_for_jobs()
    return 0


if __name__ == "__main__":
    rc = main()
    sys.stdout.flush()
    os._exit(rc)  # PySide6's interpreter teardown can crash after the work is done
