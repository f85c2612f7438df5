"""The moves to the nearest feasible point, drawn on the grid view under the violations.

`pipeline.judge(..., repair=True)` gives a verdict's `moves`: per generator the change of
P, Q and V set-point, per bus the change of voltage magnitude and angle that the nearest
operating point meeting every constraint needs. The overlay draws one bar per generator
for dP (at its glyph, up for more output) and one bar per bus for dVm (beside the bus, up
for a higher voltage), each kind scaled to its largest move, with an arrowhead at the tip.
Moves smaller than `MIN_DP_MW` / `MIN_DVM_PU` are not drawn. Off by default: the verdict
panel's "Show moves" toggles it.

As the grid view: one PlotCurveItem(connect="pairs") per kind and one ScatterPlotItem for
all arrowheads, whatever the number of elements.
"""

from __future__ import annotations

import logging

import numpy as np
import pyqtgraph as pg

from n1studio.present.drawing import glyph_offset

log = logging.getLogger(__name__)

MIN_DP_MW = 0.01  # generator moves smaller than this are not drawn
MIN_DVM_PU = 1e-4  # bus voltage moves smaller than this are not drawn
DP_COLOUR = "#1f78b4"
DVM_COLOUR = "#6a3d9a"
Z = 15  # above the grid (buses 10, glyphs 11), under the violation markers (20)


def significant_moves(moves: dict | None) -> list[tuple[str, str, float]]:
    """(element, "dp_mw" | "dvm_pu", value) of every move big enough to draw."""
    out: list[tuple[str, str, float]] = []
    if not isinstance(moves, dict):
        return out
    for key, field, floor in (("generators", "dp_mw", MIN_DP_MW),
                              ("buses", "dvm_pu", MIN_DVM_PU)):
        for m in moves.get(key) or []:
            if not isinstance(m, dict):
                continue
            v = m.get(field)
            if isinstance(v, (int, float)) and np.isfinite(v) and abs(v) >= floor:
                out.append((str(m.get("element", "")), field, float(v)))
    return out


class MovesOverlay:
    """The dP and dVm bars of one grid view."""

    def __init__(self, view):
        self.view = view
        self.marks: list[tuple[str, str, float]] = []  # what is drawn now
        self.bars = {"dp_mw": pg.PlotCurveItem(connect="pairs"),
                     "dvm_pu": pg.PlotCurveItem(connect="pairs")}
        self.heads = pg.ScatterPlotItem(pxMode=True)
        for item in (*self.bars.values(), self.heads):
            item.setZValue(Z)
            item.hide()
            view.plot.addItem(item)

    @property
    def visible(self) -> bool:
        return self.heads.isVisible()

    def show_moves(self, moves: dict | None) -> None:
        """Draw `moves` (a verdict's), or hide the overlay when None."""
        d = self.view.drawing
        self.marks = []
        if d is None or moves is None:
            self._clear()
            return
        step = glyph_offset(d.layout)
        length = 1.6 * step  # the largest move of each kind
        scale = getattr(self.view, "scale", 1.0)
        marks = [(n, f, v) for n, f, v in significant_moves(moves) if d.position(n) is not None]
        biggest = {f: max((abs(v) for _, g, v in marks if g == f), default=0.0)
                   for f in self.bars}
        segs: dict[str, list] = {f: [] for f in self.bars}
        tips, syms, brushes = [], [], []
        for name, field, v in marks:
            x, y = (float(c) for c in d.position(name))
            x += (0.28 if field == "dp_mw" else -0.42) * step
            h = length * abs(v) / biggest[field] * np.sign(v)
            segs[field] += [(x, y), (x, y + h)]
            tips.append((x, y + h))
            syms.append("t1" if v > 0 else "t")
            brushes.append(pg.mkBrush(DP_COLOUR if field == "dp_mw" else DVM_COLOUR))
        for field, item in self.bars.items():
            pts = np.array(segs[field], dtype=float).reshape(-1, 2)
            colour = DP_COLOUR if field == "dp_mw" else DVM_COLOUR
            item.setPen(pg.mkPen(colour, width=3.0 * scale))
            item.setData(pts[:, 0], pts[:, 1], connect="pairs")
            item.setVisible(len(pts) > 0)
        self.heads.setData(pos=np.array(tips, dtype=float).reshape(-1, 2), symbol=syms,
                           brush=brushes, pen=pg.mkPen(None), size=9 * scale)
        self.heads.setVisible(bool(tips))
        self.marks = marks
        log.debug("moves: %d drawn of %s", len(marks), self.view.objectName())

    def _clear(self) -> None:
        for item in (*self.bars.values(), self.heads):
            if isinstance(item, pg.PlotCurveItem):
                item.setData(np.zeros(0), np.zeros(0))
            else:
                item.setData([])
            item.hide()

    def drawn_count(self) -> int:
        """How many marks the items hold (each bar is two points, each head one)."""
        return len(self.heads.data)
