"""The curation side of the window: the N-1 sweep table, the open study (runs, keep/reject,
notes, saving the active variant's run) and the N-versus-N-1 report.

The widgets are `sweep.SweepTable`, `study.StudyPanel` and `report.ReportView`; this
module wires them to the window (`Curation(window)`) and runs the slow parts (sweep,
report) as Jobs.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from n1studio.app.runtime.workers import Job
from n1studio.errors import N1Error
from n1studio.jobs import JobState, Progress

log = logging.getLogger(__name__)

SWEEP_KINDS = ("line", "trafo")


def sweep_job(net, kinds=SWEEP_KINDS, state: JobState | None = None) -> dict:
    """Job: the N-1 sweep of a grid, with progress and cooperative stop (a stopped sweep
    returns what finished, marked ``stats.cancelled``)."""
    from n1studio.solve.sweep import run_sweep

    return run_sweep(net, kinds=kinds, state=state)


class Curation(QtCore.QObject):
    """Sweep, study and report docks of a MainWindow."""

    def __init__(self, window):
        super().__init__(window)
        from n1studio.app.curate.report import ReportView
        from n1studio.app.curate.study import StudyPanel
        from n1studio.app.curate.sweep import SweepTable

        self.w = window
        self.study = None
        self.sweep_job: Job | None = None

        box = QtWidgets.QWidget()
        lay = QtWidgets.QVBoxLayout(box)
        lay.setContentsMargins(6, 6, 6, 6)
        row = QtWidgets.QHBoxLayout()
        self.run_button = QtWidgets.QPushButton("Run the N-1 sweep (lines, transformers)")
        self.run_button.clicked.connect(self.run_sweep)
        self.stop_button = QtWidgets.QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop_sweep)
        row.addWidget(self.run_button, 1)
        row.addWidget(self.stop_button)
        lay.addLayout(row)
        self.progress = QtWidgets.QProgressBar()
        self.progress.hide()
        lay.addWidget(self.progress)
        self.sweep = SweepTable()
        self.sweep.variantRequested.connect(self.show_sweep_row)
        self.sweep_session = None  # the session (grid) the sweep's results belong to
        self.findings: dict[tuple[str, ...], dict] = {}  # outages -> the sweep's result
        lay.addWidget(self.sweep, 1)

        self.study_panel = StudyPanel()
        self.study_panel.runSelected.connect(self.show_run)
        self.study_panel.annotationChanged.connect(self.annotate)
        self.study_panel.reportRequested.connect(self.build_report)
        self.report = ReportView()

        L, R = QtCore.Qt.DockWidgetArea.LeftDockWidgetArea, QtCore.Qt.DockWidgetArea.RightDockWidgetArea
        self.dock_sweep = window.add_dock("Sweep", box, L)
        self.dock_study = window.add_dock("Study", self.study_panel, L)
        # scrollable: the report's plot and table must not force the whole right column
        # (verdict, plots, report share one tab group) to be 400 pixels high
        report_area = QtWidgets.QScrollArea()
        report_area.setWidget(self.report)
        report_area.setWidgetResizable(True)
        report_area.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.dock_report = window.add_dock("Report", report_area, R)
        window.tabifyDockWidget(window.dock_inspector, self.dock_sweep)
        window.tabifyDockWidget(window.dock_inspector, self.dock_study)
        window.tabifyDockWidget(window.dock_plots, self.dock_report)
        window.dock_inspector.raise_()
        window.dock_verdict.raise_()

        act = window.make_action
        self.act_sweep = act("Run the N-1 &sweep", self.run_sweep, "Ctrl+Shift+S", "",
                             "Every single line and transformer outage, classified")
        self.act_open_study = act("&Open study…", self.open_study_dialog, None, "",
                                  "Open (or create) a study file")
        self.act_save_run = act("&Save this run to the study", self.save_run, "Ctrl+S", "",
                                "Keep the active variant's answer and verdict in the open study")
        self.act_report = act("N vs N-1 &report", self.build_report, None, "",
                              "The report of the open study's runs")
        from n1studio.app.curate.flow import CurateFlow

        self.flow = CurateFlow(self)  # build a dataset, evaluate, report, export

    def add_menu(self, mb: QtWidgets.QMenuBar) -> None:
        m = mb.addMenu("&Curate")
        m.addAction(self.act_sweep)
        m.addSeparator()
        m.addAction(self.act_open_study)
        m.addAction(self.act_save_run)
        m.addAction(self.act_report)
        self.flow.add_to(m)
        return m

    def docks(self) -> list[QtWidgets.QDockWidget]:
        return [self.dock_sweep, self.dock_study, self.dock_report]

    # ---- sweep ----------------------------------------------------------------------------
    def grid_changed(self, session) -> None:
        """Another grid is shown: the sweep of the previous one no longer applies."""
        if session is self.sweep_session:
            return
        self.sweep_session = None
        self.findings = {}
        self.stop_sweep()
        self.sweep.clear(f"No sweep of {session.name} yet." if session is not None
                         else "No sweep yet.")

    def finding(self, entry) -> dict | None:
        """The sweep's result for a variant of the sweep's grid (None if it has none)."""
        if self.w.session is not self.sweep_session or self.sweep_session is None:
            return None
        return self.findings.get(tuple(entry.outages))

    def runs_of(self, entry) -> list[dict]:
        """The open study's runs of `entry`'s variant of the open grid (answers of any model),
        for comparing two models' answers side by side."""
        s, st = self.w.session, self.study
        if s is None or st is None:
            return []
        from n1studio.curate.study import grid_hash

        key = (id(s), id(st))
        if getattr(self, "_grid_key", None) != key:
            h = grid_hash(s.net)
            self._grid_ids = {g["id"] for g in st.grids() if g.get("content_hash") == h}
            self._grid_key = key
        try:
            runs = st.runs()
        except N1Error:
            return []
        from n1studio.grid.perturb import Perturbation

        key = entry.variant.perturbation.key()
        return [r for r in runs if r["grid_id"] in self._grid_ids and r.get("verdict")
                and tuple(r.get("outages") or ()) == tuple(entry.outages)
                and Perturbation.from_dict(r.get("perturbation")).key() == key]

    def draw_state(self, entry):
        """What the view draws for `entry`: its verdict when it has one, else what the sweep
        found for that outage (post-outage power flow: cut-off buses, violations)."""
        from n1studio.present.drawing import state_for

        s = self.w.session
        r = self.finding(entry)
        if r is None or entry.verdict is not None:
            return s.draw_state(entry)
        return state_for(s.drawing, s.net, entry.outages, r.get("islanded_buses") or (),
                         r.get("violations") or [])

    def show_sweep_row(self, outages: list) -> None:
        """A clicked sweep row: draw that variant of the sweep's grid with the post-outage
        power flow's findings, centred on the outage."""
        s = self.w.session
        if s is None or s is not self.sweep_session:
            self.w.statusBar().showMessage("That sweep was of another grid: run it again", 8000)
            return
        r = self.sweep.row_data(outages[0]) if len(outages) == 1 else None
        if r is not None:
            self.findings[tuple(outages)] = r
        entry = self.w.show_variant(tuple(outages))
        if entry is not None and entry is s.current:
            self.w.session_changed()
        self.w.show_element(outages[0], centre=True)

    def run_sweep(self) -> Job | None:
        s = self.w.session
        if s is None or self.sweep_job is not None:
            return None
        job = Job(sweep_job, s.net, name="sweep")
        job.session = s
        job.progress.connect(self._sweep_progress)
        job.succeeded.connect(lambda doc, s=s: self._sweep_done(doc, s))
        job.failed.connect(self._sweep_failed)
        job.stopped.connect(lambda _partial: self._sweep_finished())
        self.sweep_job = job
        self.run_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.dock_sweep.raise_()
        self.w.statusBar().showMessage(f"Sweeping every N-1 outage of {s.name}…")
        self.w.start_job(job)
        return job

    def stop_sweep(self) -> None:
        if self.sweep_job is not None:
            self.sweep_job.stop()

    def _sweep_progress(self, p: Progress) -> None:
        if p.total:
            self.progress.setRange(0, p.total)
            self.progress.setValue(p.done)

    def _sweep_finished(self) -> None:
        self.sweep_job = None
        self.run_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self.progress.hide()

    def _sweep_done(self, doc: dict, session=None) -> None:
        self._sweep_finished()
        if session is not None and session is not self.w.session:
            return  # a sweep of a grid no longer shown
        self.sweep_session = self.w.session
        self.findings = {}
        self.sweep.set_sweep(doc)
        st = doc.get("stats", {})
        self.w.statusBar().showMessage(
            f"Sweep: {st.get('contingencies')} outages in {st.get('seconds', 0):.2f} s — click a "
            "row to draw that variant", 10000)
        self.w.sweepDone.emit(doc)

    def _sweep_failed(self, msg: str) -> None:
        self._sweep_finished()
        self.w.statusBar().showMessage(f"Sweep failed: {msg}", 10000)

    # ---- study ----------------------------------------------------------------------------
    def open_study_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self.w, "Open or create a study", "study.n1study",
            "N-1 Studio studies (*.n1study *.sqlite *.db);;All files (*)",
            options=QtWidgets.QFileDialog.Option.DontConfirmOverwrite)
        if path:
            self.open_study(path, create=True)

    def open_study(self, path: str, create: bool = False) -> bool:
        from n1studio.curate.study import Study

        try:
            study = Study.open(path, create=create)
        except N1Error as exc:
            self.w.statusBar().showMessage(str(exc), 10000)
            return False
        if self.study is not None:
            self.study.close()
        self.study = study
        self.refresh_study()
        self.dock_study.raise_()
        self.w.statusBar().showMessage(f"Study {Path(path).name} open", 6000)
        return True

    def refresh_study(self) -> None:
        st = self.study
        if st is None:
            return
        runs = st.runs()
        decisions = {r["id"]: (st.annotation("run", r["id"]).get("decision") or "")
                     for r in runs}
        self.study_panel.set_data(st.info(), runs, decisions)

    def save_run(self) -> int | None:
        """Keep the active variant's run (prompt, raw, answer, verdict, stats) in the study."""
        s, st = self.w.session, self.study
        if s is None:
            return None
        if st is None:
            self.w.statusBar().showMessage("Open a study first (Curate → Open study…)", 6000)
            return None
        e = s.current
        if e.verdict is None:
            self.w.statusBar().showMessage("Ask the model first: there is no run to save", 6000)
            return None
        from n1studio.llm.runtime import ModelSettings

        try:
            gid = st.add_grid(s.net, s.source, s.name)
            vid = st.add_variant(gid, e.outages)
            if e.reference is not None:
                r = e.reference
                st.set_solution(vid, "ac", r.status, bool(r.success),
                                float(r.objective) if r.success else None,
                                r.answer if r.success else None)
            model_path = e.model_file or ModelSettings().resolved().model_path
            mid = st.add_model(model_path)
            now = time.time()
            rid = st.add_run(vid, mid, self.w.model_panel.values(), e.prompt, e.raw, e.answer,
                             e.verdict, e.stats, now - float(e.stats.get("wall_s") or 0), now)
        except (N1Error, OSError, TypeError, ValueError) as exc:
            self.w.statusBar().showMessage(f"Could not save the run: {exc}", 10000)
            return None
        self.refresh_study()
        self.w.statusBar().showMessage(f"Run {rid} saved to {Path(st.path).name}", 6000)
        return rid

    def show_run(self, run: dict) -> None:
        """Draw a stored run: its grid (if not the open one), its variant and its verdict."""
        st = self.study
        if st is None:
            return
        s = self.w.session
        from n1studio.curate.study import grid_hash

        try:
            g = st.grid(int(run["grid_id"]))
            if s is None or grid_hash(s.net) != g["content_hash"]:
                from n1studio.present.session import Session

                net = st.load_net(int(run["grid_id"]))
                self.w.set_session(Session(net, g.get("source") or g["name"]))
            entry = self.w.show_variant(tuple(run.get("outages") or ()), wait=True)
        except N1Error as exc:
            self.w.statusBar().showMessage(str(exc), 10000)
            return
        if entry is not None:
            self.w.show_run(entry, run)

    def annotate(self, run_id: int, decision: str, note: str) -> None:
        if self.study is None:
            return
        try:
            self.study.annotate("run", run_id, note=note or None, decision=decision or "")
        except N1Error as exc:
            self.w.statusBar().showMessage(str(exc), 8000)

    # ---- report ---------------------------------------------------------------------------
    def build_report(self) -> None:
        if self.study is None:
            self.w.statusBar().showMessage("Open a study first (Curate → Open study…)", 6000)
            return
        from n1studio.curate.report import build_report

        try:
            report = build_report(self.study)
        except N1Error as exc:
            self.w.statusBar().showMessage(str(exc), 8000)
            return
        self.report.set_report(report)
        self.dock_report.show()
        self.dock_report.raise_()

    def close(self) -> None:
        if self.study is not None:
            self.study.close()
            self.study = None
