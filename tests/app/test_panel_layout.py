"""The model dock lays out cleanly at common window sizes: nothing clipped, nothing hidden.

What a user checks by eye on a 1400x900 or 1600x1000 window: Ask and Stop both in full
view, every setting (the mode's text included) readable, the GPU note wrapped rather than
cut, and room left for the answer without scrolling the dock.
"""

from __future__ import annotations

import pytest
from PySide6 import QtCore, QtWidgets

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support")


def _inside(w: QtWidgets.QWidget, viewport: QtWidgets.QWidget) -> bool:
    """Whether `w` is drawn whole inside the scroll area's visible part."""
    top_left = w.mapTo(viewport, QtCore.QPoint(0, 0))
    return viewport.rect().contains(QtCore.QRect(top_left, w.size()))


@pytest.mark.parametrize("size", [(1400, 900), (1600, 1000)])
def test_model_dock_fits(window, qtbot, open_case, size):
    window.resize(*size)
    open_case(window, "pglib_opf_case14_ieee")
    qtbot.wait(200)  # the first-show dock sizing runs from the event loop
    mp = window.model_panel
    area = window.dock_model.widget()
    assert isinstance(area, QtWidgets.QScrollArea)
    _check_model_dock(mp, area)
    # after an answer, the status line (two lines at this width) still leaves it all in view
    mp.set_stats("36.4 tokens/s · 503 tokens · prompt 1542 (1510 cached) · first token 0.41 s "
                 "· 14.2 s")
    qtbot.wait(100)
    _check_model_dock(mp, area)
    assert _inside(mp.stats, area.viewport())
    assert mp.stats.height() >= mp.stats.heightForWidth(mp.stats.width())
    # the verdict keeps its satisfaction bars (one per constraint kind) and the cost line in
    # full view; the violations table below them scrolls with the dock at these sizes. Asked
    # of the widgets, not as a dock height in pixels: that depends on fonts, on the model
    # panel above it and on what the status bar holds (a 350-pixel floor failed at 339 on a
    # loaded machine, the reference's Cancel button still in the status bar)
    _check_verdict_dock(window.verdict, window.dock_verdict.widget())
    # no stray dock tab bar left on screen (Qt 6.12 leaves one behind when tabifying)
    groups = {frozenset([d.windowTitle(), *(x.windowTitle() for x in tabbed)])
              for d in window.findChildren(QtWidgets.QDockWidget)
              if (tabbed := window.tabifiedDockWidgets(d))}
    for bar in window.findChildren(QtWidgets.QTabBar):
        if bar.parent() is window and bar.isVisible():
            assert frozenset(bar.tabText(i) for i in range(bar.count())) in groups


def _check_verdict_dock(verdict, area: QtWidgets.QScrollArea) -> None:
    vp = area.viewport()
    for kind, bar in verdict.bars.items():
        assert bar.isVisible() and _inside(bar, vp), kind
    assert _inside(verdict.cost, vp)


def _check_model_dock(mp, area: QtWidgets.QScrollArea) -> None:
    vp = area.viewport()
    # the dock holds the whole panel: no scroll bar, the answer/prompt tabs in sight
    assert not area.verticalScrollBar().isVisible(), (mp.minimumSizeHint(), vp.size())
    assert mp.tabs.height() >= 100 and _inside(mp.tabs, vp)
    for w in (mp.ask, mp.stop, mp.model, mp.mode, mp.threads, mp.gpu, mp.ctx, mp.temp,
              mp.seed, mp.gpu_note):
        assert w.isVisible() and _inside(w, vp), w.objectName() or type(w).__name__
    # Ask and Stop on one row, each at least as wide as its text needs
    assert abs(mp.ask.y() - mp.stop.y()) < 4
    for b in (mp.ask, mp.stop):
        assert b.width() >= b.fontMetrics().horizontalAdvance(b.text()) + 8
    # the mode's text is not cut ("constrained", the longer of the two)
    longest = max(mp.mode.itemText(k) for k in range(mp.mode.count()))
    assert mp.mode.width() >= mp.mode.fontMetrics().horizontalAdvance(longest) + 20
    # the default model's name is readable in its combo
    assert mp.model.width() >= mp.model.fontMetrics().horizontalAdvance(mp.model.currentText()) + 20
    # the GPU note is wrapped to its width, whole
    assert mp.gpu_note.height() >= mp.gpu_note.heightForWidth(mp.gpu_note.width())
