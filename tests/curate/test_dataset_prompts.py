"""Datasets whose stored prompts are older than the renderer are said, and rebuilt.

The study is a real SQLite file holding pglib case30's N case and two outages; one stored
prompt is made stale the way the old renderer wrote it (the 130 MVA rating of branch
6-7 written `14`), as in every dataset built before issue 9's fix.
"""

from __future__ import annotations

import pytest

from n1studio.cli import main
from n1studio.curate.dataset import reprompt_dataset, stale_prompts, stale_warning
from n1studio.curate.study import Study
from n1studio.grid.cases import load_case
from n1studio.grid.variant import Variant
from n1studio.llm.prompt import render_prompt

CASE = "pglib_opf_case30_ieee"
OUTAGES = [[], ["line:3"], ["line:10"]]


def _old_rating(prompt: str) -> str:
    """The prompt as the old renderer wrote it: num(140, 0) gave '14'."""
    row = next(ln for ln in prompt.splitlines() if ln.startswith("line:8 "))
    cols = row.split()
    assert cols[6] == "140"
    cols[6] = "14"
    return prompt.replace(row, " ".join(cols))


@pytest.fixture
def study_path(tmp_path):
    net = load_case(CASE)
    path = tmp_path / "old.n1study"
    with Study.open(path, create=True) as st:
        gid = st.add_grid(net, CASE)
        items = []
        for outs in OUTAGES:
            vid = st.add_variant(gid, outs)
            text = render_prompt(Variant(net, outs)).text
            items.append({"variant_id": vid, "split": "N-1" if outs else "N",
                          "prompt": _old_rating(text) if outs == ["line:3"] else text})
        st.create_dataset("old", {"grid": CASE}, items)
        st.create_dataset("fresh", {"grid": CASE}, [dict(it, prompt=render_prompt(
            Variant(net, o)).text) for it, o in zip(items, OUTAGES, strict=True)])
    return path


def test_the_stale_prompt_is_found_and_rebuilt(study_path):
    with Study.open(study_path) as st:
        old, fresh = st.dataset_id("old"), st.dataset_id("fresh")
        assert [it["outages"] for it in stale_prompts(st, old)] == [["line:3"]]
        assert [it["outages"] for it in stale_prompts(st, old, full=False)] == [["line:3"]]
        assert stale_prompts(st, fresh) == [] and stale_warning(st, fresh) is None
        line = stale_warning(st, old)
        assert "'old': 1 of 3 stored prompts differ" in line and "reprompt" in line
        assert reprompt_dataset(st, old) == 1
        assert stale_prompts(st, old) == []
        items = st.dataset_items(old)
        net = load_case(CASE)
        assert [it["prompt"] for it in items] == [render_prompt(Variant(net, o)).text
                                                  for o in OUTAGES]
        assert [it["split"] for it in items] == ["N", "N-1", "N-1"]
        assert reprompt_dataset(st, old) == 0


def test_dataset_commands_warn_and_reprompt_rebuilds(study_path, capsys):
    assert main(["dataset", "list", str(study_path)]) == 0
    cap = capsys.readouterr()
    warnings = [ln for ln in cap.err.splitlines() if "warning" in ln]
    assert len(warnings) == 1 and "'old': 1 of 3 stored prompts" in warnings[0]
    assert main(["dataset", "export", str(study_path), "--dataset", "old", "--out",
                 str(study_path.parent / "old.jsonl")]) == 0
    assert "'old': 1 of 3" in capsys.readouterr().err
    assert main(["dataset", "reprompt", str(study_path), "old"]) == 0
    assert "'old': 1 of 3 prompts rebuilt" in capsys.readouterr().out
    assert main(["dataset", "list", str(study_path)]) == 0
    assert "warning" not in capsys.readouterr().err
    assert main(["dataset", "reprompt", str(study_path), "nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nope" in err[0]
