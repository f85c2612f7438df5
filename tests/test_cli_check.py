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
    removed = [v["element"] for v in verdict["violations"] if v["constraint"] == "removed_element"]
    assert removed == ["gen:0"]


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


# ---- issue 10: hostile answers, many answers, internal errors ------------------------------

PGLIB14 = "pglib_opf_case14_ieee"


@pytest.fixture(scope="module")
def solved_answer():
    """The reference answer as `n1studio solve --json` prints it (real solver, real CLI)."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["solve", PGLIB14, "--json"])
    assert code == 0
    return json.loads(out.getvalue())


def test_byte_order_mark_file_is_read(answer_file, capsys):
    answer_file.write_bytes(b"\xef\xbb\xbf" + answer_file.read_bytes())
    code, out, _ = _run(["check", "case14", str(answer_file), "--json", "--no-reference"], capsys)
    assert code == 0 and json.loads(out)["feasible"] is True


@pytest.mark.parametrize("name", ["line:\u0661", "line: 1", "line:01", "line:" + "9" * 5000])
def test_odd_out_names_are_one_line_user_errors(name, answer_file, capsys):
    code, out, err = _run(["check", "case14", str(answer_file), "--out", name], capsys)
    assert code == 2 and out == ""
    assert "malformed element name" in err and len(err.strip().splitlines()) == 1
    assert len(err) < 300


def test_integer_beyond_float_range_is_a_verdict_with_references(tmp_path, solved_answer, capsys):
    """It raised OverflowError in the recall test and the CLI exited 1 with a traceback."""
    answer = dict(solved_answer, generators=[dict(g) for g in solved_answer["generators"]])
    gen = answer["generators"][0]["element"]
    answer["generators"][0]["p_mw"] = "BIG"
    path = tmp_path / "big.json"
    path.write_text(json.dumps(answer).replace('"BIG"', "1" + "0" * 400))
    code, out, err = _run(["check", PGLIB14, str(path), "--json"], capsys)
    assert code == 1, err
    verdict = json.loads(out)
    assert [(v["element"], v["constraint"]) for v in verdict["violations"]
            if v["constraint"] == "format"] == [(gen, "format")]
    assert verdict["reference_objective"] is not None
    assert "Traceback" not in err


def test_many_answers_in_one_process(tmp_path, solved_answer, capsys):
    """The reference from `solve --json` is feasible; garbage lines are format verdicts."""
    lines = [json.dumps(solved_answer),  # a document
             json.dumps({"id": "m1", "answer": solved_answer}),  # a wrapped document
             json.dumps({"id": 7, "answer": "```json\n" + json.dumps(solved_answer) + "\n```"}),
             "",  # blank: skipped
             "the dispatch is 40 MW",
             '{"schema": "n1studio.answer/1", "buses": [',
             json.dumps({"answer": None}),
             "\ufeff" + json.dumps(solved_answer)[:-1] + ', "generators": 5}']
    jsonl = tmp_path / "answers.jsonl"
    jsonl.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = _run(["check", PGLIB14, "--jsonl", str(jsonl), "--json"], capsys)
    assert code == 1, err
    verdicts = [json.loads(line) for line in out.splitlines()]
    assert [v["source"] for v in verdicts] == [f"{jsonl}:{n}" for n in (1, 2, 3, 5, 6, 7, 8)]
    assert [v["feasible"] for v in verdicts] == [True, True, True, False, False, False, False]
    assert [v.get("id") for v in verdicts[:3]] == [None, "m1", 7]
    assert all(v["schema"] == "n1studio.verdict/1" for v in verdicts)
    first = [(v["violations"][0]["constraint"], v["violations"][0]["message"].split(":")[0])
             for v in verdicts[3:]]
    assert first == [("format", "not JSON"), ("format", "not JSON"), ("format", "no answer"),
                     ("format", "generators")]
    assert verdicts[0]["cost_gap"] == pytest.approx(0.0, abs=1e-6)

    # two files, both feasible: exit 0, one line each and a total without --json
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(solved_answer))
    b.write_text(lines[1])
    code, out, _ = _run(["check", PGLIB14, str(a), "--jsonl", str(b), "--no-reference"], capsys)
    assert code == 0
    assert out.splitlines() == [f"{a}: FEASIBLE", f"{b}:1: FEASIBLE",
                                "pglib_opf_case14_ieee N: 2 answers, 2 feasible, 0 infeasible"]


def test_no_answer_at_all_is_a_user_error(tmp_path, capsys):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    for argv in (["check", "case14"], ["check", "case14", "--jsonl", str(empty)],
                 ["check", "case14", "-", "--jsonl", "-"]):
        code, _, err = _run(argv + ["--no-reference"], capsys)
        assert code == 2 and len(err.strip().splitlines()) == 1, (argv, err)


def register(sub):
    """A test-only command whose handler has a bug (no real route raises any more)."""
    p = sub.add_parser("crash-for-test")
    p.set_defaults(func=lambda args: {}["no such key"])


def test_an_internal_error_is_exit_3_with_one_line_and_a_report(tmp_path, monkeypatch, capsys):
    from n1studio import cli

    monkeypatch.setattr(cli, "GROUPS", (*cli.GROUPS, __name__))
    monkeypatch.setenv("N1STUDIO_CRASH_DIR", str(tmp_path / "crashes"))
    code, out, err = _run(["crash-for-test"], capsys)
    assert code == 3 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("n1studio: internal error: KeyError: 'no such key' (full report: ")
    report = Path(err.strip().split("full report: ")[1].rstrip(")"))
    assert report.parent == tmp_path / "crashes"
    text = report.read_text()
    assert "Traceback (most recent call last)" in text and "crash-for-test" in text
    assert "KeyError: 'no such key'" in text
