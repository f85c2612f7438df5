"""The study panel: the open study's datasets and runs, with keep/reject and notes.

`StudyPanel.set_data(info, runs)` takes plain data (`Study.info()` and `Study.runs()`);
its signals say what the user asked for, the main window does the work:
`runSelected(run)` (show that run's variant and verdict), `annotationChanged(run_id,
decision, note)` (store it), `reportRequested()` (rebuild the report).
"""

from __future__ import annotations

import hashlib

from PySide6 import QtCore, QtWidgets

from n1studio.app.panels.tables import row_table
from n1studio.curate.dataset import stale_warning
from n1studio.curate.study import Study
from n1studio.errors import N1Error


class StudyPanel(QtWidgets.QWidget):
    runSelected = QtCore.Signal(dict)
    annotationChanged = QtCore.Signal(int, str, str)  # run id, "keep"/"reject"/"", note
    reportRequested = QtCore.Signal()

    COLUMNS = ("id", "grid", "split", "variant", "model", "feasible", "satisfaction", "cost gap",
               "decision")

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        lay = QtWidgets.QVBoxLayout(self)
        self.header = QtWidgets.QLabel("No study open.")
        self.header.setWordWrap(True)
        lay.addWidget(self.header)
        # datasets whose stored prompts are older than the renderer (curate.dataset)
        self.stale = QtWidgets.QLabel()
        self.stale.setObjectName("stalePrompts")
        self.stale.setWordWrap(True)
        self.stale.setVisible(False)
        lay.addWidget(self.stale)
        self.table = row_table([c.capitalize() for c in self.COLUMNS])
        self.table.itemSelectionChanged.connect(self._selected)
        lay.addWidget(self.table, 1)
        row = QtWidgets.QHBoxLayout()
        self.keep = QtWidgets.QPushButton("Keep")
        self.reject = QtWidgets.QPushButton("Reject")
        self.note = QtWidgets.QLineEdit()
        self.note.setPlaceholderText("note on the selected run")
        self.report = QtWidgets.QPushButton("Report…")
        for w in (self.keep, self.reject):
            w.setEnabled(False)
            row.addWidget(w)
        row.addWidget(self.note, 1)
        row.addWidget(self.report)
        lay.addLayout(row)
        self.keep.clicked.connect(lambda: self._annotate("keep"))
        self.reject.clicked.connect(lambda: self._annotate("reject"))
        self.note.returnPressed.connect(lambda: self._annotate(None))
        self.report.clicked.connect(self.reportRequested.emit)
        self.runs: list[dict] = []
        self.decisions: dict[int, str] = {}

    def set_data(self, info: dict, runs: list[dict],
                 decisions: dict[int, str] | None = None) -> None:
        self.runs = list(runs)
        self.decisions = dict(decisions or {})
        ds = ", ".join(f"{d['name']} ({d['size']})" for d in info.get("datasets", [])) or "none"
        self.header.setText(f"{info.get('path', '')}: {len(info.get('grids', []))} grid(s), "
                            f"datasets {ds}, {info.get('runs', len(runs))} run(s)")
        self.stale.setText(_stale_text(info))
        self.stale.setVisible(bool(self.stale.text()))
        self.table.setRowCount(len(self.runs))
        for i, r in enumerate(self.runs):
            v = r.get("verdict") or {}
            gap = v.get("cost_gap")
            vals = [str(r["id"]), r.get("grid", ""), r.get("split", ""), r.get("label", ""),
                    r.get("model", ""), "yes" if v.get("feasible") else "no",
                    f"{100 * (v.get('overall_satisfaction') or 0):.1f}%",
                    "" if gap is None else f"{100 * gap:.1f}%", self.decisions.get(r["id"], "")]
            for j, val in enumerate(vals):
                self.table.setItem(i, j, QtWidgets.QTableWidgetItem(val))
        self.table.resizeColumnsToContents()

    def selected_run(self) -> dict | None:
        rows = self.table.selectionModel().selectedRows()
        return self.runs[rows[0].row()] if rows else None

    def _selected(self) -> None:
        r = self.selected_run()
        for w in (self.keep, self.reject):
            w.setEnabled(r is not None)
        if r is not None:
            self.runSelected.emit(r)

    def _annotate(self, decision: str | None) -> None:
        r = self.selected_run()
        if r is None:
            return
        if decision is not None:
            self.decisions[r["id"]] = decision
            row = self.runs.index(r)
            self.table.setItem(row, len(self.COLUMNS) - 1, QtWidgets.QTableWidgetItem(decision))
        self.annotationChanged.emit(int(r["id"]), self.decisions.get(r["id"], ""),
                                    self.note.text())


def _stale_text(info: dict) -> str:
    """One line per dataset whose stored prompts differ from a fresh render (quick check:
    one render per grid; `n1studio dataset list` checks every prompt whole)."""
    if not info.get("path") or not info.get("datasets"):
        return ""
    lines = []
    try:
        with Study.open(info["path"]) as st:
            for d in info["datasets"]:
                # rendering costs a grid load per dataset: done again only when its prompts
                # changed (refresh_study runs after every saved run)
                prompts = "\0".join(it["prompt"] for it in st.dataset_items(d["id"]))
                key = (str(info["path"]), d["id"], hashlib.sha256(prompts.encode()).hexdigest())
                if key not in _STALE_CACHE:
                    _STALE_CACHE[key] = stale_warning(st, d["id"], full=False)
                lines.append(_STALE_CACHE[key])
    except N1Error:
        return ""
    return "\n".join(f"⚠ {ln}" for ln in lines if ln)


_STALE_CACHE: dict[tuple, str | None] = {}
