"""The reference AC OPF: the polar (ACP) formulation PGLib's published optima come from.

PowerModels' ACP model, solved with Ipopt (bundled in CasADi's wheel):
variables vm, va per bus and pg, qg per generator; P and Q balance at every bus with
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

Islands: each energised island gets one angle reference (see `topology.solve_set`).
An infeasible variant is a result with Ipopt's status, never an exception.

Budget: every solve stops after `max_iter` Ipopt iterations or `time_limit_s` seconds of
wall-clock time (defaults `DEFAULT_MAX_ITER`, `DEFAULT_TIME_LIMIT_S`, overridable per call
and by the environment variables N1STUDIO_OPF_MAX_ITER / N1STUDIO_OPF_TIME_LIMIT_S), or
when `cancel` is set; the result then says "iteration_limit", "time_limit" or "cancelled"
with success False. The limits are checked by an Ipopt iteration callback, so one
compiled solver serves every budget; the time limit can be overrun by one iteration and
does not cover the one-off build of the NLP.

Ratings that no flow can reach (|S| at the voltage bounds is below the rating) are left
out of the NLP: they cannot bind, and ratings of 1e5..1e7 MVA (pandapower's placeholders
for "unlimited") squared into 1e10..1e14 bounds only hurt Ipopt's conditioning.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

import casadi as ca
import numpy as np
from scipy.sparse import csc_matrix

from n1studio.grid.model import GridModel
from n1studio.solve.result import IPOPT_STATUS, OpfResult, empty_result
from n1studio.solve.topology import SolveSet, solve_set

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


def _env_number(name: str, default: float, cast=float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = cast(text)
    except ValueError:
        log.warning("%s=%r is not a number; using %s", name, text, default)
        return default
    if not value > 0:
        log.warning("%s=%r must be positive; using %s", name, text, default)
        return default
    return value


# The budget of one solve. 1000 iterations is Ipopt's own default; every PGLib case and
# every solvable built-in case converges in far fewer here (bench/bench_opf.py), so a run
# still going has lost its way (pandapower's case300, whose data has no feasible point,
# uses them all in ~25 s). 300 s leaves room for case9241pegase on 2 cores.
DEFAULT_MAX_ITER: int = int(_env_number("N1STUDIO_OPF_MAX_ITER", 1000, int))
DEFAULT_TIME_LIMIT_S: float = _env_number("N1STUDIO_OPF_TIME_LIMIT_S", 300.0)

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

_CACHE_SIZE = 4
_cache: OrderedDict[int, _AcNlp] = OrderedDict()
_cache_lock = threading.Lock()


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


class _AcNlp:
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


def _nlp_for(model: GridModel, progress: Progress | None) -> tuple[_AcNlp, bool]:
    """The compiled NLP of `model`'s base grid (shared arrays identify the base)."""
    key = id(model.yff)
    with _cache_lock:
        nlp = _cache.get(key)
        if nlp is not None and nlp.model.yff is model.yff:
            _cache.move_to_end(key)
            return nlp, False
    if progress:
        progress(0.05, f"building the AC OPF of {model.name}")
    nlp = _AcNlp(model)
    with _cache_lock:
        _cache[key] = nlp
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return nlp, True


def compiled(model: GridModel) -> _AcNlp:
    """The compiled AC OPF of `model`'s grid, built once and cached as for `solve_acopf`
    (solve/nearest.py reuses its constraints, bounds and lock)."""
    return _nlp_for(model, None)[0]


def clear_cache() -> None:
    """Forget the compiled NLPs (tests and benchmarks measure cold builds with it)."""
    with _cache_lock:
        _cache.clear()


def warm_start_from(result: OpfResult, *, duals: bool = True) -> dict:
    """An `init` for `solve_acopf` from another variant's AC solution of the same grid."""
    init = {"vm": result.vm, "va": result.va, "pg": result.pg, "qg": result.qg}
    if duals and result.duals is not None:
        init["duals"] = result.duals
    return init


def has_warm_solver(model: GridModel) -> bool:
    """Whether the warm-start solver of `model`'s grid is already compiled."""
    with _cache_lock:
        nlp = _cache.get(id(model.yff))
    return nlp is not None and nlp.model.yff is model.yff and nlp.warm_solver is not None


def solve_acopf(model: GridModel, *, init: dict | None = None,
                progress: Progress | None = None, max_iter: int | None = None,
                time_limit_s: float | None = None, cancel=None) -> OpfResult:
    """Solve the AC OPF of `model` (its outages applied as masks).

    The solve stops after `max_iter` Ipopt iterations or `time_limit_s` seconds (None: the
    defaults `DEFAULT_MAX_ITER`, `DEFAULT_TIME_LIMIT_S`), or once `cancel.is_set()` (e.g. a
    `threading.Event`), with status "iteration_limit", "time_limit" or "cancelled" and
    success False. The limits are checked once per iteration; the one-off build of a grid's
    NLP is not counted.

    `init` warm-starts Ipopt: a dict with any of "vm", "va" (per model bus, radians),
    "pg", "qg" (per model generator, MW/Mvar), e.g. the N solution's; NaN entries fall
    back to the flat start (vm = 1, va = 0, pg and qg mid-range). With "duals" (the
    multipliers of an AC solution of the same grid, `OpfResult.duals`) Ipopt warm-starts
    its interior point too (see `warm_start_from`).
    `progress(fraction, text)` is called at the build and solve stages.
    """
    max_iter = DEFAULT_MAX_ITER if max_iter is None else int(max_iter)
    time_limit_s = DEFAULT_TIME_LIMIT_S if time_limit_s is None else float(time_limit_s)
    if max_iter < 0 or not time_limit_s > 0:
        raise ValueError(f"bad AC OPF budget: max_iter={max_iter}, time_limit_s={time_limit_s}")
    check_model(model)
    t0 = time.perf_counter()
    if progress:
        progress(0.0, "AC OPF")
    ss = solve_set(model)
    if len(ss.buses) == 0:
        return empty_result(model, "ac", "infeasible",
                            "no bus is energised: no generator in service")
    nlp, built = _nlp_for(model, progress)
    duals = init.get("duals") if init else None
    if duals is not None and len(duals[0]) != 2 * (nlp.nb + nlp.ng):
        duals = None  # from another grid: ignore
    if duals is not None and nlp.warm_solver is None:
        if progress:
            progress(0.1, "building the warm-start solver")
        t_w = time.perf_counter()
        nlp.warm()
        built = True
        log.info("warm-start solver of %s built in %.2fs", model.name, time.perf_counter() - t_w)
    build = time.perf_counter() - t0
    if progress:
        progress(0.3, f"solving the AC OPF ({len(ss.buses)} buses)")
    t1 = time.perf_counter()
    xs, fval, stats, duals_out = nlp.solve(model, ss, _start(model, ss, init), duals,
                                           max_iter=max_iter, time_limit_s=time_limit_s,
                                           cancel=cancel, progress=progress)
    solve_t = time.perf_counter() - t1

    raw = str(stats.get("return_status", "unknown"))
    status = IPOPT_STATUS.get(raw, "error")
    iters = int(stats.get("iter_count", 0) or 0)
    if raw == "User_Requested_Stop" and stats.get("stop_reason"):
        status = stats["stop_reason"]
    success = status in ("optimal", "acceptable")
    nb, ng, base = nlp.nb, nlp.ng, model.base_mva
    solved = np.zeros(nb, dtype=bool)
    solved[ss.buses] = True
    va = np.where(solved, xs[:nb], np.nan)
    vm = np.where(solved, xs[nb:2 * nb], np.nan)
    gl = np.zeros(ng, dtype=bool)
    gl[ss.gens] = True
    pg = np.where(gl, xs[2 * nb:2 * nb + ng] * base, 0.0)
    qg = np.where(gl, xs[2 * nb + ng:] * base, 0.0)
    objective = fval + float(np.sum(model.c0[ss.gens])) if success else math.nan
    msg = f"Ipopt: {raw}"
    if status == "time_limit":
        msg = f"stopped at the time limit of {time_limit_s:g} s after {iters} Ipopt iterations"
    elif status == "iteration_limit":
        msg = f"stopped at the iteration limit of {max_iter} Ipopt iterations"
    elif status == "cancelled":
        msg = f"cancelled after {iters} Ipopt iterations"
    if ss.n_islands > 1:
        msg += f"; {ss.n_islands} energised islands"
    cut = int(np.sum(model.bus_on & ~solved))
    if cut:
        msg += f"; {cut} bus(es) de-energised, not solved"
    if progress:
        progress(1.0, f"AC OPF {status}")
    log.info("AC OPF %s %s: %s, objective %.6g, build %.3fs, solve %.3fs, %s iterations",
             model.name, model.outages, status, objective, build, solve_t, stats.get("iter_count"))
    return OpfResult(model=model, kind="ac", status=status, success=success,
                     objective=objective if math.isfinite(objective) else math.nan,
                     vm=vm, va=va, pg=pg, qg=qg, solve_time_s=solve_t,
                     build_time_s=build if built else 0.0,
                     iterations=iters,
                     message=msg, solved_bus=solved, warm_started=init is not None,
                     duals=duals_out if success else None)


def check_model(model: GridModel) -> None:
    """Refuse data Ipopt cannot take, before CasADi sees it (one CaseDataError line).

    Files are checked where they are read (grid/matpower.py, grid/cases.py); this catches a
    net built in code. Without it a NaN or infinite admittance, or a bound pair with
    lower > upper, makes CasADi print 8-25 warning lines or raise "Ill-posed problem".
    """
    from n1studio.errors import CaseDataError

    def first(bad: np.ndarray, names: list[str], what: str) -> None:
        if np.any(bad):
            k = int(np.argmax(bad))
            raise CaseDataError(f"{model.name}: {names[k] or f'internal bus {k}'}: {what}")

    for arr in (model.yff, model.yft, model.ytf, model.ytt):
        first(~np.isfinite(arr), model.branch_names,
              "admittance is not finite (zero or NaN impedance)")
    first(~np.isfinite(model.rate) & ~np.isposinf(model.rate), model.branch_names,
          "rating is NaN")
    first(np.isnan(model.angmin) | np.isnan(model.angmax) | (model.angmin > model.angmax),
          model.branch_names, "angle-difference limits are NaN or min > max")
    first(np.isnan(model.vmin) | np.isnan(model.vmax) | (model.vmin > model.vmax),
          model.bus_names, "voltage limits are NaN or vmin > vmax")
    first(~np.isfinite(model.pd) | ~np.isfinite(model.qd) | ~np.isfinite(model.gs)
          | ~np.isfinite(model.bs), model.bus_names, "load or shunt is not a finite number")
    for lo, hi, what in ((model.pmin, model.pmax, "P"), (model.qmin, model.qmax, "Q")):
        first(np.isnan(lo) | np.isnan(hi) | (lo > hi), model.gen_names,
              f"{what} limits are NaN or min > max")
    first(~np.isfinite(model.c2) | ~np.isfinite(model.c1) | ~np.isfinite(model.c0),
          model.gen_names, "cost coefficient is not a finite number")


def _start(model: GridModel, ss: SolveSet, init: dict | None) -> np.ndarray:
    """Initial point over all model buses/generators: flat start, overridden by `init`."""
    nb, base = model.n_bus, model.base_mva
    va = np.zeros(nb)
    vm = np.ones(nb)
    pg = _mid(model.pmin, model.pmax)
    qg = _mid(model.qmin, model.qmax)
    if init:
        for key, arr, scale in (("vm", vm, 1.0), ("va", va, 1.0), ("pg", pg, 1.0 / base),
                                ("qg", qg, 1.0 / base)):
            if init.get(key) is None:
                continue
            v = np.asarray(init[key], dtype=float) * scale
            ok = np.isfinite(v)
            arr[ok] = v[ok]
        if init.get("va") is not None:
            # angles relative to each island's reference, which is fixed at 0
            labels = model.islands()
            for r in ss.refs:
                same = labels == labels[r]
                va[same] -= va[r]
    return np.concatenate([va, vm, pg, qg])


def _mid(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    both = np.isfinite(lo) & np.isfinite(hi)
    mid = np.zeros(len(lo))
    mid[both] = (lo[both] + hi[both]) / 2.0
    only_lo = np.isfinite(lo) & ~both
    only_hi = np.isfinite(hi) & ~both
    mid[only_lo] = np.maximum(lo[only_lo], 0.0)
    mid[only_hi] = np.minimum(hi[only_hi], 0.0)
    return mid
