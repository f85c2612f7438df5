"""`n1studio check CASE ANSWER.json`: exit codes, --json, stdin, bad files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from n1studio.cli import main
from tests.check.conftest import runopp_answer

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def answer_file(tmp_path):
    path = tmp_path / "answer.json"
    path.write_text(json.dumps(runopp_answer("case14")))
    return path


def _run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_feasible_answer_exits_0_and_prints_the_verdict(answer_file, capsys):
    code, out, _ = _run(["check", "case14", str(answer_file), "--json", "--no-reference"], capsys)
    assert code == 0
    verdict = json.loads(out)
    assert verdict["schema"] == "n1studio.verdict/1" and verdict["feasible"] is True


def test_infeasible_answer_exits_1_with_a_table(tmp_path, capsys):
    answer = runopp_answer("case14")
    answer["generators"][1]["p_mw"] = 500.0
    path = tmp_path / "a.json"
    path.write_text(json.dumps(answer))
    code, out, _ = _run(["check", "case14", str(path), "--no-reference"], capsys)
    assert code == 1
    assert "INFEASIBLE" in out
    row = next(line for line in out.splitlines() if "gen_p" in line and "gen:0" in line)
    assert "500" in row and "140" in row
    assert "gen_p" in out and "80.0 %" in out


def test_out_takes_an_element_out(answer_file, capsys):
    code, out, _ = _run(["check", "case14", str(answer_file), "--out", "gen:0", "--json",
                         "--no-reference"], capsys)
    verdict = json.loads(out)
    assert code == 1
    assert [v["element"] for v in verdict["violations"] if v["constraint"] == "removed_element"] == ["gen:0"]


def test_garbage_file_is_a_verdict_not_a_crash(tmp_path, capsys):
    path = tmp_path / "junk.json"
    path.write_bytes(b"\x00\x01 this is not json")
    code, out, _ = _run(["check", "case14", str(path), "--json", "--no-reference"], capsys)
    assert code == 1
    verdict = json.loads(out)
    assert verdict["violations"][0]["constraint"] == "format"
    assert verdict["overall_satisfaction"] == 0.0


@pytest.mark.parametrize("argv,needle", [
    (["check", "case14", "/no/such/answer.json"], "no such answer file"),
    (["check", "nocase", "-"], "unknown case"),
    (["check", "case14", "-", "--out", "line:999"], "line:999"),
    (["check", "case14", "-", "--tol", "p_mw"], "KEY=VALUE"),
])
def test_user_mistakes_are_one_line_exit_2(argv, needle, capsys):
    code, out, err = _run(argv, capsys)
    assert code == 2
    assert needle in err and len(err.strip().splitlines()) == 1
    assert out == ""


def test_stdin_through_the_console_script(answer_file):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-m", "n1studio.cli", "check", "case14", "-", "--json",
                           "--no-reference", "--tol", "p_mw=0.5"],
                          input=answer_file.read_bytes(), capture_output=True, env=env, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    verdict = json.loads(proc.stdout)
    assert verdict["tolerances"]["p_mw"] == 0.5
    assert b"Traceback" not in proc.stderr
