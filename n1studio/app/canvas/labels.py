"""Where bus labels go: clear of every marker, bus and glyph drawn near them.

Pure numpy in page (or screen) pixels, so the window's grid view and the figures place
labels the same way. Each label tries positions around its bus, nearest first (the first
ring just outside the biggest marker on its own bus, then further out with a leader line
back to the bus), and takes the first whose box overlaps nothing already there: markers,
bus dots, generator and load glyphs, and the labels placed before it. Where nothing is
free (a dense grid seen whole) it takes the position that covers the least marker area;
the label is then painted above the markers on a halo, so it is never hidden under one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Directions tried around a bus (pixels, y down), the upper right first (the usual place).
# Then the ones between them: any (dx, dy) with max(|dx|, |dy|) = 1 keeps the box outside the
# square around the bus.
_DIRS = np.array([(1, -1), (1, 0), (1, 1), (0, -1), (0, 1), (-1, -1), (-1, 0), (-1, 1),
                  (1, -0.5), (1, 0.5), (0.5, -1), (-0.5, -1), (0.5, 1), (-0.5, 1), (-1, -0.5),
                  (-1, 0.5)], dtype=float)
_RINGS = (0.0, 0.5, 1.2, 2.2, 3.5, 5.0, 7.0, 10.0, 14.0)  # extra distance, in label heights
# overlapping a marker costs far more than overlapping a label or a plain bus dot
MARKER_WEIGHT = 50.0


@dataclass
class Placement:
    """Label boxes (x0, y0, x1, y1 in pixels) and whether each needs a leader line."""

    boxes: np.ndarray
    leader: np.ndarray

    def leader_segments(self, anchors: np.ndarray) -> np.ndarray:
        """(k, 4) segments from a bus to the nearest point of its displaced label."""
        idx = np.flatnonzero(self.leader)
        if not len(idx):
            return np.zeros((0, 4))
        b = self.boxes[idx]
        a = anchors[idx]
        nx = np.clip(a[:, 0], b[:, 0], b[:, 2])
        ny = np.clip(a[:, 1], b[:, 1], b[:, 3])
        return np.column_stack([a[:, 0], a[:, 1], nx, ny])


def boxes_around(xy: np.ndarray, size) -> np.ndarray:
    """Square boxes of side `size` (scalar or per point) centred on `xy`."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    h = np.broadcast_to(np.asarray(size, dtype=float) / 2, (len(xy),))
    return np.column_stack([xy[:, 0] - h, xy[:, 1] - h, xy[:, 0] + h, xy[:, 1] + h])


def overlap_area(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Overlap area of `box` (4,) or boxes (k, 4) with each of `boxes` (m, 4): (k, m)."""
    a = np.asarray(box, dtype=float).reshape(-1, 1, 4)
    b = np.asarray(boxes, dtype=float).reshape(1, -1, 4)
    w = np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0])
    h = np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1])
    return np.clip(w, 0, None) * np.clip(h, 0, None)


def place_labels(anchors: np.ndarray, sizes: np.ndarray, clear: np.ndarray,
                 markers: np.ndarray, others: np.ndarray,
                 bounds: tuple[float, float, float, float] | None = None,
                 gap: float = 2.0) -> Placement:
    """Place a label of `sizes[i]` (w, h) beside each anchor.

    `clear[i]`: the radius around anchor i that its label keeps clear of (its bus dot and
    the biggest marker drawn on it); `markers`: every marker's box (m, 4); `others`: other
    boxes to keep clear of if possible (bus dots, glyphs); `bounds`: the page area labels
    stay inside.
    """
    anchors = np.asarray(anchors, dtype=float).reshape(-1, 2)
    sizes = np.asarray(sizes, dtype=float).reshape(-1, 2)
    n = len(anchors)
    # a pixel and a half to spare: text items land on whole pixels
    markers = np.asarray(markers, dtype=float).reshape(-1, 4) + np.array([-1.5, -1.5, 1.5, 1.5])
    others = np.asarray(others, dtype=float).reshape(-1, 4)
    boxes = np.zeros((n, 4))
    leader = np.zeros(n, dtype=bool)
    placed = np.zeros((0, 4))
    # crowded buses first: they have the fewest free places
    if len(markers):
        centres = (markers[:, :2] + markers[:, 2:]) / 2
        d = np.hypot(*(anchors[:, None, :] - centres[None, :, :]).transpose(2, 0, 1))
        crowd = (d < 4 * np.maximum(sizes[:, 1:2], 1)).sum(axis=1)
    else:
        crowd = np.zeros(n)
    order = np.lexsort((np.arange(n), -crowd))
    for i in order:
        (x, y), (w, h) = anchors[i], sizes[i]
        r = clear[i] + gap
        cand = []
        ring_of = []
        for k, extra in enumerate(_RINGS):
            dist = r + extra * h
            # a box wholly outside the square of half-side `dist` around the bus
            cx = x + _DIRS[:, 0] * (dist + w / 2)
            cy = y + _DIRS[:, 1] * (dist + h / 2)
            cand.append(np.column_stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]))
            ring_of += [k] * len(_DIRS)
        c = np.concatenate(cand)
        ring_of = np.array(ring_of)
        cost = np.zeros(len(c))
        if len(markers):
            cost += MARKER_WEIGHT * overlap_area(c, markers).sum(axis=1)
        if len(others):
            cost += overlap_area(c, others).sum(axis=1)
        if len(placed):
            cost += 2.0 * overlap_area(c, placed).sum(axis=1)
        if bounds is not None:
            x0, y0, x1, y1 = bounds
            out = ((c[:, 0] < x0) | (c[:, 1] < y0) | (c[:, 2] > x1) | (c[:, 3] > y1))
            cost += np.where(out, 1e9, 0.0)
        free = np.flatnonzero(cost <= 1e-9)
        # the nearest free place; else the least covered one, nearest first on ties
        j = int(free[0]) if len(free) else int(np.lexsort((ring_of, cost))[0])
        boxes[i] = c[j]
        leader[i] = ring_of[j] >= 2
        placed = np.vstack([placed, c[j]])
    return Placement(boxes, leader)
