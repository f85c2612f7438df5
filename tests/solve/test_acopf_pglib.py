"""The reference AC OPF reproduces PGLib's published optima (BASELINE.md, column AC) within
0.05 % on every PGLib file up to 1354 buses, and case2869_pegase (marked slow)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pglib_baseline import baseline, bus_count, pglib_files

from n1studio.grid.cases import load_matpower
from n1studio.grid.variant import Variant
from n1studio.solve.acopf import solve_acopf

TOL = 5e-4  # 0.05 % relative

FILES = pglib_files()
PARAMS = [pytest.param(p, id=p.stem.replace("pglib_opf_", ""),
                       marks=[pytest.mark.slow] if bus_count(p) > 1354 else [])
          for p in FILES]


@pytest.mark.skipif(not FILES, reason="PGLib data not found beside the repo")
@pytest.mark.parametrize("path", PARAMS)
def test_ac_objective_matches_pglib_baseline(path):
    expected = baseline()[path.stem][1]
    result = solve_acopf(Variant(load_matpower(path)).model)
    assert result.success, result.message
    assert abs(result.objective - expected) / expected < TOL, (result.objective, expected)
    # the solution respects its own bounds (what a checker would look at first)
    m = result.model
    assert np.all(result.vm <= m.vmax + 1e-6) and np.all(result.vm >= m.vmin - 1e-6)
    on = m.gen_on
    assert np.all(result.pg[on] <= m.pmax[on] * m.base_mva + 1e-4)
    assert math.isfinite(result.objective)
