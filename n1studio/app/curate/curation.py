"""The Curate side of the window: the N-1 sweep, the open study (runs, keep/reject, notes,
saving the active variant's run), datasets and evaluation, and the report by family.

`Curation` owns its docks, actions, job slots and the open study; it never reaches into the
window. It is given the session to work on (`set_session`), the job slots to run in and the
model panel's settings, and it says what it wants shown through signals (a status line, a
grid, a variant, an element). Its parts: `sweeping.SweepDock` (the sweep),
`flow.CurateFlow` (dataset and evaluation jobs), the widgets `study.StudyPanel` and
`report.ReportView`; this module holds the study and the report.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from n1studio.app.curate.flow import CurateFlow
from n1studio.app.curate.report import ReportView, svg_to_png
from n1studio.app.curate.study import StudyPanel
from n1studio.app.curate.sweeping import SweepDock
from n1studio.app.panels.parts import make_action, make_dock
from n1studio.app.runtime.slot import Slots
from n1studio.curate.report import build_report, write_report
from n1studio.curate.study import Study, grid_hash
from n1studio.errors import N1Error
from n1studio.grid.perturb import Perturbation
from n1studio.llm.runtime import ModelSettings
from n1studio.present.session import CheckedAnswer, Session, VariantEntry

log = logging.getLogger(__name__)

Area = QtCore.Qt.DockWidgetArea
NEED_STUDY = "Open a study first (Curate → Open study…)"


class Curation(QtCore.QObject):
    """Sweep, study and report docks, and the Curate menu."""

    message = QtCore.Signal(str, int)  # a status-bar line and how long it shows (ms)
    sessionRequested = QtCore.Signal(object)  # a Session to show (a stored run's grid)
    variantRequested = QtCore.Signal(object, bool)  # outages, wait (prepare here, not later)
    elementRequested = QtCore.Signal(str, bool)  # element name, centre on it
    sweepDone = QtCore.Signal(object)  # the n1studio.sweep/1 document

    def __init__(self, parent: QtWidgets.QWidget, slots: Slots,
                 model_values: Callable[[], dict], recent_models: Callable[[], list[str]]):
        super().__init__(parent)
        self.session: Session | None = None
        self.study: Study | None = None
        self.model_values = model_values
        self.sweeping = SweepDock(slots.new("sweep"), self)
        self.sweeping.message.connect(self.message)
        self.sweeping.sweepDone.connect(self.sweepDone)
        self.sweeping.variantRequested.connect(self.variantRequested)
        self.sweeping.elementRequested.connect(self.elementRequested)
        self.sweep = self.sweeping.table

        self.study_panel = StudyPanel()
        self.study_panel.runSelected.connect(self.show_run)
        self.study_panel.annotationChanged.connect(self.annotate)
        self.study_panel.reportRequested.connect(self.build_report)
        self.report = ReportView()
        # scrollable: the report's plot and table must not force the whole right column
        # (verdict, plots, report share one tab group) to be 400 pixels high
        report_area = QtWidgets.QScrollArea()
        report_area.setWidget(self.report)
        report_area.setWidgetResizable(True)
        report_area.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.dock_sweep = make_dock("Sweep", self.sweeping.box, parent)
        self.dock_study = make_dock("Study", self.study_panel, parent)
        self.dock_report = make_dock("Report", report_area, parent)

        def act(*args):
            return make_action(self, *args)

        self.act_sweep = act("Run the N-1 &sweep", self.run_sweep, "Ctrl+Shift+S", "",
                             "Every single branch outage, classified at the N reference dispatch")
        self.act_open_study = act("&Open study…", self.open_study_dialog, None, "",
                                  "Open (or create) a study file")
        self.act_save_run = act("&Save this run to the study", self.save_run, "Ctrl+S", "",
                                "Keep the active variant's answer and verdict in the open study")
        self.act_report = act("N vs N-1 &report", self.build_report, None, "",
                              "The report of the open study's runs")
        self.act_export = act("E&xport the report…", self.export_dialog, None, "",
                              "report.json, .svg, .html and .png, as `n1studio report`")
        self.flow = CurateFlow(slots.new("curate"), parent, recent_models, self)
        self.flow.message.connect(self.message)
        self.flow.ended.connect(self.refresh_study)
        self.flow.evalDone.connect(lambda _summary: self.show_report(self.flow.dataset_id))

    def docks(self) -> list[tuple[QtWidgets.QDockWidget, Area]]:
        """The docks and the side each goes to (the window places them)."""
        return [(self.dock_sweep, Area.LeftDockWidgetArea),
                (self.dock_study, Area.LeftDockWidgetArea),
                (self.dock_report, Area.RightDockWidgetArea)]

    def add_menu(self, mb: QtWidgets.QMenuBar) -> QtWidgets.QMenu:
        m = mb.addMenu("&Curate")
        m.addAction(self.act_sweep)
        m.addSeparator()
        m.addAction(self.act_open_study)
        m.addAction(self.act_save_run)
        m.addAction(self.act_report)
        m.addSeparator()
        self.flow.add_to(m)
        m.addAction(self.act_export)
        return m

    def set_session(self, session: Session | None) -> None:
        """The session shown now (another grid: the sweep of the previous one is dropped)."""
        self.session = session
        self.flow.session = session
        self.sweeping.set_session(session)

    # ---- sweep (sweeping.SweepDock) ------------------------------------------------------
    def run_sweep(self):
        self.dock_sweep.raise_()
        return self.sweeping.run()

    def stop_sweep(self) -> None:
        self.sweeping.slot.stop()

    def show_sweep_row(self, outages: list) -> None:
        self.sweeping.show_row(outages)

    def finding(self, entry: VariantEntry) -> dict | None:
        return self.sweeping.finding(entry)

    def draw_state(self, entry: VariantEntry):
        return self.sweeping.draw_state(entry)

    # ---- study ----------------------------------------------------------------------------
    def open_study_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self.parent(), "Open or create a study", "study.n1study",
            "N-1 Studio studies (*.n1study *.sqlite *.db);;All files (*)",
            options=QtWidgets.QFileDialog.Option.DontConfirmOverwrite)
        if path:
            self.open_study(path, create=True)

    def open_study(self, path: str, create: bool = False) -> bool:
        try:
            study = Study.open(path, create=create)
        except N1Error as exc:
            self.message.emit(str(exc), 10000)
            return False
        if self.study is not None:
            self.study.close()
        self.study = self.flow.study = study
        self._grid_key = None
        self.refresh_study()
        self.dock_study.raise_()
        self.message.emit(f"Study {Path(path).name} open", 6000)
        return True

    def refresh_study(self) -> None:
        st = self.study
        if st is None:
            return
        runs = st.runs()
        decisions = {r["id"]: (st.annotation("run", r["id"]).get("decision") or "")
                     for r in runs}
        self.study_panel.set_data(st.info(), runs, decisions)

    def runs_of(self, entry: VariantEntry) -> list[dict]:
        """The open study's runs of `entry`'s variant of the open grid (answers of any model),
        for comparing two models' answers side by side."""
        s, st = self.session, self.study
        if s is None or st is None:
            return []
        key = (id(s), id(st))
        if getattr(self, "_grid_key", None) != key:
            h = grid_hash(s.net)
            self._grid_ids = {g["id"] for g in st.grids() if g.get("content_hash") == h}
            self._grid_key = key
        try:
            runs = st.runs()
        except N1Error:
            return []
        pkey = entry.variant.perturbation.key()
        return [r for r in runs if r["grid_id"] in self._grid_ids and r.get("verdict")
                and tuple(r.get("outages") or ()) == tuple(entry.outages)
                and Perturbation.from_dict(r.get("perturbation")).key() == pkey]

    def save_run(self) -> int | None:
        """Keep the active variant's run (prompt, raw, answer, verdict, stats) in the study."""
        s, st = self.session, self.study
        if s is None:
            return None
        if st is None:
            self.message.emit(NEED_STUDY, 6000)
            return None
        e = s.current
        a = e.shown  # the answer shown: the model's, or one checked by hand (its source)
        if a.verdict is None:
            self.message.emit("Ask the model first: there is no run to save", 6000)
            return None
        try:
            gid = st.add_grid(s.net, s.source, s.name)
            # the variant with its perturbation: a perturbed variant is never saved as N
            vid = st.add_variant(gid, e.outages, e.variant.perturbation.to_dict(),
                                 e.variant.label)
            if e.reference is not None:
                r = e.reference
                st.set_solution(vid, "ac", r.status, bool(r.success),
                                float(r.objective) if r.success else None,
                                r.answer if r.success else None)
            # an answer checked by hand is its own source, next to the model's runs
            source = (a.verdict or {}).get("answer_source")
            mid = (st.add_source(source) if source else
                   st.add_model(a.model_file or ModelSettings().resolved().model_path))
            now = time.time()
            rid = st.add_run(vid, mid, self.model_values(), e.prompt, a.raw, a.answer,
                             a.verdict, a.stats, now - float(a.stats.get("wall_s") or 0), now)
        except (N1Error, OSError, TypeError, ValueError) as exc:
            self.message.emit(f"Could not save the run: {exc}", 10000)
            return None
        self.refresh_study()
        self.message.emit(f"Run {rid} saved to {Path(st.path).name}", 6000)
        return rid

    def show_run(self, run: dict) -> None:
        """Draw a stored run: its grid (if not the open one), its variant and its verdict."""
        st = self.study
        if st is None:
            return
        outages = tuple(run.get("outages") or ())
        try:
            g = st.grid(int(run["grid_id"]))
            if self.session is None or grid_hash(self.session.net) != g["content_hash"]:
                net = st.load_net(int(run["grid_id"]))
                self.sessionRequested.emit(Session(net, g.get("source") or g["name"]))
            self.variantRequested.emit(outages, True)
        except N1Error as exc:
            self.message.emit(str(exc), 10000)
            return
        s = self.session
        k = s.find(outages) if s is not None else -1
        if k < 0:
            return
        source = (run.get("verdict") or {}).get("answer_source")
        if source:  # an answer checked by hand: beside the model's, under its source
            s.add_checked(s.entries[k], CheckedAnswer(
                source, run.get("raw") or "", run.get("answer"), run.get("verdict"),
                run.get("stats") or {}))
            return
        s.update(s.entries[k], prompt=run.get("prompt") or "", raw=run.get("raw") or "",
                 answer=run.get("answer"), verdict=run.get("verdict"),
                 stats=run.get("stats") or {}, model_file=run.get("model") or "",
                 error="", stopped=False)

    def annotate(self, run_id: int, decision: str, note: str) -> None:
        if self.study is None:
            return
        try:
            self.study.annotate("run", run_id, note=note or None, decision=decision or "")
        except N1Error as exc:
            self.message.emit(str(exc), 8000)

    # ---- report ---------------------------------------------------------------------------
    def report_of(self, dataset_id: int | None = None) -> dict | None:
        """The report by family of the open study (one dataset, or every run)."""
        if self.study is None:
            self.message.emit(NEED_STUDY, 6000)
            return None
        try:
            return build_report(self.study, dataset_id)
        except N1Error as exc:
            self.message.emit(str(exc), 8000)
            return None

    def build_report(self) -> None:
        """Study → Report: every run of the open study, in the Report dock."""
        rep = self.report_of()
        if rep is not None:
            self.report.set_report(rep)
            self.dock_report.show()
            self.dock_report.raise_()

    def show_report(self, dataset_id: int | None) -> None:
        """The report of an evaluated dataset, floated and large enough to read."""
        rep = self.report_of(dataset_id)
        if rep is None:
            return
        self.report.set_report(rep)
        d = self.dock_report
        d.show()
        d.setFloating(True)
        d.resize(max(d.width(), 1100), max(d.height(), 760))
        d.raise_()

    def export_dialog(self) -> None:
        if self.study is None:
            self.message.emit(NEED_STUDY, 6000)
            return
        out = QtWidgets.QFileDialog.getExistingDirectory(self.parent(), "Export the report to")
        if out:
            self.export(out)

    def export(self, out_dir: str) -> dict[str, Path] | None:
        """The files of `n1studio report --out DIR` (json, svg, html, png) of the report
        shown last (the dataset evaluated last, else every run)."""
        rep = self.report_of(self.flow.dataset_id)
        if rep is None:
            return None
        try:
            files = write_report(rep, out_dir, png_writer=svg_to_png)
        except N1Error as exc:
            self.message.emit(str(exc), 8000)
            return None
        self.message.emit(f"report written to {out_dir}", 8000)
        return files

    def close(self) -> None:
        if self.study is not None:
            self.study.close()
            self.study = self.flow.study = None
