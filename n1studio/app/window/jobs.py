"""The main window's job control (a mixin of `MainWindow`): every long task (opening a grid,
preparing a big variant, the reference OPF, the sweep, the model) runs as a `Job` in the
job slot of its concern (`runtime.slot`); `wait_for_jobs` and `stop_jobs` see them all.

The job functions here are plain functions (no Qt) run on the worker thread.
"""

from __future__ import annotations

import logging

from PySide6 import QtCore, QtWidgets

from n1studio.app.runtime.workers import Job
from n1studio.app.window.open_guard import confirm_discard
from n1studio.grid.cases import load_case
from n1studio.jobs import JobState
from n1studio.pipeline import reference
from n1studio.present.session import Session, VariantEntry

log = logging.getLogger(__name__)

CASE_FILTER = "Grid cases (*.json *.m);;pandapower JSON (*.json);;MATPOWER (*.m)"


def open_net(spec: str, state: JobState | None = None) -> Session:
    """Job: load a case and build its drawing (layout included) off the GUI thread."""
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
    return reference(entry.variant, state=state)


class JobsMixin:
    """Opening grids, preparing big variants and solving references, each in its own job
    slot (`self.open_slot`, `prep_slot`, `ref_slot`); stopping and waiting for every slot."""

    # ---- every job ------------------------------------------------------------------------
    def wait_for_jobs(self, ms: int = 600_000) -> None:
        self.slots.wait(ms)

    def stop_jobs(self) -> None:
        """Ask every job to stop and wait for them: a thread must never be destroyed while
        it runs."""
        if self.slots.busy:
            self.statusBar().showMessage("Waiting for the solver to finish…")
            QtWidgets.QApplication.processEvents()
        self.slots.stop_all()

    def busy_opening(self) -> bool:
        return self.open_slot.busy

    # ---- opening grids --------------------------------------------------------------------
    def open_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open a grid", "", CASE_FILTER)
        if path:
            self.open_case(path)

    def open_case(self, spec: str) -> Job | None:
        """Open a built-in case or a file; the grid appears when loading finishes. The file
        is read first: only a grid that opened may replace the open one, and only then is
        the user asked to discard its variants or answers (`_opened`)."""
        self.statusBar().showMessage(f"Opening {spec}…")
        self.progress.show()
        job = Job(open_net, str(spec), name="open")
        job.succeeded.connect(lambda s, spec=str(spec): self._opened(s, spec))
        job.failed.connect(lambda msg, spec=str(spec): self._open_failed(spec, msg))
        return self.open_slot.start(job)

    def _opened(self, session: Session, spec: str) -> None:
        if not confirm_discard(self, str(spec)):
            self.statusBar().showMessage(f"Kept {self.session.name}", 4000)
            self.caseKept.emit(spec)
            return
        self.set_session(session)
        self.remember_file(spec)
        lay = session.drawing.layout
        # `n1studio -v gui` says it: what the bundle test waits for (not a fixed sleep)
        log.info("opened %s: %d buses drawn", session.name, len(session.drawing.bus_names))
        self.statusBar().showMessage(
            f"{session.name}: {len(session.net.bus)} buses, {len(session.drawing.edge_names)} "
            f"branches — {lay.source} layout ({lay.seconds:.2f} s)", 8000)
        self.caseOpened.emit(spec)

    def _open_failed(self, spec: str, msg: str) -> None:
        self.statusBar().showMessage(f"Could not open {spec}: {msg}", 10000)
        if self.isVisible():  # not modal: the window (and tests) go on
            box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Warning,
                                        "Could not open the grid", msg,
                                        QtWidgets.QMessageBox.StandardButton.Ok, self)
            box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()
        self.caseFailed.emit(msg)

    def update_busy_bar(self, _job=None) -> None:
        """The status bar's busy indicator: while a grid opens, the model answers or a
        pasted answer is checked."""
        self.progress.setVisible(self.open_slot.busy or self.answer_slot.busy
                                 or self.check_slot.busy)

    # ---- preparing big variants -----------------------------------------------------------
    def prepare(self, entry: VariantEntry, then=None) -> None:
        """Compute a variant's model and islands on a worker (seconds on big grids); then
        `then()`, or say that the entry changed. Preparing another variant first drops
        this one's `then` (its result is kept on the entry all the same)."""
        if entry.ready:
            if then:
                then()
            return
        job = self.prep_slot.job
        if job is not None and job.entry is entry and then is None:
            return
        session = self.session
        job = Job(entry.prepare, name="prepare", callbacks=False)
        job.entry = entry
        job.succeeded.connect(lambda _e: then() if then else session.update(entry))
        job.failed.connect(
            lambda msg: self.statusBar().showMessage(f"{entry.label}: {msg}", 10000))
        self.statusBar().showMessage(f"Preparing {entry.label}…")
        self.prep_slot.start(job)

    # ---- reference ------------------------------------------------------------------------
    def solve_active_reference(self) -> None:
        if self.session is not None:
            self.start_reference(self.session.current)

    def start_reference(self, entry: VariantEntry) -> Job | None:
        """Solve a variant's reference once: a running or finished one is not started again;
        another variant's running reference is stopped (solved again when asked for)."""
        job = self.ref_slot.job
        if job is not None and job.entry is entry:
            return job
        if entry.reference is not None:
            return None
        session = self.session
        job = Job(solve_reference, entry, name="reference")
        job.entry = entry
        job.succeeded.connect(lambda r: self._reference_done(session, entry, r))
        job.failed.connect(lambda msg: self._reference_failed(session, entry, msg))
        job.stopped.connect(lambda _p: self._reference_done(session, entry, None))
        self.statusBar().showMessage(f"Solving the reference AC OPF of {entry.label}…")
        return self.ref_slot.start(job)

    def _reference_done(self, session: Session, entry: VariantEntry, result) -> None:
        if result is None or getattr(result, "status", "") == "cancelled":
            # stopped, not solved: solved again when asked for
            self.statusBar().showMessage(f"Reference of {entry.label}: stopped", 8000)
            return
        self.statusBar().showMessage(
            f"Reference of {entry.label}: " + (f"{result.objective:,.2f} $/h" if result.success
                                               else result.status), 8000)
        session.update(entry, reference=result)
        self.referenceReady.emit(entry)

    def _reference_failed(self, session: Session, entry: VariantEntry, msg: str) -> None:
        self.statusBar().showMessage(f"Reference of {entry.label} failed: {msg}", 10000)
        session.update(entry, reference_error=msg)
        self.referenceReady.emit(entry)
