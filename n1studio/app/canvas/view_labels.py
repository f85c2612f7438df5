"""The grid view's bus labels: pyqtgraph text items placed clear of the markers.

Markers are drawn in pixels (pxMode) whatever the zoom, so where a label can go depends on
the view's range: the labels are placed again (`canvas/labels.py`, the figures' rule) once
a change of range or size pauses (`PLACE_AFTER_MS`), and at once after Fit or a redraw. A
label pushed away from its bus gets a leader line back to it; every label sits above the
markers (z) on a halo of the background colour, so a marker never hides one.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from n1studio.app.canvas.labels import boxes_around, place_labels

MAX_LABELLED = 150  # more buses than this: no labels (they would be a smear)
LABEL_PX = 12  # label font size in pixels at scale 1
Z_LEADER, Z_LABEL = 21, 22  # markers are at 20
# a pan or zoom places the labels again once it pauses this long (a placement of 118
# labels takes a good part of a frame: not on every step of a drag)
PLACE_AFTER_MS = 80


class BusLabels:
    """The labels of one `GridView` (it calls `rebuild` and `schedule`)."""

    def __init__(self, view):
        self.view = view
        self.items: list[pg.TextItem] = []
        self.leaders = pg.PlotCurveItem(connect="pairs")
        self.leaders.setZValue(Z_LEADER)
        view.plot.addItem(self.leaders, ignoreBounds=True)
        self.font_px = LABEL_PX
        self._timer = QtCore.QTimer(view)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PLACE_AFTER_MS)
        self._timer.timeout.connect(self.place)
        self.placed_once = False

    def rebuild(self) -> None:
        """New text items for the drawing's buses (a new grid, theme or scale)."""
        v = self.view
        for t in self.items:
            v.plot.removeItem(t)
        self.items = []
        d = v.drawing
        if d is None or len(d.bus_names) > MAX_LABELLED:
            self.leaders.setData([], [])
            return
        pal, s = v.pal, v.scale
        font = QtGui.QFont()
        self.font_px = round(LABEL_PX * s)
        font.setPixelSize(self.font_px)
        if s > 1:
            font.setBold(True)
        colour = pal.text if s > 1 else pal.muted
        halo = QtGui.QColor(pal.background)
        halo.setAlpha(215)
        # the case's own bus names where it has them (pandapower's cases: 1..n, as in the
        # textbooks, where the index counts from 0); element names stay bus:<index>
        for (x, y), label, title in zip(d.bus_xy, d.bus_labels, d.bus_titles, strict=True):
            t = pg.TextItem(title or label, color=colour, anchor=(0, 0), fill=pg.mkBrush(halo))
            t.setFont(font)
            t.textItem.document().setDocumentMargin(max(1.0, 0.15 * self.font_px))
            t.setPos(float(x), float(y))
            t.setZValue(Z_LABEL)
            v.plot.addItem(t, ignoreBounds=True)
            self.items.append(t)
        self.leaders.setPen(pg.mkPen(pal.muted, width=max(1.0, 0.9 * s)))
        self.place()

    @property
    def pending(self) -> bool:
        """A placement is scheduled (the range changed since the last one)."""
        return self._timer.isActive()

    def schedule(self, *_args) -> None:
        """Place the labels again once the current event is handled (range, size)."""
        if self.items:
            self._timer.start()

    # ---- geometry (scene pixels) ------------------------------------------------------
    def _to_scene(self, xy: np.ndarray) -> np.ndarray:
        vb = self.view.vb
        (x0, x1), (y0, y1) = vb.viewRange()
        r = vb.sceneBoundingRect()
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        out = np.empty_like(xy)
        out[:, 0] = r.left() + (xy[:, 0] - x0) / max(x1 - x0, 1e-300) * r.width()
        out[:, 1] = r.top() + (y1 - xy[:, 1]) / max(y1 - y0, 1e-300) * r.height()
        return out

    def _to_view(self, xy: np.ndarray) -> np.ndarray:
        vb = self.view.vb
        (x0, x1), (y0, y1) = vb.viewRange()
        r = vb.sceneBoundingRect()
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        out = np.empty_like(xy)
        out[:, 0] = x0 + (xy[:, 0] - r.left()) / max(r.width(), 1e-300) * (x1 - x0)
        out[:, 1] = y1 - (xy[:, 1] - r.top()) / max(r.height(), 1e-300) * (y1 - y0)
        return out

    def marker_boxes(self) -> np.ndarray:
        """Every violation marker's box on the scene (x0, y0, x1, y1), its pen included."""
        v = self.view
        pos, size = v.marker_pos, v.marker_size
        if not len(pos):
            return np.zeros((0, 4))
        pen = 2.2 * v.scale
        return boxes_around(self._to_scene(pos), np.asarray(size) + 2 * pen)

    def label_boxes(self) -> np.ndarray:
        """Each label's box on the scene (x0, y0, x1, y1), in bus order."""
        out = np.zeros((len(self.items), 4))
        for k, t in enumerate(self.items):
            r = t.mapRectToScene(t.boundingRect())
            out[k] = (r.left(), r.top(), r.right(), r.bottom())
        return out

    def place(self) -> None:
        """Put each label where no marker covers it (see the module's docstring)."""
        v = self.view
        d = v.drawing
        if d is None or not self.items or v.vb.width() < 2:
            return
        bxy = self._to_scene(d.bus_xy)
        sizes = np.array([(t.textItem.boundingRect().width(), t.textItem.boundingRect().height())
                          for t in self.items])
        markers = self.marker_boxes()
        clear = np.full(len(bxy), 0.5 * v.bus_size * 1.45)
        if len(markers):
            mc = (markers[:, :2] + markers[:, 2:]) / 2
            half = (markers[:, 2] - markers[:, 0]) / 2
            for c, h in zip(mc, half, strict=True):
                near = np.hypot(bxy[:, 0] - c[0], bxy[:, 1] - c[1]) < 1.0
                clear[near] = np.maximum(clear[near], h)
        others = [boxes_around(bxy, v.bus_size * 1.45)]
        if v.units.isVisible() and len(d.unit_xy):
            others.append(boxes_around(self._to_scene(d.unit_xy), v.look.unit_size))
        others.extend(v.overlay_boxes())  # the legend and the banner
        r = v.vb.sceneBoundingRect()
        placed = place_labels(bxy, sizes, clear, markers, np.concatenate(others),
                              bounds=(r.left(), r.top(), r.right(), r.bottom()))
        tl = self._to_view(placed.boxes[:, :2])
        for t, (x, y) in zip(self.items, tl, strict=True):
            t.setPos(float(x), float(y))
        seg = placed.leader_segments(bxy)
        if len(seg):
            a, b = self._to_view(seg[:, :2]), self._to_view(seg[:, 2:])
            xy = np.empty((2 * len(seg), 2))
            xy[0::2], xy[1::2] = a, b
            self.leaders.setData(xy[:, 0], xy[:, 1], connect="pairs")
        else:
            self.leaders.setData([], [])
        self.placed_once = True
