"""Islands and "cut off": the one definition every part of N-1 Studio uses.

An *island* is a connected component of the in-service buses joined by in-service branches.
A bus is *energised* when its island holds at least one generator in service (ext_grid,
gen or controllable sgen), and *cut off* when it is in service but not energised.

Why this definition: it is what the OPF can solve. An island with a generator has a
dispatch and gets its own angle reference (`solve.topology.solve_set`); an island without
one has none, so its buses are not solved, not asked of the model (`llm.prompt`), not
checked, shaded on the drawing, and listed by the N-1 sweep as ``islanded_buses``. An
outage that splits off a part that keeps a generator (case14's synchronous condenser
behind trafo:3) still makes an island, reported as such, but cuts no bus off.

Everything that reports islands (the sweep, `Variant.islands`, the solver, the prompt, the
checker's element list and the drawing) calls the functions here.

*Tripped units*: an outage that leaves a generating unit (ext_grid, gen or controllable
sgen: every unit the OPF dispatches) on an island without load takes that unit out with
it, as an operator (or the unit's own protection) would: a unit with nothing to supply
cannot hold its minimum output or its reactive limits, and an OPF that kept it would call
the variant infeasible for a reason no operator has (PGLib case39 `trafo:0` strands
gen:0, whose Qmin is 140 Mvar). An external grid counts as a unit here because in
MATPOWER and PGLib files it is the reference generator. Units already on a loadless
island in the base case are left as the file has them: the trip belongs to the outage.
`tripped_units` is the one rule; `Variant` (grid/variant.py) and the sweep call it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


class GridModel(Protocol):
    """What this module reads of `grid.model.GridModel`, as an interface: the model imports
    this module (its islands() and cut_off() are defined here), so it is not imported back."""

    base_mva: float
    bus_names: list[str]
    bus_on: np.ndarray
    is_ref: np.ndarray
    f: np.ndarray
    t: np.ndarray
    branch_on: np.ndarray
    gen_names: list[str]
    gen_bus: np.ndarray
    gen_on: np.ndarray
    load_names: list[str]
    load_bus: np.ndarray
    load_p: np.ndarray
    load_q: np.ndarray
    load_on: np.ndarray
    load_in_net: np.ndarray | None
    outages: tuple[str, ...]

    @property
    def n_bus(self) -> int: ...

    def with_outages(self, elements) -> GridModel: ...


def island_labels(model: GridModel) -> np.ndarray:
    """Component label per bus over in-service buses and branches (-1 for buses off)."""
    nb = model.n_bus
    on = model.branch_on & model.bus_on[model.f] & model.bus_on[model.t]
    g = coo_matrix((np.ones(int(on.sum())), (model.f[on], model.t[on])), shape=(nb, nb))
    _, labels = connected_components(g, directed=False)
    labels = labels.astype(int)
    labels[~model.bus_on] = -1
    return labels


def energised(model: GridModel, labels: np.ndarray | None = None) -> np.ndarray:
    """Mask of the buses in service whose island has at least one generator in service."""
    labels = island_labels(model) if labels is None else labels
    fed = np.zeros(int(labels.max(initial=-1)) + 2, dtype=bool)  # last slot: label -1
    fed[labels[model.gen_bus[model.gen_on]]] = True
    fed[-1] = False
    return fed[labels] & model.bus_on


def cut_off(model: GridModel, labels: np.ndarray | None = None) -> np.ndarray:
    """Mask of the buses that are cut off: in service, but in no island with a generator."""
    return model.bus_on & ~energised(model, labels)


def unloaded_units(model: GridModel, labels: np.ndarray | None = None) -> np.ndarray:
    """Mask of the generators in service whose island has no load in service (a load row
    in service with a nonzero P or Q)."""
    labels = island_labels(model) if labels is None else labels
    rows = model.load_on & ((model.load_p != 0) | (model.load_q != 0))
    loaded = np.zeros(int(labels.max(initial=-1)) + 2, dtype=bool)  # last slot: label -1
    loaded[labels[model.load_bus[rows]]] = True
    loaded[-1] = False
    return model.gen_on & ~loaded[labels[model.gen_bus]]


def tripped_units(base: GridModel, variant: GridModel) -> list[str]:
    """The units that the outages of `variant` (the base model with elements out) leave on
    an island without load, and that were not already on one in `base`: the units an
    operator trips with the outage (see the module docstring). Sorted as the model lists them."""
    stranded = unloaded_units(variant)
    if stranded.any():  # most outages strand nothing: the base is looked at only when needed
        stranded &= ~unloaded_units(base)
    return [variant.gen_names[k] for k in np.flatnonzero(stranded)]


def with_trips(base: GridModel, outages) -> tuple[GridModel, tuple[str, ...]]:
    """`base` with `outages` out of service and the units they strand tripped as well;
    also the tripped units' names."""
    model = base.with_outages(outages)
    if not len(model.outages):
        return model, ()
    tripped = tuple(tripped_units(base, model))
    return (model.with_outages(tripped) if tripped else model), tripped


def describe_tripped(tripped) -> str:
    """The one text for tripped units: "gen:0 tripped (left on an island without load)"."""
    if not tripped:
        return ""
    return f"{', '.join(tripped)} tripped (left on an island without load)"


@dataclass
class IslandReport:
    """What a variant's topology does to the grid (see the module docstring)."""

    n_islands: int
    cut_buses: list[str]  # buses on, in islands without any generator in service
    lost_loads: list[str]  # loads in service in the net whose bus is cut off or out of service
    lost_load_mw: float
    islands_without_ref: int  # islands with generation but no reference bus
    islands: list[list[str]] = field(default_factory=list)  # bus names per island, biggest first
    tripped: list[str] = field(default_factory=list)  # units taken out with the outage

    @property
    def islanded(self) -> bool:
        return self.n_islands > 1 or bool(self.cut_buses)

    def describe(self, html: bool = False) -> str:
        """One line: "connected", or the islands, the buses cut off and the load lost."""
        return describe_islands(self.n_islands, self.cut_buses, self.lost_load_mw, html=html,
                                tripped=self.tripped)

    def to_dict(self) -> dict:
        return {"n_islands": self.n_islands, "cut_buses": self.cut_buses,
                "lost_loads": self.lost_loads, "lost_load_mw": round(self.lost_load_mw, 6),
                "islands_without_ref": self.islands_without_ref, "tripped": list(self.tripped)}


def island_report(model: GridModel, groups: bool = True, tripped=()) -> IslandReport:
    """The islands of `model` (a base or a variant model), named. `groups=False` skips the
    per-island bus lists (the sweep asks this for thousands of outages); `tripped` names the
    units the outage took out with it (`with_trips`), reported with the islands."""
    labels = island_labels(model)
    fed_bus = energised(model, labels)
    ids = np.unique(labels[labels >= 0])
    names = model.bus_names
    cut = [names[k] for k in np.flatnonzero(model.bus_on & ~fed_bus) if names[k]]
    listed = model.load_in_net if model.load_in_net is not None else model.load_on
    outaged = set(model.outages)
    lost_rows = [k for k in np.flatnonzero(listed & ~fed_bus[model.load_bus])
                 if model.load_names[k] not in outaged]
    lost_mw = float(np.sum(model.load_p[lost_rows]) * model.base_mva) if lost_rows else 0.0
    fed = {int(labels[b]) for b in model.gen_bus[model.gen_on]}
    refs = {int(labels[b]) for b in np.flatnonzero(model.is_ref & model.bus_on)}
    members = []
    if groups:
        order = np.argsort(labels, kind="stable")
        bounds = np.searchsorted(labels[order], ids)
        parts = np.split(order, bounds[1:]) if len(ids) else []
        members = sorted(([names[k] for k in p if names[k]] for p in parts), key=len, reverse=True)
    return IslandReport(n_islands=len(ids), cut_buses=cut,
                        lost_loads=[model.load_names[k] for k in lost_rows],
                        lost_load_mw=lost_mw, islands_without_ref=len(fed - refs), islands=members,
                        tripped=list(tripped))


def describe_islands(n_islands: int, cut_buses: list[str], lost_load_mw: float = 0.0,
                     show: int = 0, html: bool = False, tripped=()) -> str:
    """The one text for a topology: "connected" or "2 islands, 3 bus(es) cut off, 5.0 MW of
    load lost, gen:0 tripped (...)". `show` names that many cut buses; `html` bolds the lost
    load."""
    if n_islands <= 1 and not cut_buses and not tripped:
        return "connected"
    parts = [f"{n_islands} islands"]
    if cut_buses:
        text = f"{len(cut_buses)} bus(es) cut off"
        if show > 0:
            more = f" +{len(cut_buses) - show}" if len(cut_buses) > show else ""
            text += f" ({', '.join(cut_buses[:show])}{more})"
        parts.append(text)
    if lost_load_mw > 0:
        lost = f"{lost_load_mw:.1f} MW of load lost"
        parts.append(f"<b>{lost}</b>" if html else lost)
    if tripped:
        parts.append(describe_tripped(tripped))
    return ", ".join(parts)
