"""The one branch-flow formula (grid/flows.py) against pandapower's own power-flow results."""

from __future__ import annotations

import copy

import numpy as np
import pandapower as pp
import pytest

from n1studio.grid.cases import load_case
from n1studio.grid.flows import branch_flows, branch_smax_mva
from n1studio.grid.quiet import quiet_pandapower
from n1studio.grid.variant import base_model


@pytest.mark.parametrize("case", ["case14", "pglib_opf_case118_ieee"])
def test_branch_flows_are_pandapowers(case):
    net = copy.deepcopy(load_case(case))
    with quiet_pandapower():
        pp.runpp(net, calculate_voltage_angles=True, trafo_model="pi")
    m = base_model(net)
    res = net.res_bus.loc[m.bus_index]
    v = res.vm_pu.to_numpy() * np.exp(1j * np.deg2rad(res.va_degree.to_numpy()))
    sf, st = branch_flows(m, v)
    smax = branch_smax_mva(m, v)
    checked = 0
    for table, cols in (("line", ("p_from_mw", "q_from_mvar", "p_to_mw", "q_to_mvar")),
                        ("trafo", ("p_hv_mw", "q_hv_mvar", "p_lv_mw", "q_lv_mvar"))):
        for i in net[table].index:
            k = m.branch_names.index(f"{table}:{i}")
            r = net[f"res_{table}"].loc[i]
            want_f = complex(r[cols[0]], r[cols[1]]) / m.base_mva
            want_t = complex(r[cols[2]], r[cols[3]]) / m.base_mva
            assert sf[k] == pytest.approx(want_f, abs=1e-6)
            assert st[k] == pytest.approx(want_t, abs=1e-6)
            assert smax[k] == pytest.approx(max(abs(want_f), abs(want_t)) * m.base_mva, abs=1e-4)
            checked += 1
    assert checked == len(net.line) + len(net.trafo)
    # rows pick branches
    rows = np.array([3, 1])
    assert np.allclose(branch_smax_mva(m, v, rows), smax[rows])
