"""Distance to feasibility: the nearest operating point that satisfies every constraint.

Binary feasibility saturates (a weak model is 0 % feasible on N and on N-1 alike), so an
answer is also measured by how far it is from the variant's feasible set: the point of the
AC OPF's constraint set (power balance, voltage, generator P/Q, thermal and angle limits,
the variant's outages as in `acopf`) that moves the answer's numbers least, and how far
that is.

The problem (Ipopt, no cost):  min  sum_i ((x_i - a_i) / s_i)^2  over the AC OPF's x
= [va, vm, pg, qg] subject to the AC OPF's g(x, p) and bounds, where a is the answer and
the sum runs over the n quantities an answer carries (P and Q of every generator in
service, vm and va of every energised named bus), times OBJECTIVE_SCALE. The result is

    distance = sqrt( mean over those n quantities of (move_i / s_i)^2 )

a dimensionless root-mean-square move, 0 for a feasible answer. Scales s_i:
- P, Q of a generator: its range (max - min), clipped to [0.1, 10] x base MVA. The range
  says what a move means for that unit (20 MW is all of a 20 MW unit, little of a
  1,000 MW one); the floor keeps a fixed unit (a condenser's P range of 0) from making a
  1 MW move count as infinite, the cap keeps placeholder limits (+-9,999 Mvar) from
  making any move free; an unbounded side counts as base MVA.
- vm: the bus's band vmax - vmin (at least 0.01 pu): a move across the whole band is 1.
- va: pi/6 rad (30 degrees), the angle-difference limit of PGLib's cases and about the
  spread of angles over an ordinary grid.
So a distance of 1 is a move, on average, of one whole range per quantity; rounding the
reference answer to the schema's digits is about 1e-6.

Angles are relative: the angle references are free here (the objective pins them), so an
answer written in another angle frame (every angle shifted by the same amount) is
measured by its physics, not its frame, and the repaired answer keeps the answer's frame.

Missing or unreadable numbers (absent, not a finite number, beyond 1e6 in magnitude) are
set to a neutral point and counted from there: vm 1.0 (inside the bus's band), va 0,
P and Q mid-range (the AC OPF's flat start). `NearestResult.filled` lists them, e.g.
"bus:3 va_degree"; an unreadable answer is the flat start, all filled. The flat start is
not far from feasible (0.14-0.17 on case14/30/118, less than the reference with 30 %
noise), so read `filled` beside the distance of an answer that lacks numbers.

Built once per base grid on the AC OPF's own symbolic constraints (`acopf.compiled`):
outages enter as the same bounds and parameters, the answer and weights as parameters,
so every answer and every N-1 variant of a grid reuse one compiled solver.
A variant with no feasible point is a result with Ipopt's status and distance None.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import casadi as ca
import numpy as np

from n1studio.grid.answer import parse_answer
from n1studio.grid.model import GridModel
from n1studio.schema import make_answer
from n1studio.solve import acopf
from n1studio.solve.result import IPOPT_STATUS
from n1studio.solve.topology import SolveSet, solve_set

log = logging.getLogger(__name__)

ANGLE_SCALE_RAD = math.pi / 6
POWER_SCALE_MIN_PU = 0.1  # times base MVA
POWER_SCALE_MAX_PU = 10.0
VM_SCALE_MIN_PU = 0.01
MAX_ABS_VALUE = 1e6  # larger numbers in an answer are treated as unreadable
MAX_ITER = 3000
TIME_LIMIT_S = 60.0  # Ipopt's wall-clock limit per solve (fixed when the solver is compiled)
# The objective is OBJECTIVE_SCALE * sum(((x - a) / s)^2). Why not the mean itself: where
# the answer sits on a bound that the nearest point keeps, Ipopt's interior point ends
# about sqrt(mu / weight) inside the bound, so small weights leave a feasible answer a
# visible distance from itself (1e-4 with weights 1/n, 1e-6 with this scale on case118).
OBJECTIVE_SCALE = 100.0

IPOPT_OPTIONS = {**acopf.IPOPT_OPTIONS, "max_iter": MAX_ITER, "max_wall_time": TIME_LIMIT_S}

_CACHE_SIZE = 4
_cache: OrderedDict[int, _Nearest] = OrderedDict()
_cache_lock = threading.Lock()


@dataclass
class NearestResult:
    """The nearest feasible point to an answer on one variant.

    `distance`: the normalised move (module docstring), None when no feasible point was
    found; `components`: the same root-mean-square per quantity ("p", "q", "vm", "va");
    `moves`: per element, repaired minus answer, in the answer's units (generators:
    dp_mw, dq_mvar, and dvm_pu, the move of the voltage of its bus, which the distance
    counts; buses: dvm_pu, dva_degree); `repaired`: the nearest point as an
    `n1studio.answer/1` document (its objective is the repaired dispatch's cost);
    `filled`: the quantities the answer lacked, set to the neutral point first.
    Arrays per model bus / generator like `OpfResult` (va in radians).
    """

    status: str
    success: bool
    distance: float | None
    components: dict = field(default_factory=dict)
    moves: dict | None = None
    repaired: dict | None = None
    filled: list[str] = field(default_factory=list)
    vm: np.ndarray | None = field(default=None, repr=False)
    va: np.ndarray | None = field(default=None, repr=False)
    pg: np.ndarray | None = field(default=None, repr=False)
    qg: np.ndarray | None = field(default=None, repr=False)
    solve_time_s: float = 0.0
    build_time_s: float = 0.0
    iterations: int = 0
    message: str = ""

    def to_dict(self) -> dict:
        return {"status": self.status, "success": self.success, "distance": self.distance,
                "components": self.components, "filled": len(self.filled),
                "solve_time_s": round(self.solve_time_s, 4),
                "build_time_s": round(self.build_time_s, 4), "iterations": self.iterations,
                "message": self.message}


class _Nearest:
    """The compiled nearest-point NLP of one base grid (on the AC OPF's constraints)."""

    def __init__(self, nlp):
        t0 = time.perf_counter()
        self.nlp = nlp  # the AC OPF it shares constraints and bounds with
        sym = nlp.symbols
        x = sym["x"]
        self.nx = x.numel()
        target = ca.SX.sym("target", self.nx)
        weight = ca.SX.sym("weight", self.nx)
        d = x - target
        f = ca.dot(weight, d * d)
        problem = {"x": x, "f": f, "g": sym["g"], "p": ca.vertcat(sym["p"], target, weight)}
        self.solver = ca.nlpsol("nearest", "ipopt", problem,
                                {"ipopt": IPOPT_OPTIONS, "print_time": False,
                                 "error_on_fail": False})
        self.lock = threading.Lock()
        self.build_time_s = time.perf_counter() - t0
        log.info("nearest-point NLP of %s built in %.2fs", nlp.model.name, self.build_time_s)


def _compiled(model: GridModel) -> tuple[_Nearest, float]:
    """The nearest-point solver of `model`'s grid and the time spent building it now."""
    t0 = time.perf_counter()
    nlp = acopf.compiled(model)
    key = id(nlp)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None and hit.nlp is nlp:
            _cache.move_to_end(key)
            return hit, 0.0
    near = _Nearest(nlp)
    with _cache_lock:
        _cache[key] = near
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return near, time.perf_counter() - t0


def clear_cache() -> None:
    """Forget the compiled nearest-point solvers (benchmarks measure cold builds with it)."""
    with _cache_lock:
        _cache.clear()


def prepare(model: GridModel) -> float:
    """Build (or find) the solver of `model`'s grid; returns the seconds spent building."""
    return _compiled(model)[1]


# ---- reading the answer --------------------------------------------------------------------

def answer_arrays(model: GridModel, answer) -> dict[str, np.ndarray]:
    """The answer as arrays over the model: vm (pu), va (rad), pg, qg (MW, Mvar), gen_vm.

    `answer`: an `n1studio.answer/1` dict or its JSON text (read by `grid.answer`, the
    checker's reader: fences, size limits, names and numbers alike); an object with `vm`,
    `va_deg`, `p_mw`, `q_mvar` arrays (the checker's parsed answer); an `OpfResult` or a
    dict with `vm`, `va` (radians), `pg`, `qg` arrays (acopf's `init` convention). NaN =
    missing, and so is a number beyond MAX_ABS_VALUE. Never raises on bad content.
    """
    nb, ng = model.n_bus, len(model.gen_names)
    out = {"vm": np.full(nb, np.nan), "va": np.full(nb, np.nan), "pg": np.full(ng, np.nan),
           "qg": np.full(ng, np.nan), "gen_vm": np.full(ng, np.nan)}
    if isinstance(answer, (str, bytes, bytearray)) or (
            isinstance(answer, dict) and not all(k in answer for k in ("vm", "va", "pg", "qg"))):
        named = np.array([bool(n) for n in model.bus_names], dtype=bool)
        answer = parse_answer(model, answer, named, np.ones(ng, dtype=bool))
        arrays = {"vm": answer.vm, "va": np.deg2rad(answer.va_deg), "pg": answer.p_mw,
                  "qg": answer.q_mvar, "gen_vm": answer.gen_vm}
    elif all(hasattr(answer, k) for k in ("vm", "va_deg", "p_mw", "q_mvar")):
        arrays = {"vm": answer.vm, "va": np.deg2rad(answer.va_deg), "pg": answer.p_mw,
                  "qg": answer.q_mvar}
    elif all(hasattr(answer, k) for k in ("vm", "va", "pg", "qg")):
        arrays = {k: getattr(answer, k) for k in ("vm", "va", "pg", "qg")}
    elif isinstance(answer, dict):
        arrays = {k: answer[k] for k in ("vm", "va", "pg", "qg")}
    else:
        return out
    for key, arr in arrays.items():
        try:
            a = np.asarray(arr, dtype=float).ravel()
        except (TypeError, ValueError):
            continue
        if len(a) == len(out[key]):
            with np.errstate(invalid="ignore"):
                out[key] = np.where(np.isfinite(a) & (np.abs(a) <= MAX_ABS_VALUE), a, np.nan)
    return out


# ---- the solve -----------------------------------------------------------------------------

def scales(model: GridModel) -> np.ndarray:
    """The scale s_i of every NLP variable [va, vm, pg, qg] (pu / rad), see the docstring."""
    def power(lo, hi):
        rng = np.where(np.isfinite(lo), -lo, 1.0) + np.where(np.isfinite(hi), hi, 1.0)
        return np.clip(rng, POWER_SCALE_MIN_PU, POWER_SCALE_MAX_PU)

    band = np.maximum(model.vmax - model.vmin, VM_SCALE_MIN_PU)
    band = np.where(np.isfinite(band), band, 0.1)
    return np.concatenate([np.full(model.n_bus, ANGLE_SCALE_RAD), band,
                           power(model.pmin, model.pmax), power(model.qmin, model.qmax)])


def _targets(model: GridModel, ss: SolveSet, arrays: dict) -> tuple[np.ndarray, np.ndarray,
                                                                     list[str]]:
    """The answer as an NLP point (neutral values where missing), the mask of the
    quantities it carries, and the names of those that were filled in."""
    nb, ng, base = model.n_bus, len(model.gen_names), model.base_mva
    named = np.array([bool(n) for n in model.bus_names], dtype=bool)
    bus = np.zeros(nb, dtype=bool)
    bus[ss.buses] = True
    bus &= named
    gen = np.zeros(ng, dtype=bool)
    gen[ss.gens] = True

    vm = arrays["vm"].copy()
    # a generator's vm_pu stands in for its bus's where the bus's is missing
    gv = arrays["gen_vm"]
    for g in np.flatnonzero(gen & np.isfinite(gv)):
        if not np.isfinite(vm[model.gen_bus[g]]):
            vm[model.gen_bus[g]] = gv[g]
    neutral_vm = np.clip(1.0, model.vmin, model.vmax)
    neutral_p = _mid(model.pmin, model.pmax)
    neutral_q = _mid(model.qmin, model.qmax)
    filled: list[str] = []
    parts = []
    for arr, mask, neutral, scale, names, what in (
            (arrays["va"], bus, np.zeros(nb), 1.0, model.bus_names, "va_degree"),
            (vm, bus, neutral_vm, 1.0, model.bus_names, "vm_pu"),
            (arrays["pg"], gen, neutral_p, 1.0 / base, model.gen_names, "p_mw"),
            (arrays["qg"], gen, neutral_q, 1.0 / base, model.gen_names, "q_mvar")):
        v = np.asarray(arr, dtype=float) * scale
        miss = mask & ~np.isfinite(v)
        filled += [f"{names[k]} {what}" for k in np.flatnonzero(miss)]
        parts.append(np.where(np.isfinite(v), v, neutral))
    carried = np.concatenate([bus, bus, gen, gen])
    return np.concatenate(parts), carried, filled


def _mid(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    both = np.isfinite(lo) & np.isfinite(hi)
    return np.where(both, (np.where(both, lo, 0.0) + np.where(both, hi, 0.0)) / 2.0,
                    np.clip(0.0, lo, hi))


def nearest_feasible(model: GridModel, answer, start=None) -> NearestResult:
    """The nearest point of `model`'s feasible set to `answer` (see the module docstring).

    `model` is the variant's model (`Variant.model`: outages applied); `answer` anything
    `answer_arrays` reads. `start` (optional, read the same way): where Ipopt starts,
    best the variant's reference (`reference(variant)`, an OpfResult): a feasible start
    takes 13-29 Ipopt iterations on case118/case300 whatever the answer, the answer itself
    up to 70 for a far one (bench/bench_nearest.py). Without it, or if that fails, Ipopt
    starts from the answer (clipped to the bounds), then once more from the flat start.
    The problem is not convex: the point found is a local nearest point (the nearest one
    in every case measured, whichever start).
    """
    acopf.check_model(model)  # data Ipopt cannot take: one CaseDataError line, as for the OPF
    ss = solve_set(model)
    arrays = answer_arrays(model, answer)
    if len(ss.buses) == 0:
        return NearestResult(status="infeasible", success=False, distance=None,
                             message="no bus is energised: no generator in service")
    near, build = _compiled(model)
    nlp = near.nlp
    lbx, ubx, lbg, ubg, p_ac = nlp.bounds(model, ss)
    # angle references free: the objective pins the frame to the answer's
    lbx[ss.refs] = -np.inf
    ubx[ss.refs] = np.inf
    target, carried, filled = _targets(model, ss, arrays)
    weight = np.where(carried, OBJECTIVE_SCALE / scales(model) ** 2, 0.0)
    p = np.concatenate([p_ac, target, weight])

    t0 = time.perf_counter()
    iters = 0
    flat = np.concatenate([np.zeros(model.n_bus), np.ones(model.n_bus),
                           _mid(model.pmin, model.pmax), _mid(model.qmin, model.qmax)])
    starts = [target, flat]
    if start is not None:
        starts.insert(0, _targets(model, ss, answer_arrays(model, start))[0])
    for x_start in starts:
        x0 = np.clip(x_start, lbx, ubx)
        with near.lock:
            sol = near.solver(x0=x0, p=p, lbx=lbx, ubx=ubx, lbg=lbg, ubg=ubg)
            stats = dict(near.solver.stats())
        raw = str(stats.get("return_status", "unknown"))
        status = IPOPT_STATUS.get(raw, "error")
        iters += int(stats.get("iter_count", 0) or 0)
        if status in ("optimal", "acceptable"):
            break
        log.info("nearest point of %s %s: %s from %s", model.name, model.outages, raw,
                 "the answer" if x_start is target else
                 "the flat start" if x_start is flat else "the given start")
    solve_t = time.perf_counter() - t0
    success = status in ("optimal", "acceptable")
    msg = f"Ipopt: {raw}"
    if filled:
        msg += f"; {len(filled)} missing or unreadable number(s) set to the flat start"
    if not success:
        return NearestResult(status=status, success=False, distance=None, filled=filled,
                             solve_time_s=solve_t, build_time_s=build, iterations=iters,
                             message=msg)
    x = np.asarray(sol["x"]).ravel()
    return _result(model, ss, x, target, carried, filled, status, solve_t, build, iters, msg)


def _result(model, ss, x, target, carried, filled, status, solve_t, build, iters, msg):
    nb, ng, base = model.n_bus, len(model.gen_names), model.base_mva
    s = scales(model)
    rel = np.where(carried, (x - target) / s, 0.0)
    n = max(int(carried.sum()), 1)
    distance = float(np.sqrt(np.sum(rel * rel) / n))
    components = {}
    for key, sl in (("va", slice(0, nb)), ("vm", slice(nb, 2 * nb)),
                    ("p", slice(2 * nb, 2 * nb + ng)), ("q", slice(2 * nb + ng, None))):
        k = int(carried[sl].sum())
        components[key] = float(np.sqrt(np.sum(rel[sl] ** 2) / k)) if k else 0.0

    va, vm = x[:nb], x[nb:2 * nb]
    pg, qg = x[2 * nb:2 * nb + ng] * base, x[2 * nb + ng:] * base
    t_va, t_vm = target[:nb], target[nb:2 * nb]
    t_pg, t_qg = target[2 * nb:2 * nb + ng] * base, target[2 * nb + ng:] * base
    bus_rows = np.flatnonzero(carried[:nb])
    gens = ss.gens
    moves = {
        "generators": [{"element": model.gen_names[g], "dp_mw": _r(pg[g] - t_pg[g], 4),
                        "dq_mvar": _r(qg[g] - t_qg[g], 4),
                        "dvm_pu": _r(vm[model.gen_bus[g]] - t_vm[model.gen_bus[g]], 6)}
                       for g in gens],
        "buses": [{"element": model.bus_names[b], "dvm_pu": _r(vm[b] - t_vm[b], 6),
                   "dva_degree": _r(math.degrees(va[b] - t_va[b]), 5)} for b in bus_rows],
    }
    cost = float(np.sum(model.c2[gens] * pg[gens] ** 2 + model.c1[gens] * pg[gens]
                        + model.c0[gens]))
    repaired = make_answer(
        [{"element": model.gen_names[g], "p_mw": pg[g], "q_mvar": qg[g],
          "vm_pu": vm[model.gen_bus[g]]} for g in gens],
        [{"element": model.bus_names[b], "vm_pu": vm[b], "va_degree": math.degrees(va[b])}
         for b in bus_rows], cost)
    solved = np.zeros(nb, dtype=bool)
    solved[ss.buses] = True
    gen_live = np.zeros(ng, dtype=bool)
    gen_live[gens] = True
    return NearestResult(status=status, success=True, distance=distance,
                         components={k: round(v, 9) for k, v in components.items()},
                         moves=moves, repaired=repaired, filled=filled,
                         vm=np.where(solved, vm, np.nan), va=np.where(solved, va, np.nan),
                         pg=np.where(gen_live, pg, 0.0), qg=np.where(gen_live, qg, 0.0),
                         solve_time_s=solve_t, build_time_s=build, iterations=iters,
                         message=msg)


def _r(x: float, nd: int) -> float:
    return round(float(x), nd) + 0.0


def repair_fields(model: GridModel, answer, start=None) -> dict:
    """The verdict fields of SPEC "Recall and distance" for `check --repair`:
    {"distance_to_feasible": d, "moves": {"generators": [...], "buses": [...]},
    "repaired": n1studio.answer/1}; all three None when the variant has no feasible point
    (or Ipopt found none). Merge into a verdict with `verdict.update(repair_fields(m, a))`;
    `start`: see `nearest_feasible` (pass the variant's reference when it is at hand).
    """
    r = nearest_feasible(model, answer, start)
    d = None if r.distance is None else round(r.distance, 9)
    return {"distance_to_feasible": d, "moves": r.moves, "repaired": r.repaired}
