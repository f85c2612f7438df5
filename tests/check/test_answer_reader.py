"""One answer reader (`grid.answer`): the checker and the nearest feasible point read the
same numbers from the same text, fences, byte-order marks and bad entries included."""

from __future__ import annotations

import json
import math

import numpy as np

from n1studio.check import check_answer
from n1studio.check.evaluate import prepare
from n1studio.check.parse import MAX_ANSWER_BYTES, parse_answer
from n1studio.grid.answer_text import fence_bodies, unfence
from n1studio.llm.parse import extract_answer
from n1studio.solve.nearest import answer_arrays
from tests.check.conftest import model_of, runopp_answer


def _messy(doc: dict) -> dict:
    """The answer with what a model gets wrong: a string number, a duplicate (the first
    counts), an unknown bus, a boolean, a number beyond float range."""
    doc = json.loads(json.dumps(doc))
    doc["buses"][1]["vm_pu"] = "1.02"
    doc["buses"].append(dict(doc["buses"][2], vm_pu=0.5))  # a copy: ignored
    doc["buses"].append({"element": "bus:999", "vm_pu": 1.0, "va_degree": 0.0})
    doc["generators"][0]["q_mvar"] = True
    doc["generators"][1]["p_mw"] = 10 ** 400
    return doc


def test_the_checker_and_the_nearest_point_read_the_same_numbers():
    model = model_of("case14", ("line:3",))
    doc = _messy(runopp_answer("case14", ("line:3",)))
    text = "\ufeff```json\n" + json.dumps(doc) + "\n```"
    prep = prepare(model)
    required_bus, required_gen = prep.required_bus, prep.required_gen
    checked = parse_answer(model, text, required_bus, required_gen)
    near = answer_arrays(model, text)
    assert checked.usable
    buses = np.flatnonzero(required_bus)
    gens = np.flatnonzero(required_gen)
    np.testing.assert_array_equal(near["vm"][buses], checked.vm[buses])
    np.testing.assert_allclose(near["va"][buses], np.deg2rad(checked.va_deg[buses]))
    np.testing.assert_array_equal(near["pg"][gens], checked.p_mw[gens])
    np.testing.assert_array_equal(near["qg"][gens], checked.q_mvar[gens])
    # what a user reads in the verdict: each bad entry named once, its value missing
    k1 = model.bus_names.index(doc["buses"][1]["element"])
    k2 = model.bus_names.index(doc["buses"][2]["element"])
    assert math.isnan(near["vm"][k1]) and near["vm"][k2] == doc["buses"][2]["vm_pu"]
    g0 = model.gen_names.index(doc["generators"][0]["element"])
    g1 = model.gen_names.index(doc["generators"][1]["element"])
    assert math.isnan(near["qg"][g0]) and math.isnan(near["pg"][g1])
    messages = {(v["element"], v["message"]) for v in check_answer(model, text)["violations"]
                if v["constraint"] == "format"}
    assert (doc["buses"][1]["element"], "vm_pu: not a number ('1.02')") in messages
    assert ("bus:999", "not a bus of this grid") in messages


def test_one_fence_stripper_for_the_checker_and_the_free_text_reader():
    doc = runopp_answer("case14")
    body = json.dumps(doc)
    for text in ("```json\n" + body + "\n```", "```\n" + body + "```", "```json" + body + "```"):
        assert json.loads(unfence(text)) == doc
        assert [json.loads(b) for b in fence_bodies(text)] == [doc]
        assert extract_answer(text) == doc
        assert check_answer(model_of("case14"), text)["feasible"] is True
    prose = "Here it is:\n```json\n" + body + "\n```\nand a note ```x```"
    assert unfence(prose) == prose  # not one fence around the whole text
    assert extract_answer(prose) == doc


def test_an_answer_over_the_size_limit_is_unread_by_both():
    model = model_of("case14")
    text = '{"buses": [' + " " * (MAX_ANSWER_BYTES + 1) + "]}"
    assert np.isnan(answer_arrays(model, text)["vm"]).all()
    verdict = check_answer(model, text)
    assert any("more than the" in v["message"] for v in verdict["violations"])
