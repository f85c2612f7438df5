"""At 1400x900 nothing in the side tables is cut without a way to read it: the sweep
table's worst-violation column, the variants list's Status beside a long perturbed label,
the verdict table's last columns. A cell too narrow elides and carries its whole text as a
tooltip; every column can be widened by dragging its header."""

from __future__ import annotations

import pytest
from PySide6 import QtGui, QtWidgets

from n1studio.app.dialogs.perturb import perturb_active
from n1studio.grid.perturb import Perturbation
from tests.app.everything_broken import breaking_verdict

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support")

PAD = 12  # px: a cell's margins (style-dependent: generous on purpose)


def _readable(view: QtWidgets.QAbstractItemView, header: QtWidgets.QHeaderView, col: int,
              text: str, tip: str) -> bool:
    """Shown whole in its column, or elided with the whole text as its tooltip."""
    fm = QtGui.QFontMetrics(view.font())
    return fm.horizontalAdvance(text) + PAD <= header.sectionSize(col) or tip == text


def _widenable(header: QtWidgets.QHeaderView, col: int) -> bool:
    before = header.sectionSize(col)
    header.resizeSection(col, before + 40)
    grown = header.sectionSize(col) >= before + 40
    header.resizeSection(col, before)
    return grown


def _check_table(table: QtWidgets.QTableWidget) -> None:
    hdr = table.horizontalHeader()
    assert table.rowCount() > 0
    for c in range(table.columnCount()):
        h = table.horizontalHeaderItem(c)
        assert _readable(table, hdr, c, h.text(), h.toolTip()), h.text()
        if c < table.columnCount() - 1:  # the last one stretches to the edge
            assert _widenable(hdr, c), h.text()
        for r in range(table.rowCount()):
            it = table.item(r, c)
            assert _readable(table, hdr, c, it.text(), it.toolTip()), (h.text(), it.text())


def test_side_tables_elide_with_tooltips_and_widen(window, qtbot, open_case):
    assert window.size().width() == 1400
    open_case(window, "pglib_opf_case14_ieee")
    window.take_out("line:3")
    perturb_active(window, Perturbation(load_noise=0.1, cost_noise=0.1, relabel=True, seed=3))
    s = window.session
    e = s.current
    assert len(e.label) > 50
    s.update(e, verdict=breaking_verdict(e.variant))

    # variants: the long label elides (tooltip: all of it), Status stays in sight
    tree = window.variants.tree
    row = next(tree.topLevelItem(k) for k in range(tree.topLevelItemCount())
               if tree.topLevelItem(k).toolTip(0) == e.label)
    hdr = tree.header()
    assert hdr.sectionViewportPosition(1) + 40 <= tree.viewport().width()
    assert _readable(tree, hdr, 0, row.text(0), row.toolTip(0))
    assert _readable(tree, hdr, 1, row.text(1), row.toolTip(1))
    assert _widenable(hdr, 0)

    # verdict: every column, the last ones included
    window.dock_verdict.raise_()
    _check_table(window.verdict.table)

    # sweep: the worst-violation column and the others
    window.curation.dock_sweep.raise_()
    window.activate(0)
    with qtbot.waitSignal(window.sweepDone, timeout=120_000):
        window.curation.act_sweep.trigger()
    _check_table(window.curation.sweep.table)
