"""A pandapower net from a PYPOWER case dict (MATPOWER files and OPFData examples both
become one): pandapower's own converter, with the branch angle limits kept and transformers
whose tap sits on the lower-voltage bus made electrically exact.

MATPOWER files keep their branch angle-difference limits in the extra columns
`angmin_deg` / `angmax_deg` of `net.line`, `net.trafo` and `net.impedance` (pandapower has no
native place for them); the rest of the data maps onto pandapower's own tables exactly
(the ppc -> net -> ppc round trip reproduces r, x, b and rate_a to machine precision).
"""

from __future__ import annotations

import numpy as np
import pandapower as pp
from pandapower.converter.pypower.from_ppc import from_ppc

from n1studio.errors import CaseError
from n1studio.grid.quiet import quiet_pandapower


def _quiet(fn, *args, **kwargs):
    with quiet_pandapower():
        return fn(*args, **kwargs)


def net_from_ppc(ppc: dict, name: str) -> pp.pandapowerNet:
    """A pandapower net from a PYPOWER case dict, angle limits kept in angmin_deg/angmax_deg."""
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
    for row, el in zip(rows[swapped], elements[swapped], strict=True):
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
