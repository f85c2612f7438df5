"""Garbage in gives a `format` verdict, never an exception."""

from __future__ import annotations

import json

import pytest

from n1studio.check import check_answer
from n1studio.schema import CONSTRAINT_KINDS
from tests.check.conftest import model_of, runopp_answer

CASE = "case14"


def _format(verdict) -> list[tuple[str, str]]:
    return [(v["element"], v["message"]) for v in verdict["violations"]
            if v["constraint"] == "format"]


def _assert_unusable(verdict):
    assert verdict["feasible"] is False
    assert verdict["usable"] is False
    assert verdict["satisfaction"] == {k: 0.0 for k in CONSTRAINT_KINDS}
    assert verdict["overall_satisfaction"] == 0.0
    assert {v["constraint"] for v in verdict["violations"]} <= {"format", "removed_element"}


@pytest.mark.parametrize("answer,needle", [
    (None, "no answer"),
    ("", "empty"),
    ("the optimal dispatch is 40 MW", "not JSON"),
    ('{"schema": "n1studio.answer/1", "buses": [', "not JSON"),
    ("[]", "expected a JSON object, got list"),
    ("42", "expected a JSON object, got number"),
    ("[" * 100000 + "]" * 100000, "not JSON"),
    (b"\xff\xfe garbage", "not JSON"),
    ({"schema": "n1studio.answer/1", "generators": []}, "buses: missing"),
    ({"schema": "n1studio.answer/1", "generators": [], "buses": []}, "buses: empty"),
    ({"schema": "n1studio.answer/1", "generators": [], "buses": {"bus:0": 1.0}}, "not a list"),
])
def test_unusable_answers_are_format_verdicts(answer, needle):
    verdict = check_answer(model_of(CASE), answer)
    _assert_unusable(verdict)
    problems = _format(verdict)
    assert problems and problems[0][0] == "answer"
    assert any(needle in msg for _, msg in problems), problems
    json.dumps(verdict, allow_nan=False)  # the verdict itself is valid JSON


def test_wrong_schema_id_is_one_format_violation_and_the_rest_is_checked():
    answer = runopp_answer(CASE)
    answer["schema"] = "something/2"
    verdict = check_answer(model_of(CASE), answer)
    assert _format(verdict) == [("answer", "schema is 'something/2', expected 'n1studio.answer/1'")]
    assert len(verdict["violations"]) == 1
    assert verdict["satisfaction"] == {k: 1.0 for k in CONSTRAINT_KINDS}
    assert verdict["feasible"] is False


def test_nan_voltage_is_flagged_at_that_bus():
    answer = runopp_answer(CASE)
    answer["buses"][4]["vm_pu"] = float("nan")
    text = json.dumps(answer)  # Python writes the NaN literal, as a sloppy model might
    assert "NaN" in text
    verdict = check_answer(model_of(CASE), text)
    assert ("bus:4", "vm_pu: not a finite number (nan)") in _format(verdict)
    # what needs that voltage cannot hold; everything else is judged
    kinds = {(v["constraint"], v["element"]) for v in verdict["violations"]}
    assert ("voltage", "bus:4") in kinds and ("power_balance", "bus:4") in kinds
    assert verdict["usable"] is True
    assert 0.0 < verdict["satisfaction"]["power_balance"] < 1.0


@pytest.mark.parametrize("value,msg", [("1.02", "not a number"), (True, "not a number"),
                                      (None, "not a number"), (float("inf"), "not a finite")])
def test_non_numbers_are_format_at_that_element(value, msg):
    answer = runopp_answer(CASE)
    answer["generators"][1]["p_mw"] = value
    verdict = check_answer(model_of(CASE), answer)
    problems = _format(verdict)
    assert [e for e, _ in problems] == ["gen:0"]
    assert msg in problems[0][1]
    # gen_p of that unit is not evaluable, the cost is unknown
    assert ("gen_p", "gen:0") in {(v["constraint"], v["element"]) for v in verdict["violations"]}
    assert verdict["objective"] is None


def test_unknown_element_is_flagged_by_name():
    answer = runopp_answer(CASE)
    answer["buses"].append({"element": "bus:999", "vm_pu": 1.0, "va_degree": 0.0})
    answer["generators"].append({"element": "sgen:7", "p_mw": 1.0, "q_mvar": 0.0})
    answer["generators"].append({"element": "line:2", "p_mw": 1.0, "q_mvar": 0.0})
    answer["buses"].append({"element": "busbar five", "vm_pu": 1.0, "va_degree": 0.0})
    verdict = check_answer(model_of(CASE), answer)
    problems = dict(_format(verdict))
    assert problems == {"bus:999": "not a bus of this grid",
                        "'busbar five'": "malformed element name",
                        "sgen:7": "not a dispatchable generator of this grid",
                        "line:2": "listed under generators but is not a generator "
                                  "(ext_grid, gen or sgen)"}
    # nothing physical is wrong
    assert all(v["constraint"] == "format" for v in verdict["violations"])
    assert verdict["overall_satisfaction"] == 1.0 and verdict["feasible"] is False


def test_missing_bus_is_format_and_breaks_balance_around_it():
    answer = runopp_answer(CASE)
    answer["buses"] = [b for b in answer["buses"] if b["element"] != "bus:8"]
    verdict = check_answer(model_of(CASE), answer)
    assert _format(verdict) == [("bus:8", "missing from the answer")]
    pb = [v for v in verdict["violations"] if v["constraint"] == "power_balance"]
    # bus 9 (index 8) of case14 connects to buses 4 (trafo), 7, 9 and 13 (0-based)
    assert {v["element"] for v in pb} == {"bus:8", "bus:3", "bus:6", "bus:9", "bus:13"}
    assert all(v["value"] is None and "not evaluable" in v["message"] for v in pb)
    voltage = [v["element"] for v in verdict["violations"] if v["constraint"] == "voltage"]
    assert voltage == ["bus:8"]


def test_missing_generator_and_duplicate_bus():
    answer = runopp_answer(CASE)
    answer["generators"] = [g for g in answer["generators"] if g["element"] != "gen:2"]
    answer["buses"].append(dict(answer["buses"][0], vm_pu=0.5))
    verdict = check_answer(model_of(CASE), answer)
    assert dict(_format(verdict)) == {"gen:2": "missing from the answer",
                                      "bus:0": "listed more than once (the first is used)"}
    assert not [v for v in verdict["violations"] if v["constraint"] == "voltage"]  # first one used
    assert verdict["objective"] is None


def test_objective_that_is_not_a_number():
    answer = runopp_answer(CASE)
    answer["objective"] = "cheap"
    verdict = check_answer(model_of(CASE), answer)
    assert _format(verdict) == [("answer", 'objective: not a number (\'cheap\')')]
    assert verdict["objective"] is not None and verdict["claimed_objective"] is None


def test_fenced_json_is_read():
    answer = runopp_answer(CASE)
    verdict = check_answer(model_of(CASE), "```json\n" + json.dumps(answer) + "\n```")
    assert verdict["feasible"] is True


@pytest.mark.parametrize("field,value", [("vm_pu", float("nan")), ("vm_pu", "1.0"),
                                         ("p_mw", 10 ** 400), ("q_mvar", -(10 ** 400))])
def test_bad_generator_numbers_are_named(field, value):
    answer = runopp_answer(CASE)
    answer["generators"][2][field] = value
    verdict = check_answer(model_of(CASE), answer)
    assert [(e, m.split(":")[0]) for e, m in _format(verdict)] == [("gen:1", field)]


def test_a_bad_entry_before_a_good_duplicate_keeps_the_first():
    answer = runopp_answer(CASE)
    good = dict(answer["buses"][3])
    answer["buses"][3] = dict(good, vm_pu="high")
    answer["buses"].append(good)
    verdict = check_answer(model_of(CASE), answer)
    assert _format(verdict) == [("bus:3", "vm_pu: not a number ('high')"),
                                ("bus:3", "listed more than once (the first is used)")]
    assert ("voltage", "bus:3") in {(v["constraint"], v["element"]) for v in verdict["violations"]}


def test_numpy_numbers_are_numbers():
    import numpy as np

    answer = runopp_answer(CASE)
    for b in answer["buses"]:
        b["vm_pu"] = np.float32(b["vm_pu"])
        b["va_degree"] = np.float64(b["va_degree"])
    verdict = check_answer(model_of(CASE), answer)
    assert not [v for v in verdict["violations"] if v["constraint"] == "format"]


_JUNK = [None, True, 0, -1e308, 1e308, float("nan"), float("-inf"), "", "bus:1", "1.0", [], {},
         [1, 2], {"element": "bus:1"}, "ext_grid:0", 10 ** 400, "\u00e9\u0000"]


def test_seeded_random_mutations_never_crash():
    """Hundreds of randomly damaged answers: always a JSON-able verdict, never an exception."""
    import copy
    import random

    rng = random.Random(20260)
    base = runopp_answer(CASE)
    model = model_of(CASE)
    for _ in range(300):
        answer = copy.deepcopy(base)
        for _ in range(rng.randint(1, 4)):
            where = rng.choice(["buses", "generators", "top"])
            if where == "top":
                key = rng.choice(["schema", "buses", "generators", "objective"])
                if rng.random() < 0.5:
                    answer.pop(key, None)
                else:
                    answer[key] = rng.choice(_JUNK)
                continue
            items = answer.get(where)
            if not isinstance(items, list) or not items:
                continue
            i = rng.randrange(len(items))
            if rng.random() < 0.3 or not isinstance(items[i], dict):
                items[i] = rng.choice(_JUNK)
            else:
                key = rng.choice(list(items[i]) + ["extra"])
                items[i][key] = rng.choice(_JUNK)
        text = json.dumps(answer) if rng.random() < 0.5 else answer
        verdict = check_answer(model, text)
        json.dumps(verdict, allow_nan=False)
        assert verdict["feasible"] == (not verdict["violations"])
        assert all(0.0 <= s <= 1.0 for s in verdict["satisfaction"].values())


def test_absurd_but_finite_voltage_fails_everything_around_it():
    answer = runopp_answer(CASE)
    answer["buses"][4]["vm_pu"] = 1e308
    verdict = check_answer(model_of(CASE), answer)
    kinds = {(v["constraint"], v["element"]) for v in verdict["violations"]}
    assert ("voltage", "bus:4") in kinds and ("power_balance", "bus:4") in kinds
    assert verdict["satisfaction"]["power_balance"] < 1.0
    json.dumps(verdict, allow_nan=False)


def test_generator_vm_disagreeing_with_its_bus_is_a_warning_only():
    answer = runopp_answer(CASE)
    gen = next(g for g in answer["generators"] if g["element"] == "gen:0")
    gen["vm_pu"] = 0.95
    verdict = check_answer(model_of(CASE), answer)
    assert verdict["feasible"] is True
    assert len(verdict["warnings"]) == 1 and verdict["warnings"][0].startswith("gen:0: vm_pu 0.95")
