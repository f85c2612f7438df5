"""The inspector panel: key/value rows of the selected element."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets


class Inspector(QtWidgets.QWidget):
    """Key/value rows of the selected element: data, reference, answer, violations."""

    takeOut = QtCore.Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.title = QtWidgets.QLabel("Nothing selected")
        self.title.setObjectName("panelTitle")
        self.table = QtWidgets.QTableWidget(0, 2)
        self.table.setObjectName("inspectorTable")
        self.table.horizontalHeader().hide()
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setShowGrid(False)
        self.button = QtWidgets.QPushButton("Take out of service")
        self.button.setEnabled(False)
        self.button.clicked.connect(lambda: self.name and self.takeOut.emit(self.name))
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.title)
        lay.addWidget(self.table)
        lay.addWidget(self.button)
        self.name = ""

    def show_rows(self, name: str, rows: list[tuple[str, str]], can_take_out: bool) -> None:
        self.name = name
        self.title.setText(name or "Nothing selected")
        self.table.setRowCount(len(rows))
        for r, (k, v) in enumerate(rows):
            ki = QtWidgets.QTableWidgetItem(k)
            vi = QtWidgets.QTableWidgetItem(v)
            if k.startswith("⚠"):
                for it in (ki, vi):
                    it.setForeground(QtGui.QBrush(QtGui.QColor("#e0245e")))
            self.table.setItem(r, 0, ki)
            self.table.setItem(r, 1, vi)
        self.table.resizeColumnToContents(0)
        self.button.setEnabled(bool(name) and can_take_out)
