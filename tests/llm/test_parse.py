"""Free-mode answers: the answer is found in prose, fences and sloppy JSON; garbage is None."""

from __future__ import annotations

import numpy as np

from n1studio.check import check_answer
from n1studio.grid.variant import Variant
from n1studio.llm.parse import extract_answer

GOOD = ('{"schema": "n1studio.answer/1", "generators": [{"element": "ext_grid:0", "p_mw": 232.4, '
        '"q_mvar": -16.5}], "buses": [{"element": "bus:0", "vm_pu": 1.06, "va_degree": 0.0}]}')


def test_plain_json():
    ans = extract_answer(GOOD)
    assert ans["generators"][0] == {"element": "ext_grid:0", "p_mw": 232.4, "q_mvar": -16.5}


def test_fenced_json_after_prose():
    text = ("Sure! To solve the OPF we balance the load of 259 MW.\n\n```json\n" + GOOD +
            "\n```\n\nThis dispatch keeps every voltage within limits.")
    assert extract_answer(text)["buses"][0]["vm_pu"] == 1.06


def test_prose_around_json_and_other_braces_first():
    text = ("The cost is c2*P^2 + c1*P {in $/h}. Here is my answer: " + GOOD +
            " I hope this helps {:)")
    assert extract_answer(text)["generators"][0]["element"] == "ext_grid:0"


def test_trailing_commas_single_quotes_python_literals():
    text = ("{'schema': 'n1studio.answer/1', 'generators': [{'element': 'gen:0', 'p_mw': 40.0, "
            "'q_mvar': 10.0, 'ok': True},], 'buses': [{'element': 'bus:1', 'vm_pu': 1.04, "
            "'va_degree': -4.9},],}")
    ans = extract_answer(text)
    assert ans["generators"][0]["p_mw"] == 40.0
    assert ans["buses"][0]["va_degree"] == -4.9


def test_nested_under_a_key():
    ans = extract_answer('{"answer": ' + GOOD + ', "notes": "none"}')
    assert ans["schema"] == "n1studio.answer/1"


def test_truncated_document_keeps_complete_entries():
    """A free answer cut by the token budget: the complete entries survive."""
    text = ('Answer:\n{"schema": "n1studio.answer/1", "generators": [{"element": "ext_grid:0", '
            '"p_mw": 100.5, "q_mvar": 3}, {"element": "gen:0", "p_mw": 4')
    ans = extract_answer(text)
    assert ans["generators"] == [{"element": "ext_grid:0", "p_mw": 100.5, "q_mvar": 3}]


def test_garbage_is_none_and_a_format_verdict(case14):
    for text in ["", "1.06 1.06 1.06 1.06", "I cannot solve this.", "{not json at all",
                 '{"foo": 1, "bar": [1, 2]}', "```\nnothing here\n```"]:
        assert extract_answer(text) is None, text
    model = Variant(case14, ["line:3"]).model
    verdict = check_answer(model, None)
    assert verdict["feasible"] is False
    assert any(v["constraint"] == "format" for v in verdict["violations"])


def test_a_real_looking_small_model_answer(case14):
    """What a small base model writes: prose, then a JSON answer with a trailing comma."""
    model = Variant(case14, ["line:3"]).model
    gens = [n for k, n in enumerate(model.gen_names) if model.gen_on[k]]
    body = ", ".join(f'{{"element": "{g}", "p_mw": 50.0, "q_mvar": 5.0}}' for g in gens)
    buses = ", ".join(f'{{"element": "{b}", "vm_pu": 1.01, "va_degree": -3.0}}'
                      for b in model.bus_names)
    text = ("The optimal power flow solution is shown below.\n\n"
            '{"schema": "n1studio.answer/1", "generators": [' + body + '], "buses": [' + buses +
            ',], "objective": 7642.3}\n\nNote: values are approximate.')
    ans = extract_answer(text)
    assert [g["element"] for g in ans["generators"]] == gens
    verdict = check_answer(model, ans)
    kinds = {v["constraint"] for v in verdict["violations"]}
    assert "format" not in kinds  # readable and complete: judged on physics instead
    assert "power_balance" in kinds
    assert np.isclose(verdict["satisfaction"]["voltage"], 1.0)


# ---- issue 10: hostile free-mode text is read in linear time ----------------------------

def test_eight_thousand_braces_then_the_answer():
    """8,000 `{` took 7-15 s (a scan to the end from every brace); now one pass."""
    assert extract_answer("{" * 8000) is None
    assert extract_answer("{ " * 8000 + GOOD)["buses"][0]["vm_pu"] == 1.06
    assert extract_answer("{" * 8000 + GOOD + "}" * 3)["generators"][0]["p_mw"] == 232.4


def test_many_fences_and_unclosed_documents_are_bounded():
    assert extract_answer("```\n{" * 8000) is None
    text = '{"buses": [' + '{"x": 1},' * 20000  # truncated: the complete entries survive
    assert len(extract_answer(text)["buses"]) == 20000


def test_apostrophes_in_prose_do_not_swallow_the_answer():
    text = "It's a hard one {don't panic}. Here's my answer: " + GOOD + " That's all."
    assert extract_answer(text)["buses"][0]["element"] == "bus:0"


def test_byte_order_mark_and_fence_with_long_white_space():
    assert extract_answer("\ufeff" + GOOD)["schema"] == "n1studio.answer/1"
    text = "```json\n" + GOOD + "\n" + " \n" * 50_000 + "```"
    assert extract_answer(text)["schema"] == "n1studio.answer/1"


def test_deep_nesting_and_many_small_objects_are_skipped_cheaply():
    assert extract_answer('{"a":' * 100_000 + "1" + "}" * 100_000) is None
    assert extract_answer('{"a":' * 200 + "x " + GOOD)["buses"][0]["vm_pu"] == 1.06
    assert extract_answer('{"a": 1} ' * 50_000 + GOOD)["generators"][0]["p_mw"] == 232.4


def test_the_one_json_scanner_stops_where_the_first_object_closes():
    """`llm.jsonscan.JsonEnd`, used by the local worker and the server client alike: braces
    inside strings do not count, prose quotes before the object do not open a string, and
    an object split over many chunks closes on the chunk that closes it."""
    from n1studio.llm.jsonscan import JsonEnd

    pieces = ['He said "hi" {', '"a": "}{\\"', '}", "b": {"c"', ": 1}", "}", " trailing {"]
    track = JsonEnd()
    closed_at = [k for k, p in enumerate(pieces) if track.feed(p)]
    assert closed_at[0] == 4
    t = JsonEnd()
    assert not t.feed("no object here } at all")
    assert t.feed('{"x": 1} and {"y": 2}')
