"""The Sweep dock: run the N-1 sweep of the open grid (a job in its own slot, with progress
and Stop), show the ranked table, and draw a clicked row's variant with what the post-outage
power flow found (cut-off buses, violations) until the variant has a verdict of its own.

A sweep belongs to the exact grid state it ran on: the open grid with the active variant's
loads, costs and names (its perturbation). When the active variant's differ, the sweep is
marked stale ("Sweep again" sweeps the grid as it is now) and says nothing about it; a
clicked row opens its outage on the state the sweep ran on."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from n1studio.app.curate.sweep import SweepTable
from n1studio.app.runtime.slot import JobSlot
from n1studio.app.runtime.workers import Job
from n1studio.grid.perturb import Perturbation
from n1studio.grid.variant import Variant
from n1studio.jobs import JobState, Progress
from n1studio.present.drawing import DrawState, state_for
from n1studio.present.session import Session, VariantEntry
from n1studio.solve.sweep import DEFAULT_KINDS, run_sweep

# the command line's defaults: every branch, at the N reference dispatch (issue 17)
SWEEP_KINDS = DEFAULT_KINDS


def sweep_job(net, kinds=SWEEP_KINDS, state: JobState | None = None) -> dict:
    """Job: the N-1 sweep of a grid, with progress and cooperative stop (a stopped sweep
    returns what finished, marked ``stats.cancelled``). The same call as `n1studio sweep`:
    same outages, same operating point, same count of violations."""
    return run_sweep(net, kinds=kinds, state=state)


class SweepDock(QtCore.QObject):
    """The sweep's widget (`box`), its job slot and what it found, per outage."""

    message = QtCore.Signal(str, int)  # a status-bar line and how long it shows (ms)
    sweepDone = QtCore.Signal(object)  # the n1studio.sweep/1 document
    variantRequested = QtCore.Signal(object, bool)  # outages, wait
    variantWanted = QtCore.Signal(object, object)  # outages, Perturbation (a row's state)
    elementRequested = QtCore.Signal(str, bool)  # element name, centre on it
    focusRequested = QtCore.Signal(object)  # element names to centre and fit the view on

    def __init__(self, slot: JobSlot, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.slot = slot
        self.session: Session | None = None  # the grid shown
        self.swept: Session | None = None  # the grid the table's results belong to
        self.findings: dict[tuple[str, ...], dict] = {}  # outages -> the sweep's row
        self.swept_state = Perturbation()  # loads, costs, names the sweep ran with

        self.box = QtWidgets.QWidget()
        lay = QtWidgets.QVBoxLayout(self.box)
        lay.setContentsMargins(6, 6, 6, 6)
        row = QtWidgets.QHBoxLayout()
        self.run_button = QtWidgets.QPushButton("Run the N-1 sweep (every branch)")
        self.run_button.clicked.connect(self.run)
        self.stop_button = QtWidgets.QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(slot.stop)
        row.addWidget(self.run_button, 1)
        row.addWidget(self.stop_button)
        lay.addLayout(row)
        self.progress = QtWidgets.QProgressBar()
        self.progress.hide()
        lay.addWidget(self.progress)
        stale = QtWidgets.QHBoxLayout()
        self.stale_note = QtWidgets.QLabel()
        self.stale_note.setObjectName("sweepStale")
        self.stale_note.setWordWrap(True)
        self.stale_note.setProperty("level", "warn")
        self.again_button = QtWidgets.QPushButton("Sweep again")
        self.again_button.setObjectName("sweepAgain")
        self.again_button.setToolTip("Sweep the grid as the active variant has it (its loads, "
                                     "costs and names)")
        self.again_button.clicked.connect(self.run)
        stale.addWidget(self.stale_note, 1)
        stale.addWidget(self.again_button)
        lay.addLayout(stale)
        self.stale_note.hide()
        self.again_button.hide()
        self.table = SweepTable()
        self.table.variantRequested.connect(self.show_row)
        lay.addWidget(self.table, 1)
        slot.ended.connect(self._ended)

    def set_session(self, session: Session | None) -> None:
        """Another grid is shown: the sweep of the previous one no longer applies."""
        if session is self.session:
            return
        if self.session is not None:
            self.session.events.active_changed.disconnect(self.check_state)
        self.session = session
        if session is not None:
            session.events.active_changed.connect(self.check_state)
        if session is self.swept:
            self.check_state()
            return
        self.swept = None
        self.findings = {}
        self.slot.cancel()
        self.check_state()
        self.table.clear(f"No sweep of {session.name} yet." if session is not None
                         else "No sweep yet.")

    @property
    def stale(self) -> bool:
        """A sweep of this grid, but not of the loads, costs and names of the active variant."""
        s = self.session
        return (s is not None and s is self.swept
                and s.current.perturbation.key() != self.swept_state.key())

    def check_state(self, *_args) -> None:
        """Mark the table stale (or not) for the active variant's grid state."""
        stale = self.stale
        if stale:
            was = self.swept_state.label or "the unperturbed grid"
            now = self.session.current.perturbation.label or "the unperturbed grid"
            self.stale_note.setText(f"Stale: this sweep ran on {was}; the active variant has "
                                    f"{now}. Its rows still open their outage as swept.")
        self.stale_note.setVisible(stale)
        self.again_button.setVisible(stale)

    def finding(self, entry: VariantEntry) -> dict | None:
        """The sweep's result for a variant of the swept grid (None if it has none)."""
        if self.session is None or self.session is not self.swept:
            return None
        if entry.perturbation.key() != self.swept_state.key():
            return None  # the sweep ran on other loads, costs or names
        return self.findings.get(tuple(entry.outages))

    def draw_state(self, entry: VariantEntry) -> DrawState:
        """What the view draws for `entry`: its verdict when it has one, else what the sweep
        found for that outage (post-outage power flow: cut-off buses, violations)."""
        s = self.session
        r = self.finding(entry)
        if r is None or entry.shown.verdict is not None:
            return s.draw_state(entry)
        outs = tuple(entry.outages) + tuple(r.get("tripped") or ())  # units tripped with it
        return state_for(s.drawing, s.net, outs, r.get("islanded_buses") or (),
                         r.get("violations") or [])

    def show_row(self, outages: list) -> None:
        """A clicked row: draw that variant of the swept grid with the post-outage power
        flow's findings, centred on the outage."""
        s = self.session
        if s is None or s is not self.swept:
            self.message.emit("That sweep was of another grid: run it again", 8000)
            return
        r = self.table.row_data(outages[0]) if len(outages) == 1 else None
        if r is not None:
            self.findings[tuple(outages)] = r
        self.variantWanted.emit(tuple(outages), self.swept_state)
        k = s.find(tuple(outages), self.swept_state)
        if k >= 0 and s.entries[k] is s.current:
            s.update(s.current)  # what is known about it changed: the sweep's finding
        self.elementRequested.emit(outages[0], False)
        names = list(outages) + [v["element"] for v in (r or {}).get("violations") or []
                                 if v.get("element")]
        self.focusRequested.emit(names)

    def run(self) -> Job | None:
        s = self.session
        if s is None or self.slot.busy:
            return None
        state = s.current.perturbation  # the grid as the active variant has it
        net = s.net if not state.changes_physics else Variant(s.net, (), state).net
        job = Job(sweep_job, net, name="sweep")
        job.progress.connect(self._progress)
        job.succeeded.connect(lambda doc, s=s, state=state: self._done(doc, s, state))
        job.failed.connect(lambda msg: self.message.emit(f"Sweep failed: {msg}", 10000))
        self.run_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.message.emit(f"Sweeping every N-1 outage of {s.name}…", 0)
        return self.slot.start(job)

    def _progress(self, p: Progress) -> None:
        if p.total:
            self.progress.setRange(0, p.total)
            self.progress.setValue(p.done)

    def _ended(self, _job: Job) -> None:
        self.run_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self.progress.hide()

    def _done(self, doc: dict, session: Session, state: Perturbation | None = None) -> None:
        if session is not self.session:
            return  # a sweep of a grid no longer shown
        self.swept = session
        self.swept_state = state or Perturbation()
        self.findings = {}
        self.check_state()
        self.table.set_sweep(doc)
        st = doc.get("stats", {})
        point = (doc.get("operating_point") or {}).get("text", "")
        self.message.emit(f"Sweep: {st.get('contingencies')} outages at {point} in "
                          f"{st.get('seconds', 0):.2f} s — click a row to draw that variant",
                          10000)
        self.sweepDone.emit(doc)


def sweep_row_text(entry: VariantEntry, finding: dict) -> str:
    """What the verdict panel says while it shows a sweep row (no answer yet): the outage,
    what the post-outage power flow found, and what to do next."""
    out = ", ".join(entry.outages) or "nothing"
    status = finding.get("status")
    viol = finding.get("violations") or []
    at = (finding.get("operating_point") or {}).get("text", "")
    head = f"Sweep row: {out} out of service. The post-outage AC power flow" + (
        f" ({at})" if at else "")
    if status == "diverged":
        what = " has no solution."
    elif status == "islanded":
        what = " leaves the grid in islands."
    elif viol:
        worst = sorted(viol, key=lambda v: -float(v.get("excess") or 0.0))[:3]
        listed = ", ".join(f"{v.get('constraint', '').replace('_', ' ')} {v.get('element', '')}"
                           for v in worst)
        more = f" and {len(viol) - len(worst)} more" if len(viol) > len(worst) else ""
        what = f" finds {len(viol)} violation(s): {listed}{more} (drawn on the grid)."
    else:
        what = " finds no violation."
    return head + what + " No model answer yet: press Ask to question the model on it."
