"""`n1studio ask` with the real default model (CPU): a schema-valid answer and its verdict."""

from __future__ import annotations

import json
import math

import pytest

from n1studio.cli import main
from n1studio.grid.cases import load_case
from n1studio.grid.variant import Variant
from n1studio.llm.ask import STAT_KEYS
from n1studio.llm.prompt import answer_elements


@pytest.mark.slow
def test_ask_case14_line3_json(capsys):
    code = main(["ask", "case14", "--out", "line:3", "--json"])
    out = capsys.readouterr().out
    doc = json.loads(out)  # exactly one JSON document on stdout
    assert code in (0, 1)
    ans = doc["answer"]
    gens, buses = answer_elements(Variant(load_case("case14"), ["line:3"]).model)
    assert ans["schema"] == "n1studio.answer/1"
    assert [g["element"] for g in ans["generators"]] == gens
    assert [b["element"] for b in ans["buses"]] == buses
    for g in ans["generators"]:
        assert set(g) == {"element", "p_mw", "q_mvar"}
        assert all(math.isfinite(g[k]) for k in ("p_mw", "q_mvar"))
    for b in ans["buses"]:
        assert set(b) == {"element", "vm_pu", "va_degree"}
    assert json.loads(doc["raw"]) == ans
    v = doc["verdict"]
    assert v["schema"] == "n1studio.verdict/1"
    assert code == (0 if v["feasible"] else 1)
    assert not [x for x in v["violations"] if x["constraint"] == "format"]
    assert "line:3" not in [x["element"] for x in v["violations"]]
    assert set(STAT_KEYS) <= set(doc["stats"])
    assert doc["stats"]["completion_tokens"] > 0 and doc["stats"]["prompt_tokens"] > 1000
    assert "Out of service: line:3" in doc["prompt"]


def test_ask_with_a_file_that_is_not_gguf(tmp_path, capsys):
    bad = tmp_path / "weights.gguf"
    bad.write_bytes(b"PK\x03\x04 a zip archive, not a model")
    code = main(["ask", "case14", "--model", str(bad), "--json"])
    cap = capsys.readouterr()
    assert code == 2 and cap.out == ""
    assert cap.err.strip().count("\n") == 0
    assert "not a GGUF model file" in cap.err


def test_ask_with_an_unknown_element(capsys):
    code = main(["ask", "case14", "--out", "line:99"])
    cap = capsys.readouterr()
    assert code == 2 and "line:99" in cap.err and "Traceback" not in cap.err
