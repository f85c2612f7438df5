"""Fixtures for the desktop app tests: a main window with throw-away preferences."""

from __future__ import annotations

import pytest
from PySide6 import QtCore

# Qt's offscreen platform warns that it cannot propagate window size hints; that is the
# test platform talking, not the app.
OFFSCREEN_NOISE = r"This plugin does not support"


@pytest.fixture
def window(qtbot, tmp_path):
    from n1studio.app.window.main_window import MainWindow

    settings = QtCore.QSettings(str(tmp_path / "prefs.ini"), QtCore.QSettings.Format.IniFormat)
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.stop()
    w.wait_for_jobs(120_000)


@pytest.fixture
def open_case(qtbot):
    """`open_case(window, spec)`: open a case and wait for it (and its reference) to be ready."""

    def _open(window, spec: str, timeout: int = 120_000) -> None:
        with qtbot.waitSignal(window.caseOpened, timeout=timeout):
            window.open_case(spec)
        # the reference of small grids starts by itself: let it finish so the test is quiet
        qtbot.waitUntil(lambda: not window.ref_slot.busy, timeout=timeout)

    return _open
