"""The N answer checked against an N-1 variant is recognised."""

from __future__ import annotations

import pytest

from n1studio.check import check_answer
from tests.check.conftest import model_of, runopp_answer

CASE = "case14"


def _kinds(verdict):
    return {(v["constraint"], v["element"]) for v in verdict["violations"]}


def test_n_answer_on_generator_outage_dispatches_a_removed_unit():
    n_answer = runopp_answer(CASE)
    n1_answer = runopp_answer(CASE, ["gen:0"])
    verdict = check_answer(model_of(CASE, ("gen:0",)), n_answer, reference=n1_answer,
                           n_reference=n_answer)
    removed = [v for v in verdict["violations"] if v["constraint"] == "removed_element"]
    assert [(v["element"], v["message"]) for v in removed] == [
        ("gen:0", "out of service in this variant")]
    assert verdict["feasible"] is False
    assert verdict["recalled_n_answer"] is True
    # the N-1 reference itself is fine and not "recalled"
    ok = check_answer(model_of(CASE, ("gen:0",)), n1_answer, reference=n1_answer,
                      n_reference=n_answer)
    assert ok["feasible"] is True and ok["recalled_n_answer"] is False
    assert ok["cost_gap"] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("line", ["line:0", "line:3", "line:6"])
def test_n_answer_on_line_outage_is_recalled(line):
    n_answer = runopp_answer(CASE)
    n1_answer = runopp_answer(CASE, [line])
    model = model_of(CASE, (line,))
    verdict = check_answer(model, n_answer, reference=n1_answer, n_reference=n_answer)
    assert verdict["recalled_n_answer"] is True
    assert verdict["recall"]["to_n"] == 0.0 and verdict["recall"]["verdict"] == "recalled"
    assert verdict["recall"]["to_own"] > verdict["recall"]["margin"] > 0.0
    # the recalled answer breaks the power flow of the variant where the line was
    assert verdict["feasible"] is False
    assert verdict["satisfaction"]["power_balance"] < 1.0
    # it is cheaper than the variant's optimum: the outage costs money
    assert verdict["cost_gap"] < 0
    fresh = check_answer(model, n1_answer, reference=n1_answer, n_reference=n_answer)
    assert fresh["recalled_n_answer"] is False and fresh["feasible"] is True


def test_recall_is_false_on_the_n_case_and_without_references():
    n_answer = runopp_answer(CASE)
    assert check_answer(model_of(CASE), n_answer, reference=n_answer,
                        n_reference=n_answer)["recalled_n_answer"] is False
    assert check_answer(model_of(CASE, ("line:3",)), n_answer)["recalled_n_answer"] is False


def test_outages_argument_applies_to_the_base_model():
    n_answer = runopp_answer(CASE)
    verdict = check_answer(model_of(CASE), n_answer, outages=["gen:0"])
    assert ("removed_element", "gen:0") in _kinds(verdict)
    assert verdict["outages"] == ["gen:0"]


def test_n_answer_naming_a_cut_off_bus_is_removed_element():
    """case118 without line:170 leaves bus:116 (with its load) cut off from every generator."""
    n_answer = runopp_answer("case118")
    model = model_of("case118", ("line:170",))
    verdict = check_answer(model, n_answer)
    removed = [(v["element"], v["message"]) for v in verdict["violations"]
               if v["constraint"] == "removed_element"]
    assert removed == [("bus:116", "de-energised: cut off from every generator by the outages")]
    # the cut-off bus is not a constraint of the variant any more
    assert verdict["counts"]["voltage"]["constraints"] == 117
    assert not [v for v in verdict["violations"] if v["constraint"] == "format"]


def test_n_answer_on_bus_outage_names_the_bus_and_its_generator():
    n_answer = runopp_answer(CASE)
    verdict = check_answer(model_of(CASE, ("bus:2",)), n_answer)
    removed = {v["element"]: v["message"] for v in verdict["violations"]
               if v["constraint"] == "removed_element"}
    # case14's gen:1 sits on bus:2
    assert removed == {"bus:2": "out of service in this variant",
                       "gen:1": "its bus bus:2 is out of service"}
