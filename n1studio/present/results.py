"""Numbers the panels show: per-bus voltages and per-branch loadings of an answer and of the
reference, and the rows describing one element (inspector and tooltips). No Qt here.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import numpy as np

from n1studio.errors import ElementError
from n1studio.grid.elements import parse_element
from n1studio.grid.flows import branch_smax_mva
from n1studio.grid.model import GridModel


@dataclass
class Profile:
    """Voltages (pu, degrees) per model bus and loadings (fraction of rating) per branch."""

    vm: np.ndarray
    va_deg: np.ndarray
    loading: np.ndarray  # max(|S_from|, |S_to|) / rate, NaN where unrated or unknown
    flow_mva: np.ndarray


def branch_flows(model: GridModel, vm: np.ndarray, va_rad: np.ndarray) -> np.ndarray:
    """Apparent power (MVA) per branch: the larger of both ends, from bus voltages."""
    s = branch_smax_mva(model, vm * np.exp(1j * va_rad))
    s[~model.branch_on] = np.nan
    return s


def profile_of(model: GridModel, vm: np.ndarray, va_rad: np.ndarray) -> Profile:
    flow = branch_flows(model, vm, va_rad)
    rate = model.rate * model.base_mva
    with np.errstate(invalid="ignore", divide="ignore"):
        loading = np.where(np.isfinite(rate), flow / rate, np.nan)
    return Profile(vm=vm, va_deg=np.rad2deg(va_rad), loading=loading, flow_mva=flow)


def answer_profile(model: GridModel, answer: dict | None) -> Profile | None:
    """The answer's claimed voltages mapped onto model buses (NaN where it says nothing)."""
    if not isinstance(answer, dict):
        return None
    vm = np.full(model.n_bus, np.nan)
    va = np.full(model.n_bus, np.nan)
    for b in answer.get("buses") or []:
        if not isinstance(b, dict):
            continue
        try:
            kind, rows = model.index(str(b.get("element")))
        except KeyError:
            continue
        if kind != "bus":
            continue
        vm[rows] = _num(b.get("vm_pu"))
        va[rows] = math.radians(_num(b.get("va_degree")))
    if not np.isfinite(vm).any():
        return None
    return profile_of(model, vm, va)


def reference_profile(result) -> Profile | None:
    if result is None or not getattr(result, "success", False):
        return None
    return profile_of(result.model, np.asarray(result.vm, float), np.asarray(result.va, float))


def _num(x) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return math.nan
    return v


def element_rows(net, model: GridModel | None, name: str, reference=None,
                 answer: dict | None = None,
                 verdict: dict | None = None) -> list[tuple[str, str]]:
    """(key, value) rows describing an element: its data, the reference, the answer, and the
    violations found at it."""
    rows: list[tuple[str, str]] = [("element", name)]
    try:
        table, i = parse_element(name)
        rec = net[table].loc[i]
    except (ElementError, KeyError, ValueError, TypeError):
        return rows
    keep = {
        "bus": ("name", "vn_kv", "min_vm_pu", "max_vm_pu", "in_service"),
        "line": ("name", "from_bus", "to_bus", "length_km", "r_ohm_per_km", "x_ohm_per_km",
                 "max_i_ka", "in_service"),
        "trafo": ("name", "hv_bus", "lv_bus", "sn_mva", "vn_hv_kv", "vn_lv_kv", "vk_percent",
                  "in_service"),
        "trafo3w": ("name", "hv_bus", "mv_bus", "lv_bus", "in_service"),
        "impedance": ("name", "from_bus", "to_bus", "in_service"),
        "gen": ("name", "bus", "p_mw", "vm_pu", "min_p_mw", "max_p_mw", "min_q_mvar",
                "max_q_mvar", "in_service"),
        "sgen": ("name", "bus", "p_mw", "q_mvar", "in_service"),
        "ext_grid": ("name", "bus", "vm_pu", "min_p_mw", "max_p_mw", "min_q_mvar", "max_q_mvar",
                     "in_service"),
        "load": ("name", "bus", "p_mw", "q_mvar", "in_service"),
    }.get(table, ())
    for k in keep:
        if k in rec.index:
            v = rec[k]
            if k == "name" and (v is None or str(v) in ("", "nan", "None")):
                continue
            rows.append((k, _fmt(v)))
    if model is None:
        return rows
    if name in (getattr(model, "outages", ()) or ()):
        rows.append(("state", "OUT OF SERVICE (this variant)"))
    try:
        kind, mrows = model.index(name)
    except KeyError:
        kind, mrows = "", []
    if kind == "branch" and mrows:
        r = model.rate[mrows[0]] * model.base_mva
        rows.append(("rating", f"{r:.1f} MVA" if np.isfinite(r) else "unlimited"))
    ref = reference if reference is not None and getattr(reference, "success", False) else None
    for label, prof in (("reference", reference_profile(ref) if ref is not None else None),
                        ("answer", answer_profile(model, answer))):
        if prof is None or not mrows:
            continue
        k = mrows[0]
        if kind == "bus" and np.isfinite(prof.vm[k]):
            rows.append((f"{label} V", f"{prof.vm[k]:.4f} pu ∠ {prof.va_deg[k]:.2f}°"))
        elif kind == "branch":
            loading, flow = prof.loading[mrows], prof.flow_mva[mrows]
            ld = np.nanmax(loading) if np.isfinite(loading).any() else None
            fl = np.nanmax(flow) if np.isfinite(flow).any() else None
            if fl is not None:
                pct = f" ({ld:.0%})" if ld is not None else ""
                rows.append((f"{label} flow", f"{fl:.1f} MVA{pct}"))
        elif kind == "gen":
            if label == "reference":
                rows.append((f"{label} P, Q", f"{ref.pg[k]:.2f} MW, {ref.qg[k]:.2f} Mvar"))
            else:
                for g in (answer or {}).get("generators") or []:
                    if isinstance(g, dict) and g.get("element") == name:
                        pq = f"{_fmt(g.get('p_mw'))} MW, {_fmt(g.get('q_mvar'))} Mvar"
                        rows.append((f"{label} P, Q", pq))
    for v in (verdict or {}).get("violations") or []:
        if v.get("element") == name:
            what = f"{_fmt(v.get('value'))} vs limit {_fmt(v.get('limit'))}"
            if v.get("value") is None and v.get("message"):
                what = str(v.get("message"))
            rows.append((f"⚠ {v.get('constraint')}", what))
    return rows


def rows_html(rows: list[tuple[str, str]]) -> str:
    body = "".join(f"<tr><td><b>{html.escape(k)}</b></td><td>&nbsp;{html.escape(v)}</td></tr>"
                   for k, v in rows)
    return f"<table>{body}</table>"


def _fmt(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if not math.isfinite(f):
        return str(f)
    return f"{f:.4g}" if abs(f) < 1e5 else f"{f:,.0f}"
