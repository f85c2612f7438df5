"""DC OPF (B-theta), solved as a convex QP by HiGHS: PowerModels' DCP model.

Flows are lossless, p = b (va_f - va_t) with b = -Im(1 / (r + jx)) the series susceptance,
as in PowerModels v0.19's DCP `constraint_ohms_yt_from` that produced BASELINE.md's DC
column (measured: this reproduces all eleven bundled PGLib DC optima within 0.005 %, while
the 1/(x*tap) variant with phase shifts misses case30 by 0.42 %). `taps_and_shifts=True`
divides by the tap ratio and moves phase shifts into injections instead, which is closer
to the AC physics. Bus shunt conductances consume gs at vm = 1. Branch limits
|p| <= rate, angle-difference limits, generator P bounds; cost c2 P^2 + c1 P + c0 with P in
MW (a QP when any c2 > 0, an LP otherwise). Outages and islands as in the AC OPF.

Budget: HiGHS stops at `time_limit_s` (default solve/budget.py's, the whole call: the
build, the QP and any LP rounds after it); the result then says "time_limit", success False.
"""

from __future__ import annotations

import logging
import math
import time

import highspy
import numpy as np
from scipy.sparse import coo_matrix, csc_matrix, hstack, vstack

from n1studio.grid.model import GridModel
from n1studio.solve.budget import DEFAULT_TIME_LIMIT_S
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


def solve_dcopf(model: GridModel, *, taps_and_shifts: bool = False,
                time_limit_s: float | None = None) -> OpfResult:
    """Solve the DC OPF of `model` (outages applied as masks). vm = 1, qg = 0 in the result.
    HiGHS stops after `time_limit_s` seconds of the whole call (None: the default budget)."""
    limit = DEFAULT_TIME_LIMIT_S if time_limit_s is None else float(time_limit_s)
    if not limit > 0:
        raise ValueError(f"bad DC OPF time limit: {time_limit_s!r}")
    t0 = time.perf_counter()
    deadline = t0 + limit
    ss = solve_set(model)
    if len(ss.buses) == 0:
        return empty_result(model, "dc", "infeasible",
                            "no bus is energised: no generator in service")
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

    build = time.perf_counter() - t0
    t1 = time.perf_counter()
    raw, sol, iters = _solve_qp(mat, row_lo, row_hi, col_lo, col_hi, cost, q, deadline)
    if raw == "Solve error" and np.any(q > 0) and time.perf_counter() < deadline:
        # HiGHS' active-set QP solver occasionally stalls with small primal infeasibilities
        # (pandapower case9 without load:1); the LP outer approximation below is exact to
        # 1e-9 relative and relies on the simplex method only.
        log.info("DC OPF %s: QP solver failed, using the LP outer approximation", model.name)
        raw, sol, iters = _solve_outer_approximation(mat, row_lo, row_hi, col_lo, col_hi, cost,
                                                     q, deadline)
    solve_t = time.perf_counter() - t1
    status = _STATUS.get(raw, "error")
    success = status == "optimal"
    if success:
        p = sol[nb:nb + ng]
        objective = float(np.sum(cost[nb:] * p + 0.5 * q * p * p) + np.sum(model.c0[gi]))

    nbm, ngm = model.n_bus, len(model.gen_names)
    solved = np.zeros(nbm, dtype=bool)
    solved[bus] = True
    vm = np.full(nbm, np.nan)
    va = np.full(nbm, np.nan)
    pg = np.zeros(ngm)
    if success:
        va[bus] = sol[:nb]
        vm[bus] = 1.0
        pg[gi] = sol[nb:nb + ng] * base
    else:
        solved[:] = False
        objective = math.nan
    msg = f"HiGHS: {raw}"
    if status == "time_limit":
        msg = f"stopped at the time limit of {limit:g} s (HiGHS)"
    if ss.n_islands > 1:
        msg += f"; {ss.n_islands} energised islands"
    log.info("DC OPF %s %s: %s, objective %.6g, %.3fs", model.name, model.outages, status,
             objective, solve_t)
    return OpfResult(model=model, kind="dc", status=status, success=success,
                     objective=objective,
                     vm=vm, va=va, pg=pg, qg=np.zeros(ngm), solve_time_s=solve_t,
                     build_time_s=build, iterations=iters, message=msg, solved_bus=solved)


_TIME_LIMIT = "Time limit reached"


def _left(deadline: float) -> float:
    return deadline - time.perf_counter()


def _highs(mat, row_lo, row_hi, col_lo, col_hi, cost, deadline: float) -> highspy.Highs:
    inf = highspy.kHighsInf
    h = highspy.Highs()
    h.silent()
    h.setOptionValue("time_limit", max(_left(deadline), 1e-6))
    lp = highspy.HighsLp()
    lp.num_col_ = mat.shape[1]
    lp.num_row_ = mat.shape[0]
    lp.col_cost_ = np.asarray(cost, dtype=float)
    lp.col_lower_ = np.where(np.isfinite(col_lo), col_lo, -inf)
    lp.col_upper_ = np.where(np.isfinite(col_hi), col_hi, inf)
    lp.row_lower_ = np.where(np.isfinite(row_lo), row_lo, -inf)
    lp.row_upper_ = np.where(np.isfinite(row_hi), row_hi, inf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = mat.indptr.astype(np.int32)
    lp.a_matrix_.index_ = mat.indices.astype(np.int32)
    lp.a_matrix_.value_ = mat.data.astype(float)
    lp.a_matrix_.num_col_ = mat.shape[1]
    lp.a_matrix_.num_row_ = mat.shape[0]
    h.passModel(lp)
    return h


def _iterations(h: highspy.Highs) -> int:
    info = h.getInfo()
    return int(max(info.simplex_iteration_count, 0) + max(info.qp_iteration_count, 0)
               + max(info.ipm_iteration_count, 0))


def _solve_qp(mat, row_lo, row_hi, col_lo, col_hi, cost, q, deadline: float):
    """min cost.x + 1/2 sum q x_g^2 over the pg columns (the last len(q) columns)."""
    n = mat.shape[1]
    ng = len(q)
    if _left(deadline) <= 0:
        return _TIME_LIMIT, None, 0
    h = _highs(mat, row_lo, row_hi, col_lo, col_hi, cost, deadline)
    if np.any(q > 0):
        # lower-triangular column-wise Hessian: diagonal entries on the pg columns
        nz = np.flatnonzero(q > 0)
        cols = n - ng + nz
        counts = np.zeros(n, dtype=np.int32)
        counts[cols] = 1
        start = np.r_[0, np.cumsum(counts)].astype(np.int32)
        h.passHessian(n, len(nz), 1, start, cols.astype(np.int32), q[nz].astype(float))
    h.run()
    raw = h.modelStatusToString(h.getModelStatus())
    sol = np.asarray(h.getSolution().col_value, dtype=float) if raw == "Optimal" else None
    return raw, sol, _iterations(h)


def _solve_outer_approximation(mat, row_lo, row_hi, col_lo, col_hi, cost, q, deadline: float,
                               rtol=1e-9, max_rounds=60):
    """The same QP as an LP: an epigraph column t_g >= q_g/2 p^2 per quadratic unit, cut by
    tangents added where the LP optimum violates the curve, until the gap is below rtol."""
    n = mat.shape[1]
    ng = len(q)
    quad = np.flatnonzero(q > 0)
    k = len(quad)
    big = hstack([mat, csc_matrix((mat.shape[0], k))]).tocsc()
    h = _highs(big, row_lo, row_hi, np.r_[col_lo, np.full(k, -np.inf)],
               np.r_[col_hi, np.full(k, np.inf)], np.r_[cost, np.ones(k)], deadline)
    pcol = n - ng + quad
    tcol = n + np.arange(k)

    def cut(j: int, at: float) -> None:
        # t >= q/2 (2 at p - at^2)  <=>  q at p - t <= q/2 at^2
        h.addRow(-highspy.kHighsInf, 0.5 * q[quad[j]] * at * at, 2,
                 np.array([pcol[j], tcol[j]], dtype=np.int32),
                 np.array([q[quad[j]] * at, -1.0]))

    for j in range(k):
        lo, hi = col_lo[pcol[j]], col_hi[pcol[j]]
        for at in {lo if np.isfinite(lo) else -10.0, hi if np.isfinite(hi) else 10.0, 0.0}:
            cut(j, float(at))
    iters = 0
    raw = "Solve error"
    sol = None
    for _ in range(max_rounds):
        if _left(deadline) <= 0:
            return _TIME_LIMIT, None, iters
        h.setOptionValue("time_limit", _left(deadline))
        h.run()
        iters += _iterations(h)
        raw = h.modelStatusToString(h.getModelStatus())
        if raw != "Optimal":
            return raw, None, iters
        sol = np.asarray(h.getSolution().col_value, dtype=float)
        p, t = sol[pcol], sol[tcol]
        true = 0.5 * q[quad] * p * p
        gap = true - t
        scale = max(abs(float(h.getInfo().objective_function_value)), 1e-6)
        if gap.sum() <= rtol * scale:
            break
        for j in np.flatnonzero(gap > 0.1 * rtol * scale / max(k, 1)):
            cut(int(j), float(p[j]))
    return raw, (sol[:n] if sol is not None else None), iters
