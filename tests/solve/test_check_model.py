"""Values so large that the solver would meet NaN are refused by name before solving
(issue 19): a net built in code (no file check ran) with a load, a cost or an impedance
beyond any grid gives one CaseDataError naming the element, and CasADi prints nothing."""

from __future__ import annotations

import pytest

from n1studio.errors import CaseDataError
from n1studio.grid.cases import load_case
from n1studio.grid.model import GridModel
from n1studio.solve.acopf import solve_acopf


@pytest.mark.parametrize(("edits", "says"), [
    ({("load", "p_mw"): 1e300}, "case14: bus:1: load or shunt beyond"),
    ({("poly_cost", "cp2_eur_per_mw2"): 1e200}, "case14: ext_grid:0: cost coefficient beyond"),
    ({("line", "x_ohm_per_km"): 1e-300, ("line", "r_ohm_per_km"): 1e-300},
     "case14: line:0: admittance beyond"),
], ids=["load", "cost", "impedance"])
def test_values_beyond_any_grid_are_refused_before_ipopt(capfd, edits, says):
    net = load_case("case14")
    for (table, column), value in edits.items():
        net[table].loc[net[table].index[0], column] = value
    with pytest.raises(CaseDataError) as info:
        solve_acopf(GridModel.from_net(net))
    msg = str(info.value)
    assert msg.startswith(says) and "\n" not in msg
    out, err = capfd.readouterr()
    assert "casadi" not in (out + err).lower() and "nan" not in err.lower()
