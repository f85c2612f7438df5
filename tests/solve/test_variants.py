"""Reference solutions of N-1 variants: outages, islands, infeasibility, power flow, cache."""

from __future__ import annotations

import math

import numpy as np
import pandapower as pp
import pytest

from n1studio.grid.cases import load_case
from n1studio.grid.variant import Variant, base_model
from n1studio.schema import ANSWER
from n1studio.solve import reference as ref
from n1studio.solve.acopf import solve_acopf
from n1studio.solve.dcopf import solve_dcopf
from n1studio.solve.powerflow import run_ac_pf


@pytest.fixture(scope="module")
def case14():
    return load_case("pglib_opf_case14_ieee")


@pytest.fixture(scope="module")
def case30():
    return load_case("pglib_opf_case30_ieee")


def _names(answer, key):
    return [x["element"] for x in answer[key]]


def test_n_answer_lists_every_unit_and_bus(case14):
    r = solve_acopf(Variant(case14).model)
    a = r.answer
    assert a["schema"] == ANSWER
    assert _names(a, "generators") == ["ext_grid:0", "gen:0", "gen:1", "gen:2", "gen:3"]
    assert len(a["buses"]) == 14
    assert a["objective"] == pytest.approx(2178.08, rel=5e-4)
    # each generator reports its bus voltage
    vm = {b["element"]: b["vm_pu"] for b in a["buses"]}
    m = r.model
    for g in a["generators"]:
        k = m.gen_names.index(g["element"])
        assert g["vm_pu"] == pytest.approx(vm[m.bus_names[m.gen_bus[k]]], abs=1e-5)


def test_line_outage_changes_the_optimum(case14):
    n = solve_acopf(Variant(case14).model)
    v = Variant(case14, ["line:3"])
    r = solve_acopf(v.model)
    assert r.success
    assert r.objective > n.objective + 1.0  # losing a line costs money
    # the reference of the variant respects the outage: no flow is computed for line:3,
    # and the answer has the same units (a line is not a unit)
    assert _names(r.answer, "generators") == _names(n.answer, "generators")


def test_generator_outage_is_omitted_from_the_answer(case30):
    v = Variant(case30, ["gen:3"])
    r = solve_acopf(v.model)
    assert r.success
    assert "gen:3" not in _names(r.answer, "generators")
    assert r.pg[r.model.gen_names.index("gen:3")] == 0.0
    assert r.objective > solve_acopf(Variant(case30).model).objective


def test_cut_off_bus_is_not_solved_and_rest_succeeds(case30):
    # pglib case30: line:27 is the only branch to bus 26 (a load bus without generation)
    v = Variant(case30, ["line:27"])
    assert v.islands.cut_buses == ["bus:26"]
    r = solve_acopf(v.model)
    assert r.success, r.message
    k = r.model.bus_names.index("bus:26")
    assert math.isnan(r.vm[k]) and math.isnan(r.va[k])
    assert "bus:26" not in _names(r.answer, "buses")
    assert len(r.answer["buses"]) == 29
    # the load at bus 26 is lost, so the optimum is cheaper than the N case
    assert r.objective < solve_acopf(Variant(case30).model).objective


def test_island_with_its_own_generator_gets_its_own_reference(case14):
    # pglib case14: line:10 is the only branch to bus 8, which holds a synchronous condenser
    # and no load: a variant trips it with the outage (issue 17), so the two-island solve is
    # asked of the model with line:10 out and nothing tripped
    v = Variant(case14, ["line:10"])
    assert v.tripped == ("gen:3",) and v.islands.cut_buses == ["bus:8"]
    model = base_model(case14).with_outages(["line:10"])
    r = solve_acopf(model)
    assert r.success, r.message
    assert "2 energised islands" in r.message
    k = r.model.bus_names.index("bus:8")
    assert r.va[k] == 0.0  # the island's reference angle
    assert "bus:8" in _names(r.answer, "buses")


def test_infeasible_variant_is_reported_not_raised(case14):
    # without ext_grid:0 and gen:0 only synchronous condensers (Pmax 0) remain for 259 MW
    v = Variant(case14, ["ext_grid:0", "gen:0"])
    r = solve_acopf(v.model)
    assert not r.success and r.status == "infeasible"
    assert "Infeasible" in r.message
    assert math.isnan(r.objective)
    d = solve_dcopf(v.model)
    assert not d.success and d.status == "infeasible"


def test_no_generator_at_all_is_infeasible(case14):
    v = Variant(case14, ["ext_grid:0", "gen:0", "gen:1", "gen:2", "gen:3"])
    r = solve_acopf(v.model)
    assert not r.success and r.answer["generators"] == [] and r.answer["buses"] == []


def test_dc_outage(case30):
    n = solve_dcopf(Variant(case30).model)
    r = solve_dcopf(Variant(case30, ["line:27"]).model)
    assert r.success and r.objective < n.objective
    assert "bus:26" not in _names(r.answer, "buses")


def test_power_flow_matches_pandapower_and_reports_divergence():
    net = load_case("case14")
    r = run_ac_pf(Variant(net))
    assert r.kind == "pf" and r.success
    pp.runpp(net, calculate_voltage_angles=True, numba=False)
    m = r.model
    k = m.bus_names.index("bus:5")
    assert r.vm[k] == pytest.approx(net.res_bus.vm_pu.at[5], abs=1e-9)
    assert r.pg[m.gen_names.index("ext_grid:0")] == pytest.approx(net.res_ext_grid.p_mw.at[0])
    # triple every load: Newton-Raphson cannot find a solution
    heavy = load_case("case14")
    heavy.load["p_mw"] *= 6
    heavy.load["q_mvar"] *= 6
    d = run_ac_pf(Variant(heavy))
    assert not d.success and d.status == "diverged"


def test_reference_cache_and_warm_start(case14):
    ref.clear()
    n = ref.reference(Variant(case14))
    assert ref.reference(Variant(case14)) is n  # same base, same outages: cached
    cold = solve_acopf(Variant(case14, ["line:3"]).model)
    warm = ref.reference(Variant(case14, ["line:3"]))
    assert warm.warm_started and warm.success
    assert warm.objective == pytest.approx(cold.objective, rel=1e-7)
    assert ref.reference(Variant(case14, ["line:3"]), "dc").kind == "dc"
    other = load_case("pglib_opf_case14_ieee")  # another base object: its own entries
    assert ref.reference(Variant(other)) is not n


def test_dc_qp_falls_back_to_exact_lp_outer_approximation():
    # HiGHS' QP solver stops with "Solve error" on pandapower case9 without load:1; the
    # outer-approximation LP gives the QP optimum (checked against the QP on case30 in
    # bench/, 2e-10 relative)
    net = load_case("case9")
    r = solve_dcopf(Variant(net, ["load:1"]).model)
    assert r.success, r.message
    m = r.model
    assert r.pg.sum() == pytest.approx(m.pd.sum() * m.base_mva, rel=1e-6)
    cost = float(np.sum(m.c2 * r.pg**2 + m.c1 * r.pg + m.c0))
    assert r.objective == pytest.approx(cost, rel=1e-9)
    # cheaper than the N case, which serves one more load
    assert r.objective < solve_dcopf(Variant(net).model).objective
