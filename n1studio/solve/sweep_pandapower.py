"""The N-1 sweep's fallback: one pandapower ``runpp`` per outage, on the variant's net.

Used for the kinds lightsim2grid does not take out (bus, ext_grid, trafo3w, impedance on
grids it cannot convert) and for whole grids it cannot convert. Slow (a deep copy and a
Newton-Raphson per outage) but faithful to pandapower's own models.
"""

from __future__ import annotations

import copy
import logging

import numpy as np
import pandapower as pp

from n1studio.grid.flows import branch_smax_mva
from n1studio.grid.model import GridModel
from n1studio.grid.quiet import quiet_pandapower
from n1studio.grid.variant import Variant
from n1studio.solve.sweep_classify import Limits, diverged


def quiet_runpp(net) -> bool:
    """Run pandapower's AC power flow in place; whether it converged."""
    with quiet_pandapower(logging.CRITICAL):
        try:
            pp.runpp(net, init="dc", calculate_voltage_angles=True, max_iteration=30)
            return bool(net.converged)
        except Exception:  # noqa: BLE001 - pandapower raises LoadflowNotConverged and friends
            return False


def has_slack(net) -> bool:
    """Whether an ext_grid or a slack gen is in service on a bus in service."""
    bus_on = net.bus.in_service
    eg = net.ext_grid
    if len(eg) and (eg.in_service & bus_on.reindex(eg.bus).to_numpy()).any():
        return True
    g = net.gen
    return bool(len(g) and "slack" in g
                and (g.slack.fillna(False).astype(bool) & g.in_service
                     & bus_on.reindex(g.bus).to_numpy()).any())


def model_voltages(model: GridModel, net) -> np.ndarray:
    """pandapower's solved bus voltages in model bus order (0 where it has none)."""
    v = np.zeros(model.n_bus, dtype=complex)
    named = model.bus_index >= 0
    res = net.res_bus.loc[model.bus_index[named]]
    v[named] = res.vm_pu.to_numpy() * np.exp(1j * np.deg2rad(res.va_degree.to_numpy()))
    return np.nan_to_num(v)


def _smax(model: GridModel, v: np.ndarray, lim: Limits) -> np.ndarray:
    return branch_smax_mva(model, v, lim.rated) * model.branch_on[lim.rated]


def base_violations(net, model: GridModel, lim: Limits) -> list[dict]:
    """Solve the base case with runpp; set it as `lim`'s base and return its violations."""
    work = copy.deepcopy(net)
    if not quiet_runpp(work):
        return []
    v = model_voltages(model, work)
    return lim.set_base(np.abs(v[lim.bus_rows]), _smax(model, v, lim))


def outage(net, vmodel: GridModel, el: str, lim: Limits) -> dict:
    """Outage `el` (that splits nothing; `vmodel` is the model without it) solved by runpp."""
    work = Variant(net, [el]).net
    if not has_slack(work):
        return diverged(el, "no reference (slack) bus left in service", lim.cut_buses)
    if not quiet_runpp(work):
        return diverged(el, "the AC power flow did not converge", lim.cut_buses)
    v = model_voltages(vmodel, work)
    v[~vmodel.bus_on] = 0.0
    r = lim.results([el], np.abs(v[lim.bus_rows])[None, :], _smax(vmodel, v, lim)[None, :])[0]
    r["islanded_buses"] = [n for n, c in zip(vmodel.bus_names, vmodel.cut_off(), strict=True)
                           if c and n]
    return r
