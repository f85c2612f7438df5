"""Malformed case files (issue 10, "Case files"): each is refused with one line naming the
table, row and column, or accepted with a warning where MATPOWER accepts it.

Every input is made from a real file: PGLib case14/case30 (.m) and pandapower's case14 saved
as JSON, with one edit each.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest

from n1studio.errors import CaseDataError, CaseError
from n1studio.grid.cases import load_case
from n1studio.grid.variant import Variant, base_model
from n1studio.solve.acopf import solve_acopf
from n1studio.solve.reference import reference
from tests.grid import case_mutations as cm


@pytest.fixture
def case14_m(pglib) -> str:
    return pglib("case14_ieee").read_text()


@pytest.fixture
def case30_m(pglib) -> str:
    return pglib("case30_ieee").read_text()


def refused(tmp_path, text: str, name: str = "broken.m") -> str:
    """The one-line message load_case gives for this file text."""
    path = cm.write(tmp_path / name, text)
    with pytest.raises(CaseDataError) as info:
        load_case(path)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(path.name)
    return msg


def line_of(text: str, table: str, row: int) -> int:
    """File line (1-based) of mpc.<table>'s row (0-based)."""
    start = text.index(f"mpc.{table} = [")
    lines = text[start:].split("\n")
    k = 0
    for offset, raw in enumerate(lines[1:], start=1):
        if raw.split("%", 1)[0].strip():
            if k == row:
                return text.count("\n", 0, start) + offset + 1
            k += 1
    raise AssertionError("row not found")


# ---- tracebacks that became one line ----------------------------------------------------
@pytest.mark.parametrize("value", ["0", "-100", "NaN"])
def test_base_mva_must_be_positive(tmp_path, case14_m, value):
    msg = refused(tmp_path, cm.set_base(case14_m, value))
    assert "mpc.baseMVA is" in msg and "positive" in msg


def test_vmax_below_vmin_names_the_row(tmp_path, case14_m):
    text = cm.set_cell(cm.set_cell(case14_m, "bus", 4, cm.VMAX, "0.9"), "bus", 4, cm.VMIN, "1.1")
    msg = refused(tmp_path, text)
    assert f"mpc.bus row 5 (line {line_of(text, 'bus', 4)})" in msg
    assert "column 12 (VMAX) = 0.9 is below column 13 (VMIN) = 1.1" in msg


def test_pmax_below_pmin_names_the_row(tmp_path, case30_m):
    text = cm.set_cell(cm.set_cell(case30_m, "gen", 2, cm.PMAX, "10"), "gen", 2, cm.PMIN, "20")
    msg = refused(tmp_path, text)
    assert "mpc.gen row 3" in msg and "column 9 (PMAX) = 10 is below column 10 (PMIN) = 20" in msg


def test_no_reference_bus(tmp_path, case14_m):
    text = cm.set_cell(case14_m, "bus", 0, cm.BUS_TYPE, "2")  # bus 1 is case14's reference
    msg = refused(tmp_path, text)
    assert "no reference bus" in msg and "BUS_TYPE" in msg


@pytest.mark.parametrize("table,col", [("gen", 0), ("branch", cm.T_BUS)])
def test_reference_to_a_missing_bus(tmp_path, case14_m, table, col):
    msg = refused(tmp_path, cm.set_cell(case14_m, table, 1, col, "99"))
    assert f"mpc.{table} row 2" in msg and f"column {col + 1}" in msg
    assert "refers to unknown bus 99 (mpc.bus does not define it)" in msg


def test_no_branches(tmp_path, case14_m):
    msg = refused(tmp_path, cm.empty_table(case14_m, "branch"))
    assert msg == "broken.m: mpc.branch is missing or empty"


def test_garbage_table(tmp_path, case14_m):
    text = cm.set_cell(case14_m, "gen", 3, 2, "abc")
    msg = refused(tmp_path, text)
    assert f"mpc.gen row 4 (line {line_of(case14_m, 'gen', 3)}) has a non-numeric entry" in msg


def test_rows_of_different_lengths(tmp_path, case14_m):
    text = cm.edit_table(case14_m, "branch", lambda rows: rows[:6] + [rows[6][:-1]] + rows[7:])
    msg = refused(tmp_path, text)
    assert "mpc.branch row 7" in msg and "has 12 numbers, row 1 has 13" in msg


@pytest.mark.parametrize("value", ["0", "NaN"])
def test_zero_or_nan_impedance(tmp_path, case14_m, value):
    text = cm.set_cell(cm.set_cell(case14_m, "branch", 3, cm.BR_R, value), "branch", 3,
                       cm.BR_X, value)
    msg = refused(tmp_path, text)
    assert "mpc.branch row 4" in msg
    assert ("zero impedance" in msg) if value == "0" else ("column 3 (BR_R): is NaN" in msg)


# ---- silent wrong successes that are now refused ----------------------------------------
def test_nan_load_is_refused_not_dropped(tmp_path, case14_m):
    # case14's optimum is 2,178 $/h; with bus 3's load dropped it was 1,759 $/h, "optimal"
    msg = refused(tmp_path, cm.set_cell(case14_m, "bus", 2, cm.PD, "NaN"))
    assert "mpc.bus row 3" in msg and "column 3 (PD): is NaN" in msg


def test_negative_rating_is_refused(tmp_path, case14_m):
    msg = refused(tmp_path, cm.set_cell(case14_m, "branch", 0, cm.RATE_A, "-50"))
    assert "mpc.branch row 1" in msg and "column 6 (RATE_A): is -50" in msg


def test_nan_vmax_is_refused(tmp_path, case14_m):
    msg = refused(tmp_path, cm.set_cell(case14_m, "bus", 6, cm.VMAX, "NaN"))
    assert "mpc.bus row 7" in msg and "column 12 (VMAX): is NaN" in msg


@pytest.mark.parametrize("table,col", [("bus", 0), ("gen", 0), ("branch", cm.F_BUS)])
def test_fractional_bus_number_is_refused(tmp_path, case14_m, table, col):
    value = "5.5"
    text = cm.set_cell(case14_m, table, 4, col, value)
    msg = refused(tmp_path, text)
    assert f"mpc.{table} row 5" in msg and "is 5.5" in msg and "whole number" in msg


def test_duplicate_bus_number_is_refused(tmp_path, case14_m):
    msg = refused(tmp_path, cm.set_cell(case14_m, "bus", 5, 0, "5"))
    assert "mpc.bus row 6" in msg and "bus 5 is already defined in row 5" in msg


def test_missing_gencost_is_refused(tmp_path, case14_m):
    msg = refused(tmp_path, cm.drop_table(case14_m, "gencost"))
    assert "mpc.gencost is missing" in msg


def test_branch_to_itself_is_refused(tmp_path, case14_m):
    msg = refused(tmp_path, cm.set_cell(case14_m, "branch", 2, cm.T_BUS,
                                        cm.get_cell(case14_m, "branch", 2, cm.F_BUS)))
    assert "mpc.branch row 3" in msg and "to itself" in msg


def test_zero_rating_is_unlimited_with_a_warning(tmp_path, case14_m, caplog):
    """MATPOWER reads RATE_A = 0 as "no limit": accepted, and said."""
    path = cm.write(tmp_path / "rate0.m", cm.set_cell(case14_m, "branch", 0, cm.RATE_A, "0"))
    with caplog.at_level(logging.WARNING):
        net = load_case(path)
    assert "1 branch(es) have column 6 (RATE_A) = 0 and are unlimited" in caplog.text
    assert "mpc.branch row(s) 1" in caplog.text
    m = base_model(net)
    assert np.isinf(m.rate[m.branch_names.index("line:0")])
    assert np.isfinite(m.rate).sum() == len(m.rate) - 1


def test_unchanged_pglib_file_still_loads_with_its_optimum(pglib):
    r = reference(Variant(load_case(pglib("case14_ieee")), []), "ac")
    assert r.success and r.objective == pytest.approx(2178.08, rel=5e-4)


# ---- paths ------------------------------------------------------------------------------
def test_directory_says_it_is_a_directory(tmp_path):
    folder = tmp_path / "grids.m"
    folder.mkdir()
    for spec in (tmp_path, folder):
        with pytest.raises(CaseError, match="is a directory, not a case file"):
            load_case(spec)


# ---- pandapower JSON ---------------------------------------------------------------------
def saved(tmp_path, net, name: str = "broken.json"):
    path = tmp_path / name
    pp.to_json(net, str(path))
    return path


def json_refused(tmp_path, net) -> str:
    with pytest.raises(CaseDataError) as info:
        load_case(saved(tmp_path, net))
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith("broken.json: ")
    return msg


@pytest.fixture
def net14():
    return pn.case14()


def test_json_case14_round_trip_is_accepted(tmp_path, net14):
    net = load_case(saved(tmp_path, net14, "case14.json"))
    assert len(net.bus) == 14
    assert base_model(net).n_bus == 14


def test_json_nan_load(tmp_path, net14):
    net14.load.at[2, "p_mw"] = np.nan
    assert json_refused(tmp_path, net14) == ("broken.json: load 2, column p_mw: is nan; it must "
                                             "be a finite number")


def test_json_without_ext_grid(tmp_path, net14):
    net14.ext_grid.drop(net14.ext_grid.index, inplace=True)
    assert "no reference bus (no ext_grid and no gen with slack = True)" in json_refused(
        tmp_path, net14)


def test_json_reference_to_a_missing_bus(tmp_path, net14):
    net14.line.at[4, "to_bus"] = 99
    assert "line 4, column to_bus: refers to bus 99, which net.bus does not define" in \
        json_refused(tmp_path, net14)


def test_json_no_branches(tmp_path, net14):
    net14.line.drop(net14.line.index, inplace=True)
    net14.trafo.drop(net14.trafo.index, inplace=True)
    assert "14 buses and no branches" in json_refused(tmp_path, net14)


def test_json_negative_rating(tmp_path, net14):
    net14.line.at[1, "max_i_ka"] = -1.0
    assert "line 1, column max_i_ka: is -1; it cannot be negative" in json_refused(tmp_path,
                                                                                   net14)


def test_json_line_to_itself(tmp_path, net14):
    net14.line.at[3, "to_bus"] = net14.line.at[3, "from_bus"]
    assert "line 3: connects bus" in json_refused(tmp_path, net14)


def test_json_vmax_below_vmin(tmp_path, net14):
    net14.bus.at[6, "max_vm_pu"], net14.bus.at[6, "min_vm_pu"] = 0.9, 1.1
    assert "bus 6: max_vm_pu = 0.9 is below min_vm_pu = 1.1" in json_refused(tmp_path, net14)


def test_json_pmax_below_pmin(tmp_path, net14):
    net14.gen.at[1, "max_p_mw"], net14.gen.at[1, "min_p_mw"] = 10.0, 20.0
    assert "gen 1: max_p_mw = 10 is below min_p_mw = 20" in json_refused(tmp_path, net14)


def test_json_without_costs(tmp_path, net14):
    net14.poly_cost.drop(net14.poly_cost.index, inplace=True)
    assert "no generator has a cost" in json_refused(tmp_path, net14)


def test_json_zero_impedance(tmp_path, net14):
    net14.line.at[0, "r_ohm_per_km"] = 0.0
    net14.line.at[0, "x_ohm_per_km"] = 0.0
    assert "line 0: has zero impedance" in json_refused(tmp_path, net14)


def test_json_garbage_table(tmp_path, net14):
    path = saved(tmp_path, net14)
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(CaseError) as info:
        load_case(path)
    msg = str(info.value)
    assert "\n" not in msg and "is not valid JSON" in msg and "cut short" in msg


# ---- the solver's own pre-check (a net built in code, never read from a file) -----------
def test_solver_refuses_nan_admittance_in_one_line(net14):
    m = base_model(net14)
    bad = replace(m, yff=m.yff.copy())
    bad.yff[3] = np.nan
    with pytest.raises(CaseDataError, match=r"line:3: admittance is not finite"):
        solve_acopf(bad)


def test_zero_base_kv_is_refused_in_the_files_terms(tmp_path, case14_m):
    msg = refused(tmp_path, cm.set_cell(case14_m, "bus", 4, 9, "0"))
    assert "mpc.bus row 5" in msg and "column 10 (BASE_KV): is 0" in msg


def test_json_table_with_a_damaged_entry(tmp_path, net14):
    """A one-character slip in a table's JSON header left it a dict (AttributeError in
    pandapower's converter when the grid was used)."""
    path = saved(tmp_path, net14)
    text = path.read_text()
    head = '"load": {\n      "_module"'
    assert text.count(head) == 1
    path.write_text(text.replace(head, head.replace("_module", "_mdule")))
    with pytest.raises(CaseDataError) as info:
        load_case(path)
    assert str(info.value) == ("broken.json: net.load is not a table (its entry in the file is "
                               "damaged)")


def test_json_fractional_bus_index(tmp_path, net14):
    path = saved(tmp_path, net14)
    text = path.read_text()
    start = text.index('\\"index\\":[', text.index('"bus": {'))
    end = text.index("]", start)
    assert ",4," in text[start:end]
    path.write_text(text[:start] + text[start:end].replace(",4,", ",4.5,") + text[end:])
    with pytest.raises(CaseDataError) as info:
        load_case(path)
    assert str(info.value) == "broken.json: bus 4.5: a bus index is a whole number"


def test_json_value_beyond_any_grid_is_refused_by_table_and_row(tmp_path):
    """Issue 19: a value that would overflow to NaN inside the solver, named before solving."""
    net = pn.case14()
    net.load.loc[2, "p_mw"] = 1e300
    path = tmp_path / "huge.json"
    pp.to_json(net, str(path))
    with pytest.raises(CaseDataError) as info:
        load_case(path)
    assert str(info.value) == ("huge.json: load 2, column p_mw: is 1e+300, beyond any "
                               "power-system quantity (|value| <= 1e+12)")
