"""Run core jobs off the GUI thread and turn what they report into Qt signals.

A job is a plain function of the core that takes a `n1studio.jobs.JobState` as `state`
(progress, partial results, cooperative stop). `Job` runs it on a QThread and delivers,
on the GUI thread:

- `progress(Progress)` and `partial(Partial)` while it runs;
- then exactly one of `succeeded(result)`, `failed(str)` (one readable line) or
  `stopped(partial)`: a stopped job is "stopped", never an error.

Stopping is cooperative (`stop()` sets the state's cancel event); QThread.terminate is
never used. A crashing job (or a model worker process that dies) leaves the window and its
data intact. `callbacks=False` runs a function that takes no state (quick helpers).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6 import QtCore

from n1studio.jobs import Done, Failed, JobState, Partial, Progress, Stopped, run_job

log = logging.getLogger(__name__)


class Job(QtCore.QThread):
    """`fn(*args, state=JobState, **kwargs)` on a thread; what it reports as signals."""

    progress = QtCore.Signal(object)  # Progress
    partial = QtCore.Signal(object)  # Partial
    succeeded = QtCore.Signal(object)
    failed = QtCore.Signal(str)
    stopped = QtCore.Signal(object)
    # the outcome crosses to the GUI thread once, then reaches every receiver of the public
    # signal in the same event (a queued signal would post one event per receiver: a test
    # or a slot could run between the caller's handler and the job slot's own)
    _outcome = QtCore.Signal(object)

    def __init__(self, fn: Callable, *args, name: str = "job", callbacks: bool = True,
                 parent: QtCore.QObject | None = None, **kwargs):
        super().__init__(parent)
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.callbacks = callbacks
        self.state = JobState(self._report)
        self.setObjectName(name)
        self.result = None
        self.error = ""
        self.outcome = None
        self._outcome.connect(self._deliver, QtCore.Qt.ConnectionType.QueuedConnection)

    @property
    def cancel(self):
        """The stop event (set by `stop()`)."""
        return self.state.cancel

    def _report(self, ev) -> None:  # on the worker thread; signals queue to the GUI thread
        if isinstance(ev, Progress):
            self.progress.emit(ev)
        elif isinstance(ev, Partial):
            self.partial.emit(ev)

    def run(self) -> None:  # runs on the worker thread
        if self.callbacks:
            out = run_job(self.fn, *self.args, state=self.state, **self.kwargs)
        else:
            out = run_job(_stateless(self.fn), *self.args, state=self.state, **self.kwargs)
        self.outcome = out
        if isinstance(out, Done):
            self.result = out.result
        elif isinstance(out, Failed):
            self.error = out.message
        self._outcome.emit(out)

    def _deliver(self, out) -> None:  # on the GUI thread (the Job object lives there)
        if isinstance(out, Done):
            self.succeeded.emit(out.result)
        elif isinstance(out, Stopped):
            self.stopped.emit(out.partial)
        elif isinstance(out, Failed):
            self.failed.emit(out.message)

    def stop(self) -> None:
        """Ask the job to stop at its next check."""
        self.state.stop()


def _stateless(fn: Callable) -> Callable:
    def call(*args, state: JobState, **kwargs):  # the job takes no state
        return fn(*args, **kwargs)

    call.__name__ = getattr(fn, "__name__", "job")
    return call
