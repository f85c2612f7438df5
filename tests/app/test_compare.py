"""Compare side by side: any two entries, views linked both ways, one legend, full titles,
the grid fitted (not a dot) as soon as the second view shows."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support")


def _ranges(view):
    return np.array(view.vb.viewRange())


def _same(a, b) -> bool:
    """The same ranges, to a pixel (panes of 269 and 268 pixels with the aspect locked differ
    by a fraction of one)."""
    px = max(max(a.vb.viewPixelSize()), max(b.vb.viewPixelSize()))
    return np.allclose(_ranges(a), _ranges(b), rtol=0, atol=1.5 * px)


def test_compare_two_n1_variants(window, qtbot, open_case):
    window.resize(1280, 720)
    open_case(window, "case14")
    window.take_out("line:3")
    window.activate(0)
    window.take_out("line:7")
    s = window.session
    assert [e.label for e in s.entries] == ["N", "N-1 line:3", "N-1 line:7"]
    qtbot.waitUntil(lambda: not window.ref_slot.busy, timeout=60_000)
    # the first variant is the active one (a click on its row), Ctrl+D compares
    tree = window.variants.tree
    row = tree.visualItemRect(tree.topLevelItem(1)).center()
    qtbot.mouseClick(tree.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=row)
    assert s.active == 1
    qtbot.keyClick(window, QtCore.Qt.Key.Key_D, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert window.compare.isVisible() and window.compare_bar.isVisible()
    # choose the other N-1 variant on the right (keyboard on the combo box)
    combo = window.compare_bar.right
    combo.setFocus()
    while combo.currentIndex() < 2:
        qtbot.keyClick(combo, QtCore.Qt.Key.Key_Down)
    qtbot.wait(50)
    assert s.active == 1 and window._compare_index == 2
    left, right = window.view, window.compare
    assert left.banner.text().count("N-1 line:3") == 1
    assert "N-1 line:7" in right.banner.text()
    # titles in full: each banner wraps inside its pane, nothing cut on the right
    for v in (left, right):
        assert v.banner.geometry().right() <= v.plot.width()
    # the drawn states differ: each view shows its own outage
    rows3 = s.drawing.index["line:3"][1]
    rows7 = s.drawing.index["line:7"][1]
    assert not left.state.edge_on[rows3].any() and left.state.edge_on[rows7].all()
    assert not right.state.edge_on[rows7].any() and right.state.edge_on[rows3].all()
    # one legend, whole inside its (half-width) view
    assert left.legend.isVisible() and not right.legend.isVisible()
    lg = left.legend
    r = lg.mapRectToScene(lg.boundingRect())
    vp = left.plot.mapToScene(left.plot.viewport().rect()).boundingRect()
    assert vp.adjusted(-1, -1, 1, 1).contains(r)
    # fitted at once: the grid spans a good part of the right view, not a dot
    qtbot.waitUntil(lambda: _same(left, right), timeout=5000)
    xy = s.drawing.bus_xy
    (x0, x1), _ = right.vb.viewRange()
    assert (xy[:, 0].max() - xy[:, 0].min()) / (x1 - x0) > 0.5
    # zoom in the right one: the left follows; pan the left one: the right follows
    right.vb.scaleBy((0.5, 0.5))
    qtbot.wait(20)
    assert _same(left, right)
    left.vb.translateBy(x=1.0, y=0.5)
    qtbot.wait(20)
    assert _same(left, right)
    # Ctrl+D again: back to one view
    qtbot.keyClick(window, QtCore.Qt.Key.Key_D, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert not window.compare.isVisible() and not window.compare_bar.isVisible()


def test_right_click_compare_keeps_the_active_variant(window, qtbot, open_case):
    open_case(window, "case14")
    window.take_out("line:3")
    window.activate(0)
    window.take_out("line:7")
    s = window.session
    assert s.active == 2
    # what the variants menu does on row 1: the click made it current, Compare follows
    tree = window.variants.tree
    qtbot.mouseClick(tree.viewport(), QtCore.Qt.MouseButton.LeftButton,
                     pos=tree.visualItemRect(tree.topLevelItem(1)).center())
    window.variants.compareRequested.emit(1)
    assert s.active == 2 and window._compare_index == 1
    assert "N-1 line:3" in window.compare.banner.text()


def test_compare_two_models_answers_to_one_variant(window, qtbot, open_case, tmp_path):
    """One N-1 variant, two stored answers (the open study's runs): control:reference on the
    left, control:zeros beside it, each drawn with its own violations."""
    from n1studio.curate.dataset import build_dataset
    from n1studio.curate.evaluate import run_eval
    from n1studio.curate.study import Study
    from n1studio.grid.cases import load_case

    case = "pglib_opf_case5_pjm"
    path = tmp_path / "s.n1study"
    with Study.open(path, create=True) as st:
        ds = build_dataset(st, load_case(case), case, "ds", sample=1, seed=1)
        run_eval(st, ds, ["control:reference", "control:zeros"])
    open_case(window, case)
    assert window.curation.open_study(str(path))
    runs = [r for r in window.curation.study.runs() if r["outages"]]
    ref = next(r for r in runs if r["model"] == "control:reference")
    zeros = next(r for r in runs if r["model"] == "control:zeros")
    window.curation.show_run(ref)  # the study table's double-click: left = the reference
    qtbot.waitUntil(lambda: not window.ref_slot.busy, timeout=60_000)
    s = window.session
    assert s.current.outages == tuple(ref["outages"])
    qtbot.keyClick(window, QtCore.Qt.Key.Key_D, QtCore.Qt.KeyboardModifier.ControlModifier)
    combo = window.compare_bar.right
    assert "control:zeros" in combo.itemText(combo.count() - 1)  # runs come last, by id
    combo.setFocus()
    qtbot.keyClick(combo, QtCore.Qt.Key.Key_End)
    qtbot.wait(50)
    assert "control:zeros" in combo.currentText()
    assert combo.currentText().startswith(s.current.label)
    left, right = window.view, window.compare
    assert left.highlighted == set()
    bad = {v["element"] for v in zeros["verdict"]["violations"]}
    # the violated elements the drawing has (a violation may name no element: "")
    assert bad and right.highlighted == (bad - {""}) & set(s.drawing.index)
    assert "control:zeros" in right.banner.text() and "violation(s)" in right.banner.text()
