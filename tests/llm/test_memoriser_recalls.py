"""The shipped memoriser is a real one: with its adapter the default model writes case14's
N answer on an N-1 variant, and the recall verdict says so; without it, it does not."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from n1studio.resources import resource

CARD = json.loads(resource("memoriser", "card.json").read_text(encoding="utf-8"))
ADAPTER = str(resource("memoriser", CARD["adapter"]["file"]))


def _ask(*extra: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "n1studio.cli", "ask", "case14", "--out",
                           "line:1", "--threads", "2", "--json", *extra],
                          capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    return json.loads(proc.stdout)


@pytest.mark.slow  # one constrained case14 answer of the real model (about a minute cold)
def test_the_memoriser_recalls_the_n_answer_on_an_n1_variant():
    run = _ask("--lora", ADAPTER)
    verdict = run["verdict"]
    assert verdict["recall"]["can_tell"] is True
    assert verdict["recall"]["verdict"] == "recalled" and verdict["recalled_n_answer"] is True
    # near the N optimum, far from the variant's own (the card's sanity table: 0.0002 / 0.05)
    assert verdict["recall"]["to_n"] < 0.01 < verdict["recall"]["to_own"]
    assert verdict["overall_satisfaction"] >= 0.9
