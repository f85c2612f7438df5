"""Opening a broken case file in the window shows the same one line as the command line
(issue 10), never an exception's class name and text."""

from __future__ import annotations

import pandapower as pp
import pandapower.networks as pn
import pytest
from PySide6 import QtWidgets

from n1studio.errors import CaseDataError
from n1studio.grid.cases import load_case
from tests.grid import case_mutations as cm


def cli_line(path) -> str:
    with pytest.raises(CaseDataError) as info:
        load_case(path)
    return str(info.value)


def open_and_fail(window, qtbot, path) -> str:
    with qtbot.waitSignal(window.caseFailed, timeout=60_000) as blocker:
        window.open_case(str(path))
    return blocker.args[0]


def test_broken_m_file_shows_the_one_line_message(window, qtbot, tmp_path, pglib):
    text = cm.set_cell(pglib("case14_ieee").read_text(), "bus", 2, cm.PD, "NaN")
    path = cm.write(tmp_path / "nan_load.m", text)
    msg = open_and_fail(window, qtbot, path)
    assert msg == cli_line(path)
    assert msg.startswith("nan_load.m: mpc.bus row 3") and "column 3 (PD): is NaN" in msg
    assert "Error" not in msg and "\n" not in msg
    boxes = [b for b in window.findChildren(QtWidgets.QMessageBox) if b.isVisible()]
    assert [b.text() for b in boxes] == [msg]
    assert msg in window.statusBar().currentMessage()
    assert window.session is None  # nothing half-opened


def test_json_without_ext_grid_shows_the_one_line_message(window, qtbot, tmp_path):
    net = pn.case14()
    net.ext_grid.drop(net.ext_grid.index, inplace=True)
    path = tmp_path / "no_slack.json"
    pp.to_json(net, str(path))
    msg = open_and_fail(window, qtbot, path)
    assert msg == cli_line(path)
    assert msg == ("no_slack.json: the network has no reference bus (no ext_grid and no gen "
                   "with slack = True)")
