"""Run core jobs off the GUI thread and turn their callbacks into Qt signals.

A job is a plain function from the core; it gets `on_event(dict)` and a `cancel`
threading.Event. Cancelling is cooperative (the job checks the event); QThread.terminate
is never used. Errors become the `failed` signal with one readable line, so a crashing
job (or a model worker process that dies) leaves the window and its data intact.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from PySide6 import QtCore

from n1studio.errors import N1Error

log = logging.getLogger(__name__)


class Job(QtCore.QThread):
    """`fn(*args, on_event=..., cancel=..., **kwargs)` on a thread; results as signals."""

    event = QtCore.Signal(object)
    succeeded = QtCore.Signal(object)
    failed = QtCore.Signal(str)

    def __init__(self, fn: Callable, *args, name: str = "job", callbacks: bool = True,
                 parent: QtCore.QObject | None = None, **kwargs):
        super().__init__(parent)
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.callbacks = callbacks
        self.cancel = threading.Event()
        self.setObjectName(name)
        self.result = None
        self.error = ""

    def run(self) -> None:  # runs on the worker thread
        try:
            if self.callbacks:
                out = self.fn(*self.args, on_event=self.event.emit, cancel=self.cancel,
                              **self.kwargs)
            else:
                out = self.fn(*self.args, **self.kwargs)
        except N1Error as exc:
            self.error = str(exc)
            self.failed.emit(self.error)
        except Exception as exc:  # a bug or a dead worker process: report, keep the window
            log.exception("%s failed", self.objectName())
            self.error = f"{exc.__class__.__name__}: {exc}"
            self.failed.emit(self.error)
        else:
            self.result = out
            self.succeeded.emit(out)

    def stop(self) -> None:
        """Ask the job to stop at its next check."""
        self.cancel.set()
