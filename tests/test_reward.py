"""n1studio.reward: TRL's reward_funcs signature on the checker, judged on real answers
(the controls' and the default model's) of PGLib case14."""

from __future__ import annotations

import json
import random

import pytest

from n1studio.controls import control_answer
from n1studio.grid.cases import load_case
from n1studio.grid.variant import Variant
from n1studio.pipeline import references
from n1studio.reward import DEFAULT_WEIGHTS, completion_text, make_reward

CASE = "pglib_opf_case14_ieee"
OUTAGES = ["line:3"]


@pytest.fixture(scope="module")
def answers():
    v = Variant(load_case(CASE), OUTAGES)
    refs = references(v)
    return {name: json.dumps(control_answer(name, v.model, refs.own_answer, refs.n_answer,
                                            label=v.label))
            for name in ("control:reference", "control:noise:0.05", "control:zeros")}


def _cols(n):
    return {"case": [CASE] * n, "outages": [OUTAGES] * n, "perturbation": ["{}"] * n}


def test_controls_rank_as_a_user_expects(answers):
    details = []
    reward = make_reward(details=details)
    texts = list(answers.values()) + ["I think the grid is fine."]
    scores = reward(prompts=["p"] * 4, completions=texts, **_cols(4))
    ref, noise, zeros, garbage = scores
    assert ref == pytest.approx(1.0)
    assert details[0] == {"format": 1.0, "constraints": 1.0, "feasible": 1.0, "distance": 0.0}
    assert garbage == 0.0  # the format floor
    assert ref > noise > garbage and ref > zeros > garbage
    assert zeros < 0.5
    assert details[2]["feasible"] == 0.0 and details[2]["format"] == 1.0


def test_chat_completions_and_weights(answers):
    ref = answers["control:reference"]
    chat = [[{"role": "assistant", "content": ref}]]
    assert make_reward()(prompts=[[{"role": "user", "content": "q"}]], completions=chat,
                         **_cols(1)) == [pytest.approx(1.0)]
    assert completion_text([{"role": "user", "content": "q"},
                            {"role": "assistant", "content": "a"}]) == "a"
    only_format = make_reward(weights={"constraints": 0, "feasible": 0, "format": 2.0})
    assert only_format(completions=[answers["control:zeros"]], **_cols(1)) == [2.0]
    with pytest.raises(ValueError, match="unknown reward component"):
        make_reward(weights={"style": 1.0})
    assert sum(DEFAULT_WEIGHTS.values()) == pytest.approx(1.0)


def test_distance_component_rewards_the_nearer_answer(answers):
    details = []
    reward = make_reward(distance=True, details=details)
    s = reward(completions=[answers["control:reference"], answers["control:noise:0.05"]],
               **_cols(2))
    assert s[0] == pytest.approx(1.0, abs=1e-3)
    assert details[0]["distance"] == pytest.approx(1.0, abs=1e-3)
    assert 0.0 <= details[1]["distance"] < details[0]["distance"]


def test_never_raises_on_any_text(answers):
    reward = make_reward()
    ref = answers["control:reference"]
    rng = random.Random(7)
    pieces = ['{', '}', '[', ']', '"buses"', '"generators"', ':', ',', '"element"', '"bus:1"',
              '1e309', 'NaN', '-', '"vm_pu"', 'null', 'true', '```json', '\x00', 'é', '\ufeff']
    texts = [ref[:k] for k in range(0, len(ref), 97)]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 40))) for _ in range(60)]
    texts += [ref.replace("0", "9", 5), "{" * 5000, None, 3.5, {"content": ref},
              [{"role": "assistant", "content": ["not", "text"]}]]
    scores = reward(completions=texts, **_cols(len(texts)))
    assert len(scores) == len(texts)
    assert all(isinstance(s, float) and 0.0 <= s <= 1.0 for s in scores)
    assert scores[-2] == pytest.approx(1.0)  # a bare message dict is read too
    # a completion whose grid cannot be found scores the floor, the others still score
    cols = _cols(2)
    cols["case"] = ["no_such_case", CASE]
    assert reward(completions=[ref, ref], **cols) == [0.0, pytest.approx(1.0)]


@pytest.mark.slow
def test_default_model_answers_score_between_floor_and_reference():
    from n1studio.pipeline import ask

    v = Variant(load_case(CASE))
    details = []
    reward = make_reward(details=details)
    for _ in range(2):
        asked = ask(v)
        s = reward(completions=[asked.raw], case=[CASE], outages=[[]], perturbation=["{}"])[0]
        verdict = asked.verdict
        usable = bool(verdict.get("usable"))
        expected = (0.1 * details[-1]["format"]
                    + 0.4 * ((verdict["overall_satisfaction"] or 0) if usable else 0)
                    + 0.5 * bool(verdict["feasible"]))
        assert s == pytest.approx(expected, abs=1e-9)
        assert details[-1]["format"] == (0.0 if not usable else details[-1]["format"])
        assert 0.0 <= s <= 1.0
