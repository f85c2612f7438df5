"""The sweep's ranked table: one row per outage, worst first; clicking a row asks for that variant.

`SweepTable.set_sweep(doc)` takes an `n1studio.sweep/1` document; `variantRequested`
carries the outage list of the clicked row (the main window draws that variant).
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from n1studio.app.tables import row_table
from n1studio.grid.topology import describe_islands

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
        self.table.cellClicked.connect(self._clicked)
        self.table.cellActivated.connect(self._clicked)
        lay.addWidget(self.table)
        self.rows: list[dict] = []

    def set_sweep(self, doc: dict) -> None:
        from n1studio.solve.sweep import rank

        self.rows = rank(doc.get("results", []))
        st = doc.get("stats", {})
        c = st.get("counts", {})
        self.summary.setText(
            f"{doc.get('case', '')}: {st.get('contingencies', len(self.rows))} outages — "
            f"{c.get('ok', 0)} ok, {c.get('violations', 0)} violations, "
            f"{c.get('islanded', 0)} islanded, {c.get('diverged', 0)} diverged "
            f"({st.get('seconds', 0):.2f} s)")
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(self.rows))
        for i, r in enumerate(self.rows):
            worst = max(r.get("violations", []), key=lambda v: v.get("excess", 0.0), default=None)
            vals = [str(i + 1), r["element"], r["status"], str(len(r.get("violations", []))),
                    "" if worst is None else f"{worst['constraint']} {worst['element']}",
                    _detail(r)]
            for j, v in enumerate(vals):
                item = QtWidgets.QTableWidgetItem(v)
                item.setData(QtCore.Qt.ItemDataRole.UserRole, i)
                if j == 2:
                    item.setForeground(QtGui.QBrush(QtGui.QColor(STATUS_COLORS.get(v, "#000"))))
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()
        self._apply_filter(self.filter.currentText())

    def _apply_filter(self, status: str) -> None:
        for i, r in enumerate(self.rows):
            self.table.setRowHidden(i, status != "all" and r["status"] != status)

    def _clicked(self, row: int, _col: int = 0) -> None:
        item = self.table.item(row, 0)
        if item is None:
            return
        r = self.rows[int(item.data(QtCore.Qt.ItemDataRole.UserRole))]
        self.variantRequested.emit([r["element"]])

    def row_of(self, element: str) -> int:
        """The table row of an element (-1 if absent): for tests and for selecting from the map."""
        return next((i for i, r in enumerate(self.rows) if r["element"] == element), -1)


def _detail(r: dict) -> str:
    if r["status"] == "islanded":
        return describe_islands(r.get("n_islands", 2), r.get("islanded_buses", []),
                                r.get("lost_load_mw", 0.0))
    if r["status"] == "diverged":
        return "no AC power-flow solution"
    if "opf" in r:
        return "AC OPF feasible" if r["opf"]["feasible"] else f"AC OPF {r['opf']['status']}"
    return ""
