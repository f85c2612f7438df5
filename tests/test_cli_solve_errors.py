"""`n1studio solve` on bad input: one line on stderr, exit 2, never a traceback (issue 10)."""

from __future__ import annotations

import pytest

from n1studio.cli import main
from tests.grid import case_mutations as cm


def one_line_exit_2(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("n1studio: error: ")
    return lines[0]


@pytest.mark.parametrize("value", ["-1", "0"])
def test_max_iter_must_be_positive(capsys, value):
    line = one_line_exit_2(capsys, ["solve", "pglib_opf_case14_ieee", "--max-iter", value])
    assert f"--max-iter {value}: give a whole number of Ipopt iterations from 1" in line


@pytest.mark.parametrize("value", ["nan", "inf", "-5", "0"])
def test_time_limit_must_be_positive_and_finite(capsys, value):
    line = one_line_exit_2(capsys, ["solve", "pglib_opf_case14_ieee", "--time-limit", value])
    assert "--time-limit" in line and "positive, finite number of seconds" in line


def test_broken_case_file_is_one_line(capsys, tmp_path, pglib):
    text = cm.set_cell(pglib("case14_ieee").read_text(), "bus", 2, cm.PD, "NaN")
    path = cm.write(tmp_path / "nan_load.m", text)
    line = one_line_exit_2(capsys, ["solve", str(path), "--json"])
    assert "nan_load.m: mpc.bus row 3" in line and "column 3 (PD): is NaN" in line
    assert capsys.readouterr().out == ""


def test_base_mva_zero_is_one_line(capsys, tmp_path, pglib):
    path = cm.write(tmp_path / "base0.m", cm.set_base(pglib("case30_ieee").read_text(), "0"))
    line = one_line_exit_2(capsys, ["solve", str(path)])
    assert "base0.m: mpc.baseMVA is 0" in line


def test_directory_as_case(capsys, tmp_path):
    line = one_line_exit_2(capsys, ["solve", str(tmp_path)])
    assert "is a directory, not a case file" in line
