"""The window opens an OPFData example file like any case, from the dialog's path and by
drag and drop: the grid drawn is the PGLib case the example was written from."""

from __future__ import annotations

import json

import numpy as np
from PySide6 import QtCore

from n1studio.app.window.main_window import dropped_case
from n1studio.grid import opfdata
from n1studio.grid.cases import load_case
from n1studio.grid.variant import base_model


def _example(tmp_path):
    net = load_case("pglib_opf_case14_ieee")
    grid, _ = opfdata.grid_part(base_model(net), net)
    path = tmp_path / "example_0.json"
    path.write_text(json.dumps({"grid": grid, "metadata": {"objective": None}}))
    return path, base_model(net)


def test_window_opens_an_opfdata_example(window, qtbot, tmp_path):
    path, ref = _example(tmp_path)
    with qtbot.waitSignal(window.caseOpened, timeout=60_000):
        window.open_case(str(path))
    s = window.session
    assert s is not None and s.name == "example_0"
    assert len(s.net.bus) == 14 and len(s.drawing.edge_names) == 20
    m = base_model(s.net)
    np.testing.assert_allclose(m.yff, ref.yff, rtol=1e-9, atol=1e-9)
    assert m.gen_names == ref.gen_names


def test_dropped_opfdata_example_is_a_case(tmp_path):
    path, _ = _example(tmp_path)
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(path))])
    assert dropped_case(mime) == str(path)
