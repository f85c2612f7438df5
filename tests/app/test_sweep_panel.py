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
    # a click on the Violations header sorts by count (numbers, not text)
    hdr = t.horizontalHeader()
    x = hdr.sectionViewportPosition(3) + hdr.sectionSize(3) // 2
    qtbot.mouseClick(hdr.viewport(), QtCore.Qt.MouseButton.LeftButton,
                     pos=QtCore.QPoint(x, hdr.height() // 2))
    counts = [int(v) for v in _column(t, 3)]
    assert counts in (sorted(counts), sorted(counts, reverse=True))
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
    (x0, x1), (y0, y1) = view.vb.viewRange()
    mid = s.drawing.position(r["element"])
    assert abs((x0 + x1) / 2 - mid[0]) < 1e-6 * max(1, abs(mid[0])) + 1e-3
    assert abs((y0 + y1) / 2 - mid[1]) < 1e-6 * max(1, abs(mid[1])) + 1e-3

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
