"""`n1studio likelihood`: one JSON document anyone can recompute from, and one-line refusals."""

from __future__ import annotations

import json

import pytest

from n1studio.cli import main


def test_likelihood_json_holds_the_numbers_and_the_texts_scored(capsys):
    code = main(["likelihood", "case14", "--out", "line:3", "--json", "--no-prompt"])
    out = capsys.readouterr()
    assert code == 0, out.err
    doc = json.loads(out.out)
    assert doc["schema"] == "n1studio.likelihood/1" and doc["variant"] == "N-1 line:3"
    assert doc["ll_n"] < 0 and doc["ll_own"] < 0
    assert doc["delta_ll"] == pytest.approx(doc["ll_n"] - doc["ll_own"], abs=1e-5)
    assert doc["n_tokens_n"] > 100 and doc["n_tokens_own"] > 100
    for key in ("text_n", "text_own"):
        assert json.loads(doc[key])["schema"] == "n1studio.answer/1"
    assert "prompt" not in doc and doc["model"].endswith(".gguf")


@pytest.mark.parametrize("argv, says", [
    (["--model", "control:recall-n"], "is a control"),
    (["--endpoint", "http://127.0.0.1:9", "--model", "m", "--lora", "a.gguf"],
     "--lora applies to a local GGUF model"),
    (["--lora", "no-such-adapter.gguf"], "LoRA adapter not found"),
])
def test_what_cannot_be_scored_is_one_line_exit_2(capsys, argv, says):
    code = main(["likelihood", "case14", "--out", "line:3", *argv])
    out = capsys.readouterr()
    assert code == 2 and out.out == ""
    assert out.err.count("\n") == 1 and says in out.err
