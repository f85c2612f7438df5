"""The read-only, row-selecting tables the panels share."""

from __future__ import annotations

from PySide6 import QtWidgets


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
    table.horizontalHeader().setStretchLastSection(True)
    return table
