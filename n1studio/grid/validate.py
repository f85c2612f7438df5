"""Checking a pandapower net before it is used: every net read from a file (.m after
conversion, .json as loaded, an OPFData example) passes `validate_net` before a GridModel
is built from it, so a broken file is one CaseDataError line naming the table, the
element and the column, never a solver crash or another grid.
"""

from __future__ import annotations

import logging

import numpy as np
import pandapower as pp
import pandas as pd

from n1studio.errors import CaseDataError

log = logging.getLogger(__name__)

# ---- checking a net before it is used -------------------------------------------------------
# Columns whose every entry must be a finite number (rows out of service included: a
# variant never takes an element back, but a NaN there still says the file is broken).
# No power-system quantity (MW, kV, ohm/km, %, $/MWh) comes near this: a larger value is
# a typo or an attack, and it overflows to Inf and NaN inside the solver.
MAX_MAGNITUDE = 1e12
_FINITE = {
    "bus": ("vn_kv", "max_vm_pu", "min_vm_pu"),
    "load": ("p_mw", "q_mvar", "scaling"),
    "sgen": ("p_mw", "q_mvar", "scaling"),
    "gen": ("p_mw", "vm_pu", "scaling"),
    "ext_grid": ("vm_pu", "va_degree"),
    "shunt": ("p_mw", "q_mvar", "vn_kv", "step"),
    "line": ("from_bus", "to_bus", "length_km", "r_ohm_per_km", "x_ohm_per_km", "c_nf_per_km",
             "max_i_ka", "parallel", "df", "max_loading_percent"),
    "trafo": ("hv_bus", "lv_bus", "sn_mva", "vn_hv_kv", "vn_lv_kv", "vk_percent", "vkr_percent",
              "pfe_kw", "i0_percent", "shift_degree", "parallel", "max_loading_percent"),
    "impedance": ("from_bus", "to_bus", "rft_pu", "xft_pu", "sn_mva"),
    "poly_cost": ("cp0_eur", "cp1_eur_per_mw", "cp2_eur_per_mw2"),
}
_POSITIVE = {
    "bus": ("vn_kv", "max_vm_pu"), "gen": ("vm_pu",), "ext_grid": ("vm_pu",),
    "line": ("length_km", "parallel"), "trafo": ("sn_mva", "vn_hv_kv", "vn_lv_kv", "parallel"),
    "impedance": ("sn_mva",), "shunt": ("vn_kv",),
}
_NON_NEGATIVE = {"bus": ("min_vm_pu",), "line": ("max_i_ka", "max_loading_percent"),
                 "trafo": ("max_loading_percent",)}
# Bus references of each element table.
_BUS_REFS = {
    "load": ("bus",), "sgen": ("bus",), "gen": ("bus",), "ext_grid": ("bus",),
    "shunt": ("bus",), "storage": ("bus",), "ward": ("bus",), "xward": ("bus",),
    "line": ("from_bus", "to_bus"), "trafo": ("hv_bus", "lv_bus"),
    "trafo3w": ("hv_bus", "mv_bus", "lv_bus"), "impedance": ("from_bus", "to_bus"),
    "switch": ("bus",),
}
# The entries of a pandapower net that are dicts, not tables.
_DICT_ENTRIES = ("std_types", "user_pf_options")
# Generator limits, upper before lower (NaN means pandapower's "no limit" there).
_LIMITS = (("max_p_mw", "min_p_mw"), ("max_q_mvar", "min_q_mvar"))


def validate_net(net: pp.pandapowerNet, name: str) -> None:
    """Refuse a net that would crash the solvers or be silently misread (one CaseDataError).

    Runs on every net read from a file (.m after conversion, .json as loaded), before a
    GridModel is built from it. Messages name the table, the element (the row's index) and
    the column, e.g. "load 3, column p_mw: is NaN".
    """
    def fail(table: str, idx, col: str | None, what: str) -> CaseDataError:
        where = f"{name}: {table} {idx}" + (f", column {col}" if col else "")
        return CaseDataError(f"{where}: {what}")

    def numbers(table: str, col: str) -> pd.Series:
        s = net[table][col]
        if s.dtype.kind in "fiu":
            return s.astype(float)
        bad = ~s.map(lambda x: x is None or (isinstance(x, (int, float, np.number))
                                             and not isinstance(x, bool)))
        if bad.any():
            idx = s.index[int(np.argmax(bad.values))]
            raise fail(table, idx, col, f"is not a number: {str(s.at[idx])[:40]!r}")
        v = pd.to_numeric(s, errors="coerce").astype(float)
        net[table][col] = v  # numbers from here on, whatever dtype the JSON gave
        return v

    # a table whose JSON entry is damaged stays a dict (pandapower's converters then fail)
    damaged = [k for k, v in net.items() if not k.startswith("_") and isinstance(v, (dict, list))
               and k not in _DICT_ENTRIES]
    damaged += [t for t in ("bus", *_BUS_REFS, "poly_cost", "pwl_cost")
                if t in net and not isinstance(net[t], pd.DataFrame)]
    if damaged:
        raise CaseDataError(f"{name}: net.{damaged[0]} is not a table (its entry in the file "
                            "is damaged)")
    if len(net.bus) == 0:
        raise CaseDataError(f"{name}: the network has no buses")
    if not net.bus.index.is_unique:
        raise CaseDataError(f"{name}: bus {net.bus.index[net.bus.index.duplicated()][0]} is "
                            "defined twice")
    for table, cols in _FINITE.items():
        if table not in net or len(net[table]) == 0:
            continue
        df = net[table]
        for col in cols:
            if col not in df.columns:
                continue
            v = numbers(table, col)
            bad = ~np.isfinite(v.values)
            if bad.any():
                k = int(np.argmax(bad))
                raise fail(table, df.index[k], col, f"is {v.values[k]:g}; it must be a finite "
                                                   "number")
            huge = np.abs(v.values) > MAX_MAGNITUDE
            if huge.any():
                k = int(np.argmax(huge))
                raise fail(table, df.index[k], col, f"is {v.values[k]:g}, beyond any "
                                                   f"power-system quantity (|value| <= "
                                                   f"{MAX_MAGNITUDE:g})")
            if col in _POSITIVE.get(table, ()) and (v <= 0).any():
                k = int(np.argmax((v <= 0).values))
                raise fail(table, df.index[k], col, f"is {v.values[k]:g}; it must be positive")
            if col in _NON_NEGATIVE.get(table, ()) and (v < 0).any():
                k = int(np.argmax((v < 0).values))
                raise fail(table, df.index[k], col, f"is {v.values[k]:g}; it cannot be "
                                                   "negative")
    try:
        bus_ids = np.asarray(net.bus.index, dtype=float)
    except (TypeError, ValueError):
        raise CaseDataError(f"{name}: net.bus has an index that is not a number") from None
    whole = np.isfinite(bus_ids) & (bus_ids == np.floor(bus_ids))
    if not whole.all():
        raise CaseDataError(f"{name}: bus {bus_ids[int(np.argmax(~whole))]:g}: a bus index is "
                            "a whole number")
    for table, cols in _BUS_REFS.items():
        if table not in net or len(net[table]) == 0:
            continue
        df = net[table]
        for col in cols:
            if col not in df.columns:
                raise CaseDataError(f"{name}: {table} has no column {col}")
            v = numbers(table, col)
            b = v.values
            whole = np.isfinite(b) & (b == np.floor(b))
            if not whole.all():
                k = int(np.argmax(~whole))
                raise fail(table, df.index[k], col, f"is {b[k]:g}; a bus index is a whole "
                                                    "number")
            known = np.isin(b, bus_ids)
            if not known.all():
                k = int(np.argmax(~known))
                raise fail(table, df.index[k], col, f"refers to bus {int(b[k])}, which net.bus "
                                                    "does not define")
            if df[col].dtype.kind != "i":
                df[col] = v.astype(np.int64)
        if len(cols) >= 2 and table != "switch":
            same = df[cols[0]].values == df[cols[1]].values
            if same.any():
                idx = df.index[int(np.argmax(same))]
                raise fail(table, idx, None, f"connects bus {df.at[idx, cols[0]]} to itself "
                                             f"({cols[0]} = {cols[1]})")
    if "max_vm_pu" in net.bus.columns and "min_vm_pu" in net.bus.columns:
        hi, lo = net.bus.max_vm_pu.values, net.bus.min_vm_pu.values
        if (hi < lo).any():
            idx = net.bus.index[int(np.argmax(hi < lo))]
            raise fail("bus", idx, None, f"max_vm_pu = {net.bus.at[idx, 'max_vm_pu']:g} is "
                                         f"below min_vm_pu = {net.bus.at[idx, 'min_vm_pu']:g}")
    for table in ("gen", "ext_grid", "sgen", "storage"):
        if table not in net or len(net[table]) == 0:
            continue
        df = net[table]
        for hi_col, lo_col in _LIMITS:
            if hi_col not in df.columns or lo_col not in df.columns:
                continue
            hi, lo = numbers(table, hi_col).values, numbers(table, lo_col).values
            bad = hi < lo  # NaN compares False: a missing limit is pandapower's "none"
            if bad.any():
                idx = df.index[int(np.argmax(bad))]
                raise fail(table, idx, None, f"{hi_col} = {df.at[idx, hi_col]:g} is below "
                                             f"{lo_col} = {df.at[idx, lo_col]:g}")
    _check_branches(net, name, fail)
    _check_slack(net, name)
    _check_costs(net, name, fail)


def _check_branches(net, name: str, fail) -> None:
    n_branches = sum(len(net[t]) for t in ("line", "trafo", "trafo3w", "impedance") if t in net)
    if n_branches == 0 and len(net.bus) > 1:
        raise CaseDataError(f"{name}: the network has {len(net.bus)} buses and no branches "
                            "(no line, trafo or impedance)")
    if len(net.line):
        z = net.line.r_ohm_per_km.values ** 2 + net.line.x_ohm_per_km.values ** 2
        if (z == 0).any():
            idx = net.line.index[int(np.argmax(z == 0))]
            raise fail("line", idx, None, "has zero impedance (r_ohm_per_km = x_ohm_per_km = 0)")
    if len(net.trafo) and "vk_percent" in net.trafo.columns:
        bad = net.trafo.vk_percent.values == 0
        if bad.any():
            raise fail("trafo", net.trafo.index[int(np.argmax(bad))], "vk_percent",
                       "is 0: zero impedance")
    if len(net.impedance):
        z = net.impedance.rft_pu.values ** 2 + net.impedance.xft_pu.values ** 2
        if (z == 0).any():
            raise fail("impedance", net.impedance.index[int(np.argmax(z == 0))], None,
                       "has zero impedance (rft_pu = xft_pu = 0)")


def _check_slack(net, name: str) -> None:
    slack_gen = (len(net.gen) and "slack" in net.gen.columns
                 and net.gen.slack.fillna(False).astype(bool).any())
    if len(net.ext_grid) == 0 and not slack_gen:
        raise CaseDataError(f"{name}: the network has no reference bus (no ext_grid and no gen "
                            "with slack = True)")


def _check_costs(net, name: str, fail) -> None:
    if "pwl_cost" in net and len(net.pwl_cost):
        raise CaseDataError(f"{name}: pwl_cost {net.pwl_cost.index[0]}: piecewise-linear costs "
                            "are not supported; give polynomial costs (poly_cost)")
    units = [(t, int(i)) for t in ("ext_grid", "gen") for i in net[t].index]
    if len(net.sgen) and "controllable" in net.sgen.columns:
        ctrl = net.sgen.controllable.fillna(False).astype(bool)
        units += [("sgen", int(i)) for i in net.sgen.index[ctrl.values]]
    if not units:
        return
    pc = net.poly_cost if "poly_cost" in net else None
    if pc is None or len(pc) == 0:
        raise CaseDataError(f"{name}: no generator has a cost (poly_cost is empty): the OPF "
                            "would have nothing to minimise")
    known = set(units)
    costed = set()
    for idx, et, el in zip(pc.index, pc.et.values, pc.element.values, strict=True):
        try:
            key = (str(et), int(el))
        except (TypeError, ValueError):
            raise fail("poly_cost", idx, "element", f"is {el!r}, not an element index") from None
        if key not in known:
            raise fail("poly_cost", idx, None, f"is the cost of {key[0]} {key[1]}, which the "
                                               "network does not have")
        if key in costed:
            raise fail("poly_cost", idx, None, f"is a second cost for {key[0]} {key[1]}")
        costed.add(key)
    free = [f"{t}:{i}" for t, i in units if (t, i) not in costed]
    if free:
        shown = ", ".join(free[:6]) + (" ..." if len(free) > 6 else "")
        log.warning("%s: %d generator(s) have no cost and run at 0 $/MWh: %s", name, len(free),
                    shown)
