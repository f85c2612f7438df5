"""The engineer's window: redo keys, fixed Undo/Redo labels, one in-service state in the
inspector, the big grid's reference (not solved on its own: said so, solved on request with
a progress bar and a Cancel button)."""

from __future__ import annotations

import pytest
from PySide6 import QtCore

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support")


def test_undo_redo_keys_and_fixed_labels(window, qtbot, open_case):
    open_case(window, "case14")
    window.show_element("line:6", centre=True)
    qtbot.keyClick(window.view.plot.viewport(), QtCore.Qt.Key.Key_Delete)
    s = window.session
    assert s.current.outages == ("line:6",)
    # the toolbar's labels stay short; what would be undone is in the tooltip
    assert window.act_undo.text() == "&Undo"
    assert window.act_undo.toolTip() == "Undo take line:6 out of service"
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert s.current.outages == ()
    assert window.act_redo.text() == "&Redo"
    assert window.act_redo.toolTip() == "Redo take line:6 out of service"
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Y, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert s.current.outages == ("line:6",)
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert s.current.outages == ()
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier
                   | QtCore.Qt.KeyboardModifier.ShiftModifier)
    assert s.current.outages == ("line:6",)
    # the inspector of the element taken out: "OUT OF SERVICE", not also "in_service yes"
    window.show_element("line:6")
    t = window.inspector.table
    rows = {t.item(r, 0).text(): t.item(r, 1).text() for r in range(t.rowCount())}
    assert rows["state"] == "OUT OF SERVICE (this variant)"
    assert "in_service" not in rows


def test_big_grid_reference_on_request_with_cancel(window, qtbot, open_case):
    open_case(window, "case1354pegase", timeout=240_000)
    s = window.session
    assert len(s.net.bus) > 400
    assert not window.ref_slot.busy and s.current.reference is None
    banner = window.view.banner
    assert "reference not solved" in banner.text() and "Solve reference" in banner.text()
    bar = window.reference_bar
    assert not bar.isVisible()
    banner.linkActivated.emit("solve-reference")  # what a click on the link sends
    assert window.ref_slot.busy and bar.isVisible() and bar.cancel.isVisible()
    assert "solving the reference" in banner.text()
    qtbot.mouseClick(bar.cancel, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.ref_slot.busy, timeout=240_000)
    qtbot.waitUntil(lambda: not bar.isVisible(), timeout=5_000)
    assert s.current.reference is None
    assert "reference not solved" in banner.text()


def test_case_bus_names_in_labels_inspector_and_search(window, qtbot, open_case):
    open_case(window, "case14")
    view = window.view
    net = window.session.net
    # pandapower's case14 numbers its buses 1..14 in bus.name (index 0..13)
    assert [t.textItem.toPlainText() for t in view.labels.items] == [str(n) for n in net.bus.name]
    window.search.setText("13")
    qtbot.keyClick(window.search, QtCore.Qt.Key.Key_Return)
    assert view.selected == "bus:12"  # element names stay bus:<index>
    t = window.inspector.table
    rows = {t.item(r, 0).text(): t.item(r, 1).text() for r in range(t.rowCount())}
    assert rows["name"] == "13"
    (x0, x1), (y0, y1) = view.vb.viewRange()
    bx, by = window.session.drawing.position("bus:12")
    assert abs((x0 + x1) / 2 - bx) < 0.02 * (x1 - x0)
    assert abs((y0 + y1) / 2 - by) < 0.02 * (y1 - y0)


def answer_box(button) -> None:
    """Answer the next modal question box with `button` (as a click would)."""
    from PySide6 import QtWidgets

    def click():
        box = QtWidgets.QApplication.activeModalWidget()
        if not isinstance(box, QtWidgets.QMessageBox):
            QtCore.QTimer.singleShot(20, click)
            return
        box.button(button).click()

    QtCore.QTimer.singleShot(0, click)


def test_opening_a_grid_asks_before_discarding_variants(window, qtbot, open_case, tmp_path):
    from PySide6 import QtWidgets

    SB = QtWidgets.QMessageBox.StandardButton
    open_case(window, "case14")
    window.take_out("line:3")
    s = window.session
    # a file that does not open: no question, the grid and its variants stay
    bad = tmp_path / "broken.json"
    bad.write_bytes(b'{"bus": ')
    with qtbot.waitSignal(window.caseFailed, timeout=60_000) as failed:
        window.open_case(str(bad))
    assert "is not valid JSON" in failed.args[0]
    assert not [b for b in window.findChildren(QtWidgets.QMessageBox)
                if b.objectName() == "discardBox"]
    assert window.session is s and len(s.entries) == 2
    for b in window.findChildren(QtWidgets.QMessageBox):  # the "could not open" note
        b.close()
    # a grid that opens: asked once it has been read; Cancel keeps the open one
    answer_box(SB.Cancel)
    with qtbot.waitSignal(window.caseKept, timeout=60_000):
        window.open_case("case9")
    assert window.session is s and len(s.entries) == 2
    answer_box(SB.Discard)
    with qtbot.waitSignal(window.caseOpened, timeout=60_000):
        assert window.open_case("case9") is not None
    qtbot.waitUntil(lambda: not window.ref_slot.busy, timeout=60_000)
    assert window.session.name != s.name and len(window.session.entries) == 1
    # nothing to lose: no question
    with qtbot.waitSignal(window.caseOpened, timeout=60_000):
        window.open_case("case14")
    qtbot.waitUntil(lambda: not window.ref_slot.busy, timeout=60_000)


def test_answer_box_has_room_and_a_live_token_count(window, qtbot, open_case):
    from PySide6 import QtGui

    from n1studio.jobs import Partial

    open_case(window, "case14")
    mp = window.model_panel
    lines = mp.tabs.minimumHeight() / QtGui.QFontMetrics(mp.answer.font()).lineSpacing()
    assert lines >= 6
    assert mp.answer.height() >= 6 * QtGui.QFontMetrics(mp.answer.font()).lineSpacing()
    # tokens as the model's job delivers them: the count follows the stream
    e = window.session.current
    e.live_tokens = 0
    mp.set_stats("reading the prompt")
    for tok in ('{"gen', 'erators"', ": ["):
        window._model_partial(window.session, e, Partial("token", tok))
    assert mp.stats.text() == "the model is answering… 3 tokens"
    assert mp.answer.toPlainText() == '{"generators": ['
    # Stop: "stopped", not an error
    window._model_stopped(window.session, e, None)
    assert e.stopped and e.error == ""
    assert "stopped" in window.verdict.banner.text()
    assert window.verdict.banner.property("level") != "error"
