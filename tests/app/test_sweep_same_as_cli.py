"""Issue 17: the window's sweep and `n1studio sweep` take out the same elements, at the
same operating point, and count violations the same way; the window says which, and a
unit tripped with an outage is drawn out of service."""

from __future__ import annotations

import json

import pytest

from n1studio.cli import main
from tests.conftest import PGLIB

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support")


def test_window_sweeps_what_the_command_line_sweeps(window, qtbot, open_case, capsys):
    case39 = str(PGLIB / "pglib_opf_case39_epri.m")
    assert main(["sweep", case39, "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    open_case(window, case39)
    with qtbot.waitSignal(window.sweepDone, timeout=120_000) as sig:
        window.curation.act_sweep.trigger()
    doc = sig.args[0]
    # the same outages (every branch), the same statuses and violations, the same point
    assert [r["element"] for r in doc["results"]] == [r["element"] for r in cli["results"]]
    assert [r["status"] for r in doc["results"]] == [r["status"] for r in cli["results"]]
    assert [len(r["violations"]) for r in doc["results"]] == \
        [len(r["violations"]) for r in cli["results"]]
    assert doc["stats"]["counts"] == cli["stats"]["counts"]
    assert doc["stats"]["counts"]["diverged"] == 0  # the N reference has a power flow
    assert {k: v for k, v in doc["operating_point"].items() if k != "seconds"} == \
        {k: v for k, v in cli["operating_point"].items() if k != "seconds"}
    assert doc["stats"]["rule"] == cli["stats"]["rule"]
    # the window's summary says where and what counts, in the command line's words
    summary = window.curation.sweep.summary.text()
    assert "46 outages of line, trafo, impedance at the N reference dispatch" in summary
    assert "the base case's own do not count" in summary
    # trafo:0 strands gen:0: the row names the trip and the drawing shows gen:0 out
    t = window.curation.sweep
    detail = t.table.item(t.row_of("trafo:0"), 5).text()
    assert "gen:0 tripped (left on an island without load)" in detail
    window.curation.show_sweep_row(["trafo:0"])
    view = window.view
    assert window.session.current.outages == ("trafo:0",)
    assert "gen:0 tripped" in window.session.current.label
    assert "sweep (post-outage power flow) at the N reference dispatch" in view.banner.text()
    kind, rows = view.drawing.index["gen:0"]
    assert kind == "unit"
    assert not view.state.unit_on[rows].any()


def test_a_variant_made_in_the_window_draws_the_tripped_unit_out(window, qtbot, open_case):
    open_case(window, str(PGLIB / "pglib_opf_case39_epri.m"))
    window.take_out("trafo:0")
    e = window.session.current
    assert e.outages == ("trafo:0",) and e.variant.tripped == ("gen:0",)
    qtbot.waitUntil(lambda: e.ready, timeout=60_000)
    view = window.view
    _kind, rows = view.drawing.index["gen:0"]
    assert not view.state.unit_on[rows].any()
    assert "gen:0 tripped (left on an island without load)" in view.banner.text()
    # taking the tripped unit out by hand adds nothing: it is already out
    n = len(window.session.entries)
    window.take_out("gen:0")
    assert window.session.current is e and len(window.session.entries) == n
    assert window.statusBar().currentMessage() == "gen:0 is already out of service"
