"""Distance to feasibility on real PGLib grids (n1studio.solve.nearest).

What a user relies on: the reference answer is already feasible (distance 0); a repaired
answer is feasible for the project's checker and for an independent pandapower power
flow of its set-points; a bigger error in an answer gives a bigger distance; zeros are
further than a near miss; a variant with no feasible point says so.
"""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pandapower as pp
import pytest

from n1studio.check import check_answer
from n1studio.check.evaluate import prepare as evaluate_prepare
from n1studio.check.parse import parse_answer
from n1studio.grid.cases import load_case
from n1studio.grid.quiet import quiet_pandapower
from n1studio.grid.variant import Variant
from n1studio.solve.nearest import (
    answer_arrays,
    nearest_feasible,
    prepare,
    repair_fields,
    scales,
)
from n1studio.solve.reference import reference

CASES = {
    "case14": ("pglib_opf_case14_ieee", ()),
    "case30": ("pglib_opf_case30_ieee", ()),
    "case118": ("pglib_opf_case118_ieee", ()),
    "case30-line:10": ("pglib_opf_case30_ieee", ("line:10",)),
    # line:3 out leaves case30 with no feasible point (the reference AC OPF says so too)
    "case30-line:3": ("pglib_opf_case30_ieee", ("line:3",)),
}
_NETS: dict[str, object] = {}


def variant(key: str) -> Variant:
    case, outages = CASES[key]
    if case not in _NETS:
        _NETS[case] = load_case(case)
    return Variant(_NETS[case], outages)


def noisy(v: Variant, k: float, seed: int = 7) -> dict:
    """The reference answer with every number moved by k times its scale times N(0, 1)."""
    ref = reference(v)
    assert ref.success, ref.message
    m = v.model
    s = scales(m)
    nb, ng, base = m.n_bus, len(m.gen_names), m.base_mva
    z = np.random.default_rng(seed).standard_normal(2 * nb + 2 * ng)
    return {"vm": ref.vm + k * s[nb:2 * nb] * z[nb:2 * nb],
            "va": ref.va + k * s[:nb] * z[:nb],
            "pg": ref.pg + k * s[2 * nb:2 * nb + ng] * base * z[2 * nb:2 * nb + ng],
            "qg": ref.qg + k * s[2 * nb + ng:] * base * z[2 * nb + ng:]}


def zeros_answer(v: Variant) -> dict:
    doc = copy.deepcopy(reference(v).answer)
    for g in doc["generators"]:
        g.update(p_mw=0.0, q_mvar=0.0, vm_pu=0.0)
    for b in doc["buses"]:
        b.update(vm_pu=0.0, va_degree=0.0)
    return doc


@pytest.mark.parametrize("key", ["case14", "case30", "case118", "case30-line:10"])
def test_reference_answer_has_distance_zero(key):
    v = variant(key)
    ref = reference(v)
    # through JSON, as `solve --json` writes it (rounded to the schema's digits)
    r = nearest_feasible(v.model, json.loads(json.dumps(ref.answer)))
    assert r.success, r.message
    assert r.filled == []
    assert r.distance < 1e-5
    assert max(abs(b["dvm_pu"]) for b in r.moves["buses"]) < 1e-5
    assert max(abs(g["dp_mw"]) for g in r.moves["generators"]) < 1e-2
    # the repaired answer is the reference's operating point, at the reference's cost
    assert r.repaired["objective"] == pytest.approx(ref.objective, rel=1e-5)


def _pandapower_flow(v: Variant, repaired: dict):
    """Run pandapower's Newton power flow on the variant with the repaired set-points."""
    net = copy.deepcopy(v.net)
    buses = {b["element"]: b for b in repaired["buses"]}
    for g in repaired["generators"]:
        table, _, idx = g["element"].partition(":")
        idx = int(idx)
        bus = buses[f"bus:{int(net[table].at[idx, 'bus'])}"]
        if table == "ext_grid":
            net.ext_grid.at[idx, "vm_pu"] = bus["vm_pu"]
            net.ext_grid.at[idx, "va_degree"] = bus["va_degree"]
        elif table == "gen":
            net.gen.at[idx, "p_mw"] = g["p_mw"]
            net.gen.at[idx, "vm_pu"] = bus["vm_pu"]
        else:
            net.sgen.at[idx, "p_mw"] = g["p_mw"]
            net.sgen.at[idx, "q_mvar"] = g["q_mvar"]
    with quiet_pandapower():
        pp.runpp(net, calculate_voltage_angles=True, init="dc", numba=False,
                 enforce_q_lims=False)
    return net


def _assert_pandapower_agrees(v: Variant, repaired: dict):
    net = _pandapower_flow(v, repaired)
    m = v.model
    base = m.base_mva
    for b in repaired["buses"]:
        idx = int(b["element"].split(":")[1])
        assert net.res_bus.at[idx, "vm_pu"] == pytest.approx(b["vm_pu"], abs=1e-4), b
        assert net.res_bus.at[idx, "va_degree"] == pytest.approx(b["va_degree"], abs=1e-2), b
        # voltage limits, by pandapower's own result
        k = m.index(b["element"])[1][0]
        assert m.vmin[k] - 1e-4 <= net.res_bus.at[idx, "vm_pu"] <= m.vmax[k] + 1e-4
    for g in repaired["generators"]:
        table, _, idx = g["element"].partition(":")
        res = net[f"res_{table}"].loc[int(idx)]
        k = m.index(g["element"])[1][0]
        # the slack's P and every unit's Q come out of the power flow: within limits
        assert res.p_mw == pytest.approx(g["p_mw"], abs=0.5), g
        assert res.q_mvar == pytest.approx(g["q_mvar"], abs=0.5), g
        assert m.pmin[k] * base - 0.5 <= res.p_mw <= m.pmax[k] * base + 0.5, g
        assert m.qmin[k] * base - 0.5 <= res.q_mvar <= m.qmax[k] * base + 0.5, g
    # branch ratings (MVA at either end), from pandapower's flows
    for table, ends in (("line", ("from", "to")), ("trafo", ("hv", "lv"))):
        for idx, row in net[f"res_{table}"].iterrows():
            name = f"{table}:{idx}"
            if not net[table].at[idx, "in_service"]:
                continue
            rate = m.rate[m.index(name)[1][0]] * base
            if not math.isfinite(rate):
                continue
            for end in ends:
                s = math.hypot(row[f"p_{end}_mw"], row[f"q_{end}_mvar"])
                assert s <= rate * 1.002 + 0.01, (name, s, rate)


@pytest.mark.parametrize("key", ["case14", "case30", "case118", "case30-line:10"])
def test_repaired_answer_is_feasible_for_checker_and_pandapower(key):
    v = variant(key)
    for answer in (noisy(v, 0.3), zeros_answer(v)):
        r = nearest_feasible(v.model, answer)
        assert r.success, r.message
        assert r.distance > 0.05
        verdict = check_answer(v.model, r.repaired)
        assert verdict["feasible"], verdict["violations"][:3]
        _assert_pandapower_agrees(v, json.loads(json.dumps(r.repaired)))


@pytest.mark.parametrize("key", ["case30", "case118", "case30-line:10"])
def test_distance_grows_with_the_perturbation(key):
    v = variant(key)
    d = [nearest_feasible(v.model, noisy(v, k)).distance for k in (0.01, 0.03, 0.1)]
    assert d[0] < d[1] < d[2], d
    # the noise is mostly off the feasible set: the distance is a fair part of its size
    assert 0.001 < d[0] < 0.01


def test_starting_from_the_reference_finds_the_same_nearest_point():
    v = variant("case118")
    for answer in (noisy(v, 0.1), zeros_answer(v)):
        plain = nearest_feasible(v.model, answer)
        warm = nearest_feasible(v.model, answer, start=reference(v))
        assert warm.success and plain.success
        assert warm.distance == pytest.approx(plain.distance, rel=1e-4)
        assert np.nanmax(np.abs(warm.vm - plain.vm)) < 1e-4


@pytest.mark.parametrize("key", ["case14", "case118"])
def test_zeros_are_further_than_a_near_miss(key):
    v = variant(key)
    near = nearest_feasible(v.model, noisy(v, 0.01)).distance
    zeros = nearest_feasible(v.model, zeros_answer(v))
    assert zeros.success
    assert zeros.distance > 10 * near
    # every voltage moved up into its band: the repaired vm are the moves themselves
    assert all(b["dvm_pu"] >= 0.94 - 1e-6 for b in zeros.moves["buses"])


def test_an_angle_frame_shift_costs_nothing():
    v = variant("case30")
    doc = copy.deepcopy(reference(v).answer)
    for b in doc["buses"]:
        b["va_degree"] += 12.5
    r = nearest_feasible(v.model, doc)
    assert r.distance < 1e-5
    # the repaired answer keeps the answer's frame
    assert r.repaired["buses"][0]["va_degree"] == pytest.approx(doc["buses"][0]["va_degree"],
                                                                abs=1e-3)


def test_missing_and_unreadable_numbers_start_at_the_flat_start():
    v = variant("case14")
    doc = copy.deepcopy(reference(v).answer)
    for b in doc["buses"]:
        del b["va_degree"]
    doc["generators"][0]["p_mw"] = "lots"
    doc["generators"][1]["q_mvar"] = float("nan")
    r = nearest_feasible(v.model, doc)
    assert r.success
    assert len(r.filled) == len(doc["buses"]) + 2
    assert f"{doc['buses'][0]['element']} va_degree" in r.filled
    assert f"{doc['generators'][0]['element']} p_mw" in r.filled
    assert "flat start" in r.message
    assert check_answer(v.model, r.repaired)["feasible"]
    # wholly unreadable: the flat start, everything filled, still a repaired answer
    r = nearest_feasible(v.model, "this is not JSON")
    assert r.success and len(r.filled) == 2 * (len(doc["buses"]) + len(doc["generators"]))
    assert check_answer(v.model, r.repaired)["feasible"]
    arrays = answer_arrays(v.model, "this is not JSON")
    assert np.isnan(arrays["vm"]).all()


def test_no_feasible_point_is_a_status_not_a_distance():
    v = variant("case30-line:3")
    assert reference(v).status == "infeasible"
    n_answer = reference(variant("case30")).answer  # what a memoriser would write
    r = nearest_feasible(v.model, n_answer)
    assert not r.success
    assert r.status == "infeasible"
    assert r.distance is None and r.repaired is None
    assert repair_fields(v.model, n_answer) == {
        "distance_to_feasible": None, "moves": None, "repaired": None}


def test_repair_fields_are_the_spec_verdict_fields():
    v = variant("case30-line:10")
    fields = repair_fields(v.model, zeros_answer(v))
    assert set(fields) == {"distance_to_feasible", "moves", "repaired"}
    assert fields["distance_to_feasible"] > 1.0
    assert fields["repaired"]["schema"] == "n1studio.answer/1"
    assert {b["element"] for b in fields["repaired"]["buses"]} == \
        {b["element"] for b in reference(v).answer["buses"]}
    assert set(fields["moves"]) == {"generators", "buses"}
    assert set(fields["moves"]["generators"][0]) == {"element", "dp_mw", "dq_mvar", "dvm_pu"}
    assert set(fields["moves"]["buses"][0]) == {"element", "dvm_pu", "dva_degree"}
    json.dumps(fields)  # JSON-able as it is


def test_one_compiled_solver_serves_every_variant_of_a_grid():
    n, n1 = variant("case30"), variant("case30-line:10")
    prepare(n.model)
    assert prepare(n1.model) == 0.0  # nothing built: the N-1 variant reuses the grid's solver
    r = nearest_feasible(n1.model, reference(n).answer)  # the N answer on the N-1 grid
    assert r.success and r.distance > 1e-3
    assert check_answer(n1.model, r.repaired)["feasible"]


def test_the_checkers_parsed_answer_reads_the_same():
    v = variant("case14")
    doc = zeros_answer(v)
    m = v.model
    prep = evaluate_prepare(m)
    parsed = parse_answer(m, doc, prep.required_bus, prep.required_gen)
    assert nearest_feasible(m, parsed).distance == pytest.approx(
        nearest_feasible(m, doc).distance, rel=1e-9)

