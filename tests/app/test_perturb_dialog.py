"""Edit → Perturb…: a perturbed variant of the active one, undoable, with its own reference."""

from __future__ import annotations

import pytest
from PySide6 import QtCore, QtWidgets

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support")


def fill_and_accept(window, qtbot, load_noise: float, seed: int) -> None:
    """Trigger Perturb… and, once its dialog is up, type the values and press OK."""

    def drive():
        dlg = window.last_perturb_dialog
        dlg.load_noise.setValue(load_noise)
        dlg.seed.setValue(seed)
        ok = dlg.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok)
        qtbot.mouseClick(ok, QtCore.Qt.MouseButton.LeftButton)

    QtCore.QTimer.singleShot(0, drive)
    window.act_perturb.trigger()


def test_perturb_load_noise_makes_an_undoable_variant(window, qtbot, open_case):
    open_case(window, "case14")
    s = window.session
    n_obj = s.base_entry.reference.objective
    with qtbot.waitSignal(window.referenceReady, timeout=120_000,
                          check_params_cb=lambda e: e is not s.base_entry):
        fill_and_accept(window, qtbot, 0.1, 7)
    assert window.last_perturb_dialog.preview.text() == "N · load ±10 % #7"
    assert len(s.entries) == 2 and s.active == 1
    e = s.current
    assert e.label == "N · load ±10 % #7"
    assert e.perturbation.load_noise == 0.1 and e.perturbation.seed == 7
    # the variant list and the banner say what it is
    tree = window.variants.tree
    assert [tree.topLevelItem(k).text(0) for k in range(tree.topLevelItemCount())] == [
        "N", "N · load ±10 % #7"]
    assert "N · load ±10 % #7" in window.view.banner.text()
    # its own reference: other loads, another optimum
    assert e.reference is not None and e.reference.success
    assert abs(e.reference.objective - n_obj) > 1.0
    # what Ask sends is the perturbed variant's prompt (the loads differ from N's)
    from n1studio.llm.prompt import render_prompt

    assert render_prompt(e.variant).text != render_prompt(s.base_entry.variant).text

    # taking an element out of the perturbed variant keeps the perturbation
    window.take_out("line:2")
    assert s.current.label == "N-1 line:2 · load ±10 % #7"
    window.undo.undo()
    assert s.current is e

    window.undo.undo()
    assert [x.label for x in s.entries] == ["N"] and s.active == 0
    assert tree.topLevelItemCount() == 1
    window.undo.redo()
    assert s.current is e and e.reference is not None  # its results come back with it


def test_perturb_cancel_changes_nothing(window, qtbot, open_case):
    open_case(window, "case14")

    def cancel():
        window.last_perturb_dialog.reject()

    QtCore.QTimer.singleShot(0, cancel)
    window.act_perturb.trigger()
    assert len(window.session.entries) == 1
    assert window.undo.count() == 0
