"""Where to draw each bus: stored coordinates when the case has them, a computed layout otherwise.

pandapower's built-in cases carry GeoJSON points in `net.bus.geo` (parsed here with one
vectorised regular expression, not json.loads per row). MATPOWER/PGLib files have none:
their layout is igraph's Fruchterman-Reingold (0.4 s on 2,869 buses, 1.6 s on 9,241, where
networkx's spring_layout takes 27 s / 253 s). Layouts are cached per net object, so every
variant of one grid is drawn at the same place.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import weakref
from dataclasses import dataclass

import igraph as ig
import numpy as np
import pandapower as pp
from scipy.spatial import cKDTree

log = logging.getLogger(__name__)

# Branch-like tables and the bus columns they connect (trafo3w: hv to mv and hv to lv).
EDGE_COLUMNS = {
    "line": ("from_bus", "to_bus"),
    "trafo": ("hv_bus", "lv_bus"),
    "impedance": ("from_bus", "to_bus"),
}

KK_MAX_BUS = 600
_IGRAPH_RNG_LOCK = threading.Lock()

_GEO_RE = r'"coordinates"\s*:\s*\[\s*([-+0-9.eE]+)\s*,\s*([-+0-9.eE]+)'


@dataclass(frozen=True)
class Layout:
    """Bus positions: `xy[k]` is where pandapower bus `bus_index[k]` is drawn."""

    bus_index: np.ndarray  # pandapower bus indices, in net.bus order
    xy: np.ndarray  # (n, 2) float
    source: str  # "stored" or "computed"
    seconds: float

    unit: float  # median branch length in layout units: glyph offsets scale with it
    spacing: float = 0.0  # median distance from a bus to its nearest neighbour

    def rows(self, bus_indices) -> np.ndarray:
        """Row numbers into `xy` for pandapower bus indices (vectorised)."""
        order = np.argsort(self.bus_index, kind="stable")
        pos = np.searchsorted(self.bus_index[order], np.asarray(bus_indices, dtype=np.int64))
        return order[np.clip(pos, 0, len(order) - 1)]


_CACHE: dict[int, tuple[weakref.ref, Layout]] = {}


def stored_coordinates(net: pp.pandapowerNet) -> np.ndarray | None:
    """(n, 2) coordinates from `net.bus.geo` (GeoJSON points) or legacy `bus_geodata`, or None
    when any bus lacks them."""
    n = len(net.bus)
    if "geo" in net.bus.columns and n:
        geo = net.bus["geo"]
        if geo.notna().all():
            found = geo.astype(str).str.extract(_GEO_RE)
            if not found.isna().any().any():
                xy = found.to_numpy(dtype=float)
                if np.isfinite(xy).all():
                    return xy
    bg = net.get("bus_geodata") if hasattr(net, "get") else None
    if (bg is not None and len(bg) and {"x", "y"} <= set(bg.columns)
            and net.bus.index.isin(bg.index).all()):
        xy = bg.loc[net.bus.index, ["x", "y"]].to_numpy(dtype=float)
        if np.isfinite(xy).all():
            return xy
    return None


def bus_edges(net: pp.pandapowerNet) -> np.ndarray:
    """(m, 2) pairs of pandapower bus indices over every branch (all of them, in or out of
    service: the drawing does not move when an element is taken out)."""
    pairs = []
    for table, (a, b) in EDGE_COLUMNS.items():
        if table in net and len(net[table]):
            pairs.append(net[table][[a, b]].to_numpy(dtype=np.int64))
    if "trafo3w" in net and len(net.trafo3w):
        t3 = net.trafo3w
        pairs.append(t3[["hv_bus", "mv_bus"]].to_numpy(dtype=np.int64))
        pairs.append(t3[["hv_bus", "lv_bus"]].to_numpy(dtype=np.int64))
    if "switch" in net and len(net.switch):
        sw = net.switch[net.switch.et == "b"]
        if len(sw):
            pairs.append(sw[["bus", "element"]].to_numpy(dtype=np.int64))
    return np.concatenate(pairs) if pairs else np.zeros((0, 2), dtype=np.int64)


def computed_layout(net: pp.pandapowerNet, seed: int = 1) -> np.ndarray:
    """Fruchterman-Reingold positions (igraph), deterministic for a given seed."""
    idx = net.bus.index.to_numpy(dtype=np.int64)
    n = len(idx)
    if n == 0:
        return np.zeros((0, 2))
    if n == 1:
        return np.zeros((1, 2))
    order = np.argsort(idx)
    pairs = bus_edges(net)
    known = np.isin(pairs, idx).all(axis=1)
    pairs = pairs[known]
    rows = order[np.searchsorted(idx[order], pairs)]
    rows = rows[rows[:, 0] != rows[:, 1]]
    g = ig.Graph(n=n, edges=rows.tolist())
    g.simplify()
    rng = np.random.default_rng(seed)
    init = rng.uniform(-1, 1, size=(n, 2)) * np.sqrt(n)
    # igraph draws its random numbers from Python's global `random`, which other threads
    # also use: give it a private seeded generator for this call (under a lock, since the
    # setting is process-wide) so a grid is drawn the same way every time it is opened
    with _IGRAPH_RNG_LOCK:
        ig.set_random_number_generator(random.Random(seed))
        try:
            lay = _fr_then_kk(g, init, n)
        finally:
            ig.set_random_number_generator(random)
    return _finish_layout(lay, rows)


def _fr_then_kk(g, init: np.ndarray, n: int):
    lay = g.layout_fruchterman_reingold(seed=init.tolist(), niter=500,
                                        grid="auto" if n > 1000 else "nogrid")
    if n <= KK_MAX_BUS:
        # Kamada-Kawai evens out edge lengths on meshed grids (readable at a glance); it
        # is quadratic, so only on small grids, started from the FR layout
        lay = g.layout_kamada_kawai(seed=lay.coords, maxiter=50 * n)
    return lay


def _finish_layout(lay, rows: np.ndarray) -> np.ndarray:
    xy = np.asarray(lay.coords, dtype=float)
    # scale to a unit comparable to the stored layouts (mean edge length ~ 1)
    if len(rows):
        d = np.linalg.norm(xy[rows[:, 0]] - xy[rows[:, 1]], axis=1)
        med = float(np.median(d[d > 0])) if np.any(d > 0) else 1.0
        xy /= med or 1.0
    return xy


def _median_edge(net: pp.pandapowerNet, bus_index: np.ndarray, xy: np.ndarray) -> float:
    pairs = bus_edges(net)
    if len(pairs) == 0 or len(xy) < 2:
        span = float(np.ptp(xy, axis=0).max()) if len(xy) else 1.0
        return span / 10 or 1.0
    order = np.argsort(bus_index)
    ok = np.isin(pairs, bus_index).all(axis=1)
    rows = order[np.searchsorted(bus_index[order], pairs[ok])]
    d = np.linalg.norm(xy[rows[:, 0]] - xy[rows[:, 1]], axis=1)
    d = d[d > 0]
    return float(np.median(d)) if len(d) else 1.0


def _spacing(xy: np.ndarray) -> float:
    if len(xy) < 2:
        return 1.0
    d = cKDTree(xy).query(xy, k=2)[0][:, 1]
    d = d[d > 0]
    return float(np.median(d)) if len(d) else 1.0


def layout_for(net: pp.pandapowerNet) -> Layout:
    """The layout of `net`, cached per net object (variants share their base's)."""
    key = id(net)
    hit = _CACHE.get(key)
    if hit is not None and hit[0]() is net:
        return hit[1]
    t0 = time.perf_counter()
    xy = stored_coordinates(net)
    source = "stored"
    if xy is None:
        xy = computed_layout(net)
        source = "computed"
    else:
        xy = xy.copy()
        # flip nothing, but centre it: pandapower coordinates are arbitrary units
        xy -= xy.mean(axis=0) if len(xy) else 0.0
    bus_index = net.bus.index.to_numpy(dtype=np.int64)
    lay = Layout(bus_index=bus_index, xy=xy, source=source, seconds=time.perf_counter() - t0,
                 unit=_median_edge(net, bus_index, xy), spacing=_spacing(xy))
    log.info("%s: %s layout of %d buses in %.2f s", getattr(net, "name", "grid"), source,
             len(xy), lay.seconds)
    try:
        ref = weakref.ref(net, lambda _r, k=key: _CACHE.pop(k, None))
    except TypeError:
        return lay
    _CACHE[key] = (ref, lay)
    return lay
