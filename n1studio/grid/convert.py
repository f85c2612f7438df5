"""Reading a pandapower net into the arrays of a `GridModel`, in named steps.

`model_fields(net)` runs pandapower's own PYPOWER converter once (so transformer models,
taps and phase shifts are exactly pandapower's) and reads its case part by part: buses,
branches, generators, loads. Each step returns the `GridModel` fields it fills.
"""

from __future__ import annotations

import copy
import logging

import numpy as np
import pandapower as pp
from pandapower.converter.pypower.to_ppc import to_ppc
from pandapower.pd2ppc import _pd2ppc

from n1studio.grid.elements import Element, parse_element
from n1studio.grid.quiet import quiet_pandapower

log = logging.getLogger(__name__)

# PYPOWER column indices (pandapower.pypower.idx_*), repeated here to keep the model readable.
_BUS_TYPE, _PD, _QD, _GS, _BS, _VMAX, _VMIN, _BASE_KV = 1, 2, 3, 4, 5, 11, 12, 9
_F, _T, _R, _X, _B, _RATE_A, _TAP, _SHIFT, _STATUS = 0, 1, 2, 3, 4, 5, 8, 9, 10
_R_ASYM, _X_ASYM, _G, _G_ASYM, _B_ASYM = 21, 22, 23, 24, 25
_PMAX, _PMIN, _QMAX, _QMIN = 8, 9, 3, 4


def model_fields(net: pp.pandapowerNet) -> dict:
    """Every `GridModel` field of `net` as it is (its own in_service flags become masks)."""
    ppc, lookups = converted_case(net)
    base = float(ppc["baseMVA"])
    return {"name": str(net.name or "grid"), "base_mva": base,
            **_buses(net, ppc["bus"], lookups, base),
            **_branches(net, ppc["branch"].real.astype(float), lookups, base),
            **_generators(net, ppc["gen"], lookups, base),
            **_loads(net, lookups, base)}


# Tables whose pandapower lookups are arrays indexed by the element's index value.
_INDEXED = ("bus", "ext_grid", "gen")


def converted_case(net: pp.pandapowerNet) -> tuple[dict, dict]:
    """pandapower's PYPOWER case of `net` with everything in service, and its lookups.

    pandapower's lookups are arrays indexed by bus (and ext_grid, gen) index *values*: a
    14-bus grid numbered near 2^31 would allocate 16 GB per lookup. Such tables are
    renumbered 0..n-1 in the working copy first, so every size follows the number of
    elements; `lookups["positions"]` then names the renumbered tables, whose lookups are
    indexed by row position (`bus_rows`, `element_key` read them).
    """
    work = copy.deepcopy(net)
    for table in ("bus", "line", "trafo", "trafo3w", "impedance", "gen", "ext_grid"):
        if table in work and len(work[table]):
            work[table]["in_service"] = True
    if len(work.sgen) and "controllable" in work.sgen.columns:
        ctrl = work.sgen.controllable.fillna(False).astype(bool)
        work.sgen.loc[ctrl, "in_service"] = True
    renumbered = _renumber(work)
    with quiet_pandapower():
        ppc = to_ppc(work, init="flat", mode="opf", check_connectivity=False,
                     trafo_model="pi", calculate_voltage_angles=True,
                     take_slack_vm_limits=False)
    lookups = dict(work._pd2ppc_lookups)
    lookups["positions"] = renumbered
    if len(ppc["bus"]) <= int(np.max(lookups["bus"], initial=-1)):
        ppc = _with_isolated_buses(ppc, work)
    return ppc, lookups


def _renumber(work: pp.pandapowerNet) -> tuple[str, ...]:
    """Renumber the tables of `_INDEXED` whose largest index is far above their size (their
    lookups would be sized by it); the names of those renumbered."""
    done = []
    for table in _INDEXED:
        idx = work[table].index
        if len(idx) and int(idx.max()) >= 2 * len(idx) + 1024:
            lookup = {int(old): new for new, old in enumerate(idx)}
            with quiet_pandapower():
                pp.toolbox.reindex_elements(work, table, lookup=lookup)
            done.append(table)
    return tuple(done)


def element_key(lookups: dict, table: str, index: int, position: int) -> int:
    """What indexes `lookups[table]` for the element at `position` of net[table] with
    pandapower index `index` (its position when the table was renumbered)."""
    return position if table in lookups.get("positions", ()) else int(index)


def bus_rows(net: pp.pandapowerNet, lookups: dict, buses) -> np.ndarray:
    """The PYPOWER bus rows of pandapower bus indices `buses`."""
    buses = np.asarray(buses, dtype=np.int64)
    if "bus" in lookups.get("positions", ()):
        position = {int(b): k for k, b in enumerate(net.bus.index)}
        buses = np.array([position[int(b)] for b in buses], dtype=np.int64)
    return np.asarray(lookups["bus"])[buses].astype(int)


def _with_isolated_buses(ppci: dict, work: pp.pandapowerNet) -> dict:
    """`to_ppc`'s case with the buses and units it drops put back, so the lookups index it.

    `to_ppc` returns pandapower's internal case, which leaves out buses without any branch
    (pandapower marks them isolated; issue 10: such a bus crashed every command) and the
    units on them, while the lookups index the full case, where those buses come last.
    pandapower's full case is only built inside its converter, so it is built again here,
    for these rare grids only; the internal rows keep `to_ppc`'s adjustments.
    """
    with quiet_pandapower():
        full, _ = _pd2ppc(copy.deepcopy(work))
    nb = len(ppci["bus"])
    out = dict(ppci)
    out["bus"] = np.vstack([ppci["bus"], full["bus"][nb:, :ppci["bus"].shape[1]].real])
    out["gen"] = full["gen"][:, :ppci["gen"].shape[1]]
    return out


def _buses(net: pp.pandapowerNet, bus: np.ndarray, lookups: dict, base: float) -> dict:
    """Bus fields: names after the pandapower index (merged buses keep the first), limits,
    fixed demand and shunts in pu, the reference flag and the net's in-service flags."""
    nb = len(bus)
    bus_lookup = np.asarray(lookups["bus"])
    bus_index = np.full(nb, -1, dtype=np.int64)
    names = [""] * nb
    bus_on = np.ones(nb, dtype=bool)
    for pos, (pp_idx, on) in enumerate(zip(net.bus.index, net.bus.in_service.values, strict=True)):
        key = element_key(lookups, "bus", pp_idx, pos)
        if key >= len(bus_lookup) or bus_lookup[key] < 0:
            continue
        k = int(bus_lookup[key])
        if bus_index[k] < 0:
            bus_index[k] = pp_idx
            names[k] = f"bus:{pp_idx}"
        if not on:
            bus_on[k] = False
    return {"bus_names": names, "bus_index": bus_index, "vn_kv": bus[:, _BASE_KV].real.copy(),
           "vmin": bus[:, _VMIN].real.copy(), "vmax": bus[:, _VMAX].real.copy(),
           "pd": bus[:, _PD].real / base, "qd": bus[:, _QD].real / base,
           "gs": bus[:, _GS].real / base, "bs": bus[:, _BS].real / base,
           "is_ref": bus[:, _BUS_TYPE].real == 3, "bus_on": bus_on}


def _branch_names(net: pp.pandapowerNet, n_rows: int, lookups: dict) -> list[str]:
    """The element name of each PYPOWER branch row ("" for rows of other tables);
    a trafo3w gives three rows (its windings), all named after it."""
    names = [""] * n_rows
    for table, (start, end) in lookups.get("branch", {}).items():
        if table not in ("line", "trafo", "impedance", "trafo3w") or end <= start:
            continue
        idx = list(net[table].index)
        if table == "trafo3w":
            n = len(idx)
            for w in range(3):
                for i, el in enumerate(idx):
                    names[start + w * n + i] = f"trafo3w:{el}"
        else:
            for i, el in enumerate(idx):
                names[start + i] = f"{table}:{el}"
    return names


def _branches(net: pp.pandapowerNet, br: np.ndarray, lookups: dict, base: float) -> dict:
    """Branch fields: ends, pi-model admittances, ratings (pu, inf where unlimited), angle
    limits (rad, infinite where unlimited) and the net's in-service flags."""
    names = _branch_names(net, len(br), lookups)
    br = br[np.array([bool(n) for n in names], dtype=bool)]
    names = [n for n in names if n]
    elements = [parse_element(n) for n in names]
    ytt, yff, yft, ytf = _branch_admittances(br)
    rate = br[:, _RATE_A] / base
    rate[rate <= 0] = np.inf
    rate[_placeholder_ratings(net, elements)] = np.inf
    angmin = np.full(len(br), -np.inf)
    angmax = np.full(len(br), np.inf)
    for k, (table, i) in enumerate(elements):
        df = net[table]
        if "angmin_deg" in df.columns:
            lo, hi = df.at[i, "angmin_deg"], df.at[i, "angmax_deg"]
            if np.isfinite(lo) and lo > -360:
                angmin[k] = np.deg2rad(lo)
            if np.isfinite(hi) and hi < 360:
                angmax[k] = np.deg2rad(hi)
    on = np.array([bool(net[t].at[i, "in_service"]) for t, i in elements], dtype=bool)
    return {"branch_names": names, "f": br[:, _F].astype(int), "t": br[:, _T].astype(int),
           "yff": yff, "yft": yft, "ytf": ytf, "ytt": ytt, "rate": rate, "angmin": angmin,
           "angmax": angmax, "branch_on": on}


def _poly_costs(net: pp.pandapowerNet) -> dict[tuple[str, int], tuple[float, float, float]]:
    """(table, index) -> (c2, c1, c0) from pandapower's poly_cost."""
    cost = {}
    if len(net.poly_cost):
        pc = net.poly_cost
        for et, el, c2, c1, c0 in zip(pc.et.values, pc.element.values, pc.cp2_eur_per_mw2.values,
                                      pc.cp1_eur_per_mw.values, pc.cp0_eur.values, strict=True):
            cost[(str(et), int(el))] = (float(c2), float(c1), float(c0))
    if len(net.pwl_cost):
        log.warning("%s: piecewise-linear costs are not supported and are ignored", net.name)
    return cost


def _unit_tables(net: pp.pandapowerNet):
    """(table, lookup key, rows) of the dispatchable units, in the model's order: ext_grid,
    gen, then controllable sgen, each in its table's row order."""
    for table, lkey in (("ext_grid", "ext_grid"), ("gen", "gen"), ("sgen", "sgen_controllable")):
        df = net[table]
        if len(df) == 0:
            continue
        if table == "sgen":
            if "controllable" not in df.columns:
                continue
            df = df[df.controllable.fillna(False).astype(bool)]
        yield table, lkey, df


def generator_names(net: pp.pandapowerNet) -> list[str]:
    """The names of a net's dispatchable units in `GridModel.gen_names` order, without
    converting the net (grid/perturb.py draws cost factors in this order)."""
    return [f"{table}:{el}" for table, _, df in _unit_tables(net) for el in df.index]


def _generators(net: pp.pandapowerNet, gen: np.ndarray, lookups: dict, base: float) -> dict:
    """Generator fields (ext_grid, gen, controllable sgen, in that order): bus, pandapower's
    OPF limits in pu (infinite where unlimited), polynomial costs, in-service flags."""
    cost = _poly_costs(net)
    names, buses, on, lims, costs = [], [], [], [], []
    for table, lkey, df in _unit_tables(net):
        lookup = np.asarray(lookups.get(lkey, []))
        for pos, el in enumerate(df.index):
            row = None
            key = pos if table == "sgen" else element_key(lookups, table, el, pos)
            if key < len(lookup):
                row = int(lookup[key])
            if row is not None and 0 <= row < len(gen):
                g = gen[row].real
                lim = (g[_PMIN], g[_PMAX], g[_QMIN], g[_QMAX])
            else:
                lim = tuple(_col(df, el, c, d) for c, d in (
                    ("min_p_mw", -1e9), ("max_p_mw", 1e9), ("min_q_mvar", -1e9),
                    ("max_q_mvar", 1e9)))
            names.append(f"{table}:{el}")
            buses.append(df.at[el, "bus"])
            on.append(bool(df.at[el, "in_service"]))
            lims.append(lim)
            costs.append(cost.get((table, int(el)), (0.0, 0.0, 0.0)))
    lims = np.array(lims, dtype=float).reshape(-1, 4)
    lims[np.abs(lims) >= 1e9] = np.copysign(np.inf, lims[np.abs(lims) >= 1e9])
    costs = np.array(costs, dtype=float).reshape(-1, 3)
    return {"gen_names": names, "gen_bus": bus_rows(net, lookups, buses), "pmin": lims[:, 0] / base,
           "pmax": lims[:, 1] / base, "qmin": lims[:, 2] / base, "qmax": lims[:, 3] / base,
           "c2": costs[:, 0], "c1": costs[:, 1], "c0": costs[:, 2],
           "gen_on": np.array(on, dtype=bool)}


def _loads(net: pp.pandapowerNet, lookups: dict, base: float) -> dict:
    """Load fields, for lost-load reporting and load outages (the buses' pd/qd already hold
    every fixed injection): name, bus, p and q in pu with scaling, in-service flags."""
    names, buses, p, q, on = [], [], [], [], []
    for el in net.load.index:
        sc = float(net.load.at[el, "scaling"]) if "scaling" in net.load else 1.0
        names.append(f"load:{el}")
        buses.append(net.load.at[el, "bus"])
        p.append(float(net.load.at[el, "p_mw"]) * sc / base)
        q.append(float(net.load.at[el, "q_mvar"]) * sc / base)
        on.append(bool(net.load.at[el, "in_service"]))
    on = np.array(on, dtype=bool)
    return {"load_names": names, "load_bus": bus_rows(net, lookups, buses),
           "load_p": np.array(p, dtype=float), "load_q": np.array(q, dtype=float),
           "load_on": on, "load_in_net": on.copy()}


# pandapower's MATPOWER converter stores "no rating" (rate_a = 0) as placeholders:
# max_i_ka = 99999 for lines, sn_mva = 99999 for transformers, and 99.999 MVA in the
# built-in networks saved when sn was in kVA (case1354pegase ... case9241pegase, the RTE
# cases, case_ieee30). PGLib gives every such branch a computed rating far above 100 MVA;
# read as limits, the 99.999 MVA ones make case1354pegase's OPF infeasible.
_PLACEHOLDER_MAX_I_KA = 99999.0
_PLACEHOLDER_SN_MVA = (99.999, 99999.0)


def _placeholder_ratings(net, elements: list[Element]) -> np.ndarray:
    """Per model branch: whether its rating is a converter placeholder for "unlimited"."""
    out = np.zeros(len(elements), dtype=bool)
    line_max = net.line.max_i_ka if "max_i_ka" in net.line else None
    trafo_sn = net.trafo.sn_mva if "sn_mva" in net.trafo else None
    for k, (table, i) in enumerate(elements):
        if table == "line" and line_max is not None:
            out[k] = line_max.at[i] >= _PLACEHOLDER_MAX_I_KA
        elif table == "trafo" and trafo_sn is not None:
            out[k] = bool(np.any(np.isclose(trafo_sn.at[i], _PLACEHOLDER_SN_MVA, rtol=1e-7)))
    return out


def _col(df, el, col, default):
    if col in df.columns:
        v = df.at[el, col]
        if v is not None and np.isfinite(v):
            return float(v)
    return default


def _branch_admittances(br: np.ndarray):
    """Pi-model admittances per branch, exactly as pandapower's makeYbus.branch_vectors."""
    ncol = br.shape[1]

    def col(c):
        return br[:, c] if ncol > c else np.zeros(len(br))

    ysf = 1.0 / (col(_R) + 1j * col(_X))
    if np.any(col(_R_ASYM)) or np.any(col(_X_ASYM)):
        yst = 1.0 / (col(_R) + col(_R_ASYM) + 1j * (col(_X) + col(_X_ASYM)))
    else:
        yst = ysf
    bcf = col(_G) + 1j * col(_B)
    if np.any(col(_G_ASYM)) or np.any(col(_B_ASYM)):
        bct = col(_G) + col(_G_ASYM) + 1j * (col(_B) + col(_B_ASYM))
    else:
        bct = bcf
    tap = np.where(col(_TAP) != 0, col(_TAP), 1.0) * np.exp(1j * np.deg2rad(col(_SHIFT)))
    ytt = yst + bct / 2
    yff = (ysf + bcf / 2) / (tap * np.conj(tap))
    yft = -ysf / np.conj(tap)
    ytf = -yst / tap
    return ytt, yff, yft, ytf
