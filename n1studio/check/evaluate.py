"""Evaluate the physical constraints of an answer, vectorised over the whole grid.

Constraint sets (each counted once per element; a kind with no constraints scores 1.0):
- power_balance: every energised named bus; |P| and |Q| residuals within
  max(p_mw, sum_j |Y_ij| * digits_pu * base) (resp. q_mvar): at buses tied by very
  low-impedance branches the digits an answer carries cannot pin the injection tighter.
  The complex injection V*conj(Ybus V) at the claimed voltages (in-service branches,
  shunts included) against generation minus load.
  Internal buses (trafo3w star points, no name) inject nothing: their voltages are
  eliminated exactly, V_i = -Y_ii^-1 Y_ie V_e, before the residuals are taken.
- voltage: every energised named bus, vm within [vmin, vmax].
- gen_p / gen_q: every in-service generator with at least one finite bound.
- thermal: every in-service line/trafo/trafo3w/impedance with a finite rating; |S| at
  either end (either winding of a trafo3w, reported once under its name).
- angle: every in-service branch with a finite angle-difference limit; va_f - va_t.

A constraint that depends on a value the answer lacks (a missing bus voltage, a missing
dispatch) cannot hold: it counts as violated, with value/excess null and a message.
The Ybus, its reduction and the constraint sets are cached on the model (milliseconds
per check on case118).
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csc_matrix, csr_matrix
from scipy.sparse.linalg import splu

from n1studio.check.parse import ParsedAnswer, name_lookups
from n1studio.check.tolerances import Tolerances
from n1studio.grid.flows import branch_smax_mva

log = logging.getLogger(__name__)

_CACHE_ATTR = "_n1check_prepared"


@dataclass
class Prepared:
    """Everything about a model that does not depend on the answer."""

    key: tuple
    energised: np.ndarray
    required_bus: np.ndarray  # energised & named
    required_gen: np.ndarray
    ext: np.ndarray  # indices of required buses
    internal: np.ndarray  # indices of energised internal buses
    y: csr_matrix  # full Ybus (energised part is what matters)
    y_ie: csr_matrix | None
    lu_ii: object | None
    pattern: csr_matrix  # bus x bus structural adjacency (incl. self), for "needs" tracking
    pattern_ie: csr_matrix | None
    ysum: np.ndarray  # sum_j |Y_ij| per bus: how much a voltage rounding moves the injection
    # thermal
    th_rows: np.ndarray  # branch rows with finite ratings in service
    th_group: np.ndarray  # element group per row
    th_names: list[str]
    # angle
    an_rows: np.ndarray
    an_group: np.ndarray
    an_names: list[str]
    # generator constraint sets
    gp: np.ndarray
    gq: np.ndarray
    lookups: tuple  # (bus name -> row, generator name -> row) for the parser


def prepare(model) -> Prepared:
    """The answer-independent part of checking `model`, cached on the model object."""
    key = (model.bus_on.tobytes(), model.branch_on.tobytes(), model.gen_on.tobytes(),
           model.pd.tobytes(), model.n_bus)
    cached = getattr(model, _CACHE_ATTR, None)
    if cached is not None and cached.key == key:
        return cached
    prep = _prepare(model, key)
    with contextlib.suppress(AttributeError):  # a model without a __dict__: just don't cache
        setattr(model, _CACHE_ATTR, prep)
    return prep


def _prepare(model, key) -> Prepared:
    nb = model.n_bus
    energised = model.energised()
    named = np.array([bool(n) for n in model.bus_names], dtype=bool)
    required_bus = energised & named
    required_gen = model.gen_on & energised[model.gen_bus]
    ext = np.flatnonzero(required_bus)
    internal = np.flatnonzero(energised & ~named)

    on = model.branch_on & energised[model.f] & energised[model.t]
    y = model.ybus(on).tocsr()
    fr, to, diag = model.f[on], model.t[on], np.arange(nb)
    pat = csr_matrix((np.ones(4 * on.sum() + nb),
                      (np.concatenate([fr, to, fr, to, diag]),
                       np.concatenate([to, fr, fr, to, diag]))),
                     shape=(nb, nb))
    pat.data[:] = 1.0
    ysum = np.asarray(abs(y).sum(axis=1)).ravel()
    y_ie = lu = pat_ie = None
    if len(internal):
        y_ii = csc_matrix(y[internal][:, internal])
        y_ie = y[internal][:, ext].tocsr()
        pat_ie = pat[internal][:, ext].tocsr()
        try:
            lu = splu(y_ii)
        except RuntimeError as exc:  # singular: an internal bus with nothing attached
            log.warning("%s: internal buses cannot be eliminated (%s); their voltages are "
                        "treated as unknown", model.name, exc)

    rows = np.flatnonzero(on & np.isfinite(model.rate))
    th_names, th_group = _groups([model.branch_names[r] for r in rows])
    arows = np.flatnonzero(on & (np.isfinite(model.angmin) | np.isfinite(model.angmax)))
    an_names, an_group = _groups([model.branch_names[r] for r in arows])

    gp = np.flatnonzero(required_gen & (np.isfinite(model.pmin) | np.isfinite(model.pmax)))
    gq = np.flatnonzero(required_gen & (np.isfinite(model.qmin) | np.isfinite(model.qmax)))
    return Prepared(key=key, energised=energised, required_bus=required_bus,
                    required_gen=required_gen, ext=ext, internal=internal, y=y, y_ie=y_ie,
                    lu_ii=lu, pattern=pat.tocsr(), pattern_ie=pat_ie, ysum=ysum, th_rows=rows,
                    th_group=th_group, th_names=th_names, an_rows=arows, an_group=an_group,
                    an_names=an_names, gp=gp, gq=gq,
                    lookups=name_lookups(model, required_bus, required_gen))


def _groups(names: list[str]) -> tuple[list[str], np.ndarray]:
    """Unique names in first-seen order and the group index of each row."""
    order: dict[str, int] = {}
    idx = np.fromiter((order.setdefault(n, len(order)) for n in names), dtype=int,
                      count=len(names))
    return list(order), idx


@dataclass
class KindResult:
    total: int
    violations: list[dict]

    @property
    def satisfied(self) -> int:
        return self.total - len(self.violations)


def _viol(kind, element, value, limit, unit, **extra) -> dict:
    if value is None:
        return {"constraint": kind, "element": element, "value": None, "limit": _f(limit),
                "excess": None, "unit": unit, **extra}
    lo = limit if value < limit else None
    excess = (limit - value) if lo is not None else (value - limit)
    return {"constraint": kind, "element": element, "value": _f(value), "limit": _f(limit),
            "excess": _f(abs(excess)), "unit": unit, **extra}


def _f(x):
    if x is None:
        return None
    x = float(x)
    return round(x, 6) + 0.0 if np.isfinite(x) else None


def evaluate(model, prep: Prepared, ans: ParsedAnswer, tol: Tolerances) -> dict[str, KindResult]:
    """Per kind: how many constraints and which are violated (records in model order)."""
    # absurd values (1e308) overflow to inf/NaN: the comparisons below treat those as violated
    with np.errstate(all="ignore"):
        return _evaluate(model, prep, ans, tol)


def _evaluate(model, prep: Prepared, ans: ParsedAnswer, tol: Tolerances) -> dict[str, KindResult]:
    base = model.base_mva
    nb = model.n_bus
    ext = prep.ext
    # ---- voltages: named buses from the answer, internal buses eliminated --------------
    vm, va = ans.vm, np.deg2rad(ans.va_deg)
    known = np.zeros(nb, dtype=bool)
    known[ext] = np.isfinite(vm[ext]) & np.isfinite(va[ext])
    v = np.zeros(nb, dtype=complex)
    v[ext] = np.where(known[ext], vm[ext] * np.exp(1j * np.where(known[ext], va[ext], 0.0)), 0.0)
    if len(prep.internal):
        if prep.lu_ii is not None:
            v[prep.internal] = -prep.lu_ii.solve(prep.y_ie @ v[ext])
            unknown_ext = (~known[ext]).astype(float)
            known[prep.internal] = (prep.pattern_ie @ unknown_ext) == 0
        else:
            known[prep.internal] = False
    va_deg = np.where(np.isin(np.arange(nb), ext), ans.va_deg, np.rad2deg(np.angle(v)))

    out: dict[str, KindResult] = {}
    names = model.bus_names

    # ---- power balance ----------------------------------------------------------------
    g = np.flatnonzero(prep.required_gen)
    p, q = ans.p_mw[g], ans.q_mvar[g]
    gen_known = np.isfinite(p) & np.isfinite(q)
    sg = np.bincount(model.gen_bus[g], weights=np.where(gen_known, p, 0.0), minlength=nb) \
        + 1j * np.bincount(model.gen_bus[g], weights=np.where(gen_known, q, 0.0), minlength=nb)
    bus_gen_unknown = np.bincount(model.gen_bus[g], weights=(~gen_known).astype(float),
                                  minlength=nb) > 0
    s_calc = v * np.conj(prep.y @ v)
    mis = s_calc[ext] - (sg[ext] / base - (model.pd[ext] + 1j * model.qd[ext]))
    dp, dq = np.abs(mis.real) * base, np.abs(mis.imag) * base
    needs_unknown = (prep.pattern @ (~known).astype(float))[ext] > 0
    unknown = needs_unknown | bus_gen_unknown[ext]
    slack = prep.ysum[ext] * tol.digits_pu * base
    tp, tq = np.maximum(tol.p_mw, slack), np.maximum(tol.q_mvar, slack)
    bad = unknown | ~(dp <= tp) | ~(dq <= tq)
    viols = []
    for j in np.flatnonzero(bad):
        k = ext[j]
        if unknown[j]:
            why = "voltage missing here or at a neighbour" if needs_unknown[j] else \
                "a generator's dispatch is missing"
            viols.append(_viol("power_balance", names[k], None, tol.p_mw, "MW",
                               message=f"not evaluable: {why}"))
        elif not (np.isfinite(dp[j]) and np.isfinite(dq[j])):
            viols.append(_viol("power_balance", names[k], None, tol.p_mw, "MW",
                               message="residual not finite (absurd voltages or dispatch)"))
        elif dp[j] / tp[j] >= dq[j] / tq[j]:
            viols.append(_viol("power_balance", names[k], dp[j], tp[j], "MW",
                               p_residual_mw=_f(mis[j].real * base),
                               q_residual_mvar=_f(mis[j].imag * base)))
        else:
            viols.append(_viol("power_balance", names[k], dq[j], tq[j], "Mvar",
                               p_residual_mw=_f(mis[j].real * base),
                               q_residual_mvar=_f(mis[j].imag * base)))
    out["power_balance"] = KindResult(len(ext), viols)

    # ---- voltage ----------------------------------------------------------------------
    x = vm[ext]
    lo, hi = model.vmin[ext], model.vmax[ext]
    viols = []
    for j in np.flatnonzero(~np.isfinite(x) | (x > hi + tol.vm_pu) | (x < lo - tol.vm_pu)):
        k = ext[j]
        if not np.isfinite(x[j]):
            viols.append(_viol("voltage", names[k], None, hi[j], "pu",
                               message="not evaluable: vm_pu missing"))
        else:
            viols.append(_viol("voltage", names[k], x[j], hi[j] if x[j] > hi[j] else lo[j], "pu"))
    out["voltage"] = KindResult(len(ext), viols)

    # ---- generator limits ---------------------------------------------------------------
    for kind, rows, val, lo_all, hi_all, t, unit in (
            ("gen_p", prep.gp, ans.p_mw, model.pmin, model.pmax, tol.gen_p_mw, "MW"),
            ("gen_q", prep.gq, ans.q_mvar, model.qmin, model.qmax, tol.gen_q_mvar, "Mvar")):
        x = val[rows]
        lo, hi = lo_all[rows] * base, hi_all[rows] * base
        viols = []
        for j in np.flatnonzero(~np.isfinite(x) | (x > hi + t) | (x < lo - t)):
            k = rows[j]
            if not np.isfinite(x[j]):
                missing = "p_mw" if kind == "gen_p" else "q_mvar"
                viols.append(_viol(kind, model.gen_names[k], None,
                                   hi[j] if np.isfinite(hi[j]) else lo[j],
                                   unit, message=f"not evaluable: {missing} missing"))
            else:
                viols.append(_viol(kind, model.gen_names[k], x[j],
                                   hi[j] if x[j] > hi[j] else lo[j], unit))
        out[kind] = KindResult(len(rows), viols)

    # ---- thermal ----------------------------------------------------------------------
    r = prep.th_rows
    f, t_ = model.f[r], model.t[r]
    smax = branch_smax_mva(model, v, r)
    rate = model.rate[r] * base
    row_unknown = ~(known[f] & known[t_])
    over = ~(smax <= rate * (1.0 + tol.thermal_rel) + tol.thermal_mva)
    out["thermal"] = KindResult(len(prep.th_names), _per_element(
        "thermal", prep.th_group, prep.th_names, row_unknown, over, smax, rate, smax / rate, "MVA",
        "voltage missing at an end"))

    # ---- angle difference ----------------------------------------------------------------
    r = prep.an_rows
    f, t_ = model.f[r], model.t[r]
    d = va_deg[f] - va_deg[t_]
    amin, amax = np.rad2deg(model.angmin[r]), np.rad2deg(model.angmax[r])
    row_unknown = ~(known[f] & known[t_]) | ~np.isfinite(d)
    d0 = np.where(row_unknown, 0.0, d)
    over = (d0 > amax + tol.angle_deg) | (d0 < amin - tol.angle_deg)
    lim = np.where(d0 > amax, amax, amin)
    score = np.maximum(d0 - amax, amin - d0)
    out["angle"] = KindResult(len(prep.an_names), _per_element(
        "angle", prep.an_group, prep.an_names, row_unknown, over, d0, lim, score, "deg",
        "voltage angle missing at an end"))
    return out


def _per_element(kind, group, gnames, unknown, over, value, limit, score, unit, why) -> list[dict]:
    """One record per element: the worst of its rows (trafo3w windings share a name)."""
    bad_rows = np.flatnonzero(unknown | over)
    if not len(bad_rows):
        return []
    # rows of the same element: unknown first, then the highest score
    order = np.lexsort((-np.where(unknown[bad_rows], np.inf, score[bad_rows]), group[bad_rows]))
    rows = bad_rows[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = group[rows][1:] != group[rows][:-1]
    out = []
    for r in rows[first]:
        name = gnames[group[r]]
        if unknown[r]:
            out.append(_viol(kind, name, None, limit[r], unit, message=f"not evaluable: {why}"))
        elif not np.isfinite(value[r]):
            out.append(_viol(kind, name, None, limit[r], unit,
                             message="not finite (absurd voltages in the answer)"))
        else:
            out.append(_viol(kind, name, value[r], limit[r], unit))
    return out


def dispatch_cost(model, p_mw: np.ndarray, required_gen: np.ndarray) -> float | None:
    """Cost in $/h of the answer's dispatch over the in-service generators; None if incomplete."""
    g = np.flatnonzero(required_gen)
    p = p_mw[g]
    if not np.isfinite(p).all():
        return None
    with np.errstate(all="ignore"):
        cost = float(np.sum(model.c2[g] * p * p + model.c1[g] * p + model.c0[g]))
    return cost if np.isfinite(cost) else None
