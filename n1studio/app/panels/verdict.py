"""The verdict panel: banner, satisfaction per constraint kind, cost gap, violations, and
which answer it shows (the model's or one checked by hand, by its source)."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from n1studio.app.panels.tables import fit_columns, row_table, tip_cells
from n1studio.present.session import MODEL_ANSWER
from n1studio.schema import CONSTRAINT_KINDS

KIND_TEXT = {"power_balance": "Power balance", "voltage": "Voltage", "gen_p": "Generator P",
             "gen_q": "Generator Q", "thermal": "Thermal", "angle": "Angle difference",
             "removed_element": "Removed element", "format": "Format"}


class VerdictPanel(QtWidgets.QWidget):
    """Banner, satisfaction per constraint kind, cost gap, and the table of violations;
    clicking a row selects and centres its element."""

    elementActivated = QtCore.Signal(str)
    # the moves to draw (verdict["moves"]) while "Show moves" is on, else None
    movesRequested = QtCore.Signal(object)
    # the answer to show: "" the model's, else the source of a checked answer
    sourceChosen = QtCore.Signal(str)

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
        self.source_box = QtWidgets.QComboBox()
        self.source_box.setObjectName("answerSource")
        self.source_box.setToolTip("The answer the panel and the drawing show: the model's "
                                   "own, or one checked by hand (Model → Check an answer…)")
        self.source_box.activated.connect(self._source_activated)
        self.source_row = QtWidgets.QWidget()
        source_lay = QtWidgets.QHBoxLayout(self.source_row)
        source_lay.setContentsMargins(0, 0, 0, 0)
        source_lay.addWidget(QtWidgets.QLabel("Showing:"))
        source_lay.addWidget(self.source_box, 1)
        self.source_row.hide()
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
        lay.addWidget(self.source_row)
        lay.addWidget(self.banner)
        lay.addWidget(self.recall)
        lay.addLayout(grid)
        lay.addWidget(self.cost)
        lay.addLayout(dist_row)
        lay.addWidget(self.moves_key)
        lay.addWidget(self.table, 1)

    def set_sources(self, checked, showing: str = "") -> None:
        """The answers to choose from: the model's and the checked ones (their sources);
        `showing` is the one shown ("" the model's). Hidden while there is only the model's."""
        sources = [MODEL_ANSWER, *checked]
        with QtCore.QSignalBlocker(self.source_box):
            self.source_box.clear()
            for src in sources:
                self.source_box.addItem(src, "" if src == MODEL_ANSWER else src)
            self.source_box.setCurrentIndex(max(self.source_box.findData(showing), 0))
        self.source_row.setVisible(len(sources) > 1)

    def _source_activated(self, k: int) -> None:
        self.sourceChosen.emit(str(self.source_box.itemData(k) or ""))

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
        ov = (f" — {overall:.0%} of constraints satisfied"
              if isinstance(overall, (int, float)) else "")
        # an answer checked by hand names its source ("pasted answer", "file NAME"), never
        # "the model"
        source = verdict.get("answer_source")
        what = f"The {source}" if source else "The answer"
        if feasible:
            self.banner.setText(f"✔ {what} is feasible{ov}.")
            self._set_level(self.banner, "ok")
        else:
            self.banner.setText(f"✘ {what} is infeasible: {len(viol)} violation(s){ov}.")
            self._set_level(self.banner, "error")
        if verdict.get("recalled_n_answer"):
            who = f"The {source} recalls" if source else "The model remembers"
            self.recall.setText(f"⚠ {'This ' + source if source else 'This answer'} looks like "
                                "the recalled N answer: it is closer to the intact grid's "
                                f"optimum than to this variant's. {who}, it does not solve.")
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
        d = (verdict.get("likelihood") or {}).get("delta_ll")
        if isinstance(d, (int, float)):  # the likelihood probe (model panel's checkbox)
            which = "the N answer" if d > 0 else "the variant's own answer"
            parts.append(f"the model prefers {which} by {abs(d):.3f} nats per token")
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
        tip_cells(self.table)
        fit_columns(self.table)
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
