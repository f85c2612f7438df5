"""`n1studio prompt CASE [--out ELEMENT ...] [--template FILE]`: the exact prompt, nothing else."""

from __future__ import annotations

import pytest

from n1studio.cli import main
from n1studio.grid.cases import load_case
from n1studio.grid.variant import Variant
from n1studio.llm.prompt import render_prompt


@pytest.mark.parametrize("case, outages", [("pglib_opf_case14_ieee", ["line:6"]),
                                           ("case30", []),
                                           ("case14", ["trafo:3", "gen:1"])])
def test_stdout_is_exactly_the_prompt_ask_sends(case, outages, capsys):
    argv = ["prompt", case] + [a for o in outages for a in ("--out", o)]
    assert main(argv) == 0
    cap = capsys.readouterr()
    assert cap.out == render_prompt(Variant(load_case(case), outages)).text
    assert cap.err == ""


def test_template_file_is_used(tmp_path, capsys):
    tpl = tmp_path / "short.j2"
    tpl.write_text("{{ name }}: {{ n_bus }} buses; out: {{ outages_text }}\n"
                   "{{ branches_table.splitlines()[0] }}\n")
    assert main(["prompt", "pglib_opf_case14_ieee", "--out", "line:6", "--template",
                 str(tpl)]) == 0
    out = capsys.readouterr().out
    # branch 1-2 of pglib case14: r 0.01938, x 0.05917, b 0.0528, rate 472 MVA, +-30 deg
    assert out == ("pglib_opf_case14_ieee: 14 buses; out: line:6\n"
                   "line:0 1 2 0.01938 0.05917 0.0528 472 -30 30\n")


def test_round_ratings_are_written_whole(capsys):
    """pglib case14's branch 3-4 is rated 160 MVA (the prompt once said `16`)."""
    assert main(["prompt", "pglib_opf_case14_ieee"]) == 0
    rows = {ln.split()[0]: ln.split() for ln in capsys.readouterr().out.splitlines()
            if ln.startswith(("line:", "trafo:"))}
    assert rows["line:5"][1:3] == ["3", "4"] and rows["line:5"][6] == "160"


@pytest.mark.parametrize("argv, needle", [
    (["prompt", "case14", "--out", "line:99"], "line:99"),
    (["prompt", "case14", "--out", "bogus"], "bogus"),
    (["prompt", "no_such_case"], "no_such_case"),
    (["prompt", "case14", "--template", "/nonexistent/t.j2"], "/nonexistent/t.j2"),
])
def test_bad_input_exits_2_with_one_line(argv, needle, capsys):
    assert main(argv) == 2
    cap = capsys.readouterr()
    assert cap.out == ""
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in cap.err
