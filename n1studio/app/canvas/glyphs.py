"""The grid view's symbols: glyph shapes of generators, external grids and loads, the
violation marker of each constraint kind, and the colour classes of edges and buses (shared
by the interactive view, its legend and the figures written to files)."""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtGui

from n1studio.grid.elements import parse_element
from n1studio.present.drawing import LINE, UNIT_TABLES

# Constraint kind -> (marker symbol, size factor, legend text). Hollow, violation colour.
MARKERS = {
    "power_balance": ("o", 2.6, "power balance"),
    "voltage": ("t1", 2.3, "voltage limit"),
    "gen_p": ("s", 2.3, "generator P limit"),
    "gen_q": ("d", 2.6, "generator Q limit"),
    "thermal": ("star", 2.6, "thermal rating"),
    "angle": ("p", 2.2, "angle difference"),
    "removed_element": ("x", 2.2, "removed element used"),
}

# Edge classes, drawn bottom to top.
E_LINE, E_TRAFO, E_OFF, E_CUT, E_VIOL, E_SEL = range(6)
# Bus classes.
B_ON, B_OFF, B_CUT, B_VIOL = range(4)


def glyph_paths() -> dict[str, QtGui.QPainterPath]:
    """Glyphs in the unit box: a generator is a circle with a sine wave, an external grid a
    hatched square, a static generator a diamond, a load an arrow pointing down."""
    gen = QtGui.QPainterPath()
    gen.addEllipse(QtCore.QRectF(-0.5, -0.5, 1.0, 1.0))
    xs = np.linspace(-0.3, 0.3, 13)
    gen.moveTo(xs[0], 0)
    for x in xs[1:]:
        gen.lineTo(x, -0.18 * np.sin(x / 0.3 * np.pi))
    ext = QtGui.QPainterPath()
    ext.addRect(QtCore.QRectF(-0.5, -0.5, 1.0, 1.0))
    for k in (-0.5, 0.0):
        ext.moveTo(-0.5, k)
        ext.lineTo(k + 0.5 if k < 0 else 0.5, 0.5 if k < 0 else 0.0)
    ext.moveTo(-0.5, 0.5)
    ext.lineTo(0.5, -0.5)
    ext.moveTo(0.0, 0.5)
    ext.lineTo(0.5, 0.0)
    ext.moveTo(-0.5, 0.0)
    ext.lineTo(0.0, -0.5)
    load = QtGui.QPainterPath()
    load.moveTo(-0.45, -0.35)
    load.lineTo(0.45, -0.35)
    load.lineTo(0.0, 0.5)
    load.closeSubpath()
    return {"ext_grid": ext, "gen": gen, "sgen": "d", "load": load}


def edge_classes(d, st) -> np.ndarray:
    """Each edge's class (E_*) for a drawing and its state: violated over out of service
    over cut off over line/transformer."""
    cut = st.bus_cut[d.edge_a] | st.bus_cut[d.edge_b]
    cls = np.where(d.edge_kind == LINE, E_LINE, E_TRAFO)
    cls = np.where(cut, E_CUT, cls)
    cls = np.where(~st.edge_on, E_OFF, cls)
    return np.where(st.edge_viol, E_VIOL, cls)


def bus_classes(d, st) -> np.ndarray:
    """Each bus's class (B_*): violated over out of service over cut off over in service."""
    bcls = np.full(len(d.bus_names), B_ON)
    bcls[st.bus_cut] = B_CUT
    bcls[~st.bus_on] = B_OFF
    bcls[st.bus_viol] = B_VIOL
    return bcls


def marker_points(d, markers, unit_size: float, bus_size: float, scale: float):
    """The hollow violation markers (one per element and constraint kind): positions,
    symbols and sizes, a unit's marker sized on the unit glyph, a bus's on the bus."""
    pos, sym, size = [], [], []
    for name, kind in markers or ():
        xy = d.position(name)
        if xy is None or kind not in MARKERS:
            continue
        s, f, _ = MARKERS[kind]
        base = unit_size if parse_element(name).table in UNIT_TABLES else bus_size
        pos.append(xy)
        sym.append(s)
        size.append(max(base * f, 16 * scale))
    return np.array(pos, dtype=float).reshape(-1, 2), sym, np.array(size, dtype=float)
