"""The regex mode for vLLM's structured outputs: the portable regex accepts exactly what
the plan allows (the same strings as the client's own plan regex, which checks every
answer), on a real variant's answer plan; and the exact request body a vLLM server gets."""

from __future__ import annotations

import random
import re

from n1studio.grid.cases import load_case
from n1studio.grid.variant import Variant
from n1studio.llm.constrain import plan_token_budget
from n1studio.llm.endpoint import EndpointClient, plan_regex, portable_plan_regex
from n1studio.llm.prompt import render_prompt
from n1studio.llm.runtime import ModelSettings
from n1studio.llm.scaffold import answer_plan
from tests.llm.hostile_server import MODEL, HostileServer, text_chunk


def _fill(plan, rng, bad_at=None):
    out = []
    for k, seg in enumerate(plan):
        if seg[0] == "t":
            out.append(seg[1])
            continue
        neg, idig, fdig = bool(seg[1]), int(seg[2]), int(seg[3])
        if k == bad_at:
            out.append(rng.choice(["01", "1" * (idig + 1), "1.", "+1", "1e3", "--1", "x"]))
            continue
        i = str(rng.randrange(10 ** rng.randint(1, idig))) if idig > 1 else str(rng.randrange(10))
        f = ("." + "".join(rng.choice("0123456789") for _ in range(rng.randint(1, fdig)))
             if fdig and rng.random() < 0.7 else "")
        out.append(("-" if neg and rng.random() < 0.5 else "") + i + f)
    return "".join(out)


def test_portable_regex_accepts_exactly_the_plan():
    plan = answer_plan(render_prompt(Variant(load_case("pglib_opf_case14_ieee"), ["line:6"])))
    portable = re.compile(portable_plan_regex(plan), re.DOTALL)
    strict = plan_regex(plan)
    assert "(?:" not in portable.pattern and "\\ " not in portable.pattern
    rng = random.Random(3)
    numbers = [k for k, s in enumerate(plan) if s[0] != "t"]
    for trial in range(300):
        bad = rng.choice(numbers) if trial % 2 else None
        text = _fill(plan, rng, bad)
        assert bool(portable.fullmatch(text)) == bool(strict.fullmatch(text))
        if bad is None:  # every well-formed answer is accepted
            assert portable.fullmatch(text)
    # text beyond the answer is refused too
    assert not portable.fullmatch(_fill(plan, random.Random(1)) + "x")


def test_the_regex_request_body_is_what_vllm_binds():
    """The exact JSON body of a regex-mode request: vLLM (0.12 on) binds only
    `structured_outputs: {"regex": ...}` (the `guided_*` fields are ignored there and go
    along for older servers); streamed, with usage, greedy as asked, the plan's budget."""
    plan = [("t", '{"p_mw":'), ("n", True, 3, 2), ("t", ',"vm_pu":'), ("n", False, 1, 3),
            ("t", "}")]
    answer = '{"p_mw":-12.5,"vm_pu":1.04}'
    chunks = [text_chunk(piece) for piece in ('{"p_mw":-12', '.5,"vm_pu":1.04', "}")]
    settings = ModelSettings(temperature=0.0, seed=7, top_k=40, top_p=0.95, n_threads=1)
    with HostileServer("script", chunks=chunks) as srv:
        c = EndpointClient(srv.url + "/v1", MODEL, constrained="regex")
        res = c.complete("Dispatch the generator:", plan=plan, settings=settings)
        posts = [p for p in srv.paths if not p.startswith("/v1/models")]
        body = srv.bodies[0]
    assert res.raw == answer and res.stats["requests"] == 1
    assert posts == ["/v1/completions"]
    regex = portable_plan_regex(plan)
    assert body == {
        "model": MODEL, "prompt": "Dispatch the generator:",
        "max_tokens": plan_token_budget(plan), "temperature": 0.0, "top_p": 0.95, "top_k": 40,
        "seed": 7, "stream": True, "stream_options": {"include_usage": True},
        "repeat_penalty": 1.0, "structured_outputs": {"regex": regex}, "guided_regex": regex}
    assert re.fullmatch(body["structured_outputs"]["regex"], answer)
