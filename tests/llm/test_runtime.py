"""Model settings: prompt threads (n_threads_batch) beside decode threads (n_threads)."""

from __future__ import annotations

import os

import pytest

from n1studio.curate.study import settings_key
from n1studio.errors import ModelError
from n1studio.llm.runtime import ModelSettings, prompt_threads, validate_settings

CORES = len(os.sched_getaffinity(0))


def test_prompt_is_read_on_every_free_core_and_written_on_all_but_one():
    s = ModelSettings()
    assert s.n_threads == max(1, CORES - 1)
    assert s.n_threads_batch == 0  # automatic
    assert prompt_threads(s.n_threads, 0, load=0.0) == CORES  # an idle machine: every core
    assert prompt_threads(s.n_threads, 0, load=CORES + 9.0) == s.n_threads  # a busy one
    assert prompt_threads(s.n_threads, 2, load=CORES + 9.0) == 2  # asked for: exactly that


def test_negative_prompt_threads_are_one_clear_line():
    with pytest.raises(ModelError, match=r"prompt threads must be 0 \(automatic\) or more"):
        validate_settings(ModelSettings(n_threads_batch=-1))


def test_prompt_threads_reload_the_model_but_do_not_change_the_answer_key():
    a, b = ModelSettings(n_threads_batch=1), ModelSettings(n_threads_batch=2)
    assert a.load_key() != b.load_key()
    # a study's runs with different thread counts answer the same question
    assert settings_key(a.to_dict()) == settings_key(b.to_dict())


@pytest.mark.slow
def test_the_worker_engine_reads_with_the_prompt_threads(default_model):
    """The llama.cpp context really gets both counts (read back from the C context), and an
    answer's statistics say how many threads read its prompt."""
    import llama_cpp

    from n1studio.llm.engine import Engine

    s = ModelSettings(n_threads=1, n_threads_batch=2).resolved()
    engine = Engine(s.to_dict(), n_ctx=512)
    try:
        ctx = engine.llama._ctx.ctx
        assert llama_cpp.llama_n_threads(ctx) == 1
        assert llama_cpp.llama_n_threads_batch(ctx) == 2
        r = engine.run("The capital of France is", None, 2, lambda ev: None, lambda: False)
        assert r["stats"]["prompt_threads"] == 2
    finally:
        engine.llama.close()
