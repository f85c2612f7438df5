"""The grid view's legend: what each colour, line and glyph means, and the violation marker
of each constraint kind the drawn verdict has; as many columns as the view's width holds."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtGui

from n1studio.app.canvas.glyphs import E_LINE, E_OFF, E_TRAFO, MARKERS
from n1studio.present.theme import Palette

OFFSET = (12, -12)  # from the view's bottom-left corner, in pixels


def build_legend(viewbox: pg.ViewBox, pal: Palette, scale: float, edge_pens: list,
                 symbols: dict, kinds: list[str], visible: bool) -> pg.LegendItem:
    """A legend anchored in the bottom-left corner of `viewbox`; `kinds`: the constraint
    kinds whose violation markers are drawn."""
    legend = pg.LegendItem(offset=OFFSET, labelTextColor=pal.text,
                           labelTextSize=f"{round(9 * scale)}pt",
                           brush=pg.mkBrush(QtGui.QColor(pal.background)),
                           pen=pg.mkPen(pal.off), verSpacing=-5, horSpacing=14, colCount=3)
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


def fit_legend(legend: pg.LegendItem, width: float) -> None:
    """As many columns (3, 2 or 1) as `width` pixels hold: a legend wider than its view is
    cut ("static generato")."""
    before = legend.columnCount
    for n in (3, 2, 1):
        if legend.columnCount != n:
            legend.setColumnCount(n)
        legend.updateSize()
        if legend.boundingRect().width() <= width:
            break
    if legend.columnCount != before:
        legend.anchor((0, 1), (0, 1), offset=OFFSET)
