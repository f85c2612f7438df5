"""The curation widgets the app integrates: sweep table, study panel, report view, PNG export."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from PySide6 import QtCore

from n1studio.grid.cases import load_case
from n1studio.solve.sweep import run_sweep


def test_sweep_table_ranks_and_requests_the_clicked_variant(qtbot):
    from n1studio.app.curate.sweep import SweepTable

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


def _controls_report(tmp_path):
    """A real report: case14's N case and 3 N-1 variants answered by the controls."""
    from n1studio.curate.dataset import build_dataset
    from n1studio.curate.evaluate import run_eval
    from n1studio.curate.report import build_report
    from n1studio.curate.study import Study
    from n1studio.grid.cases import load_case

    with Study.open(tmp_path / "c.n1study", create=True) as st:
        ds = build_dataset(st, load_case("pglib_opf_case14_ieee"), "pglib_opf_case14_ieee",
                           "c14", sample=3, seed=1, feasible_only=True)
        run_eval(st, ds, ["control:reference", "control:recall-n"])
        return build_report(st, ds)


def test_report_view_and_png(qtbot, tmp_path):
    from n1studio.app.curate.report import ReportView, svg_to_png
    from n1studio.curate.report import report_svg

    rep = _controls_report(tmp_path)
    w = ReportView()
    qtbot.addWidget(w)
    w.set_report(rep)
    header = [w.table.horizontalHeaderItem(c).text() for c in range(w.table.columnCount())]
    assert header == ["metric", "N", "N-1"]
    cells = {(w.table.item(r, 0).text(), w.table.item(r, 2).text())
             for r in range(w.table.rowCount()) if w.table.item(r, 2)}
    # the memoriser recalls on every N-1 variant, the ideal solver on none
    labels = [w.table.item(r, 0).text() for r in range(w.table.rowCount())]
    mem = labels.index("control:recall-n (control)")
    ref = labels.index("control:reference (control)")
    rec = [r for r in range(w.table.rowCount()) if labels[r] == "recalled N answer"]
    assert w.table.item(next(r for r in rec if r > mem), 2).text().startswith("100.0%")
    assert w.table.item(next(r for r in rec if r > ref), 2).text().startswith("0.0%")
    assert ("feasible answers", w.table.item(ref + 9, 2).text()) in cells
    png = svg_to_png(report_svg(rep), tmp_path / "r.png")
    from PySide6 import QtGui

    img = QtGui.QImage(str(png))
    assert img.width() >= 1800
    # each control is drawn in its own colour
    colours = {img.pixelColor(x, y).name() for x in range(0, img.width(), 3)
               for y in range(0, img.height(), 3)}
    assert "#1b7837" in colours and "#762a83" in colours


def test_study_panel_emits_annotations(qtbot):
    from n1studio.app.curate.study import StudyPanel

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


def test_report_view_keeps_families_apart_without_a_dataset(qtbot, tmp_path):
    """The window's report (Curate → report: every run, no dataset chosen) has a column per
    family, and the memoriser's N column holds only the N case, feasible."""
    from n1studio.app.curate.report import ReportView
    from n1studio.curate.dataset import build_dataset
    from n1studio.curate.evaluate import run_eval
    from n1studio.curate.report import build_report
    from n1studio.curate.study import Study

    with Study.open(tmp_path / "f.n1study", create=True) as st:
        ds = build_dataset(st, load_case("pglib_opf_case14_ieee"), "pglib_opf_case14_ieee",
                           "c14", sample=2, seed=1, feasible_only=True,
                           families=["n-1", "load:0.1"])
        run_eval(st, ds, ["control:recall-n"])
        rep = build_report(st)  # what Curation.build_report asks for
    w = ReportView()
    qtbot.addWidget(w)
    w.set_report(rep)
    header = [w.table.horizontalHeaderItem(c).text() for c in range(w.table.columnCount())]
    assert header == ["metric", "N", "N-1", "load:0.1"]
    labels = [w.table.item(r, 0).text() for r in range(w.table.rowCount())]
    runs = labels.index("runs")
    assert [w.table.item(runs, c).text() for c in (1, 2, 3)] == ["1†", "2†", "2†"]
    feas = labels.index("feasible answers")
    assert w.table.item(feas, 1).text().startswith("100.0%")
    assert w.table.item(feas, 1).text().endswith("n=1†")
    drop = labels.index("drop from N: feasible (points)")
    assert w.table.item(drop, 3).text().startswith("+100.0")
