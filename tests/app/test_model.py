"""The window with the real default model: the answer's violations are exactly what is drawn,
and a model worker killed mid-answer leaves the window, its variants and its grid intact."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest
from PySide6 import QtCore, QtGui

from n1studio.app.canvas.gridview import E_VIOL
from n1studio.llm.ask import shared_worker_pid
from n1studio.present.drawing import UNIT_TABLES
from n1studio.present.theme import palette

pytestmark = [pytest.mark.slow, pytest.mark.qt_log_ignore(r"This plugin does not support")]

CASE = "pglib_opf_case5_pjm"  # the smallest PGLib case: a short constrained answer
OUTAGE = "line:2"
# the demo's question: the default model's answer to it is infeasible, so violations are drawn
VIOLATION_CASE, VIOLATION_OUTAGE = "pglib_opf_case14_ieee", "line:6"
MODEL_TIMEOUT_MS = 900_000


def _make_variant(window, qtbot, open_case) -> None:
    open_case(window, CASE)
    window.take_out(OUTAGE)
    assert window.session.current.outages == (OUTAGE,)
    qtbot.waitUntil(lambda: not window.ref_slot.busy, timeout=120_000)


def _click_cell(qtbot, table, row: int, col: int) -> None:
    item = table.item(row, col)
    table.scrollToItem(item)
    qtbot.mouseClick(table.viewport(), QtCore.Qt.MouseButton.LeftButton,
                     pos=table.visualItemRect(item).center())


def _segments(xs, ys) -> set[tuple]:
    """The (start, end) point pairs of a connect='pairs' curve, rounded for comparison."""
    pts = np.round(np.column_stack([xs, ys]), 6)
    return {(tuple(pts[k]), tuple(pts[k + 1])) for k in range(0, len(pts), 2)}


def test_answer_violations_are_exactly_the_drawn_elements(window, qtbot, open_case):
    """PGLib case14 with line:6 out: the default model's answer is infeasible (a base model
    of 270M parameters does not solve an AC OPF), so there are violations to draw, and what
    is drawn in the violation colour is exactly what the verdict names."""
    open_case(window, VIOLATION_CASE)
    window.take_out(VIOLATION_OUTAGE)
    qtbot.waitUntil(lambda: not window.ref_slot.busy, timeout=120_000)
    with qtbot.waitSignal(window.answerReady, timeout=MODEL_TIMEOUT_MS):
        window.ask()
    e = window.session.current
    assert e.outages == (VIOLATION_OUTAGE,)
    assert e.error == ""
    assert e.answer is not None and e.answer["schema"] == "n1studio.answer/1"
    v = e.verdict
    assert v["schema"] == "n1studio.verdict/1"
    assert v["violations"], "the default model's case14 N-1 answer is infeasible"
    assert v["feasible"] is False
    drawing = window.session.drawing
    elements = {x["element"] for x in v["violations"]}
    # every element the verdict names is on the drawing, and exactly those are highlighted
    assert elements <= set(drawing.index)
    view = window.view
    assert view.highlighted == elements
    red = QtGui.QColor(palette(window.theme).violation).rgb()
    # buses filled with the violation colour are the violated buses
    brushes = view.buses.data["brush"]
    drawn_red = {n for n, b in zip(view.buses.data["data"], brushes, strict=True)
                 if b.color().rgb() == red}
    assert drawn_red == {n for n in elements if n.startswith("bus:")}
    # generators (and other units) filled with it are the violated units
    units = view.units.data
    red_units = {n for n, b in zip(units["data"], units["brush"], strict=True)
                 if b.color().rgb() == red}
    assert red_units == {n for n in elements if n.split(":")[0] in UNIT_TABLES}
    # branches drawn with the violation pen are the violated lines and transformers
    curve = view.curves[E_VIOL]
    assert curve.opts["pen"].color().rgb() == red
    rows = [drawing.edge_names.index(n) for n in elements if n in drawing.edge_names]
    ea, eb = drawing.edge_xy
    ends = np.empty((2 * len(rows), 2))
    ends[0::2], ends[1::2] = ea[rows], eb[rows]
    xs, ys = curve.getData() if rows else ([], [])
    assert _segments(xs, ys) == _segments(ends[:, 0], ends[:, 1])
    # one marker per (element, constraint kind)
    assert len(view.markers.data) == len({(x["element"], x["constraint"])
                                          for x in v["violations"]})
    # the verdict table lists them; clicking a row selects and centres its element
    table = window.verdict.table
    assert table.rowCount() == len(v["violations"])
    window.dock_verdict.raise_()
    _click_cell(qtbot, table, 0, 0)
    name = table.item(0, 1).text()
    assert name in elements
    assert view.selected == name
    (x0, x1), (y0, y1) = view.vb.viewRange()
    cx, cy = drawing.position(name)
    assert abs((x0 + x1) / 2 - cx) < 0.05 * (x1 - x0)
    assert abs((y0 + y1) / 2 - cy) < 0.05 * (y1 - y0)
    # satisfaction bars show the verdict's numbers
    for kind, bar in window.verdict.bars.items():
        assert bar.value() == round(v["satisfaction"][kind] * 1000)
    # tokens streamed into the answer view
    assert window.model_panel.answer.toPlainText() == e.raw
    assert e.stats.get("completion_tokens", 0) > 0


def test_killed_model_worker_leaves_window_and_variants_intact(window, qtbot, open_case):
    _make_variant(window, qtbot, open_case)
    entries_before = [e.outages for e in window.session.entries]
    window.ask()
    # wait until the model is mid-answer: tokens have arrived
    qtbot.waitUntil(lambda: shared_worker_pid() is not None
                    and len(window.session.current.raw) > 0, timeout=MODEL_TIMEOUT_MS)
    pid = shared_worker_pid()
    with qtbot.waitSignal(window.answerReady, timeout=120_000):
        os.kill(pid, signal.SIGKILL)
    e = window.session.current
    assert "killed" in e.error and "SIGKILL" in e.error
    assert window.isVisible()
    assert "Model error" in window.verdict.banner.text()
    assert [x.outages for x in window.session.entries] == entries_before
    assert window.view.drawing is window.session.drawing
    assert window.model_panel.ask.isEnabled() and not window.model_panel.stop.isEnabled()
    # the grid is still usable: take another element out, undo it
    window.take_out("line:0")
    assert len(window.session.entries) == len(entries_before) + 1
    window.undo.undo()
    assert [x.outages for x in window.session.entries] == entries_before
    assert np.isfinite(window.session.drawing.bus_xy).all()


def test_stop_ends_the_answer_and_keeps_the_window(window, qtbot, open_case):
    _make_variant(window, qtbot, open_case)
    window.ask()
    qtbot.waitUntil(lambda: len(window.session.current.raw) > 0, timeout=MODEL_TIMEOUT_MS)
    with qtbot.waitSignal(window.answerReady, timeout=120_000):
        window.model_panel.stop.click()  # cooperative: the worker stops between tokens
    e = window.session.current
    # a stop is not an error: the verdict panel says "stopped", never "Model error"
    assert e.error == "" and e.stopped and e.verdict is None
    banner = window.verdict.banner.text()
    assert "stopped" in banner and "Model error" not in banner
    assert window.verdict.banner.property("level") == "info"
    assert e.raw  # the partial text is kept, and shown
    assert window.model_panel.answer.toPlainText() == e.raw
    assert shared_worker_pid() is not None  # the worker lives on for the next question
    assert window.model_panel.ask.isEnabled()


def test_edited_prompt_still_reuses_the_unchanged_prefix(window, qtbot, open_case):
    """The user edits the end of the prompt and asks again: the edited text is what the
    model reads, and llama.cpp's cache still serves everything before the edit."""
    _make_variant(window, qtbot, open_case)
    with qtbot.waitSignal(window.answerReady, timeout=MODEL_TIMEOUT_MS):
        window.ask()
    e = window.session.current
    assert e.error == "" and e.stats["prompt_tokens"] > 0
    first = e.prompt
    edited = first.replace("Load served:", "Note: line:2 is out; re-dispatch.\nLoad served:")
    assert edited != first
    window.model_panel.prompt.setPlainText(edited)  # as typing would: marks it edited
    assert window.model_panel.prompt_edited
    with qtbot.waitSignal(window.answerReady, timeout=MODEL_TIMEOUT_MS):
        window.ask()
    e = window.session.current
    assert e.error == ""
    assert e.prompt == edited  # the edited prompt, whole, went to the model
    st = e.stats
    # everything before the edit comes from the cache: the grid's shared part and the
    # variant's first lines, over nine tenths of the text; only the tail is read again
    assert len(first[:first.index("Load served:")]) > 0.9 * len(first)
    assert 0.8 * st["prompt_tokens"] < st["cached_tokens"] < st["prompt_tokens"]
