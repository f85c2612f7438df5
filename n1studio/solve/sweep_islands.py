"""Which outages of an N-1 sweep split the grid, and what they cut off.

"Cut off" is the grid's one definition (`grid.topology`): in service, in no island with a
generator in service. An outage is ``islanded`` when it leaves more islands than the base
case or cuts off a bus the base case serves; its ``islanded_buses`` are then exactly the
variant's `IslandReport.cut_buses` (what `n1studio solve --out EL` reports), and its
``lost_load_mw`` the report's lost load. Units the outage leaves on an island without load
are tripped with it (`grid.topology.with_trips`, as `Variant` does) and listed in
``tripped``; a trip always makes an outage islanded (the stranded island goes dark).
Islanded outages never reach the power flow.

Branch outages are screened with the bridges of the in-service branch multigraph (igraph;
parallel branches are not bridges): only those can split anything.
"""

from __future__ import annotations

import igraph
import numpy as np

from n1studio.grid.model import GridModel
from n1studio.grid.topology import IslandReport, island_report, with_trips
from n1studio.solve.sweep_classify import result


def islanded_result(el: str, base: IslandReport, model: GridModel) -> dict | None:
    """The ``islanded`` result of outage `el` of the base model `model`, or None when the
    outage splits nothing the base case does not already split."""
    variant, tripped = with_trips(model, [el])
    rep = island_report(variant, groups=False)
    if rep.n_islands <= base.n_islands and set(rep.cut_buses) <= set(base.cut_buses):
        return None
    r = result(el, "islanded", islanded_buses=rep.cut_buses, lost_load_mw=rep.lost_load_mw,
               tripped=tripped)
    r["n_islands"] = rep.n_islands
    return r


def branch_islanding(model: GridModel, base: IslandReport, elements: list[str]) -> dict[str, dict]:
    """``islanded`` results of the branch outages among `elements` that split the grid."""
    idx = np.flatnonzero(model.branch_on)
    edges = list(zip(model.f[idx].tolist(), model.t[idx].tolist(), strict=True))
    g = igraph.Graph(n=model.n_bus, edges=edges)
    bridges = {int(idx[e]) for e in g.bridges()}
    out = {}
    for el in elements:
        try:
            kind, rows = model.index(el)
        except KeyError:
            continue
        live = [r for r in rows if model.branch_on[r]]
        if kind != "branch" or not live or (len(live) == 1 and live[0] not in bridges):
            continue
        r = islanded_result(el, base, model)
        if r is not None:
            out[el] = r
    return out
