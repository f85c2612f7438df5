"""The grid view's legend: what each colour, line and glyph means, and the violation marker
of each constraint kind drawn (in this view and in the one compared beside it); along the
bottom in as many columns as the view's width holds, or down the right side in one."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtGui

from n1studio.app.canvas.glyphs import E_LINE, E_OFF, E_TRAFO, MARKERS
from n1studio.present.theme import Palette

OFFSET = (12, -12)  # from the view's bottom-left corner, in pixels
SIDE_OFFSET = (-12, -12)  # from its bottom-right corner when the legend is on the right


def build_legend(viewbox: pg.ViewBox, pal: Palette, scale: float, edge_pens: list,
                 symbols: dict, kinds: list[str], visible: bool,
                 cols: int = 3) -> pg.LegendItem:
    """A legend anchored in the bottom-left corner of `viewbox`; `kinds`: the constraint
    kinds whose violation markers are drawn."""
    legend = pg.LegendItem(offset=OFFSET, labelTextColor=pal.text,
                           labelTextSize=f"{round(9 * scale)}pt",
                           brush=pg.mkBrush(QtGui.QColor(pal.background)),
                           pen=pg.mkPen(pal.off), verSpacing=-5, horSpacing=14, colCount=cols)
    legend.setParentItem(viewbox)
    size = 11 * scale

    def sample(symbol, brush, pen=None):
        return pg.ScatterPlotItem(symbol=symbol, brush=pg.mkBrush(brush) if brush else
                                  pg.mkBrush(None), pen=pen or pg.mkPen(pal.background),
                                  size=size)

    legend.addItem(sample("o", pal.bus), "bus")
    legend.addItem(pg.PlotDataItem(pen=edge_pens[E_LINE]), "line")
    legend.addItem(pg.PlotDataItem(pen=edge_pens[E_TRAFO]), "transformer")
    legend.addItem(sample(symbols["ext_grid"], pal.ext_grid), "external grid")
    legend.addItem(sample(symbols["gen"], pal.gen), "generator")
    legend.addItem(sample(symbols["sgen"], pal.sgen), "static generator")
    legend.addItem(sample(symbols["load"], pal.load), "load")
    legend.addItem(pg.PlotDataItem(pen=edge_pens[E_OFF]), "out of service")
    legend.addItem(sample("o", pal.cut), "cut off (island)")
    legend.addItem(sample("o", pal.violation), "violation")
    for k in kinds:
        if k in MARKERS:
            sym, _, text = MARKERS[k]
            legend.addItem(sample(sym, None, pg.mkPen(pal.violation, width=2)), "  " + text)
    # anchored once filled: the anchor follows the view's size, not the legend's own growth
    legend.updateSize()
    legend.anchor((0, 1), (0, 1), offset=OFFSET)
    legend.setVisible(visible)
    return legend


def legend_size(legend: pg.LegendItem, cols: int) -> tuple[float, float]:
    """The legend's size (pixels) in `cols` columns, from its entries' sizes, filled row by
    row as pyqtgraph lays them out (changing a LegendItem's columns in place leaves its
    old rows' heights behind, so the view builds a new one instead)."""
    items = legend.items
    if not items:
        return 0.0, 0.0
    widths = np.array([s.boundingRect().width() + lab.boundingRect().width() + 6
                       for s, lab in items])
    row_h = max(max(s.boundingRect().height(), lab.boundingRect().height()) for s, lab in items)
    rows = -(-len(items) // cols)
    col_w = [widths[c::cols].max() for c in range(min(cols, len(items)))]
    return float(sum(col_w)) + 14 * cols + 10, rows * row_h + 10


def columns_for(legend: pg.LegendItem, width: float) -> int:
    """As many columns (3, 2 or 1) as `width` pixels hold: a legend wider than its view is
    cut ("static generato")."""
    return next((n for n in (3, 2, 1) if legend_size(legend, n)[0] <= width), 1)


def anchor_legend(legend: pg.LegendItem, side: str) -> None:
    """Bottom-left corner ("bottom") or bottom-right corner ("right") of the view."""
    if side == "right":
        legend.anchor((1, 1), (1, 1), offset=SIDE_OFFSET)
    else:
        legend.anchor((0, 1), (0, 1), offset=OFFSET)
