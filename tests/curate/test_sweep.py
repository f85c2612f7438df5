"""The N-1 sweep against independent computations: networkx bridges for islanding and
pandapower's own runpp for the post-outage power flow."""

from __future__ import annotations

import copy
import warnings

import networkx as nx
import numpy as np
import pandapower as pp
import pytest

from n1studio.grid.cases import load_case
from n1studio.solve.sweep import SweepOptions, rank, run_sweep


def _expected_islanding(net) -> dict[str, set[str]]:
    """For each line/trafo, the buses its outage cuts off from the biggest generating island.

    Independent of the sweep: networkx on the pandapower tables (not the GridModel), bridges
    of the simple graph that are not doubled by a parallel branch.
    """
    g = nx.MultiGraph()
    g.add_nodes_from(int(b) for b in net.bus.index[net.bus.in_service])
    edges = {}
    for table, a, b in (("line", "from_bus", "to_bus"), ("trafo", "hv_bus", "lv_bus"),
                        ("impedance", "from_bus", "to_bus")):
        df = net.get(table, None)
        if df is None or not len(df):
            continue
        for i in df.index[df.in_service]:
            key = g.add_edge(int(df.at[i, a]), int(df.at[i, b]))
            edges[f"{table}:{i}"] = (int(df.at[i, a]), int(df.at[i, b]), key)
    simple = nx.Graph(g)
    bridges = {frozenset(e) for e in nx.bridges(simple)
               if g.number_of_edges(*e) == 1}
    gen_buses = set()
    for table in ("ext_grid", "gen"):
        df = net[table]
        gen_buses |= {int(b) for b in df.bus[df.in_service]}
    for i in net.sgen.index[net.sgen.in_service]:
        if bool(net.sgen.get("controllable", False) is not False and net.sgen.at[i, "controllable"]):
            gen_buses.add(int(net.sgen.at[i, "bus"]))
    out = {}
    for name, (a, b, key) in edges.items():
        if frozenset((a, b)) not in bridges:
            continue
        h = g.copy()
        h.remove_edge(a, b, key)
        comps = [c for c in nx.connected_components(h) if c & gen_buses]
        main = max(comps, key=len)
        out[name] = {f"bus:{k}" for k in h.nodes if k not in main}
    return out


@pytest.mark.parametrize("case", ["case14", "case118", "pglib_opf_case118_ieee"])
def test_islanding_matches_networkx_bridges(case):
    net = load_case(case)
    doc = run_sweep(net)
    assert doc["schema"] == "n1studio.sweep/1"
    expected = _expected_islanding(net)
    got = {r["element"]: set(r["islanded_buses"]) for r in doc["results"]
           if r["status"] == "islanded"}
    assert got == expected
    assert expected, "these cases have radial branches; the test must check some"
    # one result per in-service line and trafo, in table order
    names = [r["element"] for r in doc["results"]]
    want = [f"{t}:{i}" for t in ("line", "trafo", "impedance") if len(net[t])
            for i in net[t].index[net[t].in_service]]
    assert names == want


def test_case118_known_radial_outages_and_lost_load():
    doc = run_sweep(load_case("case118"))
    by = {r["element"]: r for r in doc["results"]}
    # trafo 12 feeds bus 115 (184 MW of load) radially in pandapower's case118
    assert by["trafo:12"]["status"] == "islanded"
    assert by["trafo:12"]["islanded_buses"] == ["bus:115"]
    assert by["trafo:12"]["lost_load_mw"] == pytest.approx(184.0)
    c = doc["stats"]["counts"]
    assert c["islanded"] == 9 and sum(c.values()) == 186
    assert doc["stats"]["engine"] == "lightsim2grid"


def _runpp_outage(net, element):
    work = copy.deepcopy(net)
    table, idx = element.split(":")
    work[table].at[int(idx), "in_service"] = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(work, calculate_voltage_angles=True)
    return work


@pytest.mark.parametrize("case,elements", [
    ("case118", ["line:14", "line:69", "line:0"]),
    ("case14", ["line:11", "trafo:2", "gen:1", "load:5"]),
])
def test_statuses_and_voltages_agree_with_runpp(case, elements):
    net = load_case(case)
    doc = run_sweep(net, kinds=("line", "trafo", "gen", "load"), options=SweepOptions(all_violations=True))
    by = {r["element"]: r for r in doc["results"]}
    for el in elements:
        res = _runpp_outage(net, el)
        vm = res.res_bus.vm_pu.to_numpy()
        r = by[el]
        assert r["status"] in ("ok", "violations")
        # the extreme voltages of the post-outage state are pandapower's
        assert r["min_vm_pu"] == pytest.approx(np.nanmin(vm), abs=2e-5)
        assert r["max_vm_pu"] == pytest.approx(np.nanmax(vm), abs=2e-5)
        # every voltage violation listed is one runpp shows, at the same value
        lo = net.bus.min_vm_pu.to_numpy()
        hi = net.bus.max_vm_pu.to_numpy()
        bad = {f"bus:{net.bus.index[k]}" for k in np.flatnonzero((vm < lo - 1e-4) | (vm > hi + 1e-4))}
        listed = {v["element"]: v for v in r["violations"] if v["constraint"] == "voltage"}
        assert set(listed) == bad
        for name, v in listed.items():
            assert v["value"] == pytest.approx(res.res_bus.vm_pu.at[int(name.split(":")[1])], abs=2e-5)
        assert (r["status"] == "violations") == bool(r["violations"])


def test_thermal_violation_on_pglib_case118_matches_runpp_flows():
    net = load_case("pglib_opf_case118_ieee")
    doc = run_sweep(net)
    by = {r["element"]: r for r in doc["results"]}
    # the base dispatch already overloads some lines; outages add new overloads
    new_thermal = [(r["element"], v) for r in doc["results"] for v in r["violations"]
                   if v["constraint"] == "thermal"]
    assert new_thermal
    el, v = new_thermal[0]
    res = _runpp_outage(net, el)
    table, idx = v["element"].split(":")
    rt = res[f"res_{table}"]
    side = ("p_from_mw", "q_from_mvar", "p_to_mw", "q_to_mvar") if table in ("line", "impedance") \
        else ("p_hv_mw", "q_hv_mvar", "p_lv_mw", "q_lv_mvar")
    s = max(np.hypot(rt.at[int(idx), side[0]], rt.at[int(idx), side[1]]),
            np.hypot(rt.at[int(idx), side[2]], rt.at[int(idx), side[3]]))
    assert v["value"] == pytest.approx(s, rel=1e-4)
    assert v["value"] > v["limit"]
    assert by[el]["status"] == "violations"


def test_violations_relative_to_base_case():
    # case14's generators hold bus 5 and 7 above 1.06 pu already in the base case
    net = load_case("case14")
    doc = run_sweep(net)
    base = {(v["constraint"], v["element"]) for v in doc["stats"]["base_violations"]}
    assert ("voltage", "bus:7") in base
    line0 = next(r for r in doc["results"] if r["element"] == "line:0")
    assert line0["status"] == "ok" and line0["pre_existing_violations"] >= 2
    full = run_sweep(net, options=SweepOptions(all_violations=True))
    line0 = next(r for r in full["results"] if r["element"] == "line:0")
    assert line0["status"] == "violations"
    assert {v["element"] for v in line0["violations"]} >= {"bus:5", "bus:7"}


def test_progress_cancel_and_ranking():
    net = load_case("case118")
    seen = []
    doc = run_sweep(net, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (186, 186)
    ranked = rank(doc["results"])
    order = ["diverged", "islanded", "violations", "ok"]
    assert [order.index(r["status"]) for r in ranked] == sorted(order.index(r["status"]) for r in ranked)
    stopped = run_sweep(load_case("case118"), kinds="gen", cancel=lambda: True)
    assert stopped["stats"]["cancelled"] and len(stopped["results"]) < 53


def test_bad_kind_is_a_clear_error():
    from n1studio.errors import N1Error

    with pytest.raises(N1Error, match="unknown outage kind 'lines'"):
        run_sweep(load_case("case14"), kinds="lines")


def test_pandapower_fallback_agrees_with_lightsim2grid(monkeypatch):
    from n1studio.solve import sweep as sw

    net = load_case("case14")
    fast = run_sweep(net, kinds=("line", "trafo", "gen"))
    monkeypatch.setattr(sw._LsEngine, "build", classmethod(lambda cls, *a: None))
    sw._PREPARED.clear()
    slow = run_sweep(load_case("case14"), kinds=("line", "trafo", "gen"))
    assert slow["stats"]["engine"] == "pandapower"
    for a, b in zip(fast["results"], slow["results"]):
        assert a["element"] == b["element"] and a["status"] == b["status"]
        assert {v["element"] for v in a["violations"]} == {v["element"] for v in b["violations"]}
