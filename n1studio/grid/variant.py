"""N-1 variants: a base grid plus a set of elements out of service.

The base net is never mutated: `Variant.net` is a copy with the outages applied, and
`Variant.model` is the base `GridModel` with the outages masked (cheap for sweeps).
Islanding is detected and reported (grid/topology.py), never raised.
"""

from __future__ import annotations

import copy
import weakref
from functools import cached_property

import pandapower as pp

from n1studio.grid.elements import OUTAGE_TABLES, elements_of, parse_element, resolve, sort_key
from n1studio.grid.model import GridModel
from n1studio.grid.perturb import Perturbation, Relabelling
from n1studio.grid.topology import IslandReport, island_report

__all__ = ["IslandReport", "Perturbation", "Variant", "base_model", "n1_candidates"]

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


class Variant:
    """A base net with `outages` applied and an optional `Perturbation` (load, cost,
    names: grid/perturb.py). Outages are validated against the base."""

    def __init__(self, base: pp.pandapowerNet, outages=(),
                 perturbation: Perturbation | None = None):
        self.base = base
        names = []
        for o in outages:
            el = resolve(base, parse_element(o), outage=True)
            names.append(str(el))
        self.outages: tuple[str, ...] = tuple(sorted(set(names), key=sort_key))
        self.perturbation = perturbation or Perturbation()

    @property
    def is_base(self) -> bool:
        """The unperturbed N case itself."""
        return not self.outages and self.perturbation.is_identity

    @property
    def key(self) -> tuple:
        """What identifies this variant of its base (outages and perturbation)."""
        return (self.outages, self.perturbation.key())

    @property
    def label(self) -> str:
        head = f"N-{len(self.outages)} " + ", ".join(self.outages) if self.outages else "N"
        extra = self.perturbation.label
        return f"{head} · {extra}" if extra else head

    def with_outage(self, element: str) -> Variant:
        return Variant(self.base, self.outages + (element,), self.perturbation)

    def with_outages(self, outages) -> Variant:
        """The same perturbation with other outages (`()`: the perturbed N case)."""
        return Variant(self.base, outages, self.perturbation)

    def with_perturbation(self, perturbation: Perturbation | None) -> Variant:
        return Variant(self.base, self.outages, perturbation)

    @cached_property
    def net(self) -> pp.pandapowerNet:
        net = copy.deepcopy(self.base)
        for name in self.outages:
            el = parse_element(name)
            net[el.table].at[el.index, "in_service"] = False
        self.perturbation.apply_to_net(net)
        return net

    @cached_property
    def model(self) -> GridModel:
        m = base_model(self.base).with_outages(self.outages)
        return self.perturbation.apply_to_model(m)

    @cached_property
    def relabelling(self) -> Relabelling | None:
        """The names the prompt uses (None unless the variant is relabelled)."""
        if not self.perturbation.relabel:
            return None
        return Relabelling(base_model(self.base), self.perturbation.seed)

    @cached_property
    def islands(self) -> IslandReport:
        """The variant's islands, buses cut off and load lost (grid/topology.py)."""
        return island_report(self.model)


def n1_candidates(net: pp.pandapowerNet, kinds=("line", "trafo")) -> list[str]:
    """Every in-service element of the given tables: the single outages of an N-1 sweep."""
    out = []
    for k in kinds:
        if k not in OUTAGE_TABLES:
            raise ValueError(f"{k!r} cannot be taken out of service")
        out += elements_of(net, k, in_service_only=True)
    return out
