"""The compiled AC OPF of one base grid: PowerModels' polar (ACP) formulation in CasADi,
solved by Ipopt (bundled in CasADi's wheel); solve/acopf.py is the API around it.

Variables vm, va per bus and pg, qg per generator; P and Q balance at every bus with
shunts; apparent-power limits |S|^2 <= rate^2 at both ends of every rated branch;
angle-difference limits; voltage and generator bounds; cost sum(c2 P^2 + c1 P + c0) with
P in MW over generators in service.

Why it is built once per base grid: CasADi's symbolic derivatives dominate the cost of a
solve on large grids (case1354: ~4 s to build, ~1.5 s to solve). The NLP is therefore
built vectorised (numpy index arrays into SX vectors, sparse incidence matrices for the
nodal sums) over *all* branches, buses and generators of the base grid, with outages
entering only as parameters and bounds: a branch status multiplies its flows, loads are
parameters, units out of service and buses that are not solved (out of service or
de-energised) are fixed through their bounds and their balance rows are freed. Every N-1
variant of a grid then reuses the same compiled solver.

Budget: an Ipopt iteration callback (`_Watch`) stops a solve at its iteration or time
budget or on cancel, so one compiled solver serves every budget.

Ratings that no flow can reach (|S| at the voltage bounds is below the rating) are left
out of the NLP: they cannot bind, and ratings of 1e5..1e7 MVA (pandapower's placeholders
for "unlimited") squared into 1e10..1e14 bounds only hurt Ipopt's conditioning.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import casadi as ca
import numpy as np
from scipy.sparse import csc_matrix

from n1studio.grid.model import GridModel
from n1studio.solve.budget import DEFAULT_MAX_ITER, DEFAULT_TIME_LIMIT_S
from n1studio.solve.topology import SolveSet

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]

IPOPT_OPTIONS = {
    "print_level": 0,
    "tol": 1e-8,
    "max_iter": 100000,  # a ceiling only: the per-call budget is enforced by the callback
    "sb": "yes",
    "mu_strategy": "adaptive",  # fewer iterations on the larger PGLib cases
    # Ipopt's inertia correction raises the Hessian regularisation up to this bound, one
    # MUMPS factorisation per step; at the default 1e20, pandapower's case1888rte (no
    # feasible point) spends minutes per iteration in the restoration phase. At 1e8 it
    # stops as Restoration_Failed in 8 s; no PGLib case comes near it.
    "max_hessian_perturbation": 1e8,
}


# Warm start from a neighbouring solution (the N case) with its multipliers: start close
# to the central path. Measured on case118 N-1 line outages: 8 Ipopt iterations instead
# of 20 from the flat start, same optima (bench/bench_opf.py).
WARM_OPTIONS = {
    "warm_start_init_point": "yes",
    "mu_init": 1e-6,
    "warm_start_bound_push": 1e-9,
    "warm_start_bound_frac": 1e-9,
    "warm_start_slack_bound_push": 1e-9,
    "warm_start_slack_bound_frac": 1e-9,
    "warm_start_mult_bound_push": 1e-9,
}


def _incidence(rows: np.ndarray, n_rows: int, n_cols: int) -> ca.DM:
    """Sparse 0/1 matrix with a one at (rows[k], k)."""
    m = csc_matrix((np.ones(len(rows)), (rows, np.arange(len(rows)))), shape=(n_rows, n_cols))
    return ca.DM(m)


def flow_bound(model: GridModel) -> np.ndarray:
    """Per branch: an upper bound (pu MVA) on |S| at either end within the voltage bounds.

    |S_f| = |V_f| |yff V_f + yft V_t| <= vmax_f (|yff| vmax_f + |yft| vmax_t), and the same
    at the to end; a rating at or above it can never bind. NaN where a bound is unknown.
    """
    vf, vt = model.vmax[model.f], model.vmax[model.t]
    sf = vf * (np.abs(model.yff) * vf + np.abs(model.yft) * vt)
    st = vt * (np.abs(model.ytt) * vt + np.abs(model.ytf) * vf)
    return np.maximum(sf, st)


class _Watch(ca.Callback):
    """Ipopt's iteration callback: stops the solve at the budget or on cancel.

    Returning 1 makes Ipopt end with User_Requested_Stop; `reason` says why we asked.
    Armed before each solve (under the NLP's lock), so one compiled solver serves any budget.
    Ipopt calls it once per iteration and once more on entering a restoration phase, so a
    run stopped at `max_iter` calls may report a few fewer iterations (case_illinois200:
    933 at 1000).
    """

    def __init__(self, name: str, nx: int, ng: int, np_: int):
        ca.Callback.__init__(self)
        self._sizes = {"x": nx, "lam_x": nx, "g": ng, "lam_g": ng, "lam_p": np_, "f": 1}
        self.arm(DEFAULT_MAX_ITER, DEFAULT_TIME_LIMIT_S, None, None)
        self.construct(name, {})

    def arm(self, max_iter: int, time_limit_s: float, cancel, progress) -> None:
        self.max_iter, self.time_limit_s = max_iter, time_limit_s
        self.cancel, self.progress = cancel, progress
        self.t0 = time.perf_counter()
        self.iteration = -1
        self.reason = ""

    def get_n_in(self):
        return ca.nlpsol_n_out()

    def get_n_out(self):
        return 1

    def get_name_in(self, i):
        return ca.nlpsol_out(i)

    def get_name_out(self, i):
        return "stop"

    def get_sparsity_in(self, i):
        return ca.Sparsity.dense(self._sizes.get(ca.nlpsol_out(i), 1), 1)

    def eval(self, arg):
        self.iteration += 1  # called at iteration 0 (the start) and after each iteration
        elapsed = time.perf_counter() - self.t0
        if self.cancel is not None and self.cancel.is_set():
            self.reason = "cancelled"
        elif self.iteration >= self.max_iter:
            self.reason = "iteration_limit"
        elif elapsed >= self.time_limit_s:
            self.reason = "time_limit"
        if self.progress is not None and not self.reason:
            frac = max(self.iteration / self.max_iter, elapsed / self.time_limit_s)
            try:
                self.progress(0.3 + 0.65 * min(frac, 1.0),
                              f"solving the AC OPF: Ipopt iteration {self.iteration}")
            except Exception:  # a broken progress display must not stop Ipopt
                log.exception("progress callback failed")
                self.progress = None
        return [1.0 if self.reason else 0.0]


class AcNlp:
    """The compiled AC OPF of one base grid; variants differ by parameters and bounds.

    x = [va (nb), vm (nb), pg (ng), qg (ng)] in pu/rad;
    p = [branch status (nl), pd, qd, c2, c1] (costs are parameters: a cost-perturbed variant
    needs no rebuild).
    g = [P balance (nb), Q balance (nb), |Sf|^2 (rated), |St|^2 (rated), angle diff (limited)].
    """

    def __init__(self, model: GridModel, ipopt_options: dict | None = None):
        t0 = time.perf_counter()
        self.model = model  # keeps the shared arrays alive while cached
        nb, nl, ng = model.n_bus, len(model.f), len(model.gen_names)
        self.nb, self.nl, self.ng = nb, nl, ng
        f, t = model.f.tolist(), model.t.tolist()
        base = model.base_mva

        va = ca.SX.sym("va", nb)
        vm = ca.SX.sym("vm", nb)
        pg = ca.SX.sym("pg", ng)
        qg = ca.SX.sym("qg", ng)
        st = ca.SX.sym("status", nl)
        pd = ca.SX.sym("pd", nb)
        qd = ca.SX.sym("qd", nb)
        c2 = ca.SX.sym("c2", ng)
        c1 = ca.SX.sym("c1", ng)

        # branch flows at both ends (PowerModels' constraint_ohms_yt_from/to), times status
        yff, yft, ytf, ytt = model.yff, model.yft, model.ytf, model.ytt
        vf, vt = vm[f], vm[t]
        d = va[f] - va[t]
        c, s = ca.cos(d), ca.sin(d)
        vfvt = vf * vt
        vf2, vt2 = vf * vf, vt * vt
        pf = st * (yff.real * vf2 + vfvt * (yft.real * c + yft.imag * s))
        qf = st * (-yff.imag * vf2 + vfvt * (yft.real * s - yft.imag * c))
        pt = st * (ytt.real * vt2 + vfvt * (ytf.real * c - ytf.imag * s))
        qt = st * (-ytt.imag * vt2 + vfvt * (-ytf.real * s - ytf.imag * c))

        cf, ct = _incidence(model.f, nb, nl), _incidence(model.t, nb, nl)
        cg = _incidence(model.gen_bus, nb, ng)
        vm2 = vm * vm
        p_bal = ca.mtimes(cg, pg) - pd - model.gs * vm2 - ca.mtimes(cf, pf) - ca.mtimes(ct, pt)
        q_bal = ca.mtimes(cg, qg) - qd + model.bs * vm2 - ca.mtimes(cf, qf) - ca.mtimes(ct, qt)

        # ratings that cannot bind are left out (see the module docstring)
        self.rated = np.flatnonzero(np.isfinite(model.rate) & ~(model.rate >= flow_bound(model)))
        r = self.rated.tolist()
        sf2 = pf[r] ** 2 + qf[r] ** 2
        st2 = pt[r] ** 2 + qt[r] ** 2
        self.limited = np.flatnonzero(np.isfinite(model.angmin) | np.isfinite(model.angmax))
        dang = st[self.limited.tolist()] * d[self.limited.tolist()]

        g = ca.vertcat(p_bal, q_bal, sf2, st2, dang)
        p_mw = pg * base
        cost = ca.sum1(c2 * p_mw * p_mw + c1 * p_mw)  # c0 added after the solve
        x = ca.vertcat(va, vm, pg, qg)
        p = ca.vertcat(st, pd, qd, c2, c1)
        self._nlp = {"x": x, "f": cost, "g": g, "p": p}
        self.watch = _Watch(f"watch_{id(self)}", x.numel(), g.numel(), p.numel())
        self._options = {**IPOPT_OPTIONS, **(ipopt_options or {})}
        self.solver = self._compile("acopf", self._options)
        self.warm_solver = None  # built on the first warm start with multipliers
        self.build_time_s = time.perf_counter() - t0
        self.lock = threading.Lock()  # a CasADi Function is not re-entrant across threads
        log.info("AC OPF of %s built in %.2fs (%d buses, %d branches, %d generators, "
                 "%d of %d ratings can bind)", model.name, self.build_time_s, nb, nl, ng,
                 len(self.rated), int(np.isfinite(model.rate).sum()))

    def _compile(self, name: str, ipopt: dict):
        opts = {"ipopt": ipopt, "print_time": False, "error_on_fail": False,
                "iteration_callback": self.watch}
        return ca.nlpsol(name, "ipopt", self._nlp, opts)

    def warm(self):
        """The solver for warm starts with multipliers (compiled on first use).

        Ipopt's options are fixed per CasADi solver, so this is a second compilation:
        it pays off from a few N-1 solves of the same grid on (bench/bench_opf.py).
        """
        if self.warm_solver is None:
            self.warm_solver = self._compile("acopf_warm", {**self._options, **WARM_OPTIONS})
        return self.warm_solver

    @property
    def symbols(self) -> dict:
        """The symbolic NLP (x, f, g, p): other objectives over the same constraints reuse it
        (solve/nearest.py)."""
        return self._nlp

    def bounds(self, model: GridModel, ss: SolveSet) -> tuple[np.ndarray, ...]:
        """lbx, ubx, lbg, ubg and the parameters p that make the variant `model` (its
        outages as bounds and branch status); shared with solve/nearest.py."""
        nb, nl = self.nb, self.nl
        live = np.zeros(nb, dtype=bool)
        live[ss.buses] = True
        status = np.zeros(nl)
        status[ss.branches] = 1.0
        gen_live = np.zeros(self.ng, dtype=bool)
        gen_live[ss.gens] = True

        # bounds: dead buses fixed at vm = 1, va = 0; references at va = 0; dead units at 0
        va_lo = np.where(live, -np.inf, 0.0)
        va_hi = np.where(live, np.inf, 0.0)
        va_lo[ss.refs] = 0.0
        va_hi[ss.refs] = 0.0
        vm_lo = np.where(live, model.vmin, 1.0)
        vm_hi = np.where(live, model.vmax, 1.0)
        lbx = np.concatenate([va_lo, vm_lo, np.where(gen_live, model.pmin, 0.0),
                              np.where(gen_live, model.qmin, 0.0)])
        ubx = np.concatenate([va_hi, vm_hi, np.where(gen_live, model.pmax, 0.0),
                              np.where(gen_live, model.qmax, 0.0)])
        bal_lo = np.where(live, 0.0, -np.inf)
        bal_hi = np.where(live, 0.0, np.inf)
        rate2 = model.rate[self.rated] ** 2
        amin, amax = model.angmin[self.limited], model.angmax[self.limited]
        on = status[self.limited] > 0
        # an off branch contributes 0 to its angle row; free the row unless 0 is inside
        amin = np.where(on | (amin <= 0), amin, -np.inf)
        amax = np.where(on | (amax >= 0), amax, np.inf)
        lbg = np.concatenate([bal_lo, bal_lo, np.full(2 * len(rate2), -np.inf), amin])
        ubg = np.concatenate([bal_hi, bal_hi, rate2, rate2, amax])
        p = np.concatenate([status, np.where(live, model.pd, 0.0), np.where(live, model.qd, 0.0),
                            model.c2, model.c1])
        return lbx, ubx, lbg, ubg, p

    def solve(self, model: GridModel, ss: SolveSet, x0: np.ndarray, duals=None, *,
              max_iter: int = DEFAULT_MAX_ITER, time_limit_s: float = DEFAULT_TIME_LIMIT_S,
              cancel=None, progress: Progress | None = None):
        lbx, ubx, lbg, ubg, p = self.bounds(model, ss)
        x0 = np.clip(x0, lbx, ubx)
        with self.lock:
            self.watch.arm(max_iter, time_limit_s, cancel, progress)
            if duals is not None:
                solver = self.warm()
                sol = solver(x0=x0, p=p, lbx=lbx, ubx=ubx, lbg=lbg, ubg=ubg,
                             lam_x0=duals[0], lam_g0=duals[1])
            else:
                solver = self.solver
                sol = solver(x0=x0, p=p, lbx=lbx, ubx=ubx, lbg=lbg, ubg=ubg)
            stats = dict(solver.stats())
            stats["stop_reason"] = self.watch.reason
            self.watch.cancel = self.watch.progress = None  # hold no caller objects
        duals_out = (np.asarray(sol["lam_x"]).ravel(), np.asarray(sol["lam_g"]).ravel())
        return np.asarray(sol["x"]).ravel(), float(sol["f"]), stats, duals_out
