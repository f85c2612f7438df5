"""The reference AC OPF: the polar (ACP) formulation PGLib's published optima come from.

PowerModels' ACP model, solved with Ipopt (bundled in CasADi's wheel):
variables vm, va per energised bus and pg, qg per generator in service; P and Q balance at
every bus with shunts; apparent-power limits |S|^2 <= rate^2 at both ends of every rated
branch; angle-difference limits; voltage and generator bounds; cost sum(c2 P^2 + c1 P + c0)
with P in MW. The expressions are built vectorised (numpy index arrays into CasADi SX
vectors, sparse incidence matrices for the nodal sums) so case2869 builds in about a second.

Outages and islands come from `GridModel` masks (see `topology.solve_set`). An infeasible
variant is a result with Ipopt's status, never an exception.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Callable

import casadi as ca
import numpy as np
from scipy.sparse import csc_matrix

from n1studio.grid.model import GridModel
from n1studio.solve.result import IPOPT_STATUS, OpfResult, dispatch_cost, empty_result
from n1studio.solve.topology import solve_set

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]

IPOPT_OPTIONS = {
    "print_level": 0,
    "tol": 1e-8,
    "max_iter": 3000,
    "sb": "yes",
    "mu_strategy": "adaptive",  # a little faster and more robust on the larger cases
}


def _incidence(rows: np.ndarray, n_rows: int, n_cols: int) -> ca.DM:
    """Sparse 0/1 matrix with a one at (rows[k], k)."""
    m = csc_matrix((np.ones(len(rows)), (rows, np.arange(len(rows)))), shape=(n_rows, n_cols))
    return ca.DM(m)


def solve_acopf(model: GridModel, *, init: dict | None = None, progress: Progress | None = None,
                ipopt_options: dict | None = None) -> OpfResult:
    """Solve the AC OPF of `model` (its outages applied as masks).

    `init` warm-starts Ipopt: a dict with any of "vm", "va" (per model bus, radians),
    "pg", "qg" (per model generator, MW/Mvar), e.g. taken from the N solution; NaN
    entries fall back to the flat start (vm = 1, va = 0, pg mid-range).
    """
    t0 = time.perf_counter()
    if progress:
        progress(0.0, "building AC OPF")
    ss = solve_set(model)
    if len(ss.buses) == 0:
        return empty_result(model, "ac", "infeasible", "no bus is energised: no generator in service")
    base = model.base_mva
    nb, ng = len(ss.buses), len(ss.gens)
    br = ss.branches
    fi, ti = ss.pos[model.f[br]], ss.pos[model.t[br]]
    gbus = ss.pos[model.gen_bus[ss.gens]]
    bus = ss.buses

    va = ca.SX.sym("va", nb)
    vm = ca.SX.sym("vm", nb)
    pg = ca.SX.sym("pg", ng)
    qg = ca.SX.sym("qg", ng)

    # branch flows at both ends (PowerModels' constraint_ohms_yt_from/to)
    yff, yft, ytf, ytt = model.yff[br], model.yft[br], model.ytf[br], model.ytt[br]
    vf, vt = vm[fi.tolist()], vm[ti.tolist()]
    d = va[fi.tolist()] - va[ti.tolist()]
    c, s = ca.cos(d), ca.sin(d)
    vfvt = vf * vt
    vf2, vt2 = vf * vf, vt * vt
    pf = yff.real * vf2 + vfvt * (yft.real * c + yft.imag * s)
    qf = -yff.imag * vf2 + vfvt * (yft.real * s - yft.imag * c)
    pt = ytt.real * vt2 + vfvt * (ytf.real * c - ytf.imag * s)
    qt = -ytt.imag * vt2 + vfvt * (-ytf.real * s - ytf.imag * c)

    nl = len(br)
    cf, ct = _incidence(fi, nb, nl), _incidence(ti, nb, nl)
    cg = _incidence(gbus, nb, ng)
    vm2 = vm * vm
    p_bal = ca.mtimes(cg, pg) - model.pd[bus] - model.gs[bus] * vm2 - ca.mtimes(cf, pf) - ca.mtimes(ct, pt)
    q_bal = ca.mtimes(cg, qg) - model.qd[bus] + model.bs[bus] * vm2 - ca.mtimes(cf, qf) - ca.mtimes(ct, qt)

    rated = np.flatnonzero(np.isfinite(model.rate[br]))
    r = rated.tolist()
    rate2 = model.rate[br][rated] ** 2
    sf2 = pf[r] ** 2 + qf[r] ** 2
    st2 = pt[r] ** 2 + qt[r] ** 2

    amin, amax = model.angmin[br], model.angmax[br]
    ang = np.flatnonzero(np.isfinite(amin) | np.isfinite(amax))
    dang = d[ang.tolist()]

    g = ca.vertcat(p_bal, q_bal, sf2, st2, dang)
    lbg = np.concatenate([np.zeros(2 * nb), np.full(2 * len(rated), -np.inf), amin[ang]])
    ubg = np.concatenate([np.zeros(2 * nb), rate2, rate2, amax[ang]])

    gi = ss.gens
    p_mw = pg * base
    cost = ca.sum1(model.c2[gi] * p_mw * p_mw + model.c1[gi] * p_mw) + float(np.sum(model.c0[gi]))

    x = ca.vertcat(va, vm, pg, qg)
    va_lo, va_hi = np.full(nb, -np.inf), np.full(nb, np.inf)
    refpos = ss.pos[ss.refs]
    va_lo[refpos] = 0.0
    va_hi[refpos] = 0.0
    lbx = np.concatenate([va_lo, model.vmin[bus], model.pmin[gi], model.qmin[gi]])
    ubx = np.concatenate([va_hi, model.vmax[bus], model.pmax[gi], model.qmax[gi]])
    x0 = _start(model, ss, init)

    opts = {"ipopt": {**IPOPT_OPTIONS, **(ipopt_options or {})}, "print_time": False,
            "error_on_fail": False}
    solver = ca.nlpsol("acopf", "ipopt", {"x": x, "f": cost, "g": g}, opts)
    build = time.perf_counter() - t0
    if progress:
        progress(0.2, f"solving AC OPF ({nb} buses, {nl} branches)")
    t1 = time.perf_counter()
    sol = solver(x0=x0, lbx=lbx, ubx=ubx, lbg=lbg, ubg=ubg)
    solve_t = time.perf_counter() - t1
    stats = solver.stats()
    raw = str(stats.get("return_status", "unknown"))
    status = IPOPT_STATUS.get(raw, "error")
    success = status in ("optimal", "acceptable")
    xs = np.asarray(sol["x"]).ravel()

    vm_out = np.full(model.n_bus, np.nan)
    va_out = np.full(model.n_bus, np.nan)
    va_out[bus] = xs[:nb]
    vm_out[bus] = xs[nb:2 * nb]
    pg_out = np.zeros(len(model.gen_names))
    qg_out = np.zeros(len(model.gen_names))
    pg_out[gi] = xs[2 * nb:2 * nb + ng] * base
    qg_out[gi] = xs[2 * nb + ng:] * base
    objective = float(sol["f"]) if success else dispatch_cost(model, pg_out)
    solved = np.zeros(model.n_bus, dtype=bool)
    solved[bus] = True
    msg = f"Ipopt: {raw}"
    if ss.n_islands > 1:
        msg += f"; {ss.n_islands} energised islands"
    cut = int(np.sum(model.bus_on & ~solved))
    if cut:
        msg += f"; {cut} bus(es) de-energised, not solved"
    if progress:
        progress(1.0, f"AC OPF {status}")
    log.info("AC OPF %s: %s, objective %.6g, build %.3fs, solve %.3fs, %s iterations",
             model.name, status, objective, build, solve_t, stats.get("iter_count"))
    return OpfResult(model=model, kind="ac", status=status, success=success,
                     objective=objective if math.isfinite(objective) else math.nan,
                     vm=vm_out, va=va_out, pg=pg_out, qg=qg_out, solve_time_s=solve_t,
                     build_time_s=build, iterations=int(stats.get("iter_count", 0) or 0),
                     message=msg, solved_bus=solved, warm_started=init is not None)


def _start(model: GridModel, ss, init: dict | None) -> np.ndarray:
    """Initial point: flat start, overridden by a warm start where it has finite values."""
    bus, gi = ss.buses, ss.gens
    base = model.base_mva
    vm = np.ones(len(bus))
    lo, hi = model.vmin[bus], model.vmax[bus]
    vm = np.clip(vm, np.where(np.isfinite(lo), lo, -np.inf), np.where(np.isfinite(hi), hi, np.inf))
    va = np.zeros(len(bus))
    pg = _mid(model.pmin[gi], model.pmax[gi])
    qg = _mid(model.qmin[gi], model.qmax[gi])
    if init:
        for key, arr, idx, scale in (("vm", vm, bus, 1.0), ("va", va, bus, 1.0),
                                     ("pg", pg, gi, 1.0 / base), ("qg", qg, gi, 1.0 / base)):
            if init.get(key) is None:
                continue
            v = np.asarray(init[key], dtype=float)[idx] * scale
            ok = np.isfinite(v)
            arr[ok] = v[ok]
        # angles relative to each island's reference, which is fixed at 0
        if init.get("va") is not None:
            labels = model.islands()[bus]
            for r in ss.refs:
                same = labels == labels[ss.pos[r]]
                va[same] -= va[ss.pos[r]]
    return np.concatenate([va, vm, pg, qg])


def _mid(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    lo_f = np.where(np.isfinite(lo), lo, np.nan)
    hi_f = np.where(np.isfinite(hi), hi, np.nan)
    mid = np.where(np.isfinite(lo_f) & np.isfinite(hi_f), (lo + hi) / 2.0,
                   np.where(np.isfinite(lo_f), np.maximum(lo_f, 0.0),
                            np.where(np.isfinite(hi_f), np.minimum(hi_f, 0.0), 0.0)))
    return mid
