"""The reference AC OPF on pandapower's built-in cases: it solves the ones that have a
solution, says so quickly for the ones that do not, and never runs past its budget.

Expected optima are MATPOWER's published `runopf` results for the same cases (case9,
case14, case30, case39); for case118, pandapower's own `runopp` (PIPS) on the same net is
the independent reference (a local optimum we must match or beat).
"""

from __future__ import annotations

import json
import logging
import math
import os
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import numpy as np
import pandapower as pp
import pytest

from n1studio.check import check_answer
from n1studio.grid.cases import load_case
from n1studio.grid.variant import Variant
from n1studio.schema import CONSTRAINT_KINDS
from n1studio.solve import reference as ref_mod
from n1studio.solve.acopf import solve_acopf

REPO = Path(__file__).resolve().parents[2]

# MATPOWER 8 runopf optima ($/h) of the cases pandapower converted from it
MATPOWER_OPTIMUM = {"case9": 5296.69, "case14": 8081.53, "case30": 576.89, "case39": 41864.18}


def _clean(verdict: dict) -> None:
    assert verdict["violations"] == [], verdict["violations"][:3]
    assert verdict["feasible"] is True
    assert verdict["satisfaction"] == {k: 1.0 for k in CONSTRAINT_KINDS}


def _solved_and_feasible(case: str):
    variant = Variant(load_case(case))
    result = solve_acopf(variant.model)
    assert result.success, (result.status, result.message)
    assert math.isfinite(result.objective)
    # through JSON, exactly as `solve --json` output would be fed to `check`
    answer = json.loads(json.dumps(result.answer))
    verdict = check_answer(variant.model, answer, reference=answer)
    _clean(verdict)
    assert verdict["objective"] == pytest.approx(result.objective, rel=1e-6)
    return result


@pytest.mark.parametrize("case", sorted(MATPOWER_OPTIMUM))
def test_builtin_case_reaches_matpowers_optimum_and_checks_feasible(case):
    result = _solved_and_feasible(case)
    assert result.objective == pytest.approx(MATPOWER_OPTIMUM[case], abs=0.01)


def test_builtin_case118_matches_pandapowers_own_opf():
    result = _solved_and_feasible("case118")
    net = load_case("case118")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.getLogger("pandapower").setLevel(logging.CRITICAL)
        pp.runopp(net, calculate_voltage_angles=True)
    # the same local optimum as PIPS (ours 129,667.19, PIPS 129,704.74: within 0.05 %)
    assert result.objective <= net.res_cost * (1 + 1e-6)
    assert result.objective == pytest.approx(net.res_cost, rel=5e-4)


def test_builtin_case1354pegase_solves_with_its_placeholder_ratings_unlimited():
    """The reported hang: 64 transformers rated 99.999 MVA, pandapower's placeholder for a
    MATPOWER rate_a of 0 (unlimited), made the OPF infeasible and Ipopt crawl for minutes."""
    net = load_case("case1354pegase")
    model = Variant(net).model
    placeholders = [f"trafo:{i}" for i in net.trafo.index[np.isclose(net.trafo.sn_mva, 99.999)]]
    assert len(placeholders) == 64
    for name in placeholders:
        _, rows = model.index(name)
        assert np.all(np.isinf(model.rate[rows]))
    result = _solved_and_feasible("case1354pegase")
    # every unit costs 1 $/MWh here: the optimum is the load (73,059.67 MW) plus the losses
    assert 73059.67 < result.objective < 73059.67 * 1.02
    assert result.iterations < 100


def test_builtin_case57_is_reported_infeasible_quickly():
    """pandapower's case57 is not MATPOWER's: its converter kept transformer taps on the
    wrong side, and its own power flow sags to 0.72 pu. No point meets 0.94..1.06 pu."""
    net = load_case("case57")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, calculate_voltage_angles=True, numba=False)
    assert net.res_bus.vm_pu.min() < 0.8  # the data, not our solver
    result = solve_acopf(Variant(net).model)
    assert result.status == "infeasible" and not result.success
    assert math.isnan(result.objective)
    assert result.iterations < 300


# ---- the budget -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def case118():
    return Variant(load_case("case118"))


def test_iteration_limit_stops_the_solve(case118):
    r = solve_acopf(case118.model, max_iter=3)
    assert (r.status, r.success, r.iterations) == ("iteration_limit", False, 3)
    assert math.isnan(r.objective)
    assert "iteration limit of 3" in r.message
    # the compiled solver is reused: the next call has the default budget again
    assert solve_acopf(case118.model).status == "optimal"


def test_time_limit_stops_the_solve(case118):
    r = solve_acopf(case118.model, time_limit_s=1e-6)
    assert (r.status, r.success) == ("time_limit", False)
    assert r.iterations <= 1
    assert "time limit" in r.message


def test_cancel_stops_the_solve(case118):
    stop = threading.Event()
    stop.set()
    r = solve_acopf(case118.model, cancel=stop)
    assert (r.status, r.success) == ("cancelled", False)


def test_bad_budget_is_refused(case118):
    with pytest.raises(ValueError):
        solve_acopf(case118.model, time_limit_s=0)


def test_reference_solves_again_when_given_more_budget():
    variant = Variant(load_case("case30"))
    ref_mod.clear()
    short = ref_mod.reference(variant, "ac", max_iter=2)
    assert short.status == "iteration_limit"
    # the same budget gets the cached answer; a larger one solves
    assert ref_mod.reference(variant, "ac", max_iter=2) is short
    full = ref_mod.reference(variant, "ac")
    assert full.success and full.objective == pytest.approx(MATPOWER_OPTIMUM["case30"], abs=0.01)
    assert ref_mod.reference(variant, "ac", max_iter=2) is full  # a solved one stays solved
    stop = threading.Event()
    stop.set()
    ref_mod.clear()
    assert ref_mod.reference(variant, "ac", cancel=stop).status == "cancelled"
    assert ref_mod.cached(variant, "ac") is None  # a cancelled solve is not remembered


def test_cli_solve_over_budget_exits_1_with_the_status_in_one_line():
    env = {**os.environ, "N1STUDIO_OPF_MAX_ITER": "3"}
    proc = subprocess.run([sys.executable, "-m", "n1studio.cli", "solve", "case30"],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=120,
                          check=False)
    assert proc.returncode == 1
    err = [line for line in proc.stderr.splitlines() if line.startswith("n1studio:")]
    assert len(err) == 1 and "iteration_limit" in err[0], proc.stderr
