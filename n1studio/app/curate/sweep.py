"""The sweep's ranked table: one row per outage, worst first; clicking a row asks for that variant.

`SweepTable.set_sweep(doc)` takes an `n1studio.sweep/1` document; `variantRequested`
carries the outage list of the clicked row (the main window draws that variant). Its
summary is the command line's (`solve.sweep.describe`): the counts, the element kinds,
the operating point and what counts as a violation.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from n1studio.app.panels.tables import fit_columns, row_table, tip_cells
from n1studio.grid.topology import describe_islands
from n1studio.solve.sweep import STATUSES, describe, rank

SORT_ROLE = QtCore.Qt.ItemDataRole.UserRole + 1


class SortItem(QtWidgets.QTableWidgetItem):
    """A cell that sorts by its key (SORT_ROLE: numbers, severity) rather than its text."""

    def __lt__(self, other: QtWidgets.QTableWidgetItem) -> bool:
        a, b = self.data(SORT_ROLE), other.data(SORT_ROLE)
        if a is not None and b is not None:
            return a < b
        return self.text() < other.text()


STATUS_COLORS = {"diverged": "#8e44ad", "islanded": "#e67e22", "violations": "#c0392b",
                 "ok": "#27ae60"}


class SweepTable(QtWidgets.QWidget):
    """A filterable, ranked table of sweep results."""

    variantRequested = QtCore.Signal(list)  # the outages of the chosen row, e.g. ["line:3"]

    COLUMNS = ("rank", "element", "status", "violations", "worst", "detail")

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        top = QtWidgets.QHBoxLayout()
        self.summary = QtWidgets.QLabel("No sweep yet.")
        self.summary.setWordWrap(True)
        self.filter = QtWidgets.QComboBox()
        self.filter.addItems(["all", "diverged", "islanded", "violations", "ok"])
        self.filter.currentTextChanged.connect(self._apply_filter)
        top.addWidget(self.summary, 1)
        top.addWidget(QtWidgets.QLabel("Show:"))
        top.addWidget(self.filter)
        lay.addLayout(top)
        self.table = row_table([c.capitalize() for c in self.COLUMNS])
        self.table.setObjectName("sweepTable")
        # one line per row: a cell too narrow elides its text, its tooltip holds it whole,
        # and every column can be widened (panels/tables.py)
        self.table.setWordWrap(False)
        self.table.cellClicked.connect(self._clicked)
        self.table.cellActivated.connect(self._clicked)
        lay.addWidget(self.table)
        self.rows: list[dict] = []
        self.point: dict = {}  # the sweep's operating_point

    def set_sweep(self, doc: dict) -> None:
        self.rows = rank(doc.get("results", []))
        self.point = doc.get("operating_point") or {}  # where the sweep ran
        st = doc.get("stats", {})
        lines = describe(doc)
        lines[0] += f" ({st.get('seconds', 0):.2f} s)"
        self.summary.setText("\n".join(lines))
        self.table.setSortingEnabled(False)
        self.table.clearContents()
        self.table.setRowCount(len(self.rows))
        for i, r in enumerate(self.rows):
            worst = max(r.get("violations", []), key=lambda v: v.get("excess", 0.0), default=None)
            nviol = len(r.get("violations", []))
            vals = [str(i + 1), r["element"], r["status"], str(nviol),
                    "" if worst is None else f"{worst['constraint']} {worst['element']}",
                    _detail(r)]
            keys = [i, r["element"], i, nviol, -(worst or {}).get("excess", 0.0), vals[5]]
            for j, v in enumerate(vals):
                item = SortItem(v)
                item.setData(QtCore.Qt.ItemDataRole.UserRole, i)
                item.setData(SORT_ROLE, keys[j])
                if j == 2:
                    item.setForeground(QtGui.QBrush(QtGui.QColor(STATUS_COLORS.get(v, "#000"))))
                    item.setData(SORT_ROLE, (STATUSES.index(v) if v in STATUSES else 9, i))
                if j == 5:
                    item.setToolTip(v)
                self.table.setItem(i, j, item)
        tip_cells(self.table)
        fit_columns(self.table)
        self.table.setSortingEnabled(True)
        # ranked by severity by default (the rank column, ascending)
        self.table.sortByColumn(0, QtCore.Qt.SortOrder.AscendingOrder)
        self._apply_filter(self.filter.currentText())

    def clear(self, text: str = "No sweep yet.") -> None:
        """No results (another grid was opened: the sweep belonged to the previous one)."""
        self.rows = []
        self.point = {}
        self.table.setSortingEnabled(False)
        self.table.clearContents()
        self.table.setRowCount(0)
        self.summary.setText(text)

    def row_data(self, element: str) -> dict | None:
        """The sweep's result for an outage, with the sweep's ``operating_point`` (None if
        absent)."""
        r = next((r for r in self.rows if r["element"] == element), None)
        return None if r is None else dict(r, operating_point=self.point)

    def _apply_filter(self, status: str) -> None:
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is None:
                continue
            r = self.rows[int(item.data(QtCore.Qt.ItemDataRole.UserRole))]
            self.table.setRowHidden(row, status != "all" and r["status"] != status)

    def _clicked(self, row: int, _col: int = 0) -> None:
        item = self.table.item(row, 0)
        if item is None:
            return
        r = self.rows[int(item.data(QtCore.Qt.ItemDataRole.UserRole))]
        self.variantRequested.emit([r["element"]])

    def row_of(self, element: str) -> int:
        """The table row (as shown, sorted) of an element (-1 if absent)."""
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 1)
            if item is not None and item.text() == element:
                return row
        return -1


def _detail(r: dict) -> str:
    if r["status"] == "islanded":
        return describe_islands(r.get("n_islands", 2), r.get("islanded_buses", []),
                                r.get("lost_load_mw", 0.0), tripped=r.get("tripped", ()))
    if r["status"] == "diverged":
        return "no AC power-flow solution"
    if "opf" in r:
        return "AC OPF feasible" if r["opf"]["feasible"] else f"AC OPF {r['opf']['status']}"
    return ""
