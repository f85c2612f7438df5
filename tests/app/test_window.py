"""The main window without the model: open, draw, click, take out, undo, search, export."""

from __future__ import annotations

import html
import re

import numpy as np
import pytest
from PySide6 import QtCore, QtGui

# The offscreen platform says what it cannot do (raise, grab the keyboard, size hints).
pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support")


def _clear_line(view) -> str:
    """A line whose midpoint is far (in pixels) from every bus and glyph, so a click there
    can only mean the line."""
    d = view.drawing
    pts = np.concatenate([d.bus_xy, d.unit_xy])
    best, far = "", 0.0
    for name, (kind, _rows) in d.index.items():
        if kind != "edge" or not name.startswith("line:"):
            continue
        p = view.screen_point(name)
        scr = [view.vb.mapViewToScene(QtCore.QPointF(*map(float, q))) for q in pts]
        c = view.plot.mapToScene(p)
        dist = min(np.hypot(s.x() - c.x(), s.y() - c.y()) for s in scr)
        if dist > far:
            best, far = name, dist
    assert far > 20, "no line is clear of glyphs in this drawing"
    return best


def test_open_case_draws_every_element(window, qtbot, open_case):
    open_case(window, "case14")
    s = window.session
    d = s.drawing
    net = s.net
    assert d.bus_names == [f"bus:{i}" for i in net.bus.index]
    # pandapower's case14: 15 lines and 5 transformers; 1 ext_grid, 4 gens, 11 loads
    assert sorted(n for n in d.edge_names if n.startswith("line:")) == sorted(
        f"line:{i}" for i in net.line.index)
    assert sum(n.startswith("trafo:") for n in d.edge_names) == len(net.trafo) == 5
    assert sorted(d.unit_names) == sorted([f"ext_grid:{i}" for i in net.ext_grid.index]
                                          + [f"gen:{i}" for i in net.gen.index]
                                          + [f"load:{i}" for i in net.load.index])
    # one scatter item holds every bus, with the element names as its data
    assert list(window.view.buses.data["data"]) == d.bus_names
    # stored coordinates of the case are used as they are (centred)
    geo = np.array([[float(v) for v in g.split("[")[1].split("]")[0].split(",")]
                    for g in net.bus.geo])
    assert np.allclose(d.bus_xy, geo - geo.mean(axis=0))
    assert d.layout.source == "stored"
    # the N case has a reference solution computed alongside (pandapower case14 optimum)
    ref = s.base_entry.reference
    assert ref is not None and ref.success


def test_click_line_take_out_then_undo_redo(window, qtbot, open_case):
    open_case(window, "case14")
    view = window.view
    name = _clear_line(view)
    pos = view.screen_point(name)
    # a right click on the drawn line, through the view's own mouse handling
    qtbot.mouseClick(view.plot.viewport(), QtCore.Qt.MouseButton.RightButton, pos=pos)
    assert view.selected == name
    assert window.inspector.name == name
    menu = view.last_menu
    assert menu is not None
    take = menu.findChild(QtGui.QAction, "takeOut")
    assert take.text() == f"Take {name} out of service"
    menu.close()
    take.trigger()

    s = window.session
    assert len(s.entries) == 2
    assert s.current.outages == (name,)
    rows = s.drawing.index[name][1]
    assert view.state.edge_removed[rows].all() and not view.state.edge_on[rows].any()
    assert window.variants.tree.topLevelItemCount() == 2
    assert window.variants.tree.topLevelItem(1).text(0) == f"N-1 {name}"

    window.undo.undo()
    assert len(s.entries) == 1 and s.active == 0
    assert not view.state.edge_removed.any()
    window.undo.redo()
    assert s.current.outages == (name,)
    assert view.state.edge_removed[rows].all()


def test_left_click_and_delete_action_makes_variant_with_islands(window, qtbot, open_case):
    open_case(window, "case14")
    view = window.view
    # bus 7 of case14 hangs on one transformer: taking it out cuts the bus and its generator
    # off the grid. Click the transformer's drawn segment and use the Delete action.
    s = window.session
    net = s.net
    t = int(net.trafo.index[(net.trafo.lv_bus == 7) | (net.trafo.hv_bus == 7)][0])
    name = f"trafo:{t}"
    view.centre_on(name)
    qtbot.wait(50)
    qtbot.mouseClick(view.plot.viewport(), QtCore.Qt.MouseButton.LeftButton,
                     pos=view.screen_point(name))
    assert view.selected == name
    window.act_take_out.trigger()
    isl = s.current.variant.islands
    assert s.current.outages == (name,)
    assert isl.n_islands == 2
    assert "islands" in view.banner.text()


def test_search_selects_and_centres(window, qtbot, open_case):
    open_case(window, "case14")
    window.search.setText("bus:9")
    window.do_search()
    assert window.view.selected == "bus:9"
    (x0, x1), (y0, y1) = window.view.vb.viewRange()
    bx, by = window.session.drawing.position("bus:9")
    assert abs((x0 + x1) / 2 - bx) < 1e-6 * max(1, abs(bx)) + 0.05 * (x1 - x0)
    assert abs((y0 + y1) / 2 - by) < 0.05 * (y1 - y0)
    # a number is the case's own bus name first (pandapower's case14 names its buses 1..14)
    assert window.view.find("13") == "bus:12"
    assert window.view.find("bus:13") == "bus:13"
    assert window.view.find("line:2") == "line:2"
    assert window.view.find("nonsense") == ""


def test_png_export_is_not_blank(window, qtbot, open_case, tmp_path):
    open_case(window, "case14")
    out = tmp_path / "view.png"
    window.view.export_png(str(out))
    img = QtGui.QImage(str(out)).convertToFormat(QtGui.QImage.Format.Format_RGB32)
    assert img.width() > 300 and img.height() > 300
    ptr = img.constBits()
    arr = np.frombuffer(ptr, dtype=np.uint8, count=img.sizeInBytes()).reshape(
        img.height(), img.bytesPerLine())[:, : img.width() * 4]
    assert arr.std() > 10  # a drawing, not a flat background
    colours = np.unique(arr.reshape(-1, 4)[:, :3], axis=0)
    assert len(colours) > 20
    svg = tmp_path / "view.svg"
    window.view.export_svg(str(svg))
    assert "<svg" in svg.read_text()[:2000]


def test_presentation_mode_enlarges_markers(window, qtbot, open_case):
    open_case(window, "case14")
    before = window.view.bus_size
    window.act_present.trigger()
    assert window.view.bus_size > 1.4 * before
    window.act_present.trigger()
    assert window.view.bus_size == pytest.approx(before)


def test_drop_a_matpower_file_opens_it(window, qtbot, open_case, pglib):
    path = pglib("case30_ieee")
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(path))])
    ev = QtGui.QDropEvent(QtCore.QPointF(10, 10), QtCore.Qt.DropAction.CopyAction, mime,
                          QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.caseOpened, timeout=120_000):
        window.dropEvent(ev)
    assert len(window.session.drawing.bus_names) == 30
    assert window.session.drawing.layout.source == "computed"
    qtbot.waitUntil(lambda: not window.ref_slot.busy, timeout=120_000)


def test_bad_file_is_reported_and_window_keeps_its_grid(window, qtbot, open_case, tmp_path):
    open_case(window, "case14")
    bad = tmp_path / "broken.m"
    bad.write_text("function mpc = broken\nmpc.bus = [1 2 3;\n")
    with qtbot.waitSignal(window.caseFailed, timeout=60_000) as sig:
        window.open_case(str(bad))
    assert "broken" in sig.args[0]
    assert window.session.name == "case14"


def test_hover_tooltip_names_the_element_with_its_results(window, qtbot, open_case):
    open_case(window, "case14")
    qtbot.waitUntil(lambda: window.session.current.reference is not None, timeout=60_000)
    view = window.view
    # the mouse moves onto bus 4 (the view reads moves at most 30 times a second)
    qtbot.mouseMove(view.plot.viewport(), view.screen_point("bus:4"))
    qtbot.waitUntil(lambda: "bus:4" in view.vb.toolTip(), timeout=5_000)
    rows = [(k, html.unescape(v)) for k, v in re.findall(
        r"<tr><td><b>(.*?)</b></td><td>&nbsp;(.*?)</td></tr>", view.vb.toolTip())]
    # the bus's data as the case has it (bus 5 of the IEEE 14-bus case, 135 kV) and the
    # reference AC OPF's voltage there
    net = window.session.net
    ref = {b["element"]: b for b in window.session.current.reference.answer["buses"]}["bus:4"]
    assert rows == [
        ("element", "bus:4"),
        ("name", "5"),
        ("vn_kv", f"{net.bus.vn_kv[4]:g}"),
        ("min_vm_pu", f"{net.bus.min_vm_pu[4]:g}"),
        ("max_vm_pu", f"{net.bus.max_vm_pu[4]:g}"),
        ("in_service", "yes"),
        ("reference V", f"{ref['vm_pu']:.4f} pu ∠ {ref['va_degree']:.2f}°"),
    ]


def test_compare_side_by_side_shows_the_other_variant(window, qtbot, open_case):
    open_case(window, "case14")
    window.take_out("line:2")
    window.act_compare.trigger()
    assert window.compare.isVisible()
    # the active variant on the left, the N case on the right, views linked
    assert window.view.state.edge_removed.any()
    assert not window.compare.state.edge_removed.any()
    assert "N-1 line:2" in window.view.banner.text()
    window.view.vb.translateBy(x=1.0)
    assert window.compare.vb.viewRange()[0] == pytest.approx(window.view.vb.viewRange()[0])
    window.act_compare.trigger()
    assert not window.compare.isVisible()


def test_preferences_persist(qtbot, tmp_path):
    from n1studio.app.window.main_window import MainWindow

    path = str(tmp_path / "prefs.ini")
    w = MainWindow(settings=QtCore.QSettings(path, QtCore.QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.model_panel.temp.setValue(0.7)
    w.model_panel.seed.setValue(42)
    w.model_panel.mode.setCurrentIndex(1)
    w.apply_theme("dark")
    w.save_settings()
    w2 = MainWindow(settings=QtCore.QSettings(path, QtCore.QSettings.Format.IniFormat))
    qtbot.addWidget(w2)
    v = w2.model_panel.values()
    assert v["temperature"] == pytest.approx(0.7) and v["seed"] == 42 and v["mode"] == "free"
    assert w2.theme == "dark" and w2.act_dark.isChecked()
    w2.apply_theme("light")


def test_ask_runs_the_pipeline_and_draws_its_verdict(window, qtbot, open_case):
    """The Ask button end to end without the language model: `control:reference` answers
    each variant with its own reference optimum, so the verdict is feasible at zero cost
    gap, nothing is drawn in the violation colour, and the answer shown is the one judged."""
    import json

    open_case(window, "pglib_opf_case14_ieee")
    window.take_out("line:6")
    qtbot.waitUntil(lambda: not window.ref_slot.busy, timeout=120_000)
    e = window.session.current
    assert e.reference is not None and e.reference.success
    window.model_panel.add_model("control:reference")
    with qtbot.waitSignal(window.answerReady, timeout=120_000):
        qtbot.mouseClick(window.model_panel.ask, QtCore.Qt.MouseButton.LeftButton)
    assert window.session.current is e
    assert e.error == "" and not e.stopped
    v = e.verdict
    assert v["feasible"] is True and v["violations"] == []
    assert v["reference_objective"] == pytest.approx(e.reference.objective, rel=1e-9)
    assert v["cost_gap"] == pytest.approx(0.0, abs=1e-6)
    assert e.answer == e.reference.answer
    assert json.loads(window.model_panel.answer.toPlainText()) == e.answer
    assert window.view.highlighted == set()
    assert "feasible" in window.verdict.banner.text()
    assert window.model_panel.ask.isEnabled() and not window.model_panel.stop.isEnabled()
