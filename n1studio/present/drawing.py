"""The geometry of one grid drawing, as numpy arrays (no Qt here; the view paints them).

Built once per base net: bus positions from the layout, branch segments (lines, trafos,
trafo3w windings, impedances), and the positions of generator and load glyphs placed
around their bus. A variant only changes masks over these arrays (`DrawState`), so
switching variants or taking an element out never recomputes geometry.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandapower as pp

from n1studio.grid.layout import Layout, layout_for

log = logging.getLogger(__name__)

EDGE_TABLES = ("line", "trafo", "trafo3w", "impedance")
UNIT_TABLES = ("ext_grid", "gen", "sgen", "load")
# edge kind codes
LINE, TRAFO, TRAFO3W, IMPEDANCE = 0, 1, 2, 3


@dataclass
class Drawing:
    """Everything drawn for a base net; element names index back into pandapower tables."""

    net_name: str
    layout: Layout
    bus_names: list[str]
    bus_xy: np.ndarray  # (nb, 2)
    bus_labels: list[str]  # short label per bus (its pandapower index)
    bus_titles: list[str]  # the case's own bus names ("" when none)
    edge_names: list[str]  # per segment (a trafo3w has two segments, same name)
    edge_kind: np.ndarray  # LINE/TRAFO/TRAFO3W/IMPEDANCE per segment
    edge_a: np.ndarray  # bus row of each end
    edge_b: np.ndarray
    unit_names: list[str]  # ext_grid, gen, sgen, load
    unit_table: np.ndarray  # index into UNIT_TABLES
    unit_bus: np.ndarray  # bus row
    unit_xy: np.ndarray  # glyph position

    @property
    def edge_xy(self) -> tuple[np.ndarray, np.ndarray]:
        return self.bus_xy[self.edge_a], self.bus_xy[self.edge_b]

    @property
    def edge_mid(self) -> np.ndarray:
        a, b = self.edge_xy
        return (a + b) / 2

    def position(self, name: str) -> np.ndarray | None:
        """Where an element is drawn (bus, glyph or branch midpoint), or None."""
        idx = self.index
        if name in idx:
            kind, rows = idx[name]
            if kind == "bus":
                return self.bus_xy[rows[0]]
            if kind == "unit":
                return self.unit_xy[rows[0]]
            return self.edge_mid[rows].mean(axis=0)
        return None

    @property
    def index(self) -> dict[str, tuple[str, list[int]]]:
        if getattr(self, "_index", None) is None:
            d: dict[str, tuple[str, list[int]]] = {}
            for kind, names in (("bus", self.bus_names), ("edge", self.edge_names),
                                ("unit", self.unit_names)):
                for k, n in enumerate(names):
                    d.setdefault(n, (kind, []))[1].append(k)
            self._index = d
        return self._index

    def bounds(self) -> tuple[float, float, float, float]:
        pts = np.concatenate([self.bus_xy, self.unit_xy]) if len(self.unit_xy) else self.bus_xy
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


def build_drawing(net: pp.pandapowerNet) -> Drawing:
    """Geometry of `net` (its layout is cached per net, so build this from the base net)."""
    lay = layout_for(net)
    bus_index = lay.bus_index
    bus_names = [f"bus:{i}" for i in bus_index]
    names = net.bus["name"].tolist() if "name" in net.bus.columns else [None] * len(bus_index)
    # labels are the pandapower index, as in element names (bus:4 is labelled 4); the case's
    # own bus names are kept for search and tooltips
    bus_labels = [str(i) for i in bus_index]
    bus_titles = [str(n) if n is not None and str(n) not in ("", "nan", "None") else ""
                  for n in names]

    e_names, e_kind, e_a, e_b = [], [], [], []
    for kind, table, cols in ((LINE, "line", ("from_bus", "to_bus")),
                              (TRAFO, "trafo", ("hv_bus", "lv_bus")),
                              (TRAFO3W, "trafo3w", ("hv_bus", "mv_bus")),
                              (TRAFO3W, "trafo3w", ("hv_bus", "lv_bus")),
                              (IMPEDANCE, "impedance", ("from_bus", "to_bus"))):
        if table not in net or len(net[table]) == 0:
            continue
        df = net[table]
        e_names += [f"{table}:{i}" for i in df.index]
        e_kind.append(np.full(len(df), kind, dtype=np.int8))
        e_a.append(lay.rows(df[cols[0]].to_numpy()))
        e_b.append(lay.rows(df[cols[1]].to_numpy()))
    def cat(xs, dt):
        return np.concatenate(xs).astype(dt) if xs else np.zeros(0, dtype=dt)

    u_names, u_table, u_bus = [], [], []
    for t, table in enumerate(UNIT_TABLES):
        if table not in net or len(net[table]) == 0:
            continue
        df = net[table]
        u_names += [f"{table}:{i}" for i in df.index]
        u_table.append(np.full(len(df), t, dtype=np.int8))
        u_bus.append(lay.rows(df["bus"].to_numpy()))
    u_table_a = cat(u_table, np.int8)
    u_bus_a = cat(u_bus, np.int64)
    u_xy = _unit_positions(lay, u_table_a, u_bus_a)

    return Drawing(net_name=str(getattr(net, "name", "") or "grid"), layout=lay,
                   bus_names=bus_names, bus_xy=lay.xy, bus_labels=bus_labels,
                   bus_titles=bus_titles,
                   edge_names=e_names, edge_kind=cat(e_kind, np.int8), edge_a=cat(e_a, np.int64),
                   edge_b=cat(e_b, np.int64), unit_names=u_names, unit_table=u_table_a,
                   unit_bus=u_bus_a, unit_xy=u_xy)


def glyph_offset(lay: Layout) -> float:
    """How far generator and load glyphs sit from their bus: clear of the bus, short of the
    neighbours (dense computed layouts put buses closer than one branch length)."""
    return min(0.42 * lay.unit, 0.55 * lay.spacing) if lay.spacing > 0 else 0.42 * lay.unit


def _unit_positions(lay: Layout, table: np.ndarray, bus: np.ndarray) -> np.ndarray:
    """Generators above their bus, loads below, spread side by side when several share one."""
    n = len(table)
    xy = np.zeros((n, 2))
    if n == 0:
        return xy
    step = glyph_offset(lay)
    is_load = table == UNIT_TABLES.index("load")
    side = np.where(is_load, -1.0, 1.0)
    # rank of each unit among the units on the same side of the same bus
    key = bus * 2 + is_load
    order = np.lexsort((np.arange(n), key))
    sk = key[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sk)) + 1]
    counts = np.diff(np.r_[starts, n])
    rank_sorted = np.arange(n) - np.repeat(starts, counts)
    count_sorted = np.repeat(counts, counts)
    rank = np.empty(n)
    cnt = np.empty(n)
    rank[order] = rank_sorted
    cnt[order] = count_sorted
    xy[:, 0] = lay.xy[bus, 0] + (rank - (cnt - 1) / 2) * 0.55 * step
    xy[:, 1] = lay.xy[bus, 1] + side * step
    return xy


@dataclass
class DrawState:
    """What a variant (and its verdict) changes on a drawing: per-element masks."""

    bus_on: np.ndarray
    bus_cut: np.ndarray  # on, but in an island without generation
    edge_on: np.ndarray
    edge_removed: np.ndarray  # taken out by the variant (drawn dashed)
    unit_on: np.ndarray
    bus_viol: np.ndarray
    edge_viol: np.ndarray
    unit_viol: np.ndarray
    markers: list[tuple[str, str]]  # (element, constraint kind) drawn with a marker
    highlighted: set[str]


def state_for(drawing: Drawing, base: pp.pandapowerNet, outages=(), cut_buses=(),
              violations: list[dict] | None = None) -> DrawState:
    """Masks for a variant (`outages`, `cut_buses`: element names) and optional violations."""
    idx = drawing.index
    removed = set(outages)
    nb, ne, nu = len(drawing.bus_names), len(drawing.edge_names), len(drawing.unit_names)

    bus_on = base.bus["in_service"].to_numpy(dtype=bool).copy()
    edge_removed = np.zeros(ne, dtype=bool)
    unit_on = np.ones(nu, dtype=bool)
    edge_on = np.ones(ne, dtype=bool)
    # base in_service flags, vectorised per table
    pos = 0
    for table, segs in (("line", 1), ("trafo", 1), ("trafo3w", 2), ("impedance", 1)):
        if table not in base or len(base[table]) == 0:
            continue
        flags = base[table]["in_service"].to_numpy(dtype=bool)
        # segments of a table are contiguous except trafo3w's two windings
        n = len(flags)
        for _ in range(segs):
            edge_on[pos:pos + n] = flags
            pos += n
    pos = 0
    for table in UNIT_TABLES:
        if table not in base or len(base[table]) == 0:
            continue
        n = len(base[table])
        unit_on[pos:pos + n] = base[table]["in_service"].to_numpy(dtype=bool)
        pos += n
    for name in removed:
        if name not in idx:
            continue
        kind, rows = idx[name]
        if kind == "bus":
            bus_on[rows] = False
        elif kind == "edge":
            edge_on[rows] = False
            edge_removed[rows] = True
        else:
            unit_on[rows] = False
    # a bus out of service takes its branches and units with it
    edge_on &= bus_on[drawing.edge_a] & bus_on[drawing.edge_b]
    unit_on &= bus_on[drawing.unit_bus]
    bus_cut = np.zeros(nb, dtype=bool)
    for name in cut_buses:
        if name in idx and idx[name][0] == "bus":
            bus_cut[idx[name][1]] = True

    bus_viol = np.zeros(nb, dtype=bool)
    edge_viol = np.zeros(ne, dtype=bool)
    unit_viol = np.zeros(nu, dtype=bool)
    markers: list[tuple[str, str]] = []
    highlighted: set[str] = set()
    for v in violations or []:
        name = str(v.get("element", ""))
        if name not in idx:
            continue
        kind, rows = idx[name]
        {"bus": bus_viol, "edge": edge_viol, "unit": unit_viol}[kind][rows] = True
        highlighted.add(name)
        mk = (name, str(v.get("constraint", "")))
        if mk not in markers:
            markers.append(mk)
    return DrawState(bus_on=bus_on, bus_cut=bus_cut, edge_on=edge_on, edge_removed=edge_removed,
                     unit_on=unit_on, bus_viol=bus_viol, edge_viol=edge_viol, unit_viol=unit_viol,
                     markers=markers, highlighted=highlighted)
