"""The curation widgets the app integrates: sweep table, study panel, report view, PNG export."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from PySide6 import QtCore

from n1studio.grid.cases import load_case
from n1studio.solve.sweep import run_sweep


def test_sweep_table_ranks_and_requests_the_clicked_variant(qtbot):
    from n1studio.app.curate_sweep import SweepTable

    doc = run_sweep(load_case("case118"))
    w = SweepTable()
    qtbot.addWidget(w)
    w.resize(700, 500)
    w.show()
    qtbot.waitExposed(w)
    w.set_sweep(doc)
    assert w.table.rowCount() == 186
    assert w.table.item(0, 2).text() == "islanded"  # worst first
    row = w.row_of("trafo:12")
    assert row >= 0
    # a real click on the row's element cell
    item = w.table.item(row, 1)
    assert item.text() == "trafo:12"
    w.table.scrollToItem(item)
    with qtbot.waitSignal(w.variantRequested) as sig:
        qtbot.mouseClick(w.table.viewport(), QtCore.Qt.MouseButton.LeftButton,
                         pos=w.table.visualItemRect(item).center())
    assert sig.args == [["trafo:12"]]
    w.filter.setCurrentText("islanded")
    visible = [i for i in range(w.table.rowCount()) if not w.table.isRowHidden(i)]
    assert len(visible) == 9
    assert {w.table.item(i, 1).text() for i in visible} >= {"trafo:12", "line:6"}


def _hand_made_report():
    # a report document built from two hand-written verdicts (no model needed here)
    from n1studio.schema import CONSTRAINT_KINDS

    def split(runs, sat, feas):
        return {"runs": runs, "satisfaction": {k: sat for k in CONSTRAINT_KINDS},
                "overall_satisfaction": sat, "feasible_rate": feas, "usable_rate": 1.0,
                "cost_gap_median": 0.1, "cost_gap_runs": runs, "recalled_n_rate": 0.5,
                "mean_tokens_per_s": 20.0}

    return {"schema": "n1studio.report/1", "study": "s.n1study", "dataset": "c14",
            "constraint_kinds": list(CONSTRAINT_KINDS), "runs": 3,
            "models": [{"model": "m.gguf", "sha256": "ab" * 32,
                        "splits": {"N": split(1, 0.9, 1.0), "N-1": split(2, 0.6, 0.0)},
                        "drop": {**{k: 0.3 for k in CONSTRAINT_KINDS},
                                 "overall_satisfaction": 0.3, "feasible_rate": 1.0}}]}


def test_report_view_and_png(qtbot, tmp_path):
    from n1studio.app.curate_report import ReportView, svg_to_png
    from n1studio.curate.report import report_svg

    rep = _hand_made_report()
    w = ReportView()
    qtbot.addWidget(w)
    w.set_report(rep)
    cells = {(w.table.item(r, 0).text(), w.table.item(r, 3).text())
             for r in range(w.table.rowCount()) if w.table.item(r, 3)}
    assert ("voltage", "30.0%") in cells and ("feasible", "100.0%") in cells
    png = svg_to_png(report_svg(rep), tmp_path / "r.png")
    from PySide6 import QtGui

    img = QtGui.QImage(str(png))
    assert img.width() == 1800 and img.height() == 840
    # the N bars are blue, the N-1 bars red: both colours are in the picture
    colours = {img.pixelColor(x, y).name() for x in range(0, img.width(), 7)
               for y in range(0, img.height(), 7)}
    assert "#3b6fb6" in colours and "#d1495b" in colours


def test_study_panel_emits_annotations(qtbot):
    from n1studio.app.curate_study import StudyPanel

    runs = [{"id": 4, "grid": "case14", "split": "N-1", "label": "N-1 line:3",
             "model": "m.gguf", "verdict": {"feasible": False, "overall_satisfaction": 0.7,
                                            "cost_gap": 0.12}}]
    w = StudyPanel()
    qtbot.addWidget(w)
    w.set_data({"path": "s.n1study", "grids": [1], "datasets": [{"name": "c14", "size": 3}],
                "runs": 1}, runs)
    assert w.table.item(0, 6).text() == "70.0%"
    with qtbot.waitSignal(w.runSelected):
        w.table.selectRow(0)
    w.note.setText("bus 4 too high")
    with qtbot.waitSignal(w.annotationChanged) as sig:
        w.reject.click()
    assert sig.args == [4, "reject", "bus 4 too high"]
    assert w.table.item(0, 8).text() == "reject"
