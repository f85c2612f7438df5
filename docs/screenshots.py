"""Retake the README's screenshots from the real window (offscreen):

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screenshots.py

The scene is PGLib case14 with line:6 out of service and the recalled N answer (the
intact grid's optimum, as `n1studio solve pglib_opf_case14_ieee --json` writes it) checked
on it, and a second variant with line:3 out:

- docs/screenshot.png: the main window at 1600x900;
- docs/screenshot-presentation.png: presentation mode (F5) at 1920x1080;
- docs/screenshot-compare.png: N-1 line:6 beside N-1 line:3 (Ctrl+D), one legend.

The 16:9 figure beside them is written by the command line:
`n1studio render pglib_opf_case14_ieee --out line:6 --answer N.json --to
docs/figure-16x9.png --width 1920 --aspect 16:9`.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from PySide6 import QtCore, QtWidgets
from PySide6.QtTest import QTest

HERE = Path(__file__).resolve().parent
CASE = "pglib_opf_case14_ieee"


def wait(pred, ms=180_000) -> None:
    t = QtCore.QElapsedTimer()
    t.start()
    while not pred() and t.elapsed() < ms:
        QTest.qWait(50)


def settle(ms=400) -> None:
    QTest.qWait(ms)


def main() -> int:
    from n1studio import pipeline
    from n1studio.app.window.main_window import MainWindow

    _app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv)
    tmp = tempfile.mkdtemp()
    settings = QtCore.QSettings(str(Path(tmp) / "prefs.ini"), QtCore.QSettings.Format.IniFormat)
    w = MainWindow(settings=settings)
    w.resize(1600, 900)
    w.show()
    w.open_case(CASE)
    wait(lambda: w.session is not None and not w.ref_slot.busy and not w.slots.busy)
    s = w.session
    w.take_out("line:3")
    w.activate(0)
    w.take_out("line:6")
    wait(lambda: not w.ref_slot.busy)
    e = s.current
    refs = pipeline.references(e.variant)
    s.update(e, answer=refs.n_answer, verdict=pipeline.judge(e.variant, refs.n_answer,
                                                              refs=refs))
    settle()
    w.grab().save(str(HERE / "screenshot.png"))

    w.resize(1920, 1080)
    settle()
    w.act_present.trigger()
    settle(800)
    w.grab().save(str(HERE / "screenshot-presentation.png"))
    w.act_present.trigger()
    settle()

    w.resize(1600, 900)
    settle()
    w.compare_with(1)  # the active N-1 line:6 beside N-1 line:3
    settle(800)
    w.grab().save(str(HERE / "screenshot-compare.png"))
    w.close()
    return 0


if __name__ == "__main__":
    rc = main()
    sys.stdout.flush()
    os._exit(rc)  # PySide6's interpreter teardown can crash after the work is done
