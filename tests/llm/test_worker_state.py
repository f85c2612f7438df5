"""A grid's prompt read once, not once per process: a new worker loads the shared part of a
prompt it has never read from the state the previous worker left on disk."""

from __future__ import annotations

from n1studio.grid.cases import load_case
from n1studio.grid.variant import Variant
from n1studio.llm.client import ModelClient
from n1studio.llm.prompt import render_prompt
from n1studio.llm.runtime import ModelSettings
from n1studio.llm.scaffold import answer_plan, max_number_tokens


def test_a_second_process_warm_starts_from_disk_and_answers_the_same(tmp_path, monkeypatch):
    monkeypatch.setenv("N1STUDIO_PROMPT_CACHE", str(tmp_path / "states"))
    prompt = render_prompt(Variant(load_case("case9"), ["line:3"]))
    plan = answer_plan(prompt)[:8]  # the first generator and a bus: enough to compare
    s = ModelSettings()
    runs = []
    for _ in range(2):  # two worker processes, one after the other
        with ModelClient(s) as c:
            runs.append(c.complete(prompt.text, plan=plan, max_tokens=max_number_tokens(plan),
                                   shared_chars=prompt.shared_chars))
    cold, warm = runs
    files = list((tmp_path / "states").glob("*.kvstate"))
    assert len(files) == 1 and files[0].stat().st_size > 0
    assert cold.stats["prompt_state"] == "saved" and cold.stats["cached_tokens"] == 0
    assert warm.stats["prompt_state"] == "disk"
    assert 256 <= warm.stats["cached_tokens"] < warm.stats["prompt_tokens"]
    assert warm.stats["prompt_s"] < cold.stats["prompt_s"]
    assert warm.raw == cold.raw and '"p_mw":' in warm.raw
