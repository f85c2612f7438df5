"""The likelihood probe: the texts it scores, its log-probabilities against an independent
computation, and what it says about the default model with and without the worked example."""

from __future__ import annotations

import json

import numpy as np
import pytest

from n1studio import pipeline
from n1studio.grid.perturb import Perturbation
from n1studio.grid.variant import Variant
from n1studio.llm.likelihood import answer_texts, likelihood
from n1studio.llm.runtime import ModelSettings, validate_settings


def _refs(variant):
    refs = pipeline.references(variant)
    return refs.n_answer, refs.own_answer


def test_both_texts_are_answers_to_the_variants_prompt(case14):
    """Each text is what a model writes for this prompt (its elements in its order, numbers at
    the schema's precision); only the numbers differ: the N answer's and the variant's own."""
    v = Variant(case14, ["line:3"])
    prompt = pipeline.render(v)
    n_ans, own = _refs(v)
    text_n, text_own = answer_texts(prompt, n_ans, own)
    docs = [json.loads(t) for t in (text_n, text_own)]
    for doc in docs:
        assert [g["element"] for g in doc["generators"]] == prompt.generators
        assert [b["element"] for b in doc["buses"]] == prompt.buses
    g_n = {g["element"]: g for g in n_ans["generators"]}
    for g in docs[0]["generators"]:
        assert g["p_mw"] == round(g_n[g["element"]]["p_mw"], 2)
    b_own = {b["element"]: b for b in own["buses"]}
    for b in docs[1]["buses"]:
        assert b["vm_pu"] == round(b_own[b["element"]]["vm_pu"], 4)
    assert text_n != text_own and " " not in text_n  # compact, as the model is asked to write


def test_relabelled_variant_own_text_is_in_the_prompts_names(case14):
    v = Variant(case14, ["line:3"], Perturbation(relabel=True, seed=3))
    prompt = pipeline.render(v)
    n_ans, own = _refs(v)
    _, text_own = answer_texts(prompt, n_ans, own, v.relabelling)
    doc = json.loads(text_own)
    rl = v.relabelling
    own_by_name = {rl.name(b["element"]): b for b in own["buses"]}
    for b in doc["buses"]:
        assert b["vm_pu"] == round(own_by_name[b["element"]]["vm_pu"], 4)


def test_log_probabilities_equal_an_independent_computation(client, default_model):
    """Our chunked scoring after a once-read prompt against llama-cpp-python with every
    position's logits (logits_all=True) and a plain numpy log-softmax: within 1e-3 per token."""
    import llama_cpp

    prompt = "Optimal power flow answer for a 3-bus grid, as compact JSON:\n"
    text = ('{"schema":"n1studio.answer/1","generators":[{"element":"gen:0","p_mw":12.5,'
            '"q_mvar":-3.25}],"buses":[{"element":"bus:0","vm_pu":1.0412,"va_degree":0.0}]}')
    s = validate_settings(ModelSettings(n_threads=1))
    comp = client.score(prompt, [text], settings=s)
    ours = np.array(comp.scores[0]["token_logprobs"])

    ref = llama_cpp.Llama(model_path=str(default_model), n_ctx=512, logits_all=True,
                          n_threads=1, verbose=False)
    try:
        p_ids = ref.tokenize(prompt.encode(), add_bos=True, special=False)
        t_ids = ref.tokenize(text.encode(), add_bos=False, special=False)
        ref.eval(p_ids + t_ids)
        rows = np.array(ref.scores[len(p_ids) - 1:len(p_ids) + len(t_ids) - 1], dtype=np.float64)
    finally:
        ref.close()
    m = rows.max(axis=1, keepdims=True)
    logp = rows - m - np.log(np.exp(rows - m).sum(axis=1, keepdims=True))
    theirs = logp[np.arange(len(t_ids)), t_ids]
    assert len(t_ids) > 32  # more than one chunk of our scoring
    assert comp.scores[0]["n_tokens"] == len(t_ids)
    assert np.max(np.abs(ours - theirs)) < 1e-3
    assert comp.scores[0]["mean"] == pytest.approx(theirs.mean(), abs=1e-3)


@pytest.mark.slow  # four case14 likelihoods, two with a 2,400-token prompt
def test_the_worked_example_makes_the_default_model_prefer_the_n_answer(client, case14):
    """With the solved N case shown in the prompt (--example n), the default model finds
    the N answer more probable, relative to the variant's own, than without it."""
    s = ModelSettings()
    for out in (["line:3"], ["gen:1"]):
        v = Variant(case14, out)
        n_ans, own = _refs(v)
        plain = likelihood(v, pipeline.render(v), n_ans, own, s, client=client)
        shown = likelihood(v, pipeline.render(v, example=True), n_ans, own, s, client=client)
        assert shown.delta_ll > plain.delta_ll + 0.05, (out, plain.delta_ll, shown.delta_ll)
        assert shown.text_n == plain.text_n and shown.n_tokens_n == plain.n_tokens_n
