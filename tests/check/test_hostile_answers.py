"""Issue 10, answers: each input that crashed, hung or was misread is now a plain verdict."""

from __future__ import annotations

import copy
import json

import pytest

from n1studio.check import check_answer
from n1studio.check.parse import MAX_ANSWER_BYTES, unfence
from n1studio.errors import ElementError
from n1studio.grid.elements import Element, parse_element
from tests.check.conftest import ac_reference, model_of

CASE, OUT = "pglib_opf_case14_ieee", ("line:6",)


@pytest.fixture(scope="module")
def refs():
    own, n = ac_reference(CASE, OUT), ac_reference(CASE)
    assert own.success and n.success
    return {"reference": own.answer, "reference_objective": float(own.objective),
            "n_reference": n.answer}


@pytest.fixture
def answer(refs):
    return copy.deepcopy(refs["reference"])


def _check(answer, refs):
    verdict = check_answer(model_of(CASE, OUT), answer, **refs)
    json.dumps(verdict, allow_nan=False)
    return verdict


def _format(verdict) -> list[tuple[str, str]]:
    return [(v["element"], v["message"]) for v in verdict["violations"]
            if v["constraint"] == "format"]


def test_integer_beyond_float_range_is_a_format_violation_at_that_generator(answer, refs):
    """`"p_mw": 1` followed by 400 zeros raised OverflowError in the recall test."""
    gen = answer["generators"][1]["element"]
    answer["generators"][1]["p_mw"] = "BIG"
    text = json.dumps(answer).replace('"BIG"', "1" + "0" * 400)
    verdict = _check(text, refs)
    assert _format(verdict) == [(gen, "p_mw: not a finite number (an integer beyond float range)")]
    assert verdict["usable"] is True and verdict["objective"] is None
    assert verdict["recall"]["to_own"] is not None  # the recall test ran without it


@pytest.mark.parametrize("value,what", [(5, "a number"), (True, "a boolean"), (1e308, "a number"),
                                       ("gen:0", "a string"), ({"gen:0": 1}, "an object")])
def test_generators_of_the_wrong_type_are_format(answer, refs, value, what):
    """`"generators": 5` (or true, 1e308) raised TypeError in the recall test."""
    answer["generators"] = value
    verdict = _check(answer, refs)
    assert ("answer", f"generators: {what}, not a list") in _format(verdict)
    assert verdict["feasible"] is False and verdict["usable"] is True
    # wrong-typed buses too: unusable, still a verdict
    answer["buses"] = value
    verdict = _check(answer, refs)
    assert verdict["usable"] is False and verdict["overall_satisfaction"] == 0.0


def test_element_index_of_5000_digits_is_a_malformed_name(answer, refs):
    answer["buses"][0]["element"] = "bus:" + "9" * 5000
    verdict = _check(json.dumps(answer), refs)
    (name, _), = [p for p in _format(verdict) if p[1] == "malformed element name"]
    assert name.startswith("'bus:999") and len(name) <= 40
    assert ("bus:1", "missing from the answer") in _format(verdict)


@pytest.mark.parametrize("name", ["line:\u0661", "line: 1", "line:01", " line:1", "line:1 ",
                                  "line:1\n", "line:+1", "line:-1", "line:\uff11",
                                  "line:" + "9" * 5000, "line:" + "1" * 19])
def test_element_names_are_strict(name):
    with pytest.raises(ElementError, match="malformed element name") as err:
        parse_element(name)
    assert len(str(err.value)) < 200


def test_strict_names_still_read_the_canonical_ones():
    assert parse_element("line:1") == Element("line", 1)
    assert parse_element("bus:0") == Element("bus", 0)
    assert parse_element("trafo3w:12") == Element("trafo3w", 12)
    assert parse_element("ext_grid:" + "9" * 18).index == 10 ** 18 - 1


@pytest.mark.parametrize("name", ["bus:\u0661", "bus: 1", "bus:01"])
def test_odd_spellings_of_a_bus_are_not_that_bus(answer, refs, name):
    """They were read as bus:1; now the entry is refused and bus:1 itself is missing."""
    entry = next(b for b in answer["buses"] if b["element"] == "bus:1")
    entry["element"] = name
    verdict = _check(answer, refs)
    assert set(_format(verdict)) == {(repr(name), "malformed element name"),
                                     ("bus:1", "missing from the answer")}


def test_a_byte_order_mark_is_accepted(answer, refs):
    text = json.dumps(answer)
    for doc in ("\ufeff" + text, b"\xef\xbb\xbf" + text.encode(),
                "\ufeff```json\n" + text + "\n```"):
        verdict = _check(doc, refs)
        assert verdict["feasible"] is True, verdict["violations"][:2]


def test_duplicates_are_one_violation_per_element(answer, refs):
    """50 MB of copies of one bus printed 185 MB of violations: now one record per element."""
    bus0, gen0 = answer["buses"][0], answer["generators"][0]
    answer["buses"] += [dict(bus0, vm_pu=0.5)] * 20000 + [dict(answer["buses"][3])] * 2
    answer["generators"] += [gen0]
    verdict = _check(json.dumps(answer), refs)
    assert sorted(_format(verdict)) == sorted([
        (bus0["element"], "listed 20001 times (the first is used)"),
        (answer["buses"][3]["element"], "listed 3 times (the first is used)"),
        (gen0["element"], "listed more than once (the first is used)")])
    assert not [v for v in verdict["violations"] if v["constraint"] == "voltage"]  # first used


def test_many_distinct_bad_entries_are_bounded(answer, refs):
    answer["buses"] += [{"element": f"bus:{100 + i}", "vm_pu": 1.0, "va_degree": 0.0}
                        for i in range(5000)]
    answer["buses"] += [7] * 3000
    verdict = _check(answer, refs)
    problems = _format(verdict)
    assert len(problems) == 101
    assert problems[0] == ("bus:100", "not a bus of this grid")
    assert problems[-1] == ("answer", "buses: 7,900 more entries with problems (not listed)")


def test_an_oversized_answer_is_refused_unread_saying_its_size(answer, refs):
    one = json.dumps(answer["buses"][0]) + ", "
    text = '{"schema": "n1studio.answer/1", "buses": [' + one * (50_000_000 // len(one))
    size = len(text.encode())
    verdict = _check(text, refs)
    message = f"the answer is {size:,} bytes, more than the {MAX_ANSWER_BYTES:,} an answer may have"
    assert _format(verdict) == [("answer", message)]
    assert verdict["usable"] is False
    verdict = _check(text.encode(), refs)
    assert "bytes, more than the" in _format(verdict)[0][1]


def test_a_long_fenced_answer_is_read_in_linear_time(answer, refs):
    """The fence regex took 29 s on 100 KB of white space inside a fence."""
    text = "```json\n" + json.dumps(answer) + "\n" + " \n" * 50_000 + "```"
    assert unfence(text).strip() == json.dumps(answer)
    assert _check(text, refs)["feasible"] is True
    hostile = "```json\n" + " \n" * 50_000 + "x"
    assert _format(_check(hostile, refs))[0][1].startswith("not JSON")


@pytest.mark.parametrize("text,needle", [
    ('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", "not JSON: nested too deeply"),
    ('{"a": 1' + "0" * 5000 + "}", "not JSON: a number with too many digits"),
])
def test_parser_limits_are_format_verdicts(refs, text, needle):
    assert any(needle in msg for _, msg in _format(_check(text, refs)))
