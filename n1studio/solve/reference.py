"""The reference solution of a variant, cached: what every answer is compared against.

The GUI, the checker and the CLI ask for the same reference repeatedly (the N-1 answer
is checked against the N-1 reference and, for the recall test, the N reference), so
results are kept per (base grid, outages, kind). An AC OPF of an N-1 variant starts from
the N solution when that is already known: Ipopt then needs fewer iterations
(bench/bench_opf.py measures it).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict

from n1studio.grid.variant import Variant
from n1studio.solve.result import OpfResult

log = logging.getLogger(__name__)

KINDS = ("ac", "dc", "pf")
# Warm starts with multipliers need a second compiled solver (about as long to build as
# the first: 0.3 s for case118, 5 s for case1354); below this size it always pays off.
WARM_DUALS_MAX_BUSES = 1000
_MAX = 256
_cache: OrderedDict[tuple, tuple[object, OpfResult]] = OrderedDict()
_lock = threading.RLock()


def _key(variant: Variant, kind: str) -> tuple:
    return (id(variant.base), tuple(variant.outages), kind)


def cached(variant: Variant, kind: str = "ac") -> OpfResult | None:
    """The cached reference of `variant`, or None (never solves)."""
    with _lock:
        hit = _cache.get(_key(variant, kind))
        if hit is not None and hit[0] is variant.base:
            _cache.move_to_end(_key(variant, kind))
            return hit[1]
    return None


def reference(variant: Variant, kind: str = "ac", *, warm_start: bool = True,
              progress=None) -> OpfResult:
    """The reference solution of `variant`: "ac" (AC OPF), "dc" (DC OPF) or "pf" (power flow).

    Solved once per (base grid, outages, kind) and cached; the base net object is held by
    the cache so its id cannot be reused while the entry lives.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown reference kind {kind!r} (expected one of {KINDS})")
    hit = cached(variant, kind)
    if hit is not None:
        return hit
    if kind == "ac":
        from n1studio.solve.acopf import has_warm_solver, solve_acopf, warm_start_from

        init = None
        if warm_start and not variant.is_base:
            n = cached(Variant(variant.base), "ac")
            if n is not None and n.success:
                # multipliers too where the warm solver is cheap to compile or compiled
                duals = variant.model.n_bus <= WARM_DUALS_MAX_BUSES or has_warm_solver(n.model)
                init = warm_start_from(n, duals=duals)
        result = solve_acopf(variant.model, init=init, progress=progress)
        if init is not None and not result.success:
            # a warm start can lead Ipopt astray where the flat start would not: retry cold
            cold = solve_acopf(variant.model, progress=progress)
            if cold.success:
                result = cold
    elif kind == "dc":
        from n1studio.solve.dcopf import solve_dcopf

        result = solve_dcopf(variant.model)
    else:
        from n1studio.solve.powerflow import run_ac_pf

        result = run_ac_pf(variant)
    with _lock:
        _cache[_key(variant, kind)] = (variant.base, result)
        while len(_cache) > _MAX:
            _cache.popitem(last=False)
    return result


def clear() -> None:
    """Forget every cached reference."""
    with _lock:
        _cache.clear()
