"""The main window's job control (a mixin of `MainWindow`): every long task (opening a grid,
preparing a big variant, the reference OPF, the sweep, the model) runs as a `Job` started
with `start_job`; `wait_for_jobs` and `stop_jobs` see them all.

The job functions here are plain functions (no Qt) run on the worker thread.
"""

from __future__ import annotations

import logging

from PySide6 import QtCore, QtWidgets

from n1studio.app.runtime.workers import Job
from n1studio.jobs import JobState
from n1studio.present.session import Session, VariantEntry

log = logging.getLogger(__name__)

CASE_FILTER = "Grid cases (*.json *.m);;pandapower JSON (*.json);;MATPOWER (*.m)"


def open_net(spec: str, state: JobState | None = None) -> Session:
    """Job: load a case and build its drawing (layout included) off the GUI thread."""
    from n1studio.grid.cases import load_case

    if state is not None:
        state.status(f"loading {spec}…", stage="loading")
    net = load_case(spec)
    if state is not None:
        state.status(f"drawing {spec}…", stage="layout")
    session = Session(net, spec)
    if not session.big:  # small grids: the model and islands now, off the GUI thread
        session.base_entry.prepare()
    return session


def solve_reference(entry: VariantEntry, state: JobState | None = None):
    """Job: the AC OPF of a variant (the reference every answer is compared with); solved
    once per variant, whoever asks (the pipeline's Ask waits for this one)."""
    from n1studio.pipeline import reference

    return reference(entry.variant, state=state)


class JobsMixin:
    """Starting, tracking and stopping the window's jobs; opening grids; references."""

    # ---- every job ------------------------------------------------------------------------
    def start_job(self, job: Job) -> Job:
        """Start `job` and keep it until it finishes (the window waits for it on close)."""
        self.jobs.add(job)
        job.finished.connect(lambda j=job: self.jobs.discard(j))
        job.start()
        return job

    def wait_for_jobs(self, ms: int = 600_000) -> None:
        for j in list(self.jobs):
            j.wait(ms)

    def stop_jobs(self) -> None:
        """Ask every job to stop and wait for them: a thread must never be destroyed while
        it runs."""
        for j in list(self.jobs):
            j.stop()
        if any(j.isRunning() for j in self.jobs):
            self.statusBar().showMessage("Waiting for the solver to finish…")
            QtWidgets.QApplication.processEvents()
        for j in list(self.jobs):
            j.wait()

    def busy_opening(self) -> bool:
        return any(j.objectName() == "open" for j in self.jobs)

    # ---- opening grids --------------------------------------------------------------------
    def open_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open a grid", "", CASE_FILTER)
        if path:
            self.open_case(path)

    def open_case(self, spec: str) -> Job | None:
        """Open a built-in case or a file; the grid appears when loading finishes. Asks
        first when the open grid has variants or answers (None: the user kept them)."""
        from n1studio.app.window.open_guard import confirm_discard

        if not confirm_discard(self, str(spec)):
            self.statusBar().showMessage(f"Kept {self.session.name}", 4000)
            return None
        self.statusBar().showMessage(f"Opening {spec}…")
        self.progress.show()
        job = Job(open_net, str(spec), name="open")
        job.succeeded.connect(lambda s, spec=str(spec): self._opened(s, spec))
        job.failed.connect(lambda msg, spec=str(spec): self._open_failed(spec, msg))
        return self.start_job(job)

    def _opened(self, session: Session, spec: str) -> None:
        self.progress.setVisible(bool(self.model_job))
        self.set_session(session)
        self.remember_file(spec)
        lay = session.drawing.layout
        self.statusBar().showMessage(
            f"{session.name}: {len(session.net.bus)} buses, {len(session.drawing.edge_names)} "
            f"branches — {lay.source} layout ({lay.seconds:.2f} s)", 8000)
        self.caseOpened.emit(spec)

    def _open_failed(self, spec: str, msg: str) -> None:
        self.progress.setVisible(bool(self.model_job))
        self.statusBar().showMessage(f"Could not open {spec}: {msg}", 10000)
        if self.isVisible():  # not modal: the window (and tests) go on
            box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Warning,
                                        "Could not open the grid", msg,
                                        QtWidgets.QMessageBox.StandardButton.Ok, self)
            box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()
        self.caseFailed.emit(msg)

    # ---- preparing big variants -----------------------------------------------------------
    def prepare(self, entry: VariantEntry, then=None) -> None:
        """Compute a variant's model and islands on a worker (seconds on big grids)."""
        if entry.ready:
            if then:
                then()
            return
        if id(entry) in self.prep_jobs:
            return
        job = Job(entry.prepare, name="prepare", callbacks=False)
        self.prep_jobs[id(entry)] = job

        def done(_e, entry=entry):
            self.prep_jobs.pop(id(entry), None)
            if then:
                then()
            else:
                self.entry_updated(entry)

        def failed(msg, entry=entry):
            self.prep_jobs.pop(id(entry), None)
            self.statusBar().showMessage(f"{entry.label}: {msg}", 10000)

        job.succeeded.connect(done)
        job.failed.connect(failed)
        self.statusBar().showMessage(f"Preparing {entry.label}…")
        self.start_job(job)

    # ---- reference ------------------------------------------------------------------------
    def solve_active_reference(self) -> None:
        if self.session is not None:
            self.start_reference(self.session.current)

    def start_reference(self, entry: VariantEntry) -> Job | None:
        """Solve a variant's reference once: a running or finished one is not started again."""
        if entry.reference is not None or id(entry) in self.ref_jobs:
            return self.ref_jobs.get(id(entry))
        job = Job(solve_reference, entry, name="reference")
        job.entry = entry
        job.succeeded.connect(lambda r, e=entry: self._reference_done(e, r))
        job.failed.connect(lambda msg, e=entry: self._reference_failed(e, msg))
        job.stopped.connect(lambda _p, e=entry: self._reference_done(e, None))
        self.ref_jobs[id(entry)] = job
        self.start_job(job)
        self.reference_bar.track(job, entry)
        self.statusBar().showMessage(f"Solving the reference AC OPF of {entry.label}…")
        return job

    def _reference_done(self, entry: VariantEntry, result) -> None:
        self.ref_jobs.pop(id(entry), None)
        if result is None or getattr(result, "status", "") == "cancelled":
            # stopped, not solved: solved again when asked for
            self.statusBar().showMessage(f"Reference of {entry.label}: stopped", 8000)
            return
        entry.reference = result
        self.statusBar().showMessage(
            f"Reference of {entry.label}: " + (f"{result.objective:,.2f} $/h" if result.success
                                               else result.status), 8000)
        self.entry_updated(entry)
        self.referenceReady.emit(entry)

    def _reference_failed(self, entry: VariantEntry, msg: str) -> None:
        self.ref_jobs.pop(id(entry), None)
        entry.reference_error = msg
        self.statusBar().showMessage(f"Reference of {entry.label} failed: {msg}", 10000)
        self.referenceReady.emit(entry)
