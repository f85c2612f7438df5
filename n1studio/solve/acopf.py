"""The reference AC OPF: the polar (ACP) formulation PGLib's published optima come from,
compiled once per base grid (solve/acopf_nlp.py) and solved here for any variant.

Islands: each energised island gets one angle reference (see `topology.solve_set`).
An infeasible variant is a result with Ipopt's status, never an exception.

Budget: every solve stops after `max_iter` Ipopt iterations or `time_limit_s` seconds of
wall-clock time (defaults `DEFAULT_MAX_ITER`, `DEFAULT_TIME_LIMIT_S`, overridable per call
and by the environment variables N1STUDIO_OPF_MAX_ITER / N1STUDIO_OPF_TIME_LIMIT_S), or
when `cancel` is set; the result then says "iteration_limit", "time_limit" or "cancelled"
with success False. The limits are checked by an Ipopt iteration callback, so one
compiled solver serves every budget; the time limit can be overrun by one iteration and
does not cover the one-off build of the NLP.

Compiled NLPs are cached per base grid (`compiled`, `clear_cache`); a data problem Ipopt
cannot take is refused before CasADi sees it (`check_model`).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict

import numpy as np

from n1studio.errors import CaseDataError
from n1studio.grid.model import GridModel
from n1studio.solve.acopf_nlp import IPOPT_OPTIONS, WARM_OPTIONS, AcNlp, Progress, flow_bound
from n1studio.solve.budget import DEFAULT_MAX_ITER, DEFAULT_TIME_LIMIT_S
from n1studio.solve.result import IPOPT_STATUS, OpfResult, empty_result
from n1studio.solve.topology import SolveSet, solve_set

__all__ = ["DEFAULT_MAX_ITER", "DEFAULT_TIME_LIMIT_S", "IPOPT_OPTIONS", "WARM_OPTIONS", "AcNlp",
           "check_model", "clear_cache", "compiled", "flow_bound", "has_warm_solver",
           "solve_acopf", "warm_start_from"]

log = logging.getLogger(__name__)

# Magnitudes no grid reaches (1e12 MW at 100 MVA, an impedance of 1e-10 pu, 1e12 $/MWh):
# beyond them products in the NLP overflow to Inf and NaN, which CasADi reports as dozens
# of warning lines before a meaningless status. Files are refused at 1e12 when read.
MAX_PU = 1e10
MAX_COST = 1e12

_CACHE_SIZE = 4
_cache: OrderedDict[int, AcNlp] = OrderedDict()
_cache_lock = threading.Lock()


def _nlp_for(model: GridModel, progress: Progress | None) -> tuple[AcNlp, bool]:
    """The compiled NLP of `model`'s base grid (shared arrays identify the base)."""
    key = id(model.yff)
    with _cache_lock:
        nlp = _cache.get(key)
        if nlp is not None and nlp.model.yff is model.yff:
            _cache.move_to_end(key)
            return nlp, False
    if progress:
        progress(0.05, f"building the AC OPF of {model.name}")
    nlp = AcNlp(model)
    with _cache_lock:
        _cache[key] = nlp
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return nlp, True


def compiled(model: GridModel) -> AcNlp:
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
    # finite but so large that squares and products overflow to Inf and NaN inside Ipopt
    for arr in (model.yff, model.yft, model.ytf, model.ytt):
        first(np.abs(arr) > MAX_PU, model.branch_names,
              f"admittance beyond {MAX_PU:g} per unit (an impedance near zero)")
    big = MAX_PU
    first((np.abs(model.pd) > big) | (np.abs(model.qd) > big) | (np.abs(model.gs) > big)
          | (np.abs(model.bs) > big), model.bus_names,
          f"load or shunt beyond {big * model.base_mva:g} MW/MVAr")
    with np.errstate(invalid="ignore"):
        lims = np.column_stack([model.pmin, model.pmax, model.qmin, model.qmax])
        first(np.any(np.isfinite(lims) & (np.abs(lims) > big), axis=1), model.gen_names,
              f"P or Q limit beyond {big * model.base_mva:g} MW/MVAr (no limit is Inf)")
        first(np.isfinite(model.rate) & (model.rate > big), model.branch_names,
              f"rating beyond {big * model.base_mva:g} MVA (no limit is Inf)")
    first((np.abs(model.c2) > MAX_COST) | (np.abs(model.c1) > MAX_COST)
          | (np.abs(model.c0) > MAX_COST), model.gen_names,
          f"cost coefficient beyond {MAX_COST:g}")


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
