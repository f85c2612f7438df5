"""The sweep dock: ranked by severity, sortable, Detail in full, a clicked row draws what the
sweep found (post-outage power flow) centred on the outage; tied to its grid."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support")


def _click_cell(qtbot, table, row: int, col: int = 0) -> None:
    item = table.item(row, col)
    table.scrollToItem(item)
    rect = table.visualItemRect(item)
    qtbot.mouseClick(table.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=rect.center())


def _column(table, col: int) -> list[str]:
    return [table.item(r, col).text() for r in range(table.rowCount())]


def test_sweep_sort_click_draws_findings_and_belongs_to_its_grid(window, qtbot, open_case):
    from n1studio.solve.sweep import STATUSES

    open_case(window, "pglib_opf_case30_ieee")
    window.curation.dock_sweep.raise_()
    with qtbot.waitSignal(window.sweepDone, timeout=120_000) as sig:
        window.curation.act_sweep.trigger()
    doc = sig.args[0]
    t = window.curation.sweep.table
    # ranked by severity by default
    sev = [STATUSES.index(s) for s in _column(t, 2)]
    assert sev == sorted(sev)
    assert _column(t, 0) == [str(i + 1) for i in range(t.rowCount())]
    # a click on the Violations header sorts by count (numbers, not text), fewest first as
    # Qt's headers do; a second click puts the most violations first
    hdr = t.horizontalHeader()
    x = hdr.sectionViewportPosition(3) + hdr.sectionSize(3) // 2
    click = QtCore.QPoint(x, hdr.height() // 2)
    qtbot.mouseClick(hdr.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=click)
    counts = [int(v) for v in _column(t, 3)]
    assert len(set(counts)) > 1  # case30 has outages with different counts: an order shows
    assert counts == sorted(counts)
    assert hdr.sortIndicatorOrder() == QtCore.Qt.SortOrder.AscendingOrder
    qtbot.mouseClick(hdr.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=click)
    assert [int(v) for v in _column(t, 3)] == sorted(counts, reverse=True)
    assert hdr.sortIndicatorOrder() == QtCore.Qt.SortOrder.DescendingOrder
    # the Detail column is not cut: its full text is the tooltip
    for r in range(t.rowCount()):
        assert t.item(r, 5).toolTip() == t.item(r, 5).text()
    # a row with post-outage violations: drawn as the sweep found them, centred there
    viol = [r for r in doc["results"] if r["status"] == "violations"]
    assert viol, "pglib case30 has N-1 violations"
    r = max(viol, key=lambda r: len(r["violations"]))
    _click_cell(qtbot, t, window.curation.sweep.row_of(r["element"]))
    s = window.session
    assert s.current.outages == (r["element"],)
    view = window.view
    assert view.highlighted == {v["element"] for v in r["violations"]}
    assert {k for _, k in view.state.markers} == {v["constraint"] for v in r["violations"]}
    assert "sweep (post-outage power flow)" in view.banner.text()
    assert view.selected == r["element"]
    # centred and fitted on the outage and its violations: all in view, and close up
    (x0, x1), (y0, y1) = view.vb.viewRange()
    names = [r["element"]] + [v["element"] for v in r["violations"]]
    pts = np.array([s.drawing.position(n) for n in names])
    assert ((pts[:, 0] > x0) & (pts[:, 0] < x1) & (pts[:, 1] > y0) & (pts[:, 1] < y1)).all()
    mid = (pts.min(axis=0) + pts.max(axis=0)) / 2
    assert abs((x0 + x1) / 2 - mid[0]) < 0.05 * (x1 - x0)
    assert abs((y0 + y1) / 2 - mid[1]) < 0.05 * (y1 - y0)
    # the verdict panel says what the row shows, not "No answer yet"
    said = window.verdict.banner.text()
    assert said.startswith(f"Sweep row: {r['element']} out of service")
    assert f"{len(r['violations'])} violation(s)" in said and "No answer yet" not in said

    # Edit → Perturb (loads): the sweep ran on other loads: stale, says nothing of this state
    from n1studio.app.dialogs.perturb import perturb_active
    from n1studio.grid.perturb import Perturbation

    perturb_active(window, Perturbation(load_scale=1.2))
    sweeping = window.curation.sweeping
    assert s.current.perturbation.load_scale == 1.2
    assert sweeping.stale and sweeping.stale_note.isVisible()
    assert sweeping.again_button.isVisible() and "Stale" in sweeping.stale_note.text()
    assert "sweep (post-outage power flow)" not in view.banner.text()
    assert view.highlighted == set()
    assert "Sweep row" not in window.verdict.banner.text()
    # its rows still open their outage on the grid state it ran on
    _click_cell(qtbot, t, window.curation.sweep.row_of(r["element"]))
    assert s.current.outages == (r["element"],) and s.current.perturbation.is_identity
    assert not sweeping.stale and view.highlighted == {v["element"] for v in r["violations"]}
    # "Sweep again" on the perturbed state: fresh, not stale, of the loads it ran on
    perturb_active(window, Perturbation(load_scale=1.2))
    assert sweeping.stale
    with qtbot.waitSignal(window.sweepDone, timeout=120_000):
        sweeping.again_button.click()
    assert not sweeping.stale and not sweeping.again_button.isVisible()
    assert sweeping.swept_state.load_scale == 1.2

    # another grid: the old sweep is gone, a click builds nothing of the new grid
    from PySide6 import QtWidgets

    from tests.app.test_window_engineering import answer_box

    answer_box(QtWidgets.QMessageBox.StandardButton.Discard)
    open_case(window, "case14")
    assert t.rowCount() == 0
    assert "case14" in window.curation.sweep.summary.text()
    window.curation.show_sweep_row([r["element"]])
    assert len(window.session.entries) == 1
    assert np.count_nonzero(view.state.edge_viol) == 0
