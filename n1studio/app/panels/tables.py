"""The read-only, row-selecting tables the panels share.

Nothing in them is cut without a way to read it: a column too narrow for its text elides it
("…") and the cell's tooltip holds it whole (`tip_cells`), every column can be widened by
dragging its header's edge, and the table scrolls sideways when the columns are wider than
the panel."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

MAX_FIRST_WIDTH = 0.6  # share of the viewport a column sized to its contents may take


def row_table(headers: list[str], single: bool = True) -> QtWidgets.QTableWidget:
    """A table of `headers` whose rows are picked, never edited; the last column stretches."""
    table = QtWidgets.QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    view = QtWidgets.QAbstractItemView
    table.setSelectionBehavior(view.SelectionBehavior.SelectRows)
    if single:
        table.setSelectionMode(view.SelectionMode.SingleSelection)
    table.setEditTriggers(view.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    header = table.horizontalHeader()
    header.setStretchLastSection(True)
    header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Interactive)
    header.setTextElideMode(QtCore.Qt.TextElideMode.ElideRight)
    table.setTextElideMode(QtCore.Qt.TextElideMode.ElideRight)
    table.setHorizontalScrollMode(view.ScrollMode.ScrollPerPixel)
    for k, text in enumerate(headers):
        table.horizontalHeaderItem(k).setToolTip(text)
    return table


def tip_cells(table: QtWidgets.QTableWidget) -> None:
    """Each cell's whole text as its tooltip (unless it has one), so an elided cell can be
    read; called once a table is filled."""
    for r in range(table.rowCount()):
        for c in range(table.columnCount()):
            it = table.item(r, c)
            if it is not None and not it.toolTip():
                it.setToolTip(it.text())


def fit_columns(table: QtWidgets.QTableWidget, width: int = 0) -> None:
    """Columns sized to their contents, none wider than `MAX_FIRST_WIDTH` of the table's
    width (or `width`), so one long text does not push the others out of sight."""
    table.resizeColumnsToContents()
    width = width or table.viewport().width()
    if width < 150:  # not laid out yet: no cap
        return
    cap = int(MAX_FIRST_WIDTH * width)
    for c in range(table.columnCount() - 1):
        if table.columnWidth(c) > cap:
            table.setColumnWidth(c, cap)
