"""Presentation mode (F5): the drawing fills the window, nothing clipped at projector sizes,
leaving restores the layout exactly."""

from __future__ import annotations

import pytest
from PySide6 import QtCore, QtWidgets

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support")


def _within(window, w: QtWidgets.QWidget) -> bool:
    tl = w.mapTo(window, QtCore.QPoint(0, 0))
    r = QtCore.QRect(tl, w.size())
    return window.rect().contains(r)


def _legend_inside(view) -> bool:
    """The legend's rectangle (scene) lies inside the plot's viewport."""
    lg = view.legend
    r = lg.mapRectToScene(lg.boundingRect())
    vp = view.plot.mapToScene(view.plot.viewport().rect()).boundingRect()
    return vp.adjusted(-1, -1, 1, 1).contains(r)


def _dock_geometries(window) -> dict:
    """Where each dock shown on screen is (a dock behind another's tab is parked off it)."""
    return {d.objectName(): d.geometry() for d in window.findChildren(QtWidgets.QDockWidget)
            if d.isVisible() and window.rect().intersects(d.geometry())}


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_f5_projector_layout_and_back(window, qtbot, open_case, size):
    open_case(window, "case14")
    window.take_out("line:3")
    qtbot.waitUntil(lambda: not window.ref_slot.busy, timeout=60_000)
    window.resize(*size)
    qtbot.waitUntil(lambda: window.size() == QtCore.QSize(*size))
    qtbot.wait(200)
    state = window.saveState()
    docks = _dock_geometries(window)

    qtbot.keyClick(window, QtCore.Qt.Key.Key_F5)
    qtbot.wait(50)
    assert window.presenting and window.act_present.isChecked()
    # the drawing fills the window: no dock, toolbar or status bar left
    assert not any(d.isVisible() for d in window.findChildren(QtWidgets.QDockWidget))
    assert not any(t.isVisible() for t in window.findChildren(QtWidgets.QToolBar))
    view = window.view
    assert view.width() >= size[0] - 4
    # the verdict banner: an overlay inside the view and the window, not clipped
    b = view.banner
    assert b.isVisible() and "N-1 line:3" in b.text()
    assert _within(window, b) and _within(view, b)
    assert b.height() >= b.heightForWidth(b.width())
    # the legend's every entry is whole (no elided "static generato") and inside the view
    texts = [lab.text for _, lab in view.legend.items]
    assert "static generator" in texts and "cut off (island)" in texts
    assert _legend_inside(view)
    # bus labels are larger (at least 14 px tall at 1920 wide), and none covers its bus
    qtbot.waitUntil(lambda: not view.labels.pending)  # placed again after a range change
    xy = window.session.drawing.bus_xy
    for t, bus in zip(view.labels.items, xy, strict=True):
        r = t.mapRectToScene(t.boundingRect())
        c = view.vb.mapViewToScene(QtCore.QPointF(*map(float, bus)))
        assert r.height() >= (14 if size[0] >= 1920 else 12) - 1  # 1 px: font metrics
        assert not r.contains(c)
    # the grid is fitted into the room the banner and the legend leave
    assert view.fitted and view.legend_side in ("bottom", "right")

    qtbot.keyClick(window, QtCore.Qt.Key.Key_F5)
    qtbot.wait(50)
    assert not window.presenting
    assert _dock_geometries(window) == docks
    assert window.saveState() == state
    assert _dock_geometries(window) == docks
    assert window.findChild(QtWidgets.QToolBar, "mainToolbar").isVisible()
