"""`n1studio cases` and `n1studio solve` as users call them (SPEC.md's command line)."""

from __future__ import annotations

import json

import pytest

from n1studio.cli import main
from n1studio.schema import ANSWER


def test_cases_lists_pandapower_and_pglib(capsys):
    assert main(["cases", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    by_name = {c["name"]: c for c in doc["cases"]}
    assert by_name["case14"]["source"] == "pandapower" and by_name["case14"]["buses"] == 14
    assert by_name["pglib_opf_case118_ieee"]["source"] == "pglib"
    assert by_name["pglib_opf_case118_ieee"]["buses"] == 118
    assert main(["cases"]) == 0
    assert "pglib_opf_case14_ieee" in capsys.readouterr().out


def test_solve_json_is_the_reference_answer(capsys):
    assert main(["solve", "pglib_opf_case14_ieee", "--json"]) == 0
    out = capsys.readouterr().out
    doc = json.loads(out)  # exactly one JSON document
    assert doc["schema"] == ANSWER and doc["status"] == "optimal" and doc["success"] is True
    assert doc["objective"] == pytest.approx(2178.08, rel=5e-4)  # BASELINE.md: 2.1781e+03
    assert [g["element"] for g in doc["generators"]] == ["ext_grid:0", "gen:0", "gen:1",
                                                          "gen:2", "gen:3"]
    assert len(doc["buses"]) == 14
    assert sum(g["p_mw"] for g in doc["generators"]) > 259.0  # load plus losses


def test_solve_with_outage_omits_the_removed_unit(capsys):
    assert main(["solve", "pglib_opf_case30_ieee", "--out", "gen:3", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["outages"] == ["gen:3"]
    assert "gen:3" not in [g["element"] for g in doc["generators"]]


def test_solve_dc_and_human_summary(capsys):
    assert main(["solve", "pglib_opf_case14_ieee", "--dc", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["kind"] == "dc" and doc["objective"] == pytest.approx(2051.5, rel=1e-4)
    assert main(["solve", "pglib_opf_case30_ieee", "--out", "line:27"]) == 0
    text = capsys.readouterr().out
    assert "optimal" in text and "bus:26" in text and "1 bus(es) cut off" in text


def test_infeasible_variant_exits_1_with_json_and_a_stderr_line(capsys):
    code = main(["solve", "pglib_opf_case14_ieee", "--out", "ext_grid:0", "--out", "gen:0",
                 "--json"])
    captured = capsys.readouterr()
    assert code == 1
    doc = json.loads(captured.out)
    assert doc["status"] == "infeasible" and doc["success"] is False and "objective" not in doc
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and "infeasible" in err[0]


@pytest.mark.parametrize("argv", [["solve", "no_such_case"],
                                  ["solve", "case14", "--out", "line:99"],
                                  ["solve", "case14", "--out", "bogus"]])
def test_user_mistakes_exit_2_with_one_line(argv, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1 and "Traceback" not in captured.err


def test_solve_budget_flags_stop_the_solver_with_a_clear_status(capsys):
    rc = main(["solve", "case30", "--max-iter", "3", "--json"])
    out, err = capsys.readouterr()
    assert rc == 1
    doc = json.loads(out)
    assert doc["status"] == "iteration_limit" and doc["success"] is False
    assert len(err.strip().splitlines()) == 1 and "iteration limit of 3" in err
    # the next call with the default budget solves it
    assert main(["solve", "case30", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "optimal"


HEAVY = ("pandapower", "PySide6", "llama_cpp", "casadi")


def _imported_by(argv: list[str]) -> set[str]:
    """The heavy packages a fresh `n1studio ARGV` process has imported when it ends."""
    import os
    import subprocess
    import sys

    code = ("import sys, contextlib, io\n"
            "from n1studio.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n"
            f"        main({argv!r})\n"
            "    except SystemExit:\n"
            "        pass\n"
            f"print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    return set(res.stdout.split())


@pytest.mark.parametrize("argv, allowed", [
    (["--help"], set()), (["cases"], set()), (["check", "--help"], set()),
    (["prompt", "case9"], {"pandapower"}),
])
def test_quick_commands_import_only_what_they_use(argv, allowed):
    assert _imported_by(argv) <= allowed
