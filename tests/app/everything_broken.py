"""An answer that breaks every kind of constraint a case has (voltage, power balance,
generator P and Q, thermal ratings, angle differences where the case limits them): the most
crowded drawing a verdict can make, for the label tests."""

from __future__ import annotations

import math

import numpy as np

from n1studio.check import check_answer
from n1studio.grid.variant import Variant

ALL = ("voltage", "angle", "gen_p", "gen_q")


def breaking_answer(variant: Variant, breaks=ALL) -> dict:
    """A flat-voltage answer (power balance broken) with one bus pushed over its voltage
    limit, one far off in angle (thermal and angle), one generator over its P limit and one
    over its Q limit (`breaks`: which of these)."""
    m = variant.model
    base = m.base_mva
    on_b = np.flatnonzero(m.bus_on & (m.bus_index >= 0))
    va = np.zeros(len(m.bus_names))
    vm = np.ones(len(m.bus_names))
    # the buses at the ends of a branch that has a rating and an angle limit
    lim = np.flatnonzero(m.branch_on & np.isfinite(m.rate) & np.isfinite(m.angmax))
    br = int(lim[0]) if len(lim) else int(np.flatnonzero(m.branch_on)[0])
    if "angle" in breaks:
        va[m.t[br]] = 75.0
    if "voltage" in breaks:
        vm[on_b[len(on_b) // 2]] = float(m.vmax[on_b[len(on_b) // 2]]) + 0.15
    gens = []
    on_g = np.flatnonzero(m.gen_on)
    for j, g in enumerate(on_g):
        p = 0.5 * (m.pmin[g] + m.pmax[g])
        q = 0.5 * (m.qmin[g] + m.qmax[g])
        if j == 0 and "gen_p" in breaks:
            p = m.pmax[g] * 1.5 + 0.5
        if j == 1 and "gen_q" in breaks:
            q = m.qmax[g] * 2 + 0.5
        gens.append({"element": m.gen_names[g], "p_mw": float(p * base),
                     "q_mvar": float(q * base), "vm_pu": 1.0})
    buses = [{"element": m.bus_names[b], "vm_pu": float(vm[b]), "va_degree": float(va[b])}
             for b in on_b]
    return {"schema": "n1studio.answer/1", "generators": gens, "buses": buses}


def breaking_verdict(variant: Variant, breaks=ALL) -> dict:
    """The verdict of `breaking_answer` (checked here, no reference solve)."""
    return check_answer(variant.model, breaking_answer(variant, breaks))


def kinds(verdict: dict) -> set[str]:
    return {v["constraint"] for v in verdict["violations"]}


def has_angle_limits(variant: Variant) -> bool:
    m = variant.model
    return bool(np.isfinite(m.angmax[m.branch_on]).any()
                and (np.abs(m.angmax[m.branch_on]) < math.pi).any())
