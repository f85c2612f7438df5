"""DC OPF (B-theta), solved as a convex QP by HiGHS: PowerModels' DCP model.

Flows are lossless, p = b (va_f - va_t) with b = -Im(1 / (r + jx)) the series susceptance,
as in PowerModels v0.19's DCP `constraint_ohms_yt_from` that produced BASELINE.md's DC
column (measured: this reproduces all eleven bundled PGLib DC optima within 0.005 %, while
the 1/(x*tap) variant with phase shifts misses case30 by 0.42 %). `taps_and_shifts=True`
divides by the tap ratio and moves phase shifts into injections instead, which is closer
to the AC physics. Bus shunt conductances consume gs at vm = 1. Branch limits
|p| <= rate, angle-difference limits, generator P bounds; cost c2 P^2 + c1 P + c0 with P in
MW (a QP when any c2 > 0, an LP otherwise). Outages and islands as in the AC OPF.
"""

from __future__ import annotations

import logging
import math
import time

import highspy
import numpy as np
from scipy.sparse import coo_matrix, csc_matrix, hstack, vstack

from n1studio.grid.model import GridModel
from n1studio.solve.result import OpfResult, empty_result
from n1studio.solve.topology import solve_set, tap_and_series

log = logging.getLogger(__name__)

_STATUS = {
    "Optimal": "optimal",
    "Infeasible": "infeasible",
    "Primal infeasible or unbounded": "infeasible",
    "Unbounded": "unbounded",
    "Time limit reached": "time_limit",
    "Iteration limit reached": "iteration_limit",
}


def solve_dcopf(model: GridModel, *, taps_and_shifts: bool = False) -> OpfResult:
    """Solve the DC OPF of `model` (outages applied as masks). vm = 1, qg = 0 in the result."""
    t0 = time.perf_counter()
    ss = solve_set(model)
    if len(ss.buses) == 0:
        return empty_result(model, "dc", "infeasible", "no bus is energised: no generator in service")
    base = model.base_mva
    nb, ng = len(ss.buses), len(ss.gens)
    br, gi, bus = ss.branches, ss.gens, ss.buses
    nl = len(br)
    tap, ys = tap_and_series(model)
    w = -np.imag(ys[br])  # flow per radian of angle difference
    if taps_and_shifts:
        w = w / np.abs(tap[br])
        shift = np.angle(tap[br])
    else:
        shift = np.zeros(len(br))

    fi, ti = ss.pos[model.f[br]], ss.pos[model.t[br]]
    rows = np.arange(nl)
    a = coo_matrix((np.r_[np.ones(nl), -np.ones(nl)], (np.r_[rows, rows], np.r_[fi, ti])),
                   shape=(nl, nb)).tocsr()  # +1 at f, -1 at t
    bf = a.multiply(w[:, None]).tocsr()  # flow = bf @ va - w * shift
    cg = coo_matrix((np.ones(ng), (ss.pos[model.gen_bus[gi]], np.arange(ng))), shape=(nb, ng))

    # balance: Cg pg - A^T D A va = pd + gs - A^T D shift
    bbus = (a.T @ bf).tocsc()
    inj_shift = a.T @ (w * shift)
    bal = hstack([-bbus, cg]).tocsc()
    bal_rhs = model.pd[bus] + model.gs[bus] - inj_shift

    rated = np.flatnonzero(np.isfinite(model.rate[br]))
    rate = model.rate[br][rated]
    flow = hstack([bf[rated], csc_matrix((len(rated), ng))])
    off = (w * shift)[rated]
    limited = np.flatnonzero(np.isfinite(model.angmin[br]) | np.isfinite(model.angmax[br]))
    angle = hstack([a[limited], csc_matrix((len(limited), ng))])

    mat = vstack([bal, flow, angle]).tocsc()
    row_lo = np.r_[bal_rhs, -rate + off, model.angmin[br][limited]]
    row_hi = np.r_[bal_rhs, rate + off, model.angmax[br][limited]]
    va_lo, va_hi = np.full(nb, -np.inf), np.full(nb, np.inf)
    va_lo[ss.pos[ss.refs]] = 0.0
    va_hi[ss.pos[ss.refs]] = 0.0
    col_lo = np.r_[va_lo, model.pmin[gi]]
    col_hi = np.r_[va_hi, model.pmax[gi]]
    cost = np.r_[np.zeros(nb), model.c1[gi] * base]
    q = 2.0 * model.c2[gi] * base * base

    inf = highspy.kHighsInf
    h = highspy.Highs()
    h.silent()
    lp = highspy.HighsLp()
    lp.num_col_ = nb + ng
    lp.num_row_ = mat.shape[0]
    lp.col_cost_ = cost
    lp.col_lower_ = np.where(np.isfinite(col_lo), col_lo, -inf)
    lp.col_upper_ = np.where(np.isfinite(col_hi), col_hi, inf)
    lp.row_lower_ = np.where(np.isfinite(row_lo), row_lo, -inf)
    lp.row_upper_ = np.where(np.isfinite(row_hi), row_hi, inf)
    lp.offset_ = float(np.sum(model.c0[gi]))
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = mat.indptr.astype(np.int32)
    lp.a_matrix_.index_ = mat.indices.astype(np.int32)
    lp.a_matrix_.value_ = mat.data.astype(float)
    lp.a_matrix_.num_col_ = nb + ng
    lp.a_matrix_.num_row_ = mat.shape[0]
    h.passModel(lp)
    if np.any(q > 0):
        # upper-triangular column-wise Hessian, diagonal on the pg columns only
        start = np.r_[np.zeros(nb + 1, dtype=np.int32), np.arange(1, ng + 1, dtype=np.int32)]
        index = np.arange(nb, nb + ng, dtype=np.int32)
        h.passHessian(nb + ng, ng, 1, start, index, q.astype(float))
    build = time.perf_counter() - t0
    t1 = time.perf_counter()
    h.run()
    solve_t = time.perf_counter() - t1
    raw = h.modelStatusToString(h.getModelStatus())
    status = _STATUS.get(raw, "error")
    success = status == "optimal"

    nbm, ngm = model.n_bus, len(model.gen_names)
    solved = np.zeros(nbm, dtype=bool)
    solved[bus] = True
    vm = np.full(nbm, np.nan)
    va = np.full(nbm, np.nan)
    pg = np.zeros(ngm)
    if success:
        sol = np.asarray(h.getSolution().col_value, dtype=float)
        va[bus] = sol[:nb]
        vm[bus] = 1.0
        pg[gi] = sol[nb:] * base
        objective = float(h.getInfo().objective_function_value)
    else:
        solved[:] = False
        objective = math.nan
    msg = f"HiGHS: {raw}"
    if ss.n_islands > 1:
        msg += f"; {ss.n_islands} energised islands"
    log.info("DC OPF %s %s: %s, objective %.6g, %.3fs", model.name, model.outages, status,
             objective, solve_t)
    return OpfResult(model=model, kind="dc", status=status, success=success,
                     objective=objective,
                     vm=vm, va=va, pg=pg, qg=np.zeros(ngm), solve_time_s=solve_t,
                     build_time_s=build, iterations=int(h.getInfo().simplex_iteration_count
                                                        + h.getInfo().qp_iteration_count),
                     message=msg, solved_bus=solved)
