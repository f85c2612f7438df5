"""The curation docks in the window: the sweep table draws variants; a study keeps runs."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support")


def _click_cell(qtbot, table, row: int, col: int = 0) -> None:
    """A real left click on a cell of a QTableWidget, where the user would click."""
    item = table.item(row, col)
    table.scrollToItem(item)
    rect = table.visualItemRect(item)
    assert table.viewport().rect().contains(rect.center())
    qtbot.mouseClick(table.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=rect.center())


def test_sweep_table_row_draws_that_variant(window, qtbot, open_case):
    open_case(window, "pglib_opf_case30_ieee")
    net = window.session.net
    with qtbot.waitSignal(window.sweepDone, timeout=120_000) as sig:
        window.curation.run_sweep()
    doc = sig.args[0]
    table = window.curation.sweep
    # every branch, as `n1studio sweep` (pglib case30 has impedances too)
    assert table.table.rowCount() == len(net.line) + len(net.trafo) + len(net.impedance)
    assert table.table.isVisible()
    # an outage that cuts a radial load bus off (PGLib case30 has some) is ranked and, once
    # clicked, drawn as a variant whose island report names the buses the sweep names
    cut = [r for r in doc["results"] if r["status"] == "islanded" and r["islanded_buses"]]
    assert cut, "pglib case30 has a radial load bus"
    r = cut[0]
    row = table.row_of(r["element"])
    _click_cell(qtbot, table.table, row)
    e = window.session.current
    assert e.outages == (r["element"],)
    assert sorted(e.variant.islands.cut_buses) == sorted(r["islanded_buses"])
    # the drawing shades exactly those buses (one shade disc per cut-off bus)
    view = window.view
    d = view.drawing
    shaded = {d.bus_names[k] for k in np.flatnonzero(view.state.bus_cut)}
    assert shaded == set(r["islanded_buses"])
    assert len(view.shade.data) == len(shaded)
    assert view.state.edge_removed[d.index[r["element"]][1]].all()
    # clicking it again does not make a second copy
    _click_cell(qtbot, table.table, table.row_of(r["element"]))
    assert sum(x.outages == (r["element"],) for x in window.session.entries) == 1
    window.undo.undo()
    assert window.session.current.outages == ()


def test_study_keeps_a_run_and_shows_it_again(window, qtbot, open_case, tmp_path):
    """Save a checked answer (here the reference's own answer of an N-1 variant: feasible)
    into a study, then draw it back from the study table."""
    from n1studio import pipeline

    open_case(window, "pglib_opf_case14_ieee")
    window.take_out("line:6")
    qtbot.waitUntil(lambda: not window.ref_slot.busy, timeout=120_000)
    e = window.session.current
    assert e.reference is not None and e.reference.success
    e.answer = e.reference.answer
    e.verdict = pipeline.judge(e.variant, e.answer, refs=pipeline.References(
        own=e.reference, n=window.session.base_entry.reference))
    e.raw, e.prompt, e.stats = "(reference)", "(none)", {"wall_s": 0.0}
    assert e.verdict["feasible"] and not e.verdict["violations"]

    assert window.curation.open_study(str(tmp_path / "s.n1study"), create=True)
    rid = window.curation.save_run()
    assert rid is not None
    panel = window.curation.study_panel
    assert panel.table.rowCount() == 1
    assert panel.table.item(0, 3).text() == "N-1 line:6"

    window.activate(0)
    assert window.session.current.outages == ()
    panel.table.selectRow(0)
    cur = window.session.current
    assert cur.outages == ("line:6",)
    assert cur.verdict["feasible"] is True
    assert window.view.highlighted == set()
    panel.keep.click()
    assert window.curation.study.annotation("run", rid)["decision"] == "keep"
    window.curation.build_report()
    assert window.curation.report.report["runs"] == 1
