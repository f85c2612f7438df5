"""One job at a time per concern (the reference, the answer, the prompt, the sweep...).

`JobSlot.start(job)` cancels the slot's previous job and disconnects it, as Orange3's
`ConcurrentWidgetMixin.start()` does: whatever the old job still reports (a late result, a
last progress) reaches nobody, so no caller keeps lists of jobs or checks "is this still my
job?" in its slots. A cancelled job may still be running (a solver checks for the stop only
between iterations): the slot keeps it until its thread ends, so no QThread is destroyed
while it runs, and `wait()` waits for it too.

`Slots` holds a window's slots, so that closing the window stops and waits for all of them.
"""

from __future__ import annotations

import contextlib
import logging
import warnings

from PySide6 import QtCore

from n1studio.app.runtime.workers import Job

log = logging.getLogger(__name__)

_RESULT_SIGNALS = ("progress", "partial", "succeeded", "failed", "stopped")


class JobSlot(QtCore.QObject):
    """The running job of one concern; starting another cancels and disconnects it."""

    started = QtCore.Signal(object)  # the Job
    ended = QtCore.Signal(object)  # the Job, once it is no longer the slot's (done or cancelled)

    def __init__(self, name: str, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.setObjectName(name)
        self.job: Job | None = None
        self._retired: set[Job] = set()  # cancelled, their threads not yet ended

    @property
    def busy(self) -> bool:
        return self.job is not None

    def start(self, job: Job) -> Job:
        """Cancel the previous job (if any) and start `job` in its place. The slot is free
        again as soon as the job reports its outcome (after the caller's own handlers of
        it, connected before), while its thread winds down."""
        self.cancel()
        self.job = job
        for outcome in (job.succeeded, job.failed, job.stopped):
            outcome.connect(lambda _x, j=job: self._release(j))
        job.finished.connect(lambda j=job: self._finished(j))
        job.start()
        self.started.emit(job)
        return job

    def cancel(self) -> None:
        """Stop the current job and disconnect what it would still report."""
        job, self.job = self.job, None
        if job is None:
            return
        with warnings.catch_warnings():
            # PySide6 warns "Failed to disconnect" for a signal nobody was connected to
            warnings.simplefilter("ignore", RuntimeWarning)
            for name in _RESULT_SIGNALS:
                with contextlib.suppress(RuntimeError, TypeError):
                    getattr(job, name).disconnect()
        job.stop()
        if job.isRunning():
            self._retired.add(job)
        self.ended.emit(job)

    def stop(self) -> None:
        """Ask the current job to stop; it still reports that it stopped (and what it had)."""
        if self.job is not None:
            self.job.stop()

    def wait(self, ms: int = 600_000) -> None:
        """Wait for the current job and the cancelled ones still running."""
        for job in [*self._retired, *([self.job] if self.job is not None else [])]:
            job.wait(ms)

    def _release(self, job: Job) -> None:
        if job is self.job:
            self.job = None
            if job.isRunning():
                self._retired.add(job)
            self.ended.emit(job)

    def _finished(self, job: Job) -> None:
        self._retired.discard(job)
        self._release(job)  # ended without an outcome (an error outside run_job's net)


class Slots(QtCore.QObject):
    """A window's job slots, by name."""

    def __init__(self, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self._slots: dict[str, JobSlot] = {}

    def new(self, name: str) -> JobSlot:
        slot = JobSlot(name, self)
        self._slots[name] = slot
        return slot

    def __getitem__(self, name: str) -> JobSlot:
        return self._slots[name]

    @property
    def busy(self) -> bool:
        return any(s.busy for s in self._slots.values())

    def wait(self, ms: int = 600_000) -> None:
        for s in list(self._slots.values()):
            s.wait(ms)

    def stop_all(self) -> None:
        """Ask every job to stop (cooperatively) and wait for all of them: a thread must
        never be destroyed while it runs."""
        for s in self._slots.values():
            s.stop()
        self.wait()
