"""Where the grid goes in its view: the room the banner (top) and the legend (bottom, or the
right side on a wide view) leave, less a margin for the outermost markers and labels.

Fit puts the whole grid in that room, centred, as large as it goes (F5 on a projector: the
grid takes the height, the legend stands beside it). The legend goes to the right when that
gives the grid more room than a legend along the bottom.
"""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtWidgets

from n1studio.app.canvas.glyphs import MARKERS
from n1studio.app.canvas.legend import columns_for, legend_size

SIDE_GAIN = 1.05  # the right side must give the grid this much more room to be chosen
# At most this share of the view is kept free for the legend: in a narrow view (one pane of
# compare) the legend rather overlaps the grid's lower corner than shrinks it to a stamp.
LEGEND_SHARE = 0.4


def grid_rect(view, side: str, legend: tuple[float, float] | None = None) -> QtCore.QRectF:
    """The room for the grid in `view` (its view box's pixels) with the legend at `side`
    ("bottom" or "right"), the legend of size `legend` (w, h; default: as it is)."""
    w, h = float(view.vb.width()), float(view.vb.height())
    top = (view.banner.height() + 16) if view.banner.isVisible() else 0.0
    right = bottom = 0.0
    if view.legend is not None and view.show_legend:
        if legend is None:
            br = view.legend.boundingRect()
            legend = (br.width(), br.height())
        if side == "right":
            right = min(legend[0] + 20, LEGEND_SHARE * w)
        else:
            bottom = min(legend[1] + 20, LEGEND_SHARE * h)
    look = view.look
    biggest = max(f for _, f, _ in MARKERS.values())
    m = max(1.45 * look.bus_size, 0.5 * biggest * look.unit_size) + 4
    return QtCore.QRectF(m, top + m, w - right - 2 * m, h - top - bottom - 2 * m)


def room(drawing, r: QtCore.QRectF) -> float:
    """Pixels per data unit the whole grid gets in `r` (0 when it does not fit)."""
    if drawing is None or r.width() <= 0 or r.height() <= 0:
        return 0.0
    x0, y0, x1, y1 = drawing.bounds()
    return min(r.width() / max(x1 - x0, 1e-9), r.height() / max(y1 - y0, 1e-9))


def legend_place(view) -> tuple[str, int]:
    """(side, columns) of the view's legend: the bottom in as many columns as the width
    holds, or the right side in one when the grid gets more room that way."""
    lg = view.legend
    cols = columns_for(lg, view.plot.width() - 24)
    if not view.show_legend or view.drawing is None:
        return "bottom", cols
    bottom = room(view.drawing, grid_rect(view, "bottom", legend_size(lg, cols)))
    right = room(view.drawing, grid_rect(view, "right", legend_size(lg, 1)))
    if right > SIDE_GAIN * bottom:
        return "right", 1
    return "bottom", cols


def fitted_range(view) -> QtCore.QRectF | None:
    """The view range (data) that shows the whole grid in its room, centred there; None
    when the view has no size yet."""
    d = view.drawing
    w, h = float(view.vb.width()), float(view.vb.height())
    r = grid_rect(view, view.legend_side)
    if d is None or w < 2 or h < 2 or r.width() < 8 or r.height() < 8:
        return None
    x0, y0, x1, y1 = d.bounds()
    k = room(d, r)
    # the grid's centre goes to the room's centre (pixels: y down, data: y up)
    left = (x0 + x1) / 2 - r.center().x() / k
    top = (y0 + y1) / 2 + r.center().y() / k
    return QtCore.QRectF(left, top - h / k, w / k, h / k)


def range_around(drawing, names: list[str]) -> QtCore.QRectF | None:
    """The view range (data) around these elements with a branch length to spare (a sweep
    row: its outage and its violations); None when none is drawn."""
    pts = [drawing.position(n) for n in names]
    pts = np.array([p for p in pts if p is not None], dtype=float).reshape(-1, 2)
    if not len(pts):
        return None
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = 1.5 * drawing.layout.unit
    return QtCore.QRectF(lo[0] - pad, lo[1] - pad, hi[0] - lo[0] + 2 * pad,
                         hi[1] - lo[1] + 2 * pad)


def place_banner(banner: QtWidgets.QLabel, width: int) -> None:
    """The banner wraps within a view `width` pixels wide (never clipped on the right), at
    most its width less a margin on each side."""
    avail = max(120, width - 24)
    banner.setWordWrap(False)  # its natural one-line width, wrapped only when wider
    natural = banner.sizeHint().width()
    banner.setWordWrap(True)
    banner.setMaximumWidth(avail)
    w = min(natural, avail)
    banner.resize(w, banner.heightForWidth(w) if banner.hasHeightForWidth()
                  else banner.sizeHint().height())
    banner.move(12, 10)


def overlay_boxes(view) -> list[np.ndarray]:
    """The legend's and the banner's boxes on the scene, (1, 4) each (x0, y0, x1, y1)."""
    out = []
    if view.legend is not None and view.legend.isVisible():
        r = view.legend.mapRectToScene(view.legend.boundingRect())
        out.append(np.array([[r.left(), r.top(), r.right(), r.bottom()]]))
    if view.banner.isVisible():
        g = view.banner.geometry()
        tl = view.plot.mapToScene(g.topLeft())
        out.append(np.array([[tl.x(), tl.y(), tl.x() + g.width(), tl.y() + g.height()]]))
    return out
