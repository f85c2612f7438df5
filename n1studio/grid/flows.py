"""Branch flows from bus voltages: the one place the pi-model power-flow formula is written.

S_from = V_f conj(yff V_f + yft V_t) and S_to = V_t conj(ytf V_f + ytt V_t), per unit of the
model's base, with the admittances of `GridModel` (pandapower's own branch model). The
checker, the N-1 sweep and the app's loading colours all call these functions, so a branch
that is overloaded in one is overloaded in all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from n1studio.grid.model import GridModel


def branch_flows(model: GridModel, v: np.ndarray,
                 rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Complex power (pu) entering each branch at its from and to end.

    `v` holds complex bus voltages (pu) in model bus order; `rows` picks branches (all by
    default). Status is not applied: a branch out of service gets the flow it would carry.
    """
    r = slice(None) if rows is None else rows
    vf, vt = v[model.f[r]], v[model.t[r]]
    sf = vf * np.conj(model.yff[r] * vf + model.yft[r] * vt)
    st = vt * np.conj(model.ytf[r] * vf + model.ytt[r] * vt)
    return sf, st


def branch_smax_mva(model: GridModel, v: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """Apparent power (MVA) per branch, the larger of both ends: what a rating limits."""
    sf, st = branch_flows(model, v, rows)
    return np.maximum(np.abs(sf), np.abs(st)) * model.base_mva
