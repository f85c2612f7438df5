"""The model worker with the real default model on the CPU: cache, kill, cancel, bad requests."""

from __future__ import annotations

import math
import os
import signal
import threading

import pytest

from n1studio.errors import ModelError
from n1studio.grid.variant import Variant
from n1studio.llm.ask import ask_variant
from n1studio.llm.prompt import render_prompt
from n1studio.llm.runtime import FREE, ModelSettings, gpu_offload_supported

FREE_SHORT = ModelSettings(mode=FREE, max_tokens=6)

pytestmark = pytest.mark.slow  # the real model on the CPU: tens of seconds


def test_second_variant_reuses_the_cached_prefix(client, case14):
    """Variant 2 of the same grid only evaluates the tail after the shared grid description."""
    a = render_prompt(Variant(case14, ["line:3"]))
    b = render_prompt(Variant(case14, ["trafo:1"]))
    first = client.complete(a.text, settings=FREE_SHORT, max_tokens=4)
    second = client.complete(b.text, settings=FREE_SHORT, max_tokens=4)
    shared_tokens = first.stats["prompt_tokens"] - 60  # the variant tail is a few dozen tokens
    assert second.stats["cached_tokens"] > 0
    assert second.stats["cached_tokens"] >= shared_tokens
    assert second.stats["prompt_tokens"] - second.stats["cached_tokens"] < 80
    # what the cache saves in time (first-token latency) is measured in bench/bench_llm.py:
    # wall-clock comparisons on a shared machine are not pass/fail material


def test_cancel_stops_between_tokens(client, case14):
    p = render_prompt(Variant(case14, ["line:5"]))
    cancel = threading.Event()
    seen = []

    def on_event(ev):
        if ev.get("ev") == "token":
            seen.append(ev["text"])
            if len(seen) == 3:
                cancel.set()

    res = client.complete(p.text, settings=ModelSettings(mode=FREE, max_tokens=400),
                          on_event=on_event, cancel=cancel)
    assert res.cancelled
    assert res.stats["completion_tokens"] <= 6
    assert res.raw == "".join(seen)


def test_worker_killed_mid_answer_is_an_error_and_the_caller_goes_on(client, case14):
    v = Variant(case14, ["line:3"])
    killed = []

    def on_event(ev):
        if ev.get("ev") == "token" and not killed:
            killed.append(client.worker_pid)
            os.kill(client.worker_pid, signal.SIGKILL)

    with pytest.raises(ModelError, match="model worker was killed by SIGKILL") as exc:
        ask_variant(v, ModelSettings(), on_event=on_event, client=client)
    assert "\n" not in str(exc.value)
    assert killed and client.worker_pid is None
    # the caller asks again: a fresh worker, a complete, schema-valid answer
    res = ask_variant(v, ModelSettings(), client=client)
    assert client.worker_pid not in (None, killed[0])
    # nothing kept in memory: the prompt is read again, or its shared part loaded from disk
    assert res.stats["prompt_state"] != "memory"
    assert [g["element"] for g in res.answer["generators"]] == \
        ["ext_grid:0", "gen:0", "gen:1", "gen:2", "gen:3"]
    assert len(res.answer["buses"]) == 14
    # schema-true: the variant's buses, in order, every number finite (the llm layer does
    # not judge; n1studio.pipeline does)
    assert [b["element"] for b in res.answer["buses"]] == render_prompt(v).buses
    assert all(math.isfinite(x[k]) for x in res.answer["generators"] + res.answer["buses"]
               for k in x if k != "element")


def test_prompt_longer_than_the_context_is_refused(client, case14):
    p = render_prompt(Variant(case14))
    with pytest.raises(ModelError, match="need .* tokens but the context is 512"):
        client.complete(p.text, settings=ModelSettings(n_ctx=512, mode=FREE, max_tokens=4))


@pytest.mark.skipif(gpu_offload_supported(), reason="this llama.cpp build can offload")
def test_gpu_request_on_a_cpu_build_is_refused(client):
    with pytest.raises(ModelError, match="CPU-only"):
        client.complete("hello", settings=ModelSettings(n_gpu_layers=10, mode=FREE))
