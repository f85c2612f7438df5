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
from n1studio.grid.matpower import read_matpower
from n1studio.grid.quiet import quiet_pandapower
from n1studio.resources import resource

log = logging.getLogger(__name__)

# pandapower's built-in transmission cases with OPF data (name -> constructor name).
PANDAPOWER_CASES = [
    "case4gs", "case5", "case6ww", "case9", "case14", "case24_ieee_rts", "case30",
    "case_ieee30", "case33bw", "case39", "case57", "case89pegase", "case118", "case145",
    "case_illinois200", "case300", "case1354pegase", "case1888rte", "case2848rte",
    "case2869pegase", "case3120sp", "case6470rte", "case6495rte", "case6515rte",
    "case9241pegase",
]


def pglib_cases() -> dict[str, Path]:
    """PGLib-OPF files shipped in resources/pglib, by file stem."""
    folder = resource("pglib")
    return {p.stem: p for p in sorted(folder.glob("*.m"))} if folder.is_dir() else {}


def builtin_cases() -> list[dict]:
    """Every case `load_case` accepts by name, with where it comes from."""
    out = [{"name": n, "source": "pandapower"} for n in PANDAPOWER_CASES]
    out += [{"name": n, "source": "pglib", "path": str(p)} for n, p in pglib_cases().items()]
    return out


def _quiet(fn, *args, **kwargs):
    with quiet_pandapower():
        return fn(*args, **kwargs)


def net_from_ppc(ppc: dict, name: str) -> pp.pandapowerNet:
    """A pandapower net from a PYPOWER case dict, angle limits kept in angmin_deg/angmax_deg."""
    from pandapower.converter.pypower.from_ppc import from_ppc

    try:
        net = _quiet(from_ppc, ppc, f_hz=60, validate_conversion=False)
    except Exception as exc:  # pandapower raises many kinds on malformed data
        raise CaseError(f"{name}: the case could not be converted: {exc}") from exc
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
    return net_from_ppc(read_matpower(path), path.stem)


def load_json(path: str | Path) -> pp.pandapowerNet:
    path = Path(path)
    try:
        net = _quiet(pp.from_json, str(path))
    except FileNotFoundError as exc:
        raise CaseError(f"no such file: {path}") from exc
    except Exception as exc:
        raise CaseError(f"{path.name}: not a readable pandapower JSON file ({exc.__class__.__name__}: {exc})") from exc
    if not isinstance(net, pp.pandapowerNet) or "bus" not in net:
        raise CaseError(f"{path.name}: JSON does not describe a pandapower network")
    if len(net.bus) == 0:
        raise CaseError(f"{path.name}: the network has no buses")
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
    if suffix in (".m", ".json"):
        if not path.is_file():
            raise CaseError(f"no such file: {path}")
        net = load_matpower(path) if suffix == ".m" else load_json(path)
        return net
    if path.exists():
        raise CaseError(f"{path.name}: unsupported case format (expected .json or .m)")
    known = ", ".join(PANDAPOWER_CASES[:6])
    raise CaseError(f"unknown case {text!r}: not a built-in name (e.g. {known}; see `n1studio cases`) "
                    "nor an existing .json or .m file")


def case_label(net: pp.pandapowerNet) -> str:
    return str(net.name) if getattr(net, "name", None) else "grid"
