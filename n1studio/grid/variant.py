"""N-1 variants: a base grid plus a set of elements out of service.

The base net is never mutated: `Variant.net` is a copy with the outages applied, and
`Variant.model` is the base `GridModel` with the outages masked (cheap for sweeps).
Islanding is detected and reported (grid/topology.py), never raised. Units an outage
leaves on an island without load are tripped with it (`Variant.tripped`, the rule in
grid/topology.py): `outages` is what was asked (the variant's identity, its N-k order),
`out_of_service` is what the variant has out (the outages and the tripped units): the net,
the model, the label, the prompt, the drawing and the verdict all use the latter.
"""

from __future__ import annotations

import contextlib
import copy
import weakref
from functools import cached_property

import pandapower as pp

from n1studio.grid.elements import OUTAGE_TABLES, elements_of, parse_element, resolve, sort_key
from n1studio.grid.model import GridModel
from n1studio.grid.perturb import Perturbation, Relabelling
from n1studio.grid.topology import IslandReport, describe_tripped, island_report, with_trips

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
        # not weak-referenceable: keep the entry (bounded by the nets a user opens)
        with contextlib.suppress(TypeError):
            weakref.finalize(net, _BASE_MODELS.pop, key, None)
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
        """"N-1 trafo:0 + gen:0 tripped (left on an island without load) · load x1.1"."""
        return self.label_with()

    def label_with(self, name=str, perturbation: bool = True) -> str:
        """The label with every element name passed through `name` (the prompt's names);
        `perturbation=False` leaves the perturbation's part out."""
        head = f"N-{len(self.outages)} " + ", ".join(map(name, self.outages)) if self.outages \
            else "N"
        if self.tripped:
            head += " + " + describe_tripped([name(u) for u in self.tripped])
        extra = self.perturbation.label if perturbation else ""
        return f"{head} · {extra}" if extra else head

    @property
    def tripped(self) -> tuple[str, ...]:
        """The units the outages leave on an island without load, taken out with them."""
        return self._topology[1] if self.outages else ()

    @property
    def out_of_service(self) -> tuple[str, ...]:
        """Everything this variant has out of service: the outages and the tripped units."""
        return tuple(sorted(self.outages + self.tripped, key=sort_key))

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
        for name in self.out_of_service:
            el = parse_element(name)
            net[el.table].at[el.index, "in_service"] = False
        self.perturbation.apply_to_net(net)
        return net

    @cached_property
    def _topology(self) -> tuple[GridModel, tuple[str, ...]]:
        """The unperturbed model with everything out, and the tripped units (no outage:
        the base model itself, nothing tripped, nothing computed)."""
        if not self.outages:
            return base_model(self.base).with_outages(()), ()
        return with_trips(base_model(self.base), self.outages)

    @cached_property
    def model(self) -> GridModel:
        return self.perturbation.apply_to_model(self._topology[0])

    @cached_property
    def relabelling(self) -> Relabelling | None:
        """The names the prompt uses (None unless the variant is relabelled)."""
        if not self.perturbation.relabel:
            return None
        return Relabelling(base_model(self.base), self.perturbation.seed)

    @cached_property
    def islands(self) -> IslandReport:
        """The variant's islands, buses cut off and load lost (grid/topology.py)."""
        return island_report(self.model, tripped=self.tripped)


def n1_candidates(net: pp.pandapowerNet, kinds=("line", "trafo")) -> list[str]:
    """Every in-service element of the given tables: the single outages of an N-1 sweep."""
    out = []
    for k in kinds:
        if k not in OUTAGE_TABLES:
            raise ValueError(f"{k!r} cannot be taken out of service")
        out += elements_of(net, k, in_service_only=True)
    return out
