"""Islands like an operator: a unit an outage leaves on an island without load is tripped
with it (grid/topology.py), in the one place a variant is defined (grid/variant.py), so
`solve`, the prompt, the checker, the sweep and datasets all see the same variant."""

from __future__ import annotations

import json

import pytest

from n1studio.check import check_answer
from n1studio.cli import main
from n1studio.grid.cases import load_case
from n1studio.grid.variant import Variant
from n1studio.llm.prompt import render_prompt
from n1studio.solve.reference import reference
from n1studio.solve.sweep import run_sweep
from tests.conftest import PGLIB

CASE39 = PGLIB / "pglib_opf_case39_epri.m"


def _solve(capsys, *args: str) -> dict:
    assert main(["solve", str(CASE39), *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_case39_trafo0_is_solved_as_trafo0_and_gen0_out(capsys):
    # PGLib case39: trafo:0 is the only link of gen:0 (Qmin 140 Mvar) to the grid; kept on
    # its island without load, it made the variant "infeasible"; an operator trips it
    alone = _solve(capsys, "--out", "trafo:0")
    both = _solve(capsys, "--out", "trafo:0", "--out", "gen:0")
    assert alone["status"] in ("optimal", "acceptable")
    assert alone["objective"] == pytest.approx(161_956.63, abs=0.01)
    assert alone["objective"] == pytest.approx(both["objective"], rel=1e-9)
    assert alone["generators"] == both["generators"]
    assert "gen:0" not in {g["element"] for g in alone["generators"]}
    # it says so: the label, the islands, the outages asked for (what the user typed)
    assert alone["outages"] == ["trafo:0"]
    assert alone["islands"]["tripped"] == ["gen:0"]
    assert "gen:0 tripped (left on an island without load)" in alone["variant"]
    assert alone["variant"].startswith("N-1 trafo:0")
    assert both["islands"]["tripped"] == []  # taken out by hand: nothing left to trip


def test_case39_trafo0_the_prompt_and_the_verdict_list_gen0_as_out():
    net = load_case(str(CASE39))
    v = Variant(net, ["trafo:0"])
    assert v.outages == ("trafo:0",) and v.tripped == ("gen:0",)
    assert v.out_of_service == ("gen:0", "trafo:0")
    assert not v.net.gen.at[0, "in_service"] and not v.net.trafo.at[0, "in_service"]
    p = render_prompt(v)
    tail = p.text[p.shared_chars:]
    assert "Out of service: gen:0, trafo:0" in tail
    assert "gen:0" not in p.generators
    ref = reference(v, "ac")
    verdict = check_answer(v.model, ref.answer)
    assert verdict["feasible"] and "gen:0" in verdict["outages"]
    # an answer that still dispatches the tripped unit names an element out of service
    bad = json.loads(json.dumps(ref.answer))
    bad["generators"].append({"element": "gen:0", "p_mw": 500.0, "q_mvar": 140.0, "vm_pu": 1.0})
    kinds = {x["constraint"] for x in check_answer(v.model, bad)["violations"]}
    assert "removed_element" in kinds


def test_case14_condenser_alone_behind_trafo3_is_tripped_everywhere():
    # bus 7 holds a synchronous condenser and no load: trafo:3 out strands it
    net = load_case("case14")
    v = Variant(net, ["trafo:3"])
    (unit,) = v.tripped
    assert unit.startswith("gen:") and v.islands.cut_buses == ["bus:7"]
    assert v.islands.lost_load_mw == 0.0
    r = next(r for r in run_sweep(net)["results"] if r["element"] == "trafo:3")
    assert r["status"] == "islanded" and r["tripped"] == [unit]
    assert r["islanded_buses"] == ["bus:7"]
    assert "bus:7" not in render_prompt(v).buses


def test_a_unit_with_load_on_its_island_keeps_running():
    # pglib case30: a radial load bus cut off takes no unit with it; N trips nothing
    net = load_case("case14")
    assert Variant(net).tripped == () and Variant(net, ["line:0"]).tripped == ()
    doc = run_sweep(load_case("pglib_opf_case118_ieee"), at="file")
    for r in doc["results"]:
        v = Variant(load_case("pglib_opf_case118_ieee"), [r["element"]]) if r["tripped"] else None
        if v is not None:
            assert list(v.tripped) == r["tripped"]
            # every tripped unit sits on a bus the outage cut off, none of them with load
            m = v.model
            for u in v.tripped:
                bus = m.bus_names[m.gen_bus[m.gen_names.index(u)]]
                assert bus in r["islanded_buses"]


def test_a_unit_already_alone_in_the_base_case_is_left_as_the_file_has_it():
    net = load_case("case14")
    net.trafo.at[3, "in_service"] = False  # the file itself leaves bus 7 on its own
    assert Variant(net, ["line:0"]).tripped == ()
