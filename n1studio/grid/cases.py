"""Open grids: pandapower's built-in cases, PGLib-OPF files bundled in resources/, pandapower
JSON files and MATPOWER `.m` files. Every loader returns a `pandapowerNet` with OPF limits.

MATPOWER files keep their branch angle-difference limits in the extra columns
`angmin_deg` / `angmax_deg` of `net.line`, `net.trafo` and `net.impedance` (pandapower has no
native place for them); the rest of the data maps onto pandapower's own tables exactly
(the ppc -> net -> ppc round trip reproduces r, x, b and rate_a to machine precision).
"""

from __future__ import annotations

import copy
import functools
import logging
from pathlib import Path

import numpy as np
import pandapower as pp
import pandapower.networks as pn

from n1studio.errors import CaseError

# the names are listed in grid/catalog.py, which `n1studio cases` reads without pandapower
from n1studio.grid.catalog import PANDAPOWER_CASES, builtin_cases, pglib_cases  # noqa: F401
from n1studio.grid.matpower import read_matpower
from n1studio.grid.opfdata import example_net, looks_like_opfdata, read_example
from n1studio.grid.quiet import quiet_pandapower

log = logging.getLogger(__name__)


def _quiet(fn, *args, **kwargs):
    with quiet_pandapower():
        return fn(*args, **kwargs)


def net_from_ppc(ppc: dict, name: str) -> pp.pandapowerNet:
    """A pandapower net from a PYPOWER case dict, angle limits kept in angmin_deg/angmax_deg."""
    from pandapower.converter.pypower.from_ppc import from_ppc

    try:
        net = _quiet(from_ppc, ppc, f_hz=60, validate_conversion=False)
    except Exception as exc:  # pandapower raises many kinds on malformed data
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise CaseError(f"{name}: the case could not be converted: "
                        f"{exc.__class__.__name__}: {first}") from exc
    branch = ppc["branch"]
    lookup = net._from_ppc_lookups["branch"]
    for table in ("line", "trafo", "impedance"):
        if len(net[table]) == 0:
            continue
        net[table]["angmin_deg"] = -360.0
        net[table]["angmax_deg"] = 360.0
        rows = np.flatnonzero(lookup.element_type.values == table)
        elements = lookup.element.values[rows].astype(int)
        if branch.shape[1] > 12:
            net[table].loc[elements, "angmin_deg"] = branch[rows, 11]
            net[table].loc[elements, "angmax_deg"] = branch[rows, 12]
    _fix_reversed_trafos(net, ppc)
    net.name = name
    return net


def _fix_reversed_trafos(net: pp.pandapowerNet, ppc: dict) -> None:
    """Make transformers whose MATPOWER tap sits on the lower-voltage bus electrically exact.

    pandapower's `from_ppc` puts hv_bus on the higher-voltage end but keeps the tap ratio,
    shift and impedance as if the tap were still on the hv side, which changes the branch's
    admittances (pglib case24's 138/230 kV trafos, case300's). The exact equivalent of a
    MATPOWER branch F->T with tap t (ideal transformer at F) seen from T is a tap 1/t at T,
    series impedance z*|t|^2 and charging b/|t|^2; that is what this writes.
    """
    if len(net.trafo) == 0:
        return
    branch = ppc["branch"]
    base = float(ppc["baseMVA"])
    lookup = net._from_ppc_lookups["branch"]
    rows = np.flatnonzero(lookup.element_type.values == "trafo")
    elements = lookup.element.values[rows].astype(int)
    bus_ids = net.bus.index.values[_bus_positions(ppc, branch[rows, 0])]
    swapped = net.trafo.loc[elements, "hv_bus"].values != bus_ids
    if not swapped.any():
        return
    for row, el in zip(rows[swapped], elements[swapped]):
        r, x, b = branch[row, 2], branch[row, 3], branch[row, 4]
        t = branch[row, 8] if branch[row, 8] != 0 else 1.0
        sn = float(net.trafo.at[el, "sn_mva"])
        t2 = t * t
        ratio_1 = 1.0 / t - 1.0
        g = float(ppc.get("branch_g", np.zeros(len(branch)))[row]) if "branch_g" in ppc else 0.0
        net.trafo.at[el, "vk_percent"] = np.sign(x) * np.hypot(r, x) * t2 * sn * 100 / base
        net.trafo.at[el, "vkr_percent"] = r * t2 * sn * 100 / base
        net.trafo.at[el, "i0_percent"] = np.hypot(b, g) / t2 * 100 * base / sn
        net.trafo.at[el, "pfe_kw"] = g / t2 * base * 1e3
        net.trafo.at[el, "shift_degree"] = -branch[row, 9]
        net.trafo.at[el, "tap_side"] = "hv"
        net.trafo.at[el, "tap_neutral"] = 0
        net.trafo.at[el, "tap_pos"] = float(np.sign(ratio_1))
        net.trafo.at[el, "tap_step_percent"] = abs(ratio_1) * 100
        if ratio_1 != 0:
            net.trafo.at[el, "tap_changer_type"] = "Ratio"
        lo, hi = net.trafo.at[el, "angmin_deg"], net.trafo.at[el, "angmax_deg"]
        net.trafo.at[el, "angmin_deg"], net.trafo.at[el, "angmax_deg"] = -hi, -lo


def _bus_positions(ppc: dict, ids: np.ndarray) -> np.ndarray:
    pos = {int(b): k for k, b in enumerate(ppc["bus"][:, 0].astype(int))}
    return np.array([pos[int(i)] for i in ids], dtype=int)


def load_matpower(path: str | Path) -> pp.pandapowerNet:
    path = Path(path)
    net = net_from_ppc(read_matpower(path), path.stem)
    validate_net(net, path.name)
    return net


def load_json(path: str | Path) -> pp.pandapowerNet:
    path = Path(path)
    try:
        net = _quiet(pp.from_json, str(path))
    except FileNotFoundError as exc:
        raise CaseError(f"no such file: {path}") from exc
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise CaseError(f"{path.name}: not a readable pandapower JSON file "
                        f"({exc.__class__.__name__}: {first})") from exc
    if not isinstance(net, pp.pandapowerNet) or "bus" not in net:
        raise CaseError(f"{path.name}: JSON does not describe a pandapower network")
    validate_net(net, path.name)
    if not net.name:
        net.name = path.stem
    return net


@functools.lru_cache(maxsize=8)
def _cached_builtin(name: str) -> pp.pandapowerNet:
    if name in PANDAPOWER_CASES:
        net = _quiet(getattr(pn, name))
        net.name = name
        return net
    return load_matpower(pglib_cases()[name])


def load_case(spec: str | Path) -> pp.pandapowerNet:
    """Open a case by built-in name or path (.json, .m). Returns a fresh copy the caller owns."""
    text = str(spec)
    if text in PANDAPOWER_CASES or text in pglib_cases():
        return copy.deepcopy(_cached_builtin(text))
    path = Path(text).expanduser()
    suffix = path.suffix.lower()
    if path.is_dir():
        raise CaseError(f"{path} is a directory, not a case file (give a .m or .json file)")
    if suffix in (".m", ".json"):
        if not path.is_file():
            raise CaseError(f"no such file: {path}")
        if suffix == ".json" and looks_like_opfdata(path):  # an OPFData example (its keys)
            return example_net(read_example(path), path.stem)
        net = load_matpower(path) if suffix == ".m" else load_json(path)
        return net
    if path.exists():
        raise CaseError(f"{path.name}: unsupported case format (expected .json or .m)")
    known = ", ".join(PANDAPOWER_CASES[:6])
    raise CaseError(f"unknown case {text!r}: not a built-in name (e.g. {known}; see `n1studio cases`) "
                    "nor an existing .json or .m file")


def case_label(net: pp.pandapowerNet) -> str:
    return str(net.name) if getattr(net, "name", None) else "grid"


# ---- checking a net before it is used -------------------------------------------------------
# Columns whose every entry must be a finite number (rows out of service included: a
# variant never takes an element back, but a NaN there still says the file is broken).
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
    import pandas as pd

    from n1studio.errors import CaseDataError

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
    from n1studio.errors import CaseDataError

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
    from n1studio.errors import CaseDataError

    slack_gen = (len(net.gen) and "slack" in net.gen.columns
                 and net.gen.slack.fillna(False).astype(bool).any())
    if len(net.ext_grid) == 0 and not slack_gen:
        raise CaseDataError(f"{name}: the network has no reference bus (no ext_grid and no gen "
                            "with slack = True)")


def _check_costs(net, name: str, fail) -> None:
    from n1studio.errors import CaseDataError

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
    for idx, et, el in zip(pc.index, pc.et.values, pc.element.values):
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
