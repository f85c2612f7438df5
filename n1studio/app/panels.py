"""The side panels: variants, inspector, verdict. Each is a plain widget fed by the window."""

from __future__ import annotations

import logging

from PySide6 import QtCore, QtGui, QtWidgets

from n1studio.app.session import Session
from n1studio.app.tables import row_table
from n1studio.schema import CONSTRAINT_KINDS

log = logging.getLogger(__name__)

KIND_TEXT = {"power_balance": "Power balance", "voltage": "Voltage", "gen_p": "Generator P",
             "gen_q": "Generator Q", "thermal": "Thermal", "angle": "Angle difference",
             "removed_element": "Removed element", "format": "Format"}


class VariantsPanel(QtWidgets.QWidget):
    """The N case and its variants; selecting one draws it. Two can be compared side by side."""

    activated = QtCore.Signal(int)
    compareRequested = QtCore.Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.tree = QtWidgets.QTreeWidget()
        self.tree.setObjectName("variantsTree")
        self.tree.setHeaderLabels(["Variant", "Status"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setStretchLastSection(True)
        self.tree.setContextMenuPolicy(QtCore.Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._menu)
        self.tree.currentItemChanged.connect(self._changed)
        self.note = QtWidgets.QLabel("Click an element, then Delete (or right-click → Take out "
                                     "of service) to make an N-1 variant.")
        self.note.setWordWrap(True)
        self.note.setObjectName("hint")
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.tree)
        lay.addWidget(self.note)
        self._updating = False

    def show_session(self, session: Session) -> None:
        self._updating = True
        try:
            self.tree.clear()
            for k, e in enumerate(session.entries):
                it = QtWidgets.QTreeWidgetItem([e.label, e.summary()])
                it.setData(0, QtCore.Qt.ItemDataRole.UserRole, k)
                it.setToolTip(0, e.label)
                it.setToolTip(1, e.summary())
                if e.verdict is not None:
                    bad = bool(e.verdict.get("violations"))
                    it.setForeground(1, QtGui.QBrush(QtGui.QColor("#e0245e" if bad else "#1e8e5a")))
                if k == session.active:
                    f = it.font(0)
                    f.setBold(True)
                    it.setFont(0, f)
                self.tree.addTopLevelItem(it)
                if k == session.active:
                    self.tree.setCurrentItem(it)
            self.tree.resizeColumnToContents(0)
        finally:
            self._updating = False

    def _changed(self, cur, _prev) -> None:
        if self._updating or cur is None:
            return
        self.activated.emit(int(cur.data(0, QtCore.Qt.ItemDataRole.UserRole)))

    def _menu(self, pos) -> None:
        it = self.tree.itemAt(pos)
        if it is None:
            return
        k = int(it.data(0, QtCore.Qt.ItemDataRole.UserRole))
        m = QtWidgets.QMenu(self)
        m.addAction("Show", lambda: self.activated.emit(k))
        m.addAction("Compare side by side", lambda: self.compareRequested.emit(k))
        m.popup(self.tree.viewport().mapToGlobal(pos))


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


class VerdictPanel(QtWidgets.QWidget):
    """Banner, satisfaction per constraint kind, cost gap, and the table of violations;
    clicking a row selects and centres its element."""

    elementActivated = QtCore.Signal(str)
    # the moves to draw (verdict["moves"]) while "Show moves" is on, else None
    movesRequested = QtCore.Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._moves: dict | None = None
        self.banner = QtWidgets.QLabel("No answer yet: press Ask to question the model on the "
                                       "active variant.")
        self.banner.setObjectName("verdictBanner")
        self.banner.setWordWrap(True)
        self.banner.setProperty("level", "info")
        self.recall = QtWidgets.QLabel()
        self.recall.setObjectName("recallBanner")
        self.recall.setWordWrap(True)
        self.recall.setProperty("level", "warn")
        self.recall.hide()
        grid = QtWidgets.QGridLayout()
        self.bars: dict[str, QtWidgets.QProgressBar] = {}
        for r, k in enumerate(CONSTRAINT_KINDS):
            grid.addWidget(QtWidgets.QLabel(KIND_TEXT[k]), r, 0)
            b = QtWidgets.QProgressBar()
            b.setRange(0, 1000)
            b.setValue(0)
            b.setFormat("–")
            b.setTextVisible(True)
            grid.addWidget(b, r, 1)
            self.bars[k] = b
        self.cost = QtWidgets.QLabel("")
        self.cost.setObjectName("costLabel")
        self.cost.setWordWrap(True)
        self.distance = QtWidgets.QLabel("")
        self.distance.setObjectName("distanceLabel")
        self.distance.setWordWrap(True)
        self.distance.setToolTip(
            "How far the answer is from the nearest operating point that meets every "
            "constraint of the variant (normalised squared move of P, Q, V and angle; 0 for a "
            "feasible answer)")
        self.show_moves = QtWidgets.QCheckBox("Show moves")
        self.show_moves.setObjectName("showMoves")
        self.show_moves.setToolTip("Draw the moves to the nearest feasible point: a bar per "
                                   "generator (dP) and per bus (dVm), scaled")
        self.show_moves.setEnabled(False)
        self.show_moves.toggled.connect(lambda _on: self._emit_moves())
        self.moves_key = QtWidgets.QLabel(
            '<span style="color:#1f78b4">▮ generator dP</span> · '
            '<span style="color:#6a3d9a">▮ bus dVm</span> (bars scaled to the largest move; '
            'up: more)')
        self.moves_key.setObjectName("hint")
        self.moves_key.setWordWrap(True)
        self.moves_key.hide()
        self.show_moves.toggled.connect(self.moves_key.setVisible)
        dist_row = QtWidgets.QHBoxLayout()
        dist_row.addWidget(self.distance, 1)
        dist_row.addWidget(self.show_moves)
        self.table = row_table(["Constraint", "Element", "Value", "Limit", "Excess"], single=False)
        self.table.setObjectName("violationsTable")
        self.table.setSortingEnabled(True)
        self.table.cellClicked.connect(self._clicked)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.banner)
        lay.addWidget(self.recall)
        lay.addLayout(grid)
        lay.addWidget(self.cost)
        lay.addLayout(dist_row)
        lay.addWidget(self.moves_key)
        lay.addWidget(self.table, 1)

    def _set_level(self, w: QtWidgets.QLabel, level: str) -> None:
        w.setProperty("level", level)
        w.style().unpolish(w)
        w.style().polish(w)

    def clear(self, text: str = "No answer yet: press Ask to question the model on the active "
                                "variant.") -> None:
        self.banner.setText(text)
        self._set_level(self.banner, "info")
        self.recall.hide()
        for b in self.bars.values():
            b.setValue(0)
            b.setFormat("–")
        self.cost.setText("")
        self.table.setRowCount(0)
        self._set_distance(None)

    def show_verdict(self, verdict: dict | None, error: str = "") -> None:
        if error:
            self.clear()
            first = " ".join(error.split())
            short = first if len(first) <= 240 else first[:237] + "…"
            self.banner.setText(f"Model error: {short}")
            self.banner.setToolTip(error)
            self._set_level(self.banner, "error")
            return
        if not verdict:
            self.clear()
            return
        viol = verdict.get("violations") or []
        feasible = bool(verdict.get("feasible"))
        overall = verdict.get("overall_satisfaction")
        ov = f" — {overall:.0%} of constraints satisfied" if isinstance(overall, (int, float)) else ""
        if feasible:
            self.banner.setText(f"✔ The answer is feasible{ov}.")
            self._set_level(self.banner, "ok")
        else:
            self.banner.setText(f"✘ The answer is infeasible: {len(viol)} violation(s){ov}.")
            self._set_level(self.banner, "error")
        if verdict.get("recalled_n_answer"):
            self.recall.setText("⚠ This answer looks like the recalled N answer: it is closer to "
                                "the intact grid's optimum than to this variant's. The model "
                                "remembers, it does not solve.")
            self._set_level(self.recall, "warn")
            self.recall.show()
        else:
            self.recall.hide()
        sat = verdict.get("satisfaction") or {}
        for k, b in self.bars.items():
            v = sat.get(k)
            if isinstance(v, (int, float)):
                b.setValue(round(v * 1000))
                b.setFormat(f"{v:.0%}")
                b.setProperty("level", "ok" if v >= 0.999 else "warn" if v >= 0.8 else "error")
            else:
                b.setValue(0)
                b.setFormat("n/a")
                b.setProperty("level", "info")
            b.style().unpolish(b)
            b.style().polish(b)
        gap = verdict.get("cost_gap")
        obj, ref = verdict.get("objective"), verdict.get("reference_objective")
        parts = []
        if isinstance(obj, (int, float)):
            parts.append(f"answer cost {obj:,.1f} $/h")
        if isinstance(ref, (int, float)):
            parts.append(f"reference optimum {ref:,.1f} $/h")
        if isinstance(gap, (int, float)):
            parts.append(f"cost gap {gap:+.1%}")
        self.cost.setText(" · ".join(parts))
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(viol))
        for r, v in enumerate(viol):
            vals = [KIND_TEXT.get(v.get("constraint"), str(v.get("constraint"))),
                    str(v.get("element", "")), v.get("value"), v.get("limit"), v.get("excess")]
            for c, x in enumerate(vals):
                it = QtWidgets.QTableWidgetItem()
                if isinstance(x, (int, float)):
                    it.setData(QtCore.Qt.ItemDataRole.DisplayRole, float(f"{x:.5g}"))
                else:
                    it.setText("" if x is None else str(x))
                if c == 1:
                    it.setData(QtCore.Qt.ItemDataRole.UserRole, str(v.get("element", "")))
                self.table.setItem(r, c, it)
        self.table.setSortingEnabled(True)
        self.table.resizeColumnsToContents()
        self._set_distance(verdict)

    def _set_distance(self, verdict: dict | None) -> None:
        """The distance to feasibility, and the moves "Show moves" draws."""
        d = (verdict or {}).get("distance_to_feasible")
        moves = (verdict or {}).get("moves")
        if isinstance(d, (int, float)):
            self.distance.setText(f"distance to feasible {d:.4g}" + (" (feasible)" if d <= 0
                                                                       else ""))
        elif verdict and "distance_to_feasible" in verdict:
            self.distance.setText("distance to feasible: no feasible point found")
        else:
            self.distance.setText("")
        self._moves = moves if isinstance(moves, dict) else None
        self.show_moves.setEnabled(self._moves is not None)
        self._emit_moves()

    def _emit_moves(self) -> None:
        on = self.show_moves.isChecked() and self._moves is not None
        self.movesRequested.emit(self._moves if on else None)

    def _clicked(self, row: int, _col: int) -> None:
        it = self.table.item(row, 1)
        if it is not None:
            self.elementActivated.emit(str(it.data(QtCore.Qt.ItemDataRole.UserRole) or it.text()))
