"""The grid view's pens, brushes and sizes for one palette, scale and grid size: built once
per theme, scale or grid and indexed with numpy class arrays (never one pen per item)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from n1studio.app.canvas.glyphs import glyph_paths
from n1studio.present.theme import Palette

BIG_GRID = 2000  # buses: thinner lines, no antialiasing (thousands of segments)


@dataclass
class ViewStyle:
    edge_pens: list  # by edge class (glyphs.E_*)
    stub_pen: QtGui.QPen
    antialias: bool
    bus_size: float
    bus_brushes: np.ndarray  # by bus class (glyphs.B_*)
    bus_pens: np.ndarray
    bus_sizes: np.ndarray
    unit_brushes: np.ndarray  # 0..3 per unit table in service, 4 off, 5 violated
    unit_pens: np.ndarray
    unit_size: float
    symbols: dict


def view_style(p: Palette, s: float, n_buses: int) -> ViewStyle:
    """Pens and sizes for palette `p` at scale `s` (presentation mode: larger) on a grid of
    `n_buses` (markers shrink as grids grow, so a big grid is not a blot)."""
    big = n_buses > BIG_GRID
    w = (1.0 if big else 2.0) * s
    edge_pens = [
        pg.mkPen(p.line, width=w),
        pg.mkPen(p.trafo, width=w * 1.6),
        pg.mkPen(p.off, width=w * 1.2, style=QtCore.Qt.PenStyle.DashLine),
        pg.mkPen(p.cut, width=w, style=QtCore.Qt.PenStyle.DotLine),
        pg.mkPen(p.violation, width=w * 2.2),
        pg.mkPen(p.selection, width=w * 5),
    ]
    n = n_buses
    bus_size = (4.0 if n > 5000 else 6.0 if n > 1000 else 9.0 if n > 150 else 13.0) * s
    unit_colours = [p.ext_grid, p.gen, p.sgen, p.load]
    return ViewStyle(
        edge_pens=edge_pens,
        stub_pen=pg.mkPen(p.muted, width=max(1.0, 0.8 * s)),
        antialias=not big,
        bus_size=bus_size,
        bus_brushes=np.array([pg.mkBrush(p.bus), pg.mkBrush(p.background), pg.mkBrush(p.cut),
                              pg.mkBrush(p.violation)], dtype=object),
        bus_pens=np.array([pg.mkPen(p.bus_edge, width=1), pg.mkPen(p.off, width=1.5),
                           pg.mkPen(p.cut, width=1), pg.mkPen(p.bus_edge, width=1)],
                          dtype=object),
        bus_sizes=np.array([1.0, 1.0, 1.0, 1.45]) * bus_size,
        unit_brushes=np.array([pg.mkBrush(c) for c in unit_colours]
                              + [pg.mkBrush(p.background), pg.mkBrush(p.violation)],
                              dtype=object),
        unit_pens=np.array([pg.mkPen(p.background, width=1.2)] * 4
                           + [pg.mkPen(p.off, width=1.5), pg.mkPen(p.background, width=1.2)],
                           dtype=object),
        unit_size=max(bus_size * 1.5, 10 * s),
        symbols=glyph_paths(),
    )
