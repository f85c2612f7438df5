"""Every solver honours the time limit (issue 19): the DC OPF's HiGHS and the AC OPF's Ipopt
stop at `time_limit_s` with status "time_limit", the reference cache solves again when a
later call allows more time, and `n1studio solve --dc --time-limit` says so (exit 1).
A small grid and a tiny limit; bench/bench_time_limit.py runs the 9,241-bus case."""

from __future__ import annotations

import math
import time

import pytest

from n1studio.cli import main
from n1studio.grid.cases import load_case
from n1studio.grid.variant import Variant
from n1studio.solve import reference as ref
from n1studio.solve.acopf import solve_acopf
from n1studio.solve.dcopf import solve_dcopf

CASE14_DC = 2051.53  # BASELINE.md: pglib_opf_case14_ieee DC 2.0515e+03 $/h


@pytest.fixture
def variant(pglib):
    return Variant(load_case(pglib("case14_ieee")))


@pytest.mark.parametrize("solve", [solve_dcopf, solve_acopf], ids=["dc", "ac"])
def test_a_tiny_limit_stops_the_solver(variant, solve):
    t0 = time.perf_counter()
    r = solve(variant.model, time_limit_s=1e-9)
    assert time.perf_counter() - t0 < 5
    assert r.status == "time_limit" and not r.success and math.isnan(r.objective)
    assert "stopped at the time limit of 1e-09 s" in r.message


def test_dc_within_its_limit_is_the_baseline_optimum(variant):
    r = solve_dcopf(variant.model, time_limit_s=60)
    assert r.success and r.objective == pytest.approx(CASE14_DC, rel=1e-4)


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan])
def test_a_limit_that_is_no_limit_is_refused(variant, bad):
    with pytest.raises(ValueError):
        solve_dcopf(variant.model, time_limit_s=bad)


def test_the_reference_cache_solves_again_with_more_time(variant):
    ref.clear()
    cut = ref.reference(variant, "dc", time_limit_s=1e-9)
    assert cut.status == "time_limit"
    full = ref.reference(variant, "dc", time_limit_s=60)
    assert full.success and full.objective == pytest.approx(CASE14_DC, rel=1e-4)
    assert ref.reference(variant, "dc", time_limit_s=1e-9) is full  # a solved one answers


def test_solve_dc_time_limit_on_the_command_line(pglib, capsys):
    code = main(["solve", str(pglib("case14_ieee")), "--dc", "--time-limit", "1e-9"])
    err = capsys.readouterr().err
    assert code == 1
    assert "DC OPF time_limit" in err and "stopped at the time limit of 1e-09 s" in err
