"""N-1 contingency sweep: every single outage of the chosen kinds, classified.

Each outage gets one status (SEVERITY order, worst first):

- ``diverged``: the post-outage AC power flow has no solution (Newton-Raphson fails);
- ``islanded``: the outage splits the grid (more islands than the base case, or buses cut
  off); ``islanded_buses`` lists the buses it cuts off, by the grid's one definition
  (`grid.topology`: in service, in no island with a generator), exactly the variant's
  `islands.cut_buses`; islanded outages are found from topology, never sent to the solver;
- ``violations``: the post-outage AC power flow breaks a voltage band or a branch MVA
  rating, each listed as ``{constraint, element, value, limit, excess}``;
- ``ok``: none of the above.

Where: at the N reference dispatch by default (the AC OPF of the base case; `sweep_point`),
or ``at="file"`` at the file's own set-points; the document's ``operating_point`` says which.
What counts as a violation (``stats.rule``, the same text for the command line and the
window: `describe`): voltage bands and branch MVA ratings, listed when an outage breaks
them anew or worsens what the base case already breaks (``all_violations``: every one).
Units an outage leaves on an island without load are tripped with it (``tripped``;
grid/topology.py).

The parts: `sweep_islands` (which outages split the grid), `sweep_engine` (lightsim2grid's
C++ contingency analysis, the fast path), `sweep_pandapower` (the runpp fallback) and
`sweep_classify` (limits and tolerances, the checker's own: `grid.tolerances`).
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

import pandapower as pp

from n1studio.errors import N1Error
from n1studio.grid.cases import case_label
from n1studio.grid.elements import OUTAGE_TABLES, parse_element
from n1studio.grid.model import GridModel
from n1studio.grid.tolerances import Tolerances
from n1studio.grid.topology import island_report
from n1studio.grid.variant import Variant, base_model, n1_candidates
from n1studio.jobs import JobState
from n1studio.solve import sweep_pandapower
from n1studio.solve.parallel import ReferencePool, default_workers
from n1studio.solve.reference import reference
from n1studio.solve.sweep_classify import Limits
from n1studio.solve.sweep_engine import LsEngine, sweep_branches
from n1studio.solve.sweep_islands import branch_islanding, islanded_result
from n1studio.solve.sweep_point import AT, operating_point

SWEEP = "n1studio.sweep/1"
STATUSES = ("diverged", "islanded", "violations", "ok")  # worst first
DEFAULT_KINDS = ("line", "trafo", "impedance")  # every branch (PGLib has impedances)
ENGINES = ("auto", "pandapower")

Progress = Callable[[int, int], None]  # (done, total)
Cancel = Callable[[], bool]  # True when the caller wants the sweep stopped (or a threading.Event)


@dataclass(frozen=True)
class SweepOptions:
    """How the sweep classifies and solves (documented, overridable)."""

    # the checker's (grid/tolerances.py): vm_pu, thermal_rel and thermal_mva apply here
    tolerances: Tolerances = field(default_factory=Tolerances)
    all_violations: bool = False  # list violations the base case already has, too
    max_iter: int = 20  # Newton-Raphson iterations per contingency
    tol: float = 1e-8  # Newton-Raphson mismatch tolerance (pu)
    chunk_bytes: int = 48 << 20  # memory for one chunk of branch results (bounds big grids)
    threads: int = 1  # lightsim2grid solver threads
    engine: str = "auto"  # "auto": lightsim2grid where it converts the grid; "pandapower"


def run_sweep(net: pp.pandapowerNet, kinds=DEFAULT_KINDS, opf: bool = False,
              options: SweepOptions | None = None, *, state: JobState | None = None,
              workers: int | None = 1, ray: str | None = None, at: str = "reference") -> dict:
    """Sweep every single outage of `kinds`; return an ``n1studio.sweep/1`` document.

    `at`: "reference" (default) sweeps at the N reference dispatch, "file" at the file's
    own set-points (`sweep_point`; the document's ``operating_point`` says which was used).

    Reports on `state` (n1studio.jobs): Progress(done, total, stage="sweep") as
    contingencies complete; `state.stop()` stops the sweep at the next chunk and the
    document holds what finished (``stats.cancelled``). With `opf`, each outage also gets
    ``opf`` = ``{feasible, status, objective}`` from the reference AC OPF of the variant
    (slow; solved by `workers` processes, None = all cores but one, or on the Ray cluster
    at `ray`: n1studio.solve.parallel; the same document either way).
    """
    progress = cancel = None
    if state is not None:
        def progress(done: int, total: int) -> None:
            state.progress(done, total, "contingencies", stage="sweep")

        cancel = state.cancel.is_set

    opts = options or SweepOptions()
    if opts.engine not in ENGINES:
        raise N1Error(f"unknown sweep engine {opts.engine!r}: one of {', '.join(ENGINES)}")
    kinds = _check_kinds(kinds)
    if at not in AT:
        raise N1Error(f"unknown operating point {at!r}: one of {', '.join(AT)}")
    if workers is not None and int(workers) < 1:
        raise N1Error(f"--workers must be at least 1 (got {workers})")
    if state is not None and at == "reference":
        state.progress(0, 0, "solving the N reference (the operating point)", stage="sweep")
    # the outages' AC OPFs (--opf) are of the file's grid; the power flows start from `point`
    file_net = net
    t_point = time.perf_counter()
    net, point = operating_point(net, at, fingerprint=_fingerprint(net),
                                 cancel=None if state is None else state.cancel)
    point = dict(point, seconds=round(time.perf_counter() - t_point, 4))
    t0 = time.perf_counter()  # stats.seconds: the contingencies (the point has its own)
    model, limits, engine = _prepared(net, opts)
    elements = n1_candidates(net, kinds)
    tracker = _Tracker(len(elements) * (2 if opf else 1), progress, cancel)
    base_rep = island_report(model, groups=False)
    base_viol = engine.base_violations if engine else \
        sweep_pandapower.base_violations(net, model, limits)

    results = branch_islanding(model, base_rep, elements)
    tracker.step(len(results))
    if engine is not None:
        todo = [e for e in elements if e in engine.branch_id and e not in results]
        results.update(sweep_branches(engine, todo, tracker.step, tracker.cancelled))
    for el in elements:
        if el in results:
            continue
        if tracker.cancelled():
            break
        results[el] = _one_outage(net, model, base_rep, limits, engine, el)
        tracker.step(1)
    if opf and not tracker.cancelled():
        _add_opf(file_net, elements, results, tracker, workers, ray)

    ordered = [results[e] for e in elements if e in results]
    elapsed = time.perf_counter() - t0
    counts = {s: sum(r["status"] == s for r in ordered) for s in STATUSES}
    stats = {"contingencies": len(ordered), "requested": len(elements), "counts": counts,
             "seconds": round(elapsed, 4),
             "per_second": round(len(ordered) / elapsed, 1) if elapsed > 0 else None,
             "engine": "lightsim2grid" if engine is not None else "pandapower",
             "kinds": list(kinds), "cancelled": tracker.cancelled(),
             "base_violations": base_viol, "rule": violation_rule(opts.all_violations)}
    if opf:
        stats["opf_feasible"] = sum(bool(r.get("opf", {}).get("feasible")) for r in ordered)
    return {"schema": SWEEP, "case": case_label(file_net), "operating_point": point,
            "results": ordered, "stats": stats}


def violation_rule(all_violations: bool = False) -> dict:
    """What a sweep counts as a violation, as data and as the one sentence both the command
    line and the window print."""
    text = ("violations: voltage bands and branch MVA ratings after the outage; "
            + ("every one counts, the base case's own included" if all_violations else
               "only those the outage breaks anew or worsens (the base case's own do not count)"))
    return {"constraints": ["voltage", "thermal"], "base_case_counts": bool(all_violations),
            "text": text}


def describe(doc: dict) -> list[str]:
    """The sweep's summary as the command line and the window show it: the counts with the
    element kinds and the operating point, then what counts as a violation."""
    st = doc.get("stats", {})
    c = st.get("counts", {})
    point = (doc.get("operating_point") or {}).get("text", "an unstated operating point")
    head = (f"{doc.get('case', '')}: {st.get('contingencies', 0)} outages of "
            f"{', '.join(st.get('kinds', []))} at {point}: {c.get('ok', 0)} ok, "
            f"{c.get('violations', 0)} with violations, {c.get('islanded', 0)} islanded, "
            f"{c.get('diverged', 0)} diverged")
    rule = (st.get("rule") or violation_rule()).get("text", "")
    lines = [head, rule[:1].upper() + rule[1:] + "."]
    if st.get("base_violations") and not (st.get("rule") or {}).get("base_case_counts"):
        lines.append(f"The base case at this point already breaks "
                     f"{len(st['base_violations'])} limit(s).")
    return lines


def rank(results: list[dict]) -> list[dict]:
    """Results worst first: status severity, then the largest excess, then most violations."""
    sev = {s: i for i, s in enumerate(STATUSES)}

    def key(r):
        worst = max((v.get("excess", 0.0) for v in r.get("violations", [])), default=0.0)
        return (sev.get(r["status"], len(sev)), -len(r.get("islanded_buses", [])), -worst,
                -len(r.get("violations", [])))

    return sorted(results, key=key)


def _one_outage(net, model: GridModel, base_rep, limits: Limits, engine: LsEngine | None,
                el: str) -> dict:
    """One outage that is not a branch for lightsim2grid: topology first, then a power flow."""
    islanded = islanded_result(el, base_rep, model)
    if islanded is not None:
        return islanded
    vmodel = model.with_outages([el])
    if engine is not None and parse_element(el).table in ("gen", "sgen", "load"):
        return engine.injection_outage(el)
    return sweep_pandapower.outage(net, vmodel, el, limits)


# ---- per-net preparation, cached --------------------------------------------------------

_PREPARED: dict[int, tuple] = {}


def _fingerprint(net) -> tuple:
    """What a sweep depends on, cheaply: sizes, in-service counts and injections."""
    parts = []
    for t in ("bus", "line", "trafo", "impedance", "gen", "sgen", "load", "ext_grid", "shunt"):
        df = net.get(t, None)
        if df is None or not len(df):
            parts.append((t, 0))
            continue
        on = int(df.in_service.sum()) if "in_service" in df else -1
        inj = tuple(round(float(df[c].sum()), 9) for c in ("p_mw", "q_mvar", "vm_pu") if c in df)
        parts.append((t, len(df), on, inj))
    return tuple(parts)


def _prepared(net, opts: SweepOptions) -> tuple[GridModel, Limits, LsEngine | None]:
    """The GridModel, limits and lightsim2grid engine of `net`, reused while the net is
    unchanged. Building them costs more than sweeping case118 (to_ppc and the LSGrid
    conversion), and the GUI sweeps the same open grid repeatedly.
    """
    key = id(net)
    fp = _fingerprint(net)
    hit = _PREPARED.get(key)
    if hit is not None:
        ref, hfp, hopts, prepared = hit
        if ref() is net and hfp == fp and hopts == opts:
            return prepared
    model = base_model(net)
    limits = Limits(model, opts.tolerances, opts.all_violations)
    engine = None
    if opts.engine == "auto":
        engine = LsEngine.build(net, model, limits, max_iter=opts.max_iter, tol=opts.tol,
                                threads=opts.threads, chunk_bytes=opts.chunk_bytes)
    prepared = (model, limits, engine)
    try:
        ref = weakref.ref(net, lambda _r, k=key: _PREPARED.pop(k, None))
    except TypeError:
        return prepared
    _PREPARED[key] = (ref, fp, opts, prepared)
    return prepared


# ---- bookkeeping ------------------------------------------------------------------------

class _Tracker:
    def __init__(self, total: int, progress: Progress | None, cancel: Cancel | None):
        self.total, self.done = total, 0
        self._progress, self._cancel = progress, cancel
        self._stopped = False

    def step(self, n: int) -> None:
        self.done += n
        if self._progress:
            self._progress(min(self.done, self.total), self.total)

    def cancelled(self) -> bool:
        if not self._stopped and self._cancel is not None and self._cancel():
            self._stopped = True
        return self._stopped


def _check_kinds(kinds) -> tuple[str, ...]:
    if isinstance(kinds, str):
        kinds = [k for k in kinds.split(",")]
    out = []
    for k in kinds:
        k = k.strip()
        if not k:
            continue
        if k not in OUTAGE_TABLES:
            raise N1Error(f"unknown outage kind {k!r}: one of {', '.join(OUTAGE_TABLES)}")
        if k not in out:
            out.append(k)
    if not out:
        raise N1Error("no outage kinds given (e.g. --kinds line,trafo)")
    return tuple(out)


# ---- optional: is the variant's AC OPF feasible? ------------------------------------------

def _add_opf(net, elements, results, tracker: _Tracker, workers: int | None = 1,
             ray: str | None = None) -> None:
    if ray or (default_workers() if workers is None else workers) > 1:
        todo = [el for el in elements if el in results]
        nw = default_workers() if workers is None else int(workers)
        with ReferencePool(net, workers=max(1, min(nw, len(todo))), ray=ray) as pool:
            solved = pool.map([((el,), None) for el in todo], cancel=tracker.cancelled,
                              progress=lambda d, t: tracker.step(1))
        for el, res in zip(todo, solved, strict=True):
            if res is not None:
                results[el]["opf"] = {"feasible": bool(res.success), "status": str(res.status),
                                      "objective": res.objective if res.success else None}
        return
    for el in elements:
        if tracker.cancelled():
            return
        r = results.get(el)
        if r is None:
            continue
        try:
            res = reference(Variant(net, [el]), kind="ac")
            ok = res.success and res.objective is not None
            r["opf"] = {"feasible": bool(res.success), "status": str(res.status),
                        "objective": float(res.objective) if ok else None}
        except N1Error as exc:
            r["opf"] = {"feasible": False, "status": f"error: {exc}", "objective": None}
        tracker.step(1)
