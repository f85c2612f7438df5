"""N-1 variants: a base grid plus a set of elements out of service.

The base net is never mutated: `Variant.net` is a copy with the outages applied, and
`Variant.model` is the base `GridModel` with the outages masked (cheap for sweeps).
Islanding is detected and reported, never raised.
"""

from __future__ import annotations

import copy
import weakref
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandapower as pp

from n1studio.grid.elements import OUTAGE_TABLES, elements_of, parse_element, resolve
from n1studio.grid.model import GridModel, _sort_key

# Base models by id(net); pandapowerNet is unhashable, so a finaliser drops the entry with the net.
_BASE_MODELS: dict[int, GridModel] = {}


def base_model(net: pp.pandapowerNet) -> GridModel:
    """The GridModel of `net`, built once per net object (the base net is never mutated)."""
    key = id(net)
    m = _BASE_MODELS.get(key)
    if m is None:
        m = GridModel.from_net(net)
        _BASE_MODELS[key] = m
        try:
            weakref.finalize(net, _BASE_MODELS.pop, key, None)
        except TypeError:  # not weak-referenceable: keep the entry (bounded by the nets a user opens)
            pass
    return m


@dataclass
class IslandReport:
    n_islands: int
    cut_buses: list[str]  # buses on, in islands without any generator in service
    lost_loads: list[str]  # loads in service whose bus is cut off or out of service
    lost_load_mw: float
    islands_without_ref: int  # islands with generation but no reference bus
    islands: list[list[str]] = field(default_factory=list)  # bus names per island, biggest first

    @property
    def islanded(self) -> bool:
        return self.n_islands > 1 or bool(self.cut_buses)

    def describe(self) -> str:
        if not self.islanded:
            return "connected"
        parts = [f"{self.n_islands} islands"]
        if self.cut_buses:
            parts.append(f"{len(self.cut_buses)} bus(es) cut off")
        if self.lost_loads:
            parts.append(f"{self.lost_load_mw:.1f} MW of load lost")
        return ", ".join(parts)

    def to_dict(self) -> dict:
        return {"n_islands": self.n_islands, "cut_buses": self.cut_buses,
                "lost_loads": self.lost_loads, "lost_load_mw": round(self.lost_load_mw, 6),
                "islands_without_ref": self.islands_without_ref}


class Variant:
    """A base net with `outages` applied. Outages are validated against the base."""

    def __init__(self, base: pp.pandapowerNet, outages=()):
        self.base = base
        names = []
        for o in outages:
            el = resolve(base, parse_element(o), outage=True)
            names.append(str(el))
        self.outages: tuple[str, ...] = tuple(sorted(set(names), key=_sort_key))

    @property
    def is_base(self) -> bool:
        return not self.outages

    @property
    def label(self) -> str:
        if self.is_base:
            return "N"
        return f"N-{len(self.outages)} " + ", ".join(self.outages)

    def with_outage(self, element: str) -> Variant:
        return Variant(self.base, self.outages + (element,))

    @cached_property
    def net(self) -> pp.pandapowerNet:
        net = copy.deepcopy(self.base)
        for name in self.outages:
            el = parse_element(name)
            net[el.table].at[el.index, "in_service"] = False
        return net

    @cached_property
    def model(self) -> GridModel:
        return base_model(self.base).with_outages(self.outages)

    @cached_property
    def islands(self) -> IslandReport:
        m = self.model
        labels = m.islands()
        energised = m.energised()
        ids = [i for i in np.unique(labels) if i >= 0]
        groups = sorted(([m.bus_names[k] for k in np.flatnonzero(labels == i) if m.bus_names[k]]
                         for i in ids), key=len, reverse=True)
        cut = [m.bus_names[k] for k in np.flatnonzero(m.bus_on & ~energised) if m.bus_names[k]]
        lost = [n for k, n in enumerate(m.load_names)
                if self.base.load.at[int(n.split(":")[1]), "in_service"]
                and (not m.bus_on[m.load_bus[k]] or not energised[m.load_bus[k]])
                and n not in self.outages]
        lost_mw = float(sum(m.load_p[m.load_names.index(n)] for n in lost) * m.base_mva)
        fed = {int(labels[b]) for b in m.gen_bus[m.gen_on]}
        refs = {int(labels[b]) for b in np.flatnonzero(m.is_ref & m.bus_on)}
        return IslandReport(n_islands=len(ids), cut_buses=cut, lost_loads=lost, lost_load_mw=lost_mw,
                            islands_without_ref=len(fed - refs), islands=groups)


def n1_candidates(net: pp.pandapowerNet, kinds=("line", "trafo")) -> list[str]:
    """Every in-service element of the given tables: the single outages of an N-1 sweep."""
    out = []
    for k in kinds:
        if k not in OUTAGE_TABLES:
            raise ValueError(f"{k!r} cannot be taken out of service")
        out += elements_of(net, k, in_service_only=True)
    return out
