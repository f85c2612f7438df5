"""Which element is under the pointer, and which element a user's text names.

Points (buses, generators, loads) through a KD-tree; branches through a vectorised
point-to-segment distance over every edge at once, so a click on case9241pegase resolves in
milliseconds. Built once per grid (the geometry never changes with a variant).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from n1studio.present.drawing import Drawing

POINT_RADIUS_PX = 9  # a click this close to a bus or unit picks it
EDGE_RADIUS_PX = 6  # ... and this close to a branch


class Picker:
    """Element names at data points of one drawing."""

    def __init__(self, drawing: Drawing):
        d = drawing
        self.drawing = d
        pts = np.concatenate([d.bus_xy, d.unit_xy]) if len(d.unit_xy) else d.bus_xy
        self._tree = cKDTree(pts)
        self._point_names = d.bus_names + d.unit_names
        self.ea, self.eb = d.edge_xy
        self._eab = self.eb - self.ea
        self._eab2 = np.maximum((self._eab ** 2).sum(axis=1), 1e-300)

    def pick(self, x: float, y: float, px: float) -> str:
        """The element under data point (x, y) ("" for none); `px`: the data size of a pixel.
        A bus or unit wins over a branch passing under it."""
        dist, i = self._tree.query((x, y), distance_upper_bound=POINT_RADIUS_PX * px)
        if np.isfinite(dist):
            return self._point_names[int(i)]
        if len(self.ea) == 0:
            return ""
        p = np.array([x, y])
        t = np.clip(((p - self.ea) * self._eab).sum(axis=1) / self._eab2, 0.0, 1.0)
        proj = self.ea + t[:, None] * self._eab
        d2 = ((proj - p) ** 2).sum(axis=1)
        k = int(np.argmin(d2))
        if d2[k] <= (EDGE_RADIUS_PX * px) ** 2:
            return self.drawing.edge_names[k]
        return ""


def find_element(d: Drawing, text: str) -> str:
    """An element name from user text: `bus:12`, `line:3`, the case's own bus name (as the
    labels show it), a bus index, or part of a bus name ("" when nothing matches)."""
    t = text.strip()
    if not t:
        return ""
    if t.replace(" ", "") in d.index:
        return t.replace(" ", "")
    low = t.lower()
    for name, title in zip(d.bus_names, d.bus_titles, strict=True):
        if title.lower() == low:
            return name
    if t.lstrip("-").isdigit() and f"bus:{int(t)}" in d.index:
        return f"bus:{int(t)}"
    for name, title in zip(d.bus_names, d.bus_titles, strict=True):
        if title and low in title.lower():
            return name
    return ""
