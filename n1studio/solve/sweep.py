"""N-1 contingency sweep: every single outage of the chosen kinds, classified.

Each outage gets one status (SEVERITY order, worst first):

- ``diverged``: the post-outage AC power flow has no solution (Newton-Raphson fails);
- ``islanded``: the outage splits the grid; ``islanded_buses`` lists the buses cut off
  from the reference bus's island (found from topology, never sent to the solver);
- ``violations``: the post-outage AC power flow breaks a voltage band or a branch MVA
  rating, each listed as ``{constraint, element, value, limit, excess}``;
- ``ok``: none of the above.

Why it is fast: branch outages go to lightsim2grid's C++ contingency analysis all at
once (one LSGrid built from the pandapower net, the base power flow as the warm start),
then voltages and branch flows of every contingency are classified with numpy in chunks.
Islanding comes first, from the bridges of the branch multigraph (igraph), so islanded
outages never reach the solver. Generator, static-generator and load outages are solved
one at a time on the same LSGrid (deactivate, solve, reactivate); other kinds (bus,
ext_grid, trafo3w, impedance), and grids lightsim2grid cannot convert, fall back to
pandapower's ``runpp`` on the variant.

Limits are the ones the checker uses (`GridModel`: ``vmin``/``vmax`` per bus, ``rate`` in
MVA at both branch ends), so a sweep's ``violations`` and a verdict speak the same language.
"""

from __future__ import annotations

import copy
import logging
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandapower as pp

from n1studio.errors import N1Error
from n1studio.grid.cases import case_label
from n1studio.grid.elements import OUTAGE_TABLES, parse_element
from n1studio.grid.model import GridModel
from n1studio.grid.quiet import quiet_pandapower
from n1studio.grid.variant import Variant, base_model, n1_candidates

log = logging.getLogger(__name__)

SWEEP = "n1studio.sweep/1"
STATUSES = ("diverged", "islanded", "violations", "ok")  # worst first
DEFAULT_KINDS = ("line", "trafo", "impedance")  # every branch (PGLib has impedances)

Progress = Callable[[int, int], None]  # (done, total)
Cancel = Callable[[], bool]  # True when the caller wants the sweep stopped (or a threading.Event)


@dataclass(frozen=True)
class SweepOptions:
    """Tolerances of the classification (documented, overridable)."""

    vm_tol: float = 1e-4  # pu beyond [vmin, vmax] before a voltage counts as violated
    thermal_tol: float = 1e-3  # relative excess over the MVA rating before it counts
    all_violations: bool = False  # list violations the base case already has, too
    max_iter: int = 20  # Newton-Raphson iterations per contingency
    tol: float = 1e-8  # Newton-Raphson mismatch tolerance (pu)
    chunk_bytes: int = 48 << 20  # memory for one chunk of branch results (bounds big grids)
    threads: int = 1  # lightsim2grid solver threads


def run_sweep(net: pp.pandapowerNet, kinds=DEFAULT_KINDS, opf: bool = False,
              progress: Progress | None = None, cancel: Cancel | None = None,
              options: SweepOptions | None = None,
              on_event: Callable[[dict], None] | None = None) -> dict:
    """Sweep every single outage of `kinds`; return an ``n1studio.sweep/1`` document.

    `progress(done, total)` is called as contingencies complete; `cancel()` returning True
    stops the sweep at the next chunk and the document holds what finished
    (``stats.cancelled``). With `opf`, each outage also gets ``opf`` =
    ``{feasible, status, objective}`` from the reference AC OPF of the variant (slow).
    `cancel` may also be a threading.Event and progress may come as `on_event`
    ``{"ev": "progress", "done", "total"}`` (the app's Job calls it that way).
    """
    if cancel is not None and hasattr(cancel, "is_set"):
        cancel = cancel.is_set
    if on_event is not None:
        user_progress = progress

        def progress(done: int, total: int) -> None:
            on_event({"ev": "progress", "done": done, "total": total})
            if user_progress:
                user_progress(done, total)

    opts = options or SweepOptions()
    kinds = _check_kinds(kinds)
    t0 = time.perf_counter()
    model, engine = _prepared(net, opts)
    elements = n1_candidates(net, kinds)
    total = len(elements) * (2 if opf else 1)
    tracker = _Tracker(total, progress, cancel)
    results: dict[str, dict] = {}
    base_viol = engine.base_violations if engine else _pandapower_base(net, model, opts)
    branches = [e for e in elements if engine is not None and e in engine.branch_id]
    if engine is not None and branches:
        results.update(_sweep_branches(engine, branches, tracker))
    rest = [e for e in elements if e not in results]
    for el in rest:
        if tracker.cancelled():
            break
        table = el.split(":")[0]
        if engine is not None and table in ("gen", "sgen", "load"):
            results[el] = engine.injection_outage(el)
        else:
            lim = engine.limits if engine is not None else _limits_of(model, opts)
            results[el] = _pandapower_outage(net, model, el, opts, lim)
        tracker.step(1)
    if opf and not tracker.cancelled():
        _add_opf(net, elements, results, tracker)

    ordered = [results[e] for e in elements if e in results]
    elapsed = time.perf_counter() - t0
    counts = {s: sum(r["status"] == s for r in ordered) for s in STATUSES}
    stats = {"contingencies": len(ordered), "requested": len(elements), "counts": counts,
             "seconds": round(elapsed, 4),
             "per_second": round(len(ordered) / elapsed, 1) if elapsed > 0 else None,
             "engine": "lightsim2grid" if engine is not None else "pandapower",
             "kinds": list(kinds), "cancelled": tracker.cancelled(),
             "base_violations": base_viol}
    if opf:
        stats["opf_feasible"] = sum(bool(r.get("opf", {}).get("feasible")) for r in ordered)
    return {"schema": SWEEP, "case": case_label(net), "results": ordered, "stats": stats}


def rank(results: list[dict]) -> list[dict]:
    """Results worst first: status severity, then the largest excess, then most violations."""
    sev = {s: i for i, s in enumerate(STATUSES)}

    def key(r):
        worst = max((v.get("excess", 0.0) for v in r.get("violations", [])), default=0.0)
        return (sev.get(r["status"], len(sev)), -len(r.get("islanded_buses", [])), -worst,
                -len(r.get("violations", [])))

    return sorted(results, key=key)


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


def _prepared(net, opts: SweepOptions) -> tuple[GridModel, _LsEngine | None]:
    """The GridModel and lightsim2grid engine of `net`, reused while the net is unchanged.

    Building both costs more than sweeping case118 (to_ppc and the LSGrid conversion), and
    the GUI sweeps the same open grid repeatedly.
    """
    import weakref

    key = id(net)
    fp = _fingerprint(net)
    hit = _PREPARED.get(key)
    if hit is not None:
        ref, hfp, hopts, model, engine = hit
        if ref() is net and hfp == fp and hopts == opts:
            return model, engine
    model = base_model(net)
    engine = _LsEngine.build(net, model, opts)
    try:
        ref = weakref.ref(net, lambda _r, k=key: _PREPARED.pop(k, None))
    except TypeError:
        return model, engine
    _PREPARED[key] = (ref, fp, opts, model, engine)
    return model, engine


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


def _result(el: str, status: str, violations=(), islanded_buses=(),
            lost_load_mw: float | None = None) -> dict:
    r = {"element": el, "status": status, "islanded_buses": list(islanded_buses),
         "violations": list(violations)}
    if lost_load_mw is not None:
        r["lost_load_mw"] = round(float(lost_load_mw), 4)
    return r


def _diverged(el: str, reason: str) -> dict:
    r = _result(el, "diverged")
    r["reason"] = reason
    return r


# ---- limits on one solved state -----------------------------------------------------------

class _Limits:
    """The checker's limits on the base model, arranged for vectorised classification."""

    def __init__(self, model: GridModel, opts: SweepOptions):
        self.model = model
        self.opts = opts
        named = np.array([bool(n) for n in model.bus_names])
        self.bus_rows = np.flatnonzero(model.bus_on & named)
        self.vmin = model.vmin[self.bus_rows]
        self.vmax = model.vmax[self.bus_rows]
        self.bus_names = [model.bus_names[k] for k in self.bus_rows]
        rate = model.rate * model.base_mva
        self.rated = np.flatnonzero(np.isfinite(rate) & model.branch_on)
        self.rate_mva = rate[self.rated]
        self.branch_names = [model.branch_names[k] for k in self.rated]

        self.base = None  # base-case excess per limit, set by set_base

    def set_base(self, vm0: np.ndarray, smax0: np.ndarray | None) -> list[dict]:
        """Remember the base case's state; return every violation it already has."""
        ex = self._excess(vm0[None, :], None if smax0 is None else smax0[None, :])
        self.base = tuple(np.maximum(e[0], 0.0) for e in ex)
        return self.classify(vm0[None, :], None if smax0 is None else smax0[None, :],
                             against_base=False)[0][0]

    def _excess(self, vm, smax):
        lo = np.where(vm > 0, self.vmin - vm, -np.inf)
        hi = vm - self.vmax
        th = (smax / self.rate_mva - 1.0) if smax is not None else np.zeros((len(vm), 0))
        return lo, hi, th

    def classify(self, vm: np.ndarray, smax: np.ndarray | None,
                 against_base: bool = True) -> list[tuple[list[dict], int]]:
        """Per row of solved states: (violations to list, number of pre-existing ones).

        vm is rows x bus_rows (pu), smax rows x rated branches (MVA). A violation is listed
        when it is new or worse than in the base case by more than the tolerance (unless
        `all_violations`); the others are only counted, the base case lists them once.
        """
        o = self.opts
        lo, hi, th = self._excess(vm, smax)
        tols = (o.vm_tol, o.vm_tol, o.thermal_tol)
        violated = [e > t for e, t in zip((lo, hi, th), tols)]
        if against_base and self.base is not None and not o.all_violations:
            listed = [e > t + b[None, :] for e, t, b in zip((lo, hi, th), tols, self.base)]
        else:
            listed = violated
        n_viol = sum(v.sum(axis=1) for v in violated)
        n_list = sum(v.sum(axis=1) for v in listed)
        out: list[tuple[list[dict], int]] = [([], int(nv - nl)) for nv, nl in zip(n_viol, n_list)]
        for kind, mask in zip(("lo", "hi", "th"), listed):
            rows, cols = np.nonzero(mask)
            if not len(rows):
                continue
            if kind == "th":
                val = np.round(smax[rows, cols], 3).tolist()
                lim = self.rate_mva[cols].tolist()
                exc = np.round(smax[rows, cols] - self.rate_mva[cols], 3).tolist()
                names = self.branch_names
                con = "thermal"
            else:
                v = vm[rows, cols]
                limv = (self.vmin if kind == "lo" else self.vmax)[cols]
                val = np.round(v, 5).tolist()
                lim = limv.tolist()
                exc = np.round(np.abs(v - limv), 5).tolist()
                names = self.bus_names
                con = "voltage"
            for r, c, va, li, ex in zip(rows.tolist(), cols.tolist(), val, lim, exc):
                out[r][0].append({"constraint": con, "element": names[c], "value": va,
                                  "limit": li, "excess": ex})
        return out

    def results(self, elements: list[str], vm: np.ndarray, smax: np.ndarray | None) -> list[dict]:
        """Result documents for solved outages, one per row."""
        cls = self.classify(vm, smax)
        lo = np.where(vm > 0, vm, np.inf).min(axis=1)
        hi = vm.max(axis=1)
        out = []
        for k, el in enumerate(elements):
            viol, pre = cls[k]
            r = _result(el, "violations" if viol else "ok", viol)
            r["pre_existing_violations"] = pre
            r["min_vm_pu"] = round(float(lo[k]), 5)
            r["max_vm_pu"] = round(float(hi[k]), 5)
            out.append(r)
        return out


def _flows_mva(model: GridModel, v: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Max apparent power (MVA) at either end of `rows` branches for model-ordered voltages."""
    f, t = model.f[rows], model.t[rows]
    vf, vt = v[f], v[t]
    sf = vf * np.conj(model.yff[rows] * vf + model.yft[rows] * vt)
    st = vt * np.conj(model.ytf[rows] * vf + model.ytt[rows] * vt)
    return np.maximum(np.abs(sf), np.abs(st)) * model.base_mva * model.branch_on[rows]


# ---- topology: islanding without the solver ---------------------------------------------------

def _islanding(model: GridModel, rows_per_element: dict[str, list[int]]) -> dict[str, np.ndarray]:
    """For each element whose outage splits the grid, the model buses cut off from the main island.

    The main island is the biggest one with a generator in service (see `_reach`).
    Bridges of the in-service branch multigraph (igraph; parallel branches are not bridges)
    say which single-branch outages can split it at all; for those, a breadth-first search
    from the reference buses on the graph without the branch says what stays connected.
    """
    g, idx = _graph(model)
    edge_of = {int(r): e for e, r in enumerate(idx)}
    bridges = {int(idx[e]) for e in g.bridges()}
    refs = np.flatnonzero(model.is_ref & model.bus_on).tolist()
    base_main = _reach(g, refs, model)
    out = {}
    for el, rows in rows_per_element.items():
        rows = [r for r in rows if r in edge_of]
        if not rows or (len(rows) == 1 and rows[0] not in bridges):
            continue
        h = g.copy()
        h.delete_edges([edge_of[r] for r in rows])
        cut = np.flatnonzero(base_main & ~_reach(h, refs, model))
        if len(cut):
            out[el] = cut
    return out


def _reach(g, refs: list[int], model: GridModel) -> np.ndarray:
    """Mask of the buses of the main island: the biggest island with a generator in service.

    Ties go to the island holding a reference bus. An outage that separates the reference
    bus with a few buses from a bigger generating part cuts off the few (what an operator
    would re-dispatch), not the bulk of the grid.
    """
    memb = np.asarray(g.connected_components().membership)
    fed = np.zeros(memb.max() + 1 if len(memb) else 0, dtype=bool)
    fed[memb[model.gen_bus[model.gen_on]]] = True
    size = np.bincount(memb[model.bus_on], minlength=len(fed))
    has_ref = np.zeros(len(fed), dtype=bool)
    has_ref[memb[refs]] = True
    cands = np.flatnonzero(fed) if fed.any() else np.arange(len(fed))
    best = max(cands.tolist(), key=lambda c: (size[c], has_ref[c]))
    return (memb == best) & model.bus_on


def _graph(model: GridModel):
    import igraph

    idx = np.flatnonzero(model.branch_on)
    g = igraph.Graph(n=model.n_bus, edges=list(zip(model.f[idx].tolist(), model.t[idx].tolist())))
    return g, idx


def _variant_cut(base: GridModel, variant: GridModel) -> np.ndarray:
    """Buses still in service that the variant cuts off from the base case's main island."""
    refs = np.flatnonzero(base.is_ref & base.bus_on).tolist()
    base_main = _reach(_graph(base)[0], refs, base)
    vrefs = [r for r in refs if variant.bus_on[r]]
    reach = _reach(_graph(variant)[0], vrefs, variant)
    return np.flatnonzero(base_main & ~reach & variant.bus_on)


def _cut_result(model: GridModel, el: str, cut: np.ndarray) -> dict:
    names = [model.bus_names[k] for k in cut if model.bus_names[k]]
    on = model.load_on
    per_bus = np.bincount(model.load_bus[on], weights=model.load_p[on], minlength=model.n_bus)
    lost = float(per_bus[cut].sum()) * model.base_mva
    return _result(el, "islanded", islanded_buses=names, lost_load_mw=lost)


# ---- the lightsim2grid engine -------------------------------------------------------------

class _LsEngine:
    """One LSGrid of the net, its base AC power flow, and the maps to our element names."""

    def __init__(self, net, model, opts, grid, v0, ls_names):
        self.net, self.model, self.opts = net, model, opts
        self.grid, self.v0 = grid, v0
        self.limits = _Limits(model, opts)
        sorted_bus = np.sort(net.bus.index.to_numpy())
        named = model.bus_index >= 0
        # ls bus of each model bus (lightsim numbers pandapower buses by sorted index)
        self.ls_of_model = np.zeros(model.n_bus, dtype=int)
        self.ls_of_model[named] = np.searchsorted(sorted_bus, model.bus_index[named])
        self.ls_bus_rows = self.ls_of_model[self.limits.bus_rows]
        self.n_branch = len(ls_names)
        self.branch_id = {n: k for k, n in enumerate(ls_names)}
        self.model_row = {n: r for r, n in enumerate(model.branch_names)}
        # ls branch id of each rated model branch
        self.rated_ls = np.array([self.branch_id[model.branch_names[r]] for r in self.limits.rated],
                                 dtype=int)
        vm0 = np.abs(v0[self.ls_bus_rows])
        self.base_violations = self.limits.set_base(vm0, self._smax_single(v0))

    @classmethod
    def build(cls, net, model, opts) -> _LsEngine | None:
        """The engine, or None where lightsim2grid cannot model this grid faithfully."""
        src = _ls_source(net)
        if src is None:
            log.info("%s: elements lightsim2grid does not convert; using pandapower", case_label(net))
            return None
        src_net, ls_names = src
        if set(model.branch_names) - set(ls_names):
            return None
        try:
            from lightsim2grid.network import init_from_pandapower

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                grid = init_from_pandapower(src_net, pp_orig_file="pandapower_v3")
            v0 = grid.ac_pf(np.full(grid.total_bus(), 1.0 + 0j), opts.max_iter, opts.tol)
        except Exception as exc:  # noqa: BLE001 - lightsim2grid raises many kinds on conversion
            log.warning("%s: lightsim2grid failed (%s); using pandapower", case_label(net), exc)
            return None
        if len(v0) == 0:
            log.warning("%s: the base AC power flow does not converge in lightsim2grid", case_label(net))
            return None
        return cls(net, model, opts, grid, v0, ls_names)

    def _smax_single(self, v_ls: np.ndarray) -> np.ndarray:
        v = np.zeros(self.model.n_bus, dtype=complex)
        v[:] = v_ls[self.ls_of_model]
        return _flows_mva(self.model, v, self.limits.rated)

    def injection_outage(self, el: str) -> dict:
        """Solve the outage of one gen, sgen or load on the LSGrid, then restore it."""
        e = parse_element(el)
        pos = self.net[e.table].index.get_loc(e.index)
        off = {"gen": self.grid.deactivate_gen, "sgen": self.grid.deactivate_sgen,
               "load": self.grid.deactivate_load}[e.table]
        on = {"gen": self.grid.reactivate_gen, "sgen": self.grid.reactivate_sgen,
              "load": self.grid.reactivate_load}[e.table]
        off(pos)
        try:
            v = self.grid.ac_pf(self.v0.copy(), self.opts.max_iter, self.opts.tol)
        except Exception as exc:  # noqa: BLE001 - the C++ solver raises plain RuntimeErrors and more
            log.info("%s: solver error %s", el, exc)
            v = np.zeros(0)
        finally:
            on(pos)
        if len(v) == 0 or not np.all(np.isfinite(v)):
            return _diverged(el, "the AC power flow did not converge")
        vm = np.abs(v[self.ls_bus_rows])
        return self.limits.results([el], vm[None, :], self._smax_single(v)[None, :])[0]


def _sweep_branches(eng: _LsEngine, elements: list[str], tracker: _Tracker) -> dict[str, dict]:
    from lightsim2grid.contingencyAnalysis import ContingencyAnalysisCPP

    model, lim = eng.model, eng.limits
    rows = {el: [eng.model_row[el]] for el in elements}
    cut = _islanding(model, rows)
    out = {el: _cut_result(model, el, cut[el]) for el in elements if el in cut}
    tracker.step(len(out))
    todo = [el for el in elements if el not in cut]
    if not todo:
        return out
    nbr = eng.n_branch
    chunk = max(8, int(eng.opts.chunk_bytes // max(1, nbr * 4 * 8 + len(lim.bus_rows) * 16)))
    ca = ContingencyAnalysisCPP(eng.grid, False)
    ca.nb_thread = max(1, int(eng.opts.threads))
    for start in range(0, len(todo), chunk):
        if tracker.cancelled():
            break
        part = todo[start:start + chunk]
        ids = [eng.branch_id[el] for el in part]
        ca.clear()
        ca.add_multiple_n1(ids)
        try:
            ca.compute(eng.v0, eng.opts.max_iter, eng.opts.tol)
        except RuntimeError as exc:  # the C++ side raises for a failed base case
            log.warning("contingency analysis failed: %s", exc)
            out.update({el: _diverged(el, f"contingency analysis failed: {exc}") for el in part})
            tracker.step(len(part))
            continue
        order = [tuple(d) for d in ca.my_defaults()]
        row_of = {d[0]: k for k, d in enumerate(order)}
        conv = np.asarray(ca.converged_mask(), dtype=bool)
        vs = ca.get_voltages()
        br = ca.compute_branch_results()  # rows x branches x (p1, q1, p2, q2)
        rr = np.array([row_of[i] for i in ids])
        vm = np.abs(vs[rr][:, eng.ls_bus_rows])
        b = br[rr][:, eng.rated_ls, :]
        smax = np.maximum(np.hypot(b[..., 0], b[..., 1]), np.hypot(b[..., 2], b[..., 3]))
        ok_rows = conv[rr] & np.all(np.isfinite(vm), axis=1) & np.all(vm > 0, axis=1)
        good = np.flatnonzero(ok_rows)
        solved = lim.results([part[k] for k in good], vm[good], smax[good])
        out.update({r["element"]: r for r in solved})
        out.update({part[k]: _diverged(part[k], "the AC power flow did not converge")
                    for k in np.flatnonzero(~ok_rows)})
        tracker.step(len(part))
    return out


def _ls_source(net) -> tuple[pp.pandapowerNet, list[str]] | None:
    """A shallow copy of `net` that lightsim2grid converts, and its branch names in LSGrid order.

    lightsim2grid has no impedance element; MATPOWER branches joining buses of different
    nominal voltage without a tap arrive as pandapower impedances (pglib case118 has two),
    so symmetric ones become the equivalent line (same per-unit r, x, b; verified against
    runpp). A net last run with ``trafo_model="pi"`` keeps it in ``_options``, which
    lightsim2grid refuses; it models transformers as runpp does by default.
    """
    import pandas as pd

    if any(len(net[t]) for t in ("trafo3w", "xward", "ward", "dcline", "switch", "storage")
           if t in net):
        return None
    src = copy.copy(net)
    src["_options"] = {k: v for k, v in dict(net.get("_options", {}) or {}).items()
                       if k != "trafo_model"}
    names = [f"line:{i}" for i in net.line.index]
    imp = net.impedance if "impedance" in net else None
    if imp is not None and len(imp):
        sym = (np.allclose(imp.rft_pu, imp.rtf_pu) and np.allclose(imp.xft_pu, imp.xtf_pu)
               and np.allclose(imp.bf_pu, imp.bt_pu)
               and not np.any(imp.get("gf_pu", 0.0)) and not np.any(imp.get("gt_pu", 0.0)))
        if not sym:
            return None
        vn = net.bus.vn_kv.loc[imp.from_bus].to_numpy()
        zb = vn ** 2 / net.sn_mva
        scale = net.sn_mva / imp.sn_mva.to_numpy()  # own base -> system base, for impedances
        b_sys = (imp.bf_pu.to_numpy() + imp.bt_pu.to_numpy()) / scale
        extra = pd.DataFrame({
            "name": None, "std_type": None, "from_bus": imp.from_bus.to_numpy(),
            "to_bus": imp.to_bus.to_numpy(), "length_km": 1.0,
            "r_ohm_per_km": imp.rft_pu.to_numpy() * scale * zb,
            "x_ohm_per_km": imp.xft_pu.to_numpy() * scale * zb,
            "c_nf_per_km": b_sys / zb / (2 * np.pi * net.f_hz) * 1e9, "g_us_per_km": 0.0,
            "max_i_ka": 1e3, "df": 1.0, "parallel": 1, "type": "ol",
            "in_service": imp.in_service.to_numpy()})
        src["line"] = pd.concat([net.line, extra], ignore_index=True)
        src["impedance"] = imp.iloc[0:0]
        names += [f"impedance:{i}" for i in imp.index]
    names += [f"trafo:{i}" for i in net.trafo.index]
    return src, names


# ---- the pandapower fallback ----------------------------------------------------------------

def _quiet_runpp(net) -> bool:
    with quiet_pandapower(logging.CRITICAL):
        try:
            pp.runpp(net, init="dc", calculate_voltage_angles=True, max_iteration=30)
            return bool(net.converged)
        except Exception:  # noqa: BLE001 - pandapower raises LoadflowNotConverged and friends
            return False


def _has_slack(net) -> bool:
    bus_on = net.bus.in_service
    eg = net.ext_grid
    if len(eg) and (eg.in_service & bus_on.reindex(eg.bus).to_numpy()).any():
        return True
    g = net.gen
    return bool(len(g) and "slack" in g
                and (g.slack.fillna(False).astype(bool) & g.in_service
                     & bus_on.reindex(g.bus).to_numpy()).any())


def _model_voltages(model: GridModel, net) -> np.ndarray:
    v = np.zeros(model.n_bus, dtype=complex)
    named = model.bus_index >= 0
    res = net.res_bus.loc[model.bus_index[named]]
    v[named] = res.vm_pu.to_numpy() * np.exp(1j * np.deg2rad(res.va_degree.to_numpy()))
    return np.nan_to_num(v)


def _limits_of(model: GridModel, opts: SweepOptions) -> _Limits:
    key = (id(model), opts)
    lim = _LIMITS.get(key)
    if lim is None or lim.model is not model:
        lim = _LIMITS[key] = _Limits(model, opts)
        while len(_LIMITS) > 8:
            _LIMITS.pop(next(iter(_LIMITS)))
    return lim


_LIMITS: dict = {}


def _pandapower_base(net, model, opts) -> list[dict]:
    work = copy.deepcopy(net)
    if not _quiet_runpp(work):
        return []
    lim = _limits_of(model, opts)
    v = _model_voltages(model, work)
    return lim.set_base(np.abs(v[lim.bus_rows]), _flows_mva(model, v, lim.rated))


def _pandapower_outage(net, model: GridModel, el: str, opts: SweepOptions,
                       lim: _Limits | None = None) -> dict:
    """One outage solved by pandapower's runpp on the variant (kinds lightsim2grid lacks)."""
    var = Variant(net, [el])
    vmodel = var.model
    cut = _variant_cut(model, vmodel)
    if len(cut):
        return _cut_result(model, el, cut)
    work = var.net
    if not _has_slack(work):
        return _diverged(el, "no reference (slack) bus left in service")
    if not _quiet_runpp(work):
        return _diverged(el, "the AC power flow did not converge")
    lim = lim or _limits_of(model, opts)
    v = _model_voltages(vmodel, work)
    v[~vmodel.bus_on] = 0.0
    return lim.results([el], np.abs(v[lim.bus_rows])[None, :],
                       _flows_mva(vmodel, v, lim.rated)[None, :])[0]


# ---- optional: is the variant's AC OPF feasible? ------------------------------------------

def _add_opf(net, elements, results, tracker: _Tracker) -> None:
    from n1studio.solve.reference import reference

    for el in elements:
        if tracker.cancelled():
            return
        r = results.get(el)
        if r is None:
            continue
        try:
            res = reference(Variant(net, [el]), kind="ac")
            r["opf"] = {"feasible": bool(res.success), "status": str(res.status),
                        "objective": float(res.objective) if res.success and res.objective is not None
                        else None}
        except N1Error as exc:
            r["opf"] = {"feasible": False, "status": f"error: {exc}", "objective": None}
        tracker.step(1)
