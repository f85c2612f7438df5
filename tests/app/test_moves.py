"""The verdict panel's distance to feasibility and "Show moves": one bar per moved
generator (dP) and bus (dVm) above the threshold, removed when hidden."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6 import QtCore

from n1studio.app.canvas.moves import MIN_DP_MW, MIN_DVM_PU

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support")

CASE = "pglib_opf_case14_ieee"


def test_show_moves_draws_one_mark_per_moved_element(window, qtbot, open_case):
    from n1studio.app.dialogs.check import check_answer_dialog

    open_case(window, CASE)
    text = json.dumps(window.session.base_entry.reference.answer)
    window.take_out("line:6")
    qtbot.waitUntil(lambda: not window.ref_slot.busy, timeout=120_000)
    panel, overlay = window.verdict, window.moves_overlay
    assert not panel.show_moves.isEnabled()  # no verdict, nothing to show
    with qtbot.waitSignal(window.answerReady, timeout=120_000):
        check_answer_dialog(window, text, "test")
    v = window.session.current.shown.verdict  # the checked answer, beside the model's
    dist = v["distance_to_feasible"]
    assert dist > 0
    assert f"{dist:.4g}" in panel.distance.text()
    # off by default
    assert panel.show_moves.isEnabled() and not panel.show_moves.isChecked()
    assert not overlay.visible and overlay.marks == []

    want = {m["element"] for m in v["moves"]["generators"] if abs(m["dp_mw"]) >= MIN_DP_MW}
    want |= {m["element"] for m in v["moves"]["buses"] if abs(m["dvm_pu"]) >= MIN_DVM_PU}
    assert any(n.startswith(("gen:", "ext_grid:")) for n in want)
    assert any(n.startswith("bus:") for n in want)
    # some moves are below the threshold and are not drawn
    every = {m["element"] for k in ("generators", "buses") for m in v["moves"][k]}
    assert want < every

    qtbot.mouseClick(panel.show_moves, QtCore.Qt.MouseButton.LeftButton)
    assert panel.show_moves.isChecked()
    assert {n for n, _, _ in overlay.marks} == want
    assert len(overlay.marks) == len(want)  # one mark per element
    assert overlay.visible and overlay.drawn_count() == len(want)
    n_bars = sum(len(b.getData()[0]) for b in overlay.bars.values() if b.isVisible())
    assert n_bars == 2 * len(want)
    # the generator bars go the way the moves go: up for more output
    d = window.view.drawing
    _x, y = overlay.bars["dp_mw"].getData()
    for k, (name, _field, val) in enumerate(m for m in overlay.marks if m[1] == "dp_mw"):
        assert np.sign(y[2 * k + 1] - y[2 * k]) == np.sign(val)
        assert abs(y[2 * k] - d.position(name)[1]) < 1e-9
    # under the violation markers
    assert overlay.heads.zValue() < window.view.markers.zValue()

    qtbot.mouseClick(panel.show_moves, QtCore.Qt.MouseButton.LeftButton)
    assert not overlay.visible and overlay.marks == [] and overlay.drawn_count() == 0
    assert not any(b.isVisible() for b in overlay.bars.values())

    # on again, then another variant without a verdict: nothing is drawn
    qtbot.mouseClick(panel.show_moves, QtCore.Qt.MouseButton.LeftButton)
    assert overlay.marks
    window.activate(0)
    assert overlay.marks == [] and not overlay.visible and panel.distance.text() == ""
