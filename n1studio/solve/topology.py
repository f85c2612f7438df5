"""What an OPF solves: the energised buses of a variant and one angle reference per island.

Shared by the AC and DC OPF so both treat outages and islands the same way: buses that
are out of service or cut off (the grid's one definition, `grid.topology`: in no island
with a generator in service) are not solved (they are reported);
each island that has generation keeps one angle reference, its own reference bus when it
has one, else the bus of its largest generator in service.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from n1studio.grid.model import GridModel
from n1studio.grid.topology import energised as energised_buses
from n1studio.grid.topology import island_labels


@dataclass
class SolveSet:
    buses: np.ndarray  # model bus indices solved (energised), ascending
    pos: np.ndarray  # model bus index -> position in `buses` (-1 if not solved)
    branches: np.ndarray  # model branch indices in service between solved buses
    gens: np.ndarray  # model generator indices in service on solved buses
    refs: np.ndarray  # model bus indices of the angle references, one per island

    @property
    def n_islands(self) -> int:
        return len(self.refs)


def solve_set(model: GridModel) -> SolveSet:
    """Energised buses, live branches and generators, and one reference per island."""
    labels = island_labels(model)
    energised = energised_buses(model, labels)
    buses = np.flatnonzero(energised)
    pos = np.full(model.n_bus, -1, dtype=int)
    pos[buses] = np.arange(len(buses))
    br = np.flatnonzero(model.branch_on & energised[model.f] & energised[model.t])
    gens = np.flatnonzero(model.gen_on & energised[model.gen_bus])
    refs = []
    for isl in np.unique(labels[buses]):
        members = buses[labels[buses] == isl]
        ref = members[model.is_ref[members]]
        if len(ref):
            refs.append(int(ref[0]))
            continue
        g = gens[labels[model.gen_bus[gens]] == isl]
        size = np.where(np.isfinite(model.pmax[g]), model.pmax[g], 1e6)
        refs.append(int(model.gen_bus[g[np.argmax(size)]]))
    return SolveSet(buses=buses, pos=pos, branches=br, gens=gens,
                    refs=np.array(refs, dtype=int))


def tap_and_series(model: GridModel) -> tuple[np.ndarray, np.ndarray]:
    """Per branch: complex tap (ratio * e^{j shift}) and series admittance, recovered from
    the pi-model admittances (yff = (ys + bc/2)/|t|^2, ytt = ys + bc/2, ytf = -ys/t)."""
    ratio2 = np.real(model.ytt / np.where(model.yff != 0, model.yff, 1.0))
    ratio2 = np.where(ratio2 > 0, ratio2, 1.0)
    ratio_yft = model.yft / np.where(model.ytf != 0, model.ytf, 1.0)  # = t / conj(t)
    shift = np.angle(ratio_yft) / 2.0
    tap = np.sqrt(ratio2) * np.exp(1j * shift)
    ys = -model.ytf * tap
    return tap, ys
