"""Bus labels stay readable in the window and in F5 whatever is drawn on their bus: pglib
case14 and case118 with an answer that breaks every kind of constraint; in F5 at 1920x1080
the grid fills the room the banner and the legend leave, and labels are at least 14 px tall.

Geometry comes from the drawn items (the markers' spots, the labels' text items), mapped to
the scene. Text items land on whole pixels, so two boxes that share less than half a pixel
do not count as overlapping; heights are compared with a 1 px tolerance (font metrics)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore

from tests.app.everything_broken import breaking_verdict, kinds

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support")

CASES = ["pglib_opf_case14_ieee", "pglib_opf_case118_ieee"]
TOL = 0.5  # px


def _marker_rects(view) -> list[QtCore.QRectF]:
    """Each violation marker's square on the scene, its pen included."""
    out = []
    pen = view.markers.opts["pen"].widthF()
    for spot in view.markers.points():
        c = view.vb.mapViewToScene(spot.pos())
        h = spot.size() / 2 + pen
        out.append(QtCore.QRectF(c.x() - h, c.y() - h, 2 * h, 2 * h))
    return out


def _label_rects(view) -> list[QtCore.QRectF]:
    return [t.mapRectToScene(t.boundingRect()) for t in view.labels.items]


def _covered(r: QtCore.QRectF, m: QtCore.QRectF) -> bool:
    i = r.intersected(m)
    return i.width() > TOL and i.height() > TOL


def _assert_readable(view, n_bus: int, min_h: float) -> None:
    labels, markers = _label_rects(view), _marker_rects(view)
    assert len(labels) == n_bus and markers
    for k, r in enumerate(labels):
        hit = [m for m in markers if _covered(r, m)]
        assert not hit, f"label {k} under {len(hit)} marker(s)"
        assert r.height() >= min_h - 1
    # and above every marker, on a halo: nothing is drawn over a label
    assert all(t.zValue() > view.markers.zValue() for t in view.labels.items)
    assert all(t.fill.color().alpha() > 150 for t in view.labels.items)


@pytest.mark.parametrize("case", CASES)
def test_labels_clear_of_markers_in_the_window_and_in_f5(window, qtbot, open_case, case):
    open_case(window, case)
    s = window.session
    e = s.current
    verdict = breaking_verdict(e.variant)
    assert {"voltage", "power_balance", "gen_p", "gen_q", "thermal", "angle"} <= kinds(verdict)
    s.update(e, verdict=verdict)
    view = window.view
    qtbot.waitUntil(lambda: len(view.markers.points()) > 0)
    qtbot.waitUntil(lambda: not view.labels.pending)  # placed again after a range change
    _assert_readable(view, len(s.drawing.bus_names), 12)

    window.resize(1920, 1080)
    qtbot.waitUntil(lambda: window.size() == QtCore.QSize(1920, 1080))
    window.act_present.trigger()
    qtbot.waitUntil(lambda: view.width() >= 1916)
    qtbot.wait(200)
    qtbot.waitUntil(lambda: not view.labels.pending)
    _assert_readable(view, len(s.drawing.bus_names), 14)
    # the grid fills the room the banner and the legend leave (one way or the other)
    d = s.drawing
    pts = np.array([[p.x(), p.y()] for p in
                    (view.vb.mapViewToScene(QtCore.QPointF(*map(float, xy)))
                     for xy in np.concatenate([d.bus_xy, d.unit_xy]))])
    vb = view.vb.sceneBoundingRect()
    lg = view.legend.mapRectToScene(view.legend.boundingRect())
    top = view.banner.geometry().bottom()
    room_w = vb.width() - (lg.width() if view.legend_side == "right" else 0)
    room_h = vb.height() - top - (lg.height() if view.legend_side == "bottom" else 0)
    span = pts.max(axis=0) - pts.min(axis=0)
    assert max(span[0] / room_w, span[1] / room_h) > 0.75
    assert pts[:, 1].min() > top  # nothing under the banner
    window.act_present.trigger()
