"""Exported OPFData examples read by a reader written from the dataset's documented files,
not from our writer (issue 19: `grid.context` was `[[baseMVA]]`, readers index
`context[0][0][0]`).

`read_documented` follows the OPFData paper's layout and what PyTorch Geometric's
`OPFDataset` and published converters do with the release's JSON: baseMVA is
``grid.context[0][0][0]``; everything is per unit and in radians; costs are
``c2 pg^2 + c1 pg + c0`` with pg in per unit; branches are MATPOWER pi models (series
``1/(br_r + j br_x)``, shunts ``j b_fr`` and ``j b_to``, a transformer's tap and shift on its
from side); the solution holds ``[va, vm]`` per bus, ``[pg, qg]`` per generator and
``[pt, qt, pf, qf]`` per branch. An export must read back as a solved OPF: its cost is its
objective, every bus balances, every flow is what the voltages say.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from n1studio.errors import CaseError
from n1studio.grid import opfdata as od
from n1studio.grid.cases import load_case
from n1studio.grid.variant import Variant
from n1studio.solve.reference import reference


def read_documented(doc: dict) -> dict:
    """An OPFData example as the documented format says to read it."""
    g, sol = doc["grid"], doc["solution"]
    base = g["context"][0][0][0]
    nodes, edges = g["nodes"], g["edges"]
    nb = len(nodes["bus"])
    va, vm = np.array(sol["nodes"]["bus"], dtype=float).T
    v = vm * np.exp(1j * va)
    inj = np.zeros(nb, dtype=complex)
    gens = np.array(nodes["generator"], dtype=float).reshape(-1, 11)
    pq = np.array(sol["nodes"]["generator"], dtype=float).reshape(-1, 2)
    link = edges["generator_link"]
    np.add.at(inj, link["receivers"], pq[link["senders"], 0] + 1j * pq[link["senders"], 1])
    load = np.array(nodes["load"], dtype=float).reshape(-1, 2)
    link = edges["load_link"]
    np.add.at(inj, link["receivers"], -(load[link["senders"], 0] + 1j * load[link["senders"], 1]))
    shunt = np.array(nodes["shunt"], dtype=float).reshape(-1, 2)  # [bs, gs]
    link = edges["shunt_link"]
    y_sh = shunt[link["senders"], 1] + 1j * shunt[link["senders"], 0]
    np.add.at(inj, link["receivers"], -np.conj(y_sh) * np.abs(v[link["receivers"]]) ** 2)
    out = np.zeros(nb, dtype=complex)
    flow_error = 0.0
    for kind in ("ac_line", "transformer"):
        e = edges[kind]
        f, t = np.array(e["senders"], dtype=int), np.array(e["receivers"], dtype=int)
        x = np.array(e["features"], dtype=float).reshape(len(f), -1)
        if kind == "ac_line":
            r, xx, b_fr, b_to, tap, shift = x[:, 4], x[:, 5], x[:, 2], x[:, 3], 1.0, 0.0
        else:
            r, xx, tap, shift, b_fr, b_to = x[:, 2], x[:, 3], x[:, 7], x[:, 8], x[:, 9], x[:, 10]
        ys = 1 / (r + 1j * xx)
        ratio = tap * np.exp(1j * shift)
        yff, ytt = (ys + 1j * b_fr) / np.abs(ratio) ** 2, ys + 1j * b_to
        yft, ytf = -ys / np.conj(ratio), -ys / ratio
        sf = v[f] * np.conj(yff * v[f] + yft * v[t])
        st = v[t] * np.conj(ytf * v[f] + ytt * v[t])
        np.add.at(out, f, sf)
        np.add.at(out, t, st)
        label = np.array(sol["edges"][kind]["features"], dtype=float).reshape(-1, 4)
        if len(f):
            got = np.column_stack([st.real, st.imag, sf.real, sf.imag])
            flow_error = max(flow_error, float(np.abs(got - label).max()))
    cost = float(np.sum(gens[:, 8] * pq[:, 0] ** 2 + gens[:, 9] * pq[:, 0] + gens[:, 10]))
    return {"base_mva": base, "cost": cost, "mismatch": float(np.abs(inj - out).max()),
            "flow_error": flow_error, "vm": vm, "vmin": np.array(nodes["bus"])[:, 2],
            "vmax": np.array(nodes["bus"])[:, 3]}


def exported(net, outages=()) -> tuple[dict, float]:
    """An example as `dataset export --format opfdata` writes it (through JSON text), with
    the reference solution unrounded (a stored answer keeps 1e-5 degrees, 1e-4 MW)."""
    variant = Variant(net, list(outages))
    result = reference(variant)
    assert result.success
    m = variant.model
    answer = {"generators": [{"element": n, "p_mw": p, "q_mvar": q}
                             for n, p, q in zip(m.gen_names, result.pg, result.qg, strict=True)],
              "buses": [{"element": n, "vm_pu": vm, "va_degree": float(np.degrees(va))}
                        for n, vm, va in zip(m.bus_names, result.vm, result.va, strict=True)
                        if n and np.isfinite(vm)]}
    grid, names = od.grid_part(m, net)
    doc = {"grid": grid, "solution": od.solution_part(m, names, answer),
           "metadata": {"objective": result.objective}}
    return json.loads(json.dumps(doc, allow_nan=False)), result.objective


@pytest.mark.parametrize(("case", "outages"), [("case14_ieee", ()), ("case14_ieee", ("line:3",)),
                                               ("case30_ieee", ("trafo:0",))])
def test_an_export_reads_back_as_a_solved_opf(pglib, case, outages):
    net = load_case(pglib(case))
    doc, objective = exported(net, outages)
    assert np.asarray(doc["grid"]["context"]).shape == (1, 1, 1)  # as the release's files
    got = read_documented(doc)
    assert got["base_mva"] == 100.0
    assert got["cost"] == pytest.approx(objective, rel=1e-9)
    assert got["mismatch"] < 1e-6
    assert got["flow_error"] < 1e-9
    assert np.all(got["vm"] >= got["vmin"] - 1e-6) and np.all(got["vm"] <= got["vmax"] + 1e-6)
    # PyTorch Geometric's OPFDataset flattens the context to its graph feature x
    assert np.asarray(doc["grid"]["context"], dtype=float).reshape(-1).tolist() == [100.0]


def test_import_reads_the_release_layout_and_the_old_one(pglib):
    doc, _ = exported(load_case(pglib("case14_ieee")))
    new = od.parse_grid(doc)
    old = dict(doc, grid=dict(doc["grid"], context=[[100.0]]))
    assert od.parse_grid(old)["base_mva"] == new["base_mva"] == 100.0
    for key in ("bus", "generator", "load", "shunt"):
        assert np.array_equal(od.parse_grid(old)[key], new[key])


@pytest.mark.parametrize("context", [[[1.0, 2.0]], [], "100", [[[0.0]]], [[[[[100.0]]]]]])
def test_a_context_that_is_not_one_base_is_one_line(pglib, context):
    doc, _ = exported(load_case(pglib("case14_ieee")))
    doc["grid"]["context"] = context
    with pytest.raises(CaseError) as info:
        od.parse_grid(doc, "example_0.json")
    msg = str(info.value)
    assert msg.startswith("example_0.json: ") and "\n" not in msg
    assert "baseMVA" in msg
