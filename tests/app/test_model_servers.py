"""The model list: controls marked as controls, servers added and remembered, and a dead
server answered with one line while the window stays up (a real closed port, no mock)."""

from __future__ import annotations

import socket

import pytest
from PySide6 import QtCore, QtWidgets

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support")


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there any more
    return port


def test_controls_are_in_the_list_marked_as_controls(window):
    combo = window.model_panel.model
    items = {combo.itemData(k): combo.itemText(k) for k in range(combo.count())}
    for name in ("control:reference", "control:recall-n", "control:noise", "control:zeros"):
        assert items[name] == f"{name} (control)"
    assert "control:reference" not in window.model_panel.recent_models()


def test_add_server_through_its_dialog_and_remember_it(window, qtbot, tmp_path):
    from n1studio.app.panels.model import ServerDialog, parse_server

    mp = window.model_panel

    def fill():
        dlg = next(w for w in QtWidgets.QApplication.topLevelWidgets()
                   if isinstance(w, ServerDialog) and w.isVisible())
        dlg.url.setText("http://127.0.0.1:8000")
        dlg.name.setText("gemma-270m")
        dlg.key_env.setText("MY_KEY_VAR")
        dlg.constrained.setCurrentIndex(dlg.constrained.findData("regex"))
        qtbot.mouseClick(dlg.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok),
                         QtCore.Qt.MouseButton.LeftButton)

    QtCore.QTimer.singleShot(200, fill)
    qtbot.mouseClick(mp.findChild(QtWidgets.QToolButton, "addServer"),
                     QtCore.Qt.MouseButton.LeftButton)
    assert mp.model.currentText() == "gemma-270m @ http://127.0.0.1:8000"
    srv = parse_server(mp.model_path())
    assert srv == {"endpoint": "http://127.0.0.1:8000", "model": "gemma-270m", "chat": False,
                   "api_key_env": "MY_KEY_VAR", "constrained": "regex"}
    window.save_settings()
    # a new window with the same preferences lists the server again
    from n1studio.app.window.main_window import MainWindow

    w2 = MainWindow(settings=window.settings)
    qtbot.addWidget(w2)
    assert mp.model_path() in w2.model_panel.recent_models()


def test_a_dead_server_is_one_line_and_the_window_stays(window, qtbot, open_case):
    open_case(window, "pglib_opf_case14_ieee")
    window.model_panel.add_server(f"http://127.0.0.1:{_closed_port()}", "gemma-270m")
    e = window.session.current
    with qtbot.waitSignal(window.answerReady, timeout=120_000, raising=False):
        qtbot.mouseClick(window.model_panel.ask, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.answer_slot.busy, timeout=120_000)
    assert "refused" in e.error.lower() and "\n" not in e.error
    assert e.verdict is None
    assert window.isVisible() and window.model_panel.ask.isEnabled()
