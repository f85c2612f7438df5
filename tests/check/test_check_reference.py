"""Correct operating points check feasible with zero violations."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandapower as pp
import pytest

from n1studio.check import check_answer
from n1studio.grid.cases import load_case
from n1studio.grid.variant import base_model
from n1studio.schema import CONSTRAINT_KINDS, VERDICT
from tests.check.conftest import ac_reference, answer_from_results, model_of, runopp_answer


def _assert_clean(verdict):
    assert verdict["schema"] == VERDICT
    assert verdict["violations"] == []
    assert verdict["feasible"] is True
    assert verdict["satisfaction"] == {k: 1.0 for k in CONSTRAINT_KINDS}
    assert verdict["overall_satisfaction"] == 1.0


@pytest.mark.parametrize("case", ["case14", "case118"])
def test_pandapower_opf_optimum_is_feasible(case):
    answer = runopp_answer(case)
    verdict = check_answer(model_of(case), answer)
    _assert_clean(verdict)
    # the cost recomputed from the dispatch is pandapower's own optimum
    assert verdict["objective"] == pytest.approx(answer["objective"], rel=1e-6)
    assert verdict["claimed_objective"] == pytest.approx(answer["objective"], rel=1e-9)
    assert verdict["counts"]["power_balance"]["constraints"] == len(load_case(case).bus)


@pytest.mark.parametrize("case", ["case14", "case118", "pglib_opf_case30_ieee",
                                  "pglib_opf_case89_pegase", "pglib_opf_case300_ieee"])
def test_reference_ac_opf_answer_is_feasible(case):
    result = ac_reference(case)
    assert result.success
    # through JSON, exactly as `solve --json` output would be fed to `check`
    answer = json.loads(json.dumps(result.answer))
    verdict = check_answer(model_of(case), answer, reference=answer)
    _assert_clean(verdict)
    assert verdict["objective"] == pytest.approx(result.objective, rel=1e-6)
    assert verdict["cost_gap"] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("case", ["case1354pegase"])
def test_converged_power_flow_satisfies_power_balance_everywhere(case):
    """A Newton-Raphson solution printed to the schema's digits balances at every bus."""
    net = load_case(case)
    model = base_model(net)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, calculate_voltage_angles=True, init="dc")
    verdict = check_answer(model, answer_from_results(net, model))
    assert verdict["counts"]["power_balance"] == {"constraints": model.n_bus, "violated": 0}
    assert not [v for v in verdict["violations"] if v["constraint"] in ("format", "power_balance")]


def _three_winding_net(max_loading: float) -> pp.pandapowerNet:
    net = pp.create_empty_network(name="t3w")
    b = [pp.create_bus(net, vn, min_vm_pu=0.9, max_vm_pu=1.1) for vn in (110, 110, 20, 10)]
    pp.create_ext_grid(net, b[0], vm_pu=1.02, min_p_mw=-500, max_p_mw=500, min_q_mvar=-300,
                       max_q_mvar=300)
    pp.create_line(net, b[0], b[1], 10, "149-AL1/24-ST1A 110.0", max_loading_percent=100)
    pp.create_transformer3w(net, b[1], b[2], b[3], "63/25/38 MVA 110/20/10 kV",
                            max_loading_percent=max_loading)
    pp.create_load(net, b[2], 20, 5)
    pp.create_load(net, b[3], 15, 4)
    pp.create_gen(net, b[3], 5, vm_pu=1.0, min_p_mw=0, max_p_mw=10, min_q_mvar=-10, max_q_mvar=10)
    pp.create_shunt(net, b[2], q_mvar=-2)
    return net


@pytest.mark.parametrize("max_loading,expect", [(100, []), (60, ["trafo3w:0"])])
def test_three_winding_star_point_is_eliminated(max_loading, expect):
    net = _three_winding_net(max_loading)
    model = base_model(net)
    assert "" in model.bus_names  # the star point: internal, no name, not in the answer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, calculate_voltage_angles=True)
    verdict = check_answer(model, answer_from_results(net, model))
    assert verdict["counts"]["power_balance"] == {"constraints": 4, "violated": 0}
    # line:0 and trafo3w:0, the transformer counted once for its three windings
    assert verdict["counts"]["thermal"]["constraints"] == 2
    assert [v["element"] for v in verdict["violations"]] == expect
    if expect:
        v = verdict["violations"][0]
        assert v["constraint"] == "thermal"
        # the MV winding is the loaded one: 20 MW at about 20.2 MVA, rated 25 MVA x 60 %;
        # its star-point end carries the winding's losses on top (|S| at either end counts)
        mv = np.hypot(net.res_trafo3w.p_mv_mw[0], net.res_trafo3w.q_mv_mvar[0])
        assert v["limit"] == pytest.approx(15.0)
        assert mv <= v["value"] <= 1.02 * mv


@pytest.mark.parametrize("case,outages", [("pglib_opf_case30_ieee", ("line:5",)),
                                          ("pglib_opf_case30_ieee", ("gen:2",)),
                                          ("pglib_opf_case30_ieee", ("line:27",)),  # islands bus:26
                                          ("case118", ("line:170",))])  # islands bus:116
def test_reference_of_an_n1_variant_is_feasible(case, outages):
    result = ac_reference(case, outages)
    assert result.success
    verdict = check_answer(model_of(case, outages), json.loads(json.dumps(result.answer)))
    _assert_clean(verdict)
