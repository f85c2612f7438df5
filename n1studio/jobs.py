"""One typed protocol for what a long job reports: progress, partial results, the outcome.

A job is a plain function of the core that takes its inputs and a `JobState` (Orange3's
`TaskState` shape): it calls `state.progress(...)` and `state.partial(...)` as it goes and
`state.cancelled` / `state.check()` to stop cooperatively. Whoever runs it sees typed
events, the same for the command line (a progress bar), the app (Qt signals, see
`n1studio/app/runtime/workers.py`) and batch evaluation:

- `Progress(done, total, text, stage)`: how far (total 0 = unknown);
- `Partial(kind, value)`: a piece of the result before the end (a token, the prompt, the
  answer, the reference, a stored run);
- and one outcome from `run_job`: `Done(result)`, `Failed(message)` (one line) or
  `Stopped(partial)`. A stopped job is "stopped", never an error.

No Qt, no threads started here: this module sits below every layer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from n1studio.errors import N1Error

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Progress:
    done: int
    total: int  # 0 when unknown
    text: str = ""
    stage: str = ""  # e.g. "prompt", "reference", "answer", "check"

    @property
    def fraction(self) -> float | None:
        return min(1.0, self.done / self.total) if self.total > 0 else None


@dataclass(frozen=True)
class Partial:
    kind: str  # "prompt", "token", "answer", "reference", "verdict", "run", "status", ...
    value: Any = None


Event = Progress | Partial


@dataclass(frozen=True)
class Done:
    result: Any


@dataclass(frozen=True)
class Failed:
    message: str  # one readable line


@dataclass(frozen=True)
class Stopped:
    partial: Any = None  # what was there when the job stopped (e.g. the text so far)


Outcome = Done | Failed | Stopped


class JobStopped(Exception):
    """Raised inside a job by `JobState.check()` when a stop was asked for."""

    def __init__(self, partial: Any = None):
        super().__init__("stopped")
        self.partial = partial


class JobState:
    """What a job uses to report and to learn it should stop.

    `report` receives every `Progress` and `Partial` (on the job's thread); `cancel` is a
    `threading.Event` the caller sets to stop the job (created when not given).
    """

    def __init__(self, report: Callable[[Event], None] | None = None,
                 cancel: threading.Event | None = None):
        self._report = report
        self.cancel = cancel if cancel is not None else threading.Event()

    def progress(self, done: int, total: int, text: str = "", stage: str = "") -> None:
        self.emit(Progress(int(done), int(total), text, stage))

    def partial(self, kind: str, value: Any = None) -> None:
        self.emit(Partial(kind, value))

    def status(self, text: str, stage: str = "") -> None:
        """A one-line status ("solving the reference AC OPF…") with no known fraction."""
        self.emit(Progress(0, 0, text, stage))

    def emit(self, event: Event) -> None:
        if self._report is not None:
            self._report(event)

    @property
    def cancelled(self) -> bool:
        return self.cancel.is_set()

    def stop(self) -> None:
        self.cancel.set()

    def check(self, partial: Any = None) -> None:
        """Raise `JobStopped` when a stop was asked for (call between steps)."""
        if self.cancel.is_set():
            raise JobStopped(partial)


def run_job(fn: Callable[..., Any], *args, state: JobState | None = None, **kwargs) -> Outcome:
    """Run `fn(*args, state=state, **kwargs)` and turn how it ended into an `Outcome`.

    User-facing errors (`N1Error`) become `Failed` with their one line; anything else is a
    bug, logged with its traceback and reported as one line too, so a caller (a window,
    a batch) survives it.
    """
    state = state or JobState()
    try:
        result = fn(*args, state=state, **kwargs)
    except JobStopped as exc:
        return Stopped(exc.partial)
    except N1Error as exc:
        return Failed(str(exc))
    except Exception as exc:  # a job's bug must not take its caller down
        log.exception("job %s failed", getattr(fn, "__name__", fn))
        return Failed(f"{type(exc).__name__}: {exc}")
    if state.cancelled and isinstance(result, Stopped):
        return result
    return Done(result)
