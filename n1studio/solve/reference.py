"""The reference solution of a variant, cached: what every answer is compared against.

The GUI, the checker and the CLI ask for the same reference repeatedly (the N-1 answer
is checked against the N-1 reference and, for the recall test, the N reference), so
results are kept per (base grid, outages, kind). An AC OPF of an N-1 variant starts from
the N solution when that is already known: Ipopt then needs fewer iterations
(bench/bench_opf.py measures it).

Every reference is bounded in time: `time_limit_s` (default in solve/budget.py) covers the
whole call, for the AC OPF (with `max_iter` Ipopt iterations, the cold retry after a failed
warm start included) and the DC OPF (HiGHS's time limit). The power flow is bounded by
pandapower's Newton-Raphson iteration cap instead (it has no clock). A result cut short by
its budget ("time_limit", "iteration_limit") is cached with that budget and solved again
when a later call allows more; a cancelled one is never cached.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict

from n1studio.grid.variant import Variant
from n1studio.solve.acopf import has_warm_solver, solve_acopf, warm_start_from
from n1studio.solve.budget import DEFAULT_MAX_ITER, DEFAULT_TIME_LIMIT_S
from n1studio.solve.dcopf import solve_dcopf
from n1studio.solve.powerflow import run_ac_pf
from n1studio.solve.result import OpfResult, empty_result

log = logging.getLogger(__name__)

KINDS = ("ac", "dc", "pf")
# Warm starts with multipliers need a second compiled solver (about as long to build as
# the first: 0.3 s for case118, 5 s for case1354); below this size it always pays off.
WARM_DUALS_MAX_BUSES = 1000
# statuses that depend on the budget rather than on the variant
BUDGET_STATUSES = ("time_limit", "iteration_limit")
_MAX = 256
# key -> (base net held alive, result, (max_iter, time_limit_s) it was solved with)
_cache: OrderedDict[tuple, tuple[object, OpfResult, tuple[int, float]]] = OrderedDict()
_lock = threading.RLock()
# key -> the lock held while that reference is being solved: a second caller waits for the
# first one's result instead of solving the same variant again at the same time
_solving: dict[tuple, threading.Lock] = {}


def _key(variant: Variant, kind: str) -> tuple:
    return (id(variant.base), variant.key, kind)


def _entry(variant: Variant, kind: str):
    with _lock:
        hit = _cache.get(_key(variant, kind))
        if hit is not None and hit[0] is variant.base:
            _cache.move_to_end(_key(variant, kind))
            return hit
    return None


def cached(variant: Variant, kind: str = "ac") -> OpfResult | None:
    """The cached reference of `variant`, or None (never solves)."""
    hit = _entry(variant, kind)
    return hit[1] if hit is not None else None


def reference(variant: Variant, kind: str = "ac", *, warm_start: bool = True,
              progress=None, max_iter: int | None = None, time_limit_s: float | None = None,
              cancel=None) -> OpfResult:
    """The reference solution of `variant`: "ac" (AC OPF), "dc" (DC OPF) or "pf" (power flow).

    Solved once per (base grid, outages, kind) and cached; the base net object is held by
    the cache so its id cannot be reused while the entry lives. `time_limit_s` bounds the
    whole call of "ac" and "dc", `max_iter` the Ipopt iterations of "ac" (None: the defaults
    of solve/budget.py); `cancel` (anything with `is_set()`) stops an "ac" solve. The result
    then has status "iteration_limit", "time_limit" or "cancelled" and success False.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown reference kind {kind!r} (expected one of {KINDS})")
    budget = (0, 0.0)
    if kind in ("ac", "dc"):
        budget = (DEFAULT_MAX_ITER if max_iter is None or kind == "dc" else int(max_iter),
                  DEFAULT_TIME_LIMIT_S if time_limit_s is None else float(time_limit_s))
    hit = _usable(variant, kind, budget)
    if hit is not None:
        return hit
    key = _key(variant, kind)
    with _lock:
        key_lock = _solving.setdefault(key, threading.Lock())
    # wait for whoever is solving this very variant (cooperatively: a cancel ends the wait)
    while not key_lock.acquire(timeout=0.1):
        if cancel is not None and cancel.is_set():
            return empty_result(variant.model, kind, "cancelled",
                                "cancelled while another caller was solving it")
    try:
        hit = _usable(variant, kind, budget)  # solved by the caller we waited for
        if hit is not None:
            return hit
        return _solve_and_keep(variant, kind, warm_start, progress, budget, cancel)
    finally:
        key_lock.release()


def _usable(variant: Variant, kind: str, budget: tuple[int, float]) -> OpfResult | None:
    """The cached result when it answers a call with this budget."""
    hit = _entry(variant, kind)
    if hit is None:
        return None
    result, was = hit[1], hit[2]
    if result.status not in BUDGET_STATUSES or (budget[0] <= was[0] and budget[1] <= was[1]):
        return result
    log.info("%s %s: solving again with a larger budget than the cached %s",
             variant.model.name, variant.outages, result.status)
    return None


def _solve_and_keep(variant: Variant, kind: str, warm_start: bool, progress,
                    budget: tuple[int, float], cancel) -> OpfResult:
    if kind == "ac":
        result = _ac_reference(variant, warm_start, progress, budget, cancel)
    elif kind == "dc":
        result = solve_dcopf(variant.model, time_limit_s=budget[1])
    else:
        result = run_ac_pf(variant)
    if result.status == "cancelled":
        return result
    with _lock:
        _cache[_key(variant, kind)] = (variant.base, result, budget)
        while len(_cache) > _MAX:
            _cache.popitem(last=False)
    return result


def _ac_reference(variant: Variant, warm_start: bool, progress, budget: tuple[int, float],
                  cancel) -> OpfResult:
    """AC OPF from the N solution when known, retried cold within what is left of the budget."""
    max_iter, time_limit_s = budget
    t0 = time.perf_counter()
    init = None
    if warm_start and not variant.is_base:
        n = cached(Variant(variant.base), "ac")
        if n is not None and n.success:
            # multipliers too where the warm solver is cheap to compile or compiled
            duals = variant.model.n_bus <= WARM_DUALS_MAX_BUSES or has_warm_solver(n.model)
            init = warm_start_from(n, duals=duals)
    result = solve_acopf(variant.model, init=init, progress=progress, max_iter=max_iter,
                         time_limit_s=time_limit_s, cancel=cancel)
    left = time_limit_s - (time.perf_counter() - t0)
    if init is not None and not result.success and result.status != "cancelled" and left > 0:
        # a warm start can lead Ipopt astray where the flat start would not: retry cold
        cold = solve_acopf(variant.model, progress=progress, max_iter=max_iter,
                           time_limit_s=left, cancel=cancel)
        if cold.success or cold.status == "cancelled":
            result = cold
    return result


def clear() -> None:
    """Forget every cached reference."""
    with _lock:
        _cache.clear()
        _solving.clear()
