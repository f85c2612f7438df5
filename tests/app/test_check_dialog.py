"""Model → Check an answer…: the recalled N answer, pasted into the dialog on pglib case14
with line:6 out, is judged and drawn like a model's answer, beside the model's own answer
(never replacing it): the verdict panel's "Showing" choice switches between the two."""

from __future__ import annotations

import pytest
from PySide6 import QtCore, QtWidgets

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support")

CASE = "pglib_opf_case14_ieee"
OUT = "line:6"


def n_answer_text(window) -> str:
    """The N case's reference written as an answer (what `n1studio solve --json` prints)."""
    import json

    ref = window.session.base_entry.reference
    assert ref is not None and ref.success
    return json.dumps(ref.answer, indent=2)


def check_via_dialog(window, qtbot, text: str) -> None:
    """Copy `text`, open the dialog, press Paste and OK, and wait for the verdict."""
    QtWidgets.QApplication.clipboard().setText(text)

    def drive():
        dlg = window.last_check_dialog
        dlg.text.clear()
        qtbot.mouseClick(dlg.paste_button, QtCore.Qt.MouseButton.LeftButton)
        assert dlg.text.toPlainText() == text
        ok = dlg.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok)
        qtbot.mouseClick(ok, QtCore.Qt.MouseButton.LeftButton)

    with qtbot.waitSignal(window.answerReady, timeout=120_000):
        QtCore.QTimer.singleShot(0, drive)
        window.act_check.trigger()


def test_pasted_n_answer_is_judged_and_drawn(window, qtbot, open_case):
    from n1studio import pipeline

    open_case(window, CASE)
    text = n_answer_text(window)
    window.take_out(OUT)
    qtbot.waitUntil(lambda: not window.ref_slot.busy, timeout=120_000)
    e = window.session.current
    assert e.label == f"N-1 {OUT}"
    check_via_dialog(window, qtbot, text)

    # kept under its own source, shown; the model's slot stays empty (nothing was asked)
    assert list(e.checked) == ["pasted answer"] and e.showing == "pasted answer"
    assert e.verdict is None and e.raw == "" and e.model_file == ""
    verdict = e.shown.verdict
    assert verdict is not None and e.shown.model_file == "checked: pasted answer"
    # the same verdict the command line gives
    want = pipeline.judge(e.variant, text)
    got_pairs = sorted((v["constraint"], v["element"]) for v in verdict["violations"])
    assert got_pairs == sorted((v["constraint"], v["element"]) for v in want["violations"])
    assert got_pairs, "the N answer does not balance the N-1 grid"
    assert verdict["recall"]["verdict"] == "recalled"
    assert verdict["distance_to_feasible"] > 0

    # the verdict panel lists exactly these violations
    table = window.verdict.table
    rows = sorted((table.item(r, 0).text(), table.item(r, 1).text())
                  for r in range(table.rowCount()))
    from n1studio.app.panels.verdict import KIND_TEXT

    assert rows == sorted((KIND_TEXT[c], el) for c, el in got_pairs)
    # the banner names the answer's source, never "the model"
    assert window.verdict.banner.text().startswith("✘ The pasted answer is infeasible")
    recall = window.verdict.recall.text()
    assert "This pasted answer looks like the recalled N answer" in recall
    assert "model" not in recall
    # the view marks exactly the violated elements
    assert window.view.highlighted == {el for _, el in got_pairs}
    assert sorted(window.view.state.markers) == sorted({(el, c) for c, el in got_pairs})
    assert len(window.view.markers.data) == len(set(got_pairs))
    # the answer is shown like a model's: its text, and its voltages beside the reference's
    assert window.model_panel.answer.toPlainText() == text
    assert e.shown.answer is not None and e.reference is not None


def test_reference_answer_from_file_is_feasible(window, qtbot, open_case, tmp_path):
    import json

    open_case(window, CASE)
    window.take_out(OUT)
    qtbot.waitUntil(lambda: not window.ref_slot.busy, timeout=120_000)
    e = window.session.current
    path = tmp_path / "own.json"
    path.write_text(json.dumps(e.reference.answer))

    def drive():
        dlg = window.last_check_dialog
        assert dlg.load_file(str(path))
        dlg.accept()

    QtWidgets.QApplication.clipboard().setText("not an answer")
    with qtbot.waitSignal(window.answerReady, timeout=120_000):
        QtCore.QTimer.singleShot(0, drive)
        window.act_check.trigger()
    checked = e.checked["file own.json"]
    assert checked.verdict["feasible"] and checked.verdict["violations"] == []
    assert e.shown is checked and checked.model_file == "checked: file own.json"
    assert window.verdict.banner.text().startswith("✔ The file own.json is feasible")
    assert window.view.highlighted == set()
    assert window.verdict.table.rowCount() == 0


def test_a_checked_answer_saved_to_a_study_is_its_own_source(window, qtbot, open_case,
                                                             tmp_path):
    """Curate → keep the run of a pasted answer: the study records it as "pasted answer",
    a source of its own (never the model's file), in the variant's family."""
    from n1studio.curate.study import Study

    open_case(window, CASE)
    text = n_answer_text(window)
    window.take_out(OUT)
    qtbot.waitUntil(lambda: not window.ref_slot.busy, timeout=120_000)
    path = tmp_path / "s.n1study"
    assert window.curation.open_study(str(path), create=True)
    check_via_dialog(window, qtbot, text)
    assert window.curation.save_run() is not None
    with Study.open(path) as st:
        (run,) = st.runs()
    assert run["model"] == "pasted answer" and run["model_sha256"] == "source:pasted answer"
    assert run["split"] == "N-1" and run["raw"] == text
    assert run["verdict"]["answer_source"] == "pasted answer"
    # shown again from the study: beside the (empty) model answer, under its source
    e = window.session.current
    window.session.update(e, checked={}, showing="")
    window.curation.show_run(run)
    assert e.verdict is None and e.checked["pasted answer"].raw == text
    assert window.verdict.banner.text().startswith("✘ The pasted answer is infeasible")


def test_checked_answer_lives_beside_the_model_answer(window, qtbot, open_case):
    """Ask control:reference (feasible), then check the pasted N answer (infeasible): the
    entry keeps the control's answer and verdict, the panel shows the pasted one naming its
    source; "Showing: model answer" brings back the control's verdict and a clean drawing;
    undoing and redoing the variant keeps both; compare draws what is shown."""
    import json

    from n1studio.present.session import MODEL_ANSWER

    open_case(window, CASE)
    text = n_answer_text(window)
    window.take_out(OUT)
    qtbot.waitUntil(lambda: not window.ref_slot.busy, timeout=120_000)
    e = window.session.current
    window.model_panel.add_model("control:reference")
    with qtbot.waitSignal(window.answerReady, timeout=120_000):
        qtbot.mouseClick(window.model_panel.ask, QtCore.Qt.MouseButton.LeftButton)
    model_verdict, model_raw = e.verdict, e.raw
    assert model_verdict["feasible"] and e.model_file == "control:reference"
    box = window.verdict.source_box
    assert window.verdict.source_row.isHidden()  # only the model's answer: no choice

    check_via_dialog(window, qtbot, text)
    # the control's answer is still the entry's own
    assert e.verdict is model_verdict and e.raw == model_raw
    assert e.model_file == "control:reference" and "answer_source" not in e.verdict
    pasted = e.checked["pasted answer"]
    assert pasted.raw == text and pasted.verdict["violations"]
    # shown right after the check, naming its source
    assert e.showing == "pasted answer"
    assert window.verdict.banner.text().startswith("✘ The pasted answer is infeasible")
    assert not window.verdict.source_row.isHidden()
    assert [box.itemText(k) for k in range(box.count())] == [MODEL_ANSWER, "pasted answer"]
    assert box.currentText() == "pasted answer"
    bad = {v["element"] for v in pasted.verdict["violations"]}
    assert window.view.highlighted == bad and window.model_panel.answer.toPlainText() == text
    assert "showing the pasted answer" in e.summary()

    # back to the model's answer: its verdict, its (clean) drawing, its text
    box.activated.emit(box.findText(MODEL_ANSWER))
    assert e.showing == "" and e.shown is e
    assert window.verdict.banner.text().startswith("✔ The answer is feasible")
    assert window.verdict.table.rowCount() == 0
    assert window.view.highlighted == set() and window.view.state.markers == []
    assert json.loads(window.model_panel.answer.toPlainText()) == e.answer
    # and to the pasted one again
    box.activated.emit(box.findText("pasted answer"))
    assert window.view.highlighted == bad
    assert window.verdict.table.rowCount() == len(pasted.verdict["violations"])

    # undo takes the variant away, redo brings it back with both answers, pasted shown
    window.act_undo.trigger()
    assert window.session.current.outages == ()
    window.act_redo.trigger()
    assert window.session.current is e and e.verdict is model_verdict
    assert e.checked["pasted answer"] is pasted
    assert window.verdict.banner.text().startswith("✘ The pasted answer is infeasible")
    assert window.view.highlighted == bad
    # compare draws what the verdict panel shows
    assert window.session.draw_state(e).markers == window.view.state.markers
