"""The DC OPF reproduces BASELINE.md's DC column (PowerModels DCP + Ipopt).

Tolerance 0.01 %: BASELINE rounds to five significant digits (up to 0.005 % relative), and
both models are the same convex QP, so anything beyond rounding is a modelling difference.
Measured: every bundled case within 0.0041 % (case89_pegase), most within 0.002 %.
"""

from __future__ import annotations

import numpy as np
import pytest
from pglib_baseline import baseline, pglib_files

from n1studio.grid.cases import load_matpower
from n1studio.grid.variant import Variant
from n1studio.solve.dcopf import solve_dcopf

FILES = pglib_files()


@pytest.mark.skipif(not FILES, reason="PGLib data not found beside the repo")
@pytest.mark.parametrize("path", FILES, ids=[p.stem.replace("pglib_opf_", "") for p in FILES])
def test_dc_objective_matches_pglib_baseline(path):
    expected = baseline()[path.stem][0]
    result = solve_dcopf(Variant(load_matpower(path)).model)
    assert result.success and result.status == "optimal", result.message
    assert abs(result.objective - expected) / expected < 1e-4, (result.objective, expected)
    m = result.model
    # lossless: generation equals load plus shunt conductance
    assert result.pg.sum() == pytest.approx((m.pd.sum() + m.gs.sum()) * m.base_mva, rel=1e-6)
    assert np.all(result.vm[np.isfinite(result.vm)] == 1.0) and np.all(result.qg == 0)
