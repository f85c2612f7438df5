"""AC power flow of a variant with pandapower's `runpp`, as an `OpfResult` (kind "pf").

The power flow keeps the case's own dispatch (generator set-points), so its cost is what
the grid costs without re-optimisation; a variant that does not converge is reported with
status "diverged", never raised.
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np
import pandapower as pp

from n1studio.grid.elements import parse_element
from n1studio.grid.quiet import quiet_pandapower
from n1studio.grid.variant import Variant
from n1studio.solve.result import OpfResult, dispatch_cost, empty_result

log = logging.getLogger(__name__)

_RES = {"ext_grid": "res_ext_grid", "gen": "res_gen", "sgen": "res_sgen"}


def run_ac_pf(variant: Variant, **runpp_kwargs) -> OpfResult:
    """Run pandapower's Newton-Raphson power flow on `variant.net`."""
    model = variant.model
    net = variant.net
    t0 = time.perf_counter()
    kwargs = {"calculate_voltage_angles": True, "init": "auto", "numba": False}
    kwargs.update(runpp_kwargs)
    try:
        with quiet_pandapower(logging.CRITICAL):
            pp.runpp(net, **kwargs)
    except pp.LoadflowNotConverged:
        r = empty_result(model, "pf", "diverged", "pandapower: power flow did not converge")
        r.solve_time_s = time.perf_counter() - t0
        return r
    except Exception as exc:  # noqa: BLE001 -- pandapower raises plain errors (e.g. no slack)
        r = empty_result(model, "pf", "error", f"pandapower: {exc.__class__.__name__}: {exc}")
        r.solve_time_s = time.perf_counter() - t0
        return r
    solve_t = time.perf_counter() - t0

    nb, ng = model.n_bus, len(model.gen_names)
    vm = np.full(nb, np.nan)
    va = np.full(nb, np.nan)
    idx = model.bus_index
    named = idx >= 0
    res = net.res_bus.reindex(idx[named])
    vm[named] = res.vm_pu.values
    va[named] = np.deg2rad(res.va_degree.values)
    # internal buses (trafo3w star points) stay NaN: they carry no name in any answer
    solved = np.isfinite(vm) & model.bus_on & model.energised()
    vm[~solved] = np.nan
    va[~solved] = np.nan

    pg = np.zeros(ng)
    qg = np.zeros(ng)
    for g, name in enumerate(model.gen_names):
        table, el = parse_element(name)
        df = net[_RES[table]]
        if model.gen_on[g] and el in df.index:
            p, q = df.at[el, "p_mw"], df.at[el, "q_mvar"]
            pg[g] = p if math.isfinite(p) else 0.0
            qg[g] = q if math.isfinite(q) else 0.0
    return OpfResult(model=model, kind="pf", status="converged", success=True,
                     objective=dispatch_cost(model, pg), vm=vm, va=va, pg=pg, qg=qg,
                     solve_time_s=solve_t, iterations=int(net._ppc.get("iterations", 0) or 0),
                     message="pandapower: converged", solved_bus=solved)
