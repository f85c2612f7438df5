"""A grid model as an OPFData example: the ``grid`` and ``solution`` objects that
`dataset export --format opfdata` writes (the layout is in grid/opfdata.py, which reads
examples and re-exports these two functions).

The N-1 release drops the removed row (a line, transformer or generator) from its table
rather than flagging it; `grid_part(model, net)` writes a variant the same way.
"""

from __future__ import annotations

import math

import numpy as np

from n1studio.errors import CaseError
from n1studio.grid.convert import converted_case
from n1studio.grid.flows import branch_flows

_UNLIMITED = 1e9  # MW / MVAr written for "no limit" (pandapower's own placeholder size)


def _lim(x: float) -> float:
    return float(np.clip(x, -_UNLIMITED, _UNLIMITED))


def grid_part(model, net) -> tuple[dict, dict[str, list[str]]]:
    """The OPFData ``grid`` object of a (variant's) GridModel, with the rows of elements
    out of service absent (as in the N-1 release), and the element name of each row.

    `net` is the base pandapower net the model was built from (for what the model does
    not keep: r, x, b, taps from pandapower's own converter, generator set-points).
    """
    base = float(model.base_mva)
    ppc, lookups = converted_case(net)  # the conversion the model was built from
    bus_rows = ppc["bus"].real
    nb = len(model.bus_names)
    bus = [[float(model.vn_kv[b]), float(bus_rows[b, 1]) if b < len(bus_rows) else 1.0,
            float(model.vmin[b]), float(model.vmax[b])] for b in range(nb)]
    names: dict[str, list[str]] = {"bus": list(model.bus_names)}
    # generators in service, model order
    gens, gsend, grecv, gnames = [], [], [], []
    for g in np.flatnonzero(model.gen_on):
        table, idx = model.gen_names[g].split(":")
        df = net[table]
        el = int(idx)
        mbase = float(df.at[el, "sn_mva"]) if "sn_mva" in df.columns and np.isfinite(
            df.at[el, "sn_mva"] if df.at[el, "sn_mva"] is not None else np.nan) else base
        pg = float(df.at[el, "p_mw"]) / base if "p_mw" in df.columns else 0.0
        vg = float(df.at[el, "vm_pu"]) if "vm_pu" in df.columns else 1.0
        gens.append([mbase, pg if np.isfinite(pg) else 0.0,
                     _lim(model.pmin[g] * base) / base, _lim(model.pmax[g] * base) / base, 0.0,
                     _lim(model.qmin[g] * base) / base, _lim(model.qmax[g] * base) / base,
                     vg, float(model.c2[g]) * base ** 2, float(model.c1[g]) * base,
                     float(model.c0[g])])
        gsend.append(len(gnames))
        grecv.append(int(model.gen_bus[g]))
        gnames.append(model.gen_names[g])
    names["generator"] = gnames
    # loads in service, plus each bus's fixed injections that are not loads (sgen, ward)
    loads, lrecv = [], []
    lp = np.zeros(nb)
    lq = np.zeros(nb)
    for k in np.flatnonzero(model.load_on):
        loads.append([float(model.load_p[k]), float(model.load_q[k])])
        lrecv.append(int(model.load_bus[k]))
        lp[model.load_bus[k]] += model.load_p[k]
        lq[model.load_bus[k]] += model.load_q[k]
    for b in range(nb):
        dp, dq = model.pd[b] - lp[b], model.qd[b] - lq[b]
        if abs(dp) > 1e-12 or abs(dq) > 1e-12:
            loads.append([float(dp), float(dq)])
            lrecv.append(b)
    shunts, srecv = [], []
    for b in range(nb):
        if model.gs[b] != 0 or model.bs[b] != 0:
            shunts.append([float(model.bs[b]), float(model.gs[b])])
            srecv.append(b)
    # branches: pandapower's converted rows, by name
    br = ppc["branch"].real
    row_of: dict[str, int] = {}
    for table, (start, end) in lookups.get("branch", {}).items():
        if table in ("line", "trafo", "impedance"):
            for i, el in enumerate(net[table].index[: end - start]):
                row_of[f"{table}:{el}"] = start + i
    lines = {"senders": [], "receivers": [], "features": []}
    trafos = {"senders": [], "receivers": [], "features": []}
    lnames, tnames = [], []
    for k in np.flatnonzero(model.branch_on):
        nm = model.branch_names[k]
        if nm not in row_of:
            raise CaseError(f"{model.name}: {nm} cannot be written as an OPFData edge")
        row = br[row_of[nm]]
        ang0 = float(model.angmin[k]) if np.isfinite(model.angmin[k]) else -2 * math.pi
        ang1 = float(model.angmax[k]) if np.isfinite(model.angmax[k]) else 2 * math.pi
        rate = float(model.rate[k]) if np.isfinite(model.rate[k]) else 0.0
        b = float(row[4])
        tap = float(row[8]) if row[8] != 0 else 1.0
        shift = math.radians(float(row[9]))
        if nm.startswith("line:") and tap == 1.0 and shift == 0.0:
            d, feats, nl = lines, [ang0, ang1, b / 2, b / 2, float(row[2]), float(row[3]), rate,
                                   rate, rate], lnames
        else:
            d, feats, nl = trafos, [ang0, ang1, float(row[2]), float(row[3]), rate, rate, rate,
                                    tap, shift, b / 2, b / 2], tnames
        d["senders"].append(int(model.f[k]))
        d["receivers"].append(int(model.t[k]))
        d["features"].append(feats)
        nl.append(nm)
    names["ac_line"], names["transformer"] = lnames, tnames
    grid = {"nodes": {"bus": bus, "generator": gens, "load": loads, "shunt": shunts},
            "edges": {"ac_line": lines, "transformer": trafos,
                      "generator_link": {"senders": gsend, "receivers": grecv},
                      "load_link": {"senders": list(range(len(loads))), "receivers": lrecv},
                      "shunt_link": {"senders": list(range(len(shunts))), "receivers": srecv}},
            "context": [[[base]]]}
    return grid, names


def solution_part(model, names: dict[str, list[str]], answer: dict) -> dict:
    """The OPFData ``solution`` of an `n1studio.answer/1` on the rows of `grid_part`
    (buses the answer does not list: vm 0, va 0; flows from the answer's voltages)."""
    base = float(model.base_mva)
    bus_v = {b.get("element"): b for b in answer.get("buses", []) if isinstance(b, dict)}
    va = np.zeros(len(model.bus_names))
    vm = np.zeros(len(model.bus_names))
    for k, nm in enumerate(names["bus"]):
        b = bus_v.get(nm)
        if b is not None:
            va[k] = math.radians(float(b["va_degree"]))
            vm[k] = float(b["vm_pu"])
    gen_v = {g.get("element"): g for g in answer.get("generators", []) if isinstance(g, dict)}
    gens = []
    for nm in names["generator"]:
        g = gen_v.get(nm) or {"p_mw": 0.0, "q_mvar": 0.0}
        gens.append([float(g["p_mw"]) / base, float(g["q_mvar"]) / base])
    v = vm * np.exp(1j * va)
    index = {n: k for k, n in enumerate(model.branch_names)}
    edges = {}
    for key in ("ac_line", "transformer"):
        rows = np.array([index[n] for n in names[key]], dtype=int)
        if len(rows):
            sf, st = branch_flows(model, v, rows)
            feats = np.column_stack([st.real, st.imag, sf.real, sf.imag]).tolist()
            send, recv = model.f[rows].tolist(), model.t[rows].tolist()
        else:
            feats, send, recv = [], [], []
        edges[key] = {"senders": send, "receivers": recv, "features": feats}
    return {"nodes": {"bus": np.column_stack([va, vm]).tolist(), "generator": gens},
            "edges": edges}
