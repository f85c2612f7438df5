"""`check --repair`: the distance to feasibility from the command line, on a real case."""

from __future__ import annotations

import json

from n1studio.cli import main

CASE = "pglib_opf_case14_ieee"


def test_repair_grades_the_recalled_n_answer(tmp_path, capsys):
    assert main(["solve", CASE, "--json"]) == 0
    n_answer = tmp_path / "n.json"
    n_answer.write_text(capsys.readouterr().out)
    assert main(["check", CASE, str(n_answer), "--out", "line:6", "--repair", "--json"]) == 1
    v = json.loads(capsys.readouterr().out)
    assert v["recall"]["verdict"] == "recalled" and v["recalled_n_answer"] is True
    assert 0 < v["distance_to_feasible"] < 1
    # the repaired answer is feasible on the variant: check it again, as a user would
    fixed = tmp_path / "fixed.json"
    fixed.write_text(json.dumps(v["repaired"]))
    assert main(["check", CASE, str(fixed), "--out", "line:6", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["feasible"] is True
    # the summary says it in words
    assert main(["check", CASE, str(n_answer), "--out", "line:6", "--repair"]) == 1
    text = capsys.readouterr().out
    assert "recall: RECALLED" in text and "distance to feasibility: 0." in text
