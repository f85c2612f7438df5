"""The command line's one progress display: a tqdm bar on a terminal, plain lines in a log.

Every long command uses it (`solve`, `sweep`, `dataset build`, `eval`, and `ask` while the
model reads its prompt). Call it as `bar(done, total, what="")`; `close()` ends it.

- On a terminal: a tqdm bar (one line rewritten in place, rate and time left), drawn only
  once the work has lasted `delay` seconds, so quick commands print nothing; ended (its
  last state kept on screen) when `done` reaches `total` or on `close()`.
- Elsewhere (a pipe, a log file): nothing, unless `log_every` is given; then one plain
  line `label: done/total unit what` at most every `log_every` seconds, plus the last one,
  so a long job leaves a readable trace without flooding the log.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

from tqdm import tqdm


class ProgressBar:
    """Progress of `done` out of `total` on `stream` (stderr by default)."""

    def __init__(self, label: str, delay: float = 1.0, stream: TextIO | None = None,
                 force: bool = False, unit: str = "", log_every: float | None = None) -> None:
        self.label = label
        self.delay = delay
        self.unit = unit
        self.stream = stream or sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.tty = bool(force or (isatty and isatty()))
        self.log_every = log_every
        #: whether anything is ever written (a terminal, or a log with `log_every`)
        self.enabled = self.tty or log_every is not None
        self._bar = None
        self._ended = False  # the bar reached its total and its line was ended
        self._last_line = -1e9

    def __call__(self, done: int, total: int, what: str = "") -> None:
        if self.tty:
            if self._ended:
                return
            self._draw(done, total, what)
            if done >= total:  # done: end the line, what follows starts on a fresh one
                self.close()
                self._ended = True
        elif self.log_every is not None:
            now = time.monotonic()
            if done < total and now - self._last_line < self.log_every:
                return
            self._last_line = now
            unit = f" {self.unit}" if self.unit else ""
            tail = f" {what}" if what else ""
            self.stream.write(f"{self.label}: {done}/{total}{unit}{tail}\n")
            self.stream.flush()

    update = __call__  # `bar.update(done, total)` reads well at call sites too

    def _draw(self, done: int, total: int, what: str) -> None:
        if self._bar is None:
            # follow the terminal's width; one that says 0 columns (a bare pty) gets 100
            size = {"dynamic_ncols": True} if _columns(self.stream) else {"ncols": 100}
            self._bar = tqdm(total=total, desc=self.label, file=self.stream, delay=self.delay,
                             mininterval=0.1, unit=f" {self.unit}" if self.unit else "it",
                             leave=True, **size)
        bar = self._bar
        if bar.total != total:
            bar.total = total
        if what:
            bar.set_postfix_str(what[:40], refresh=False)
        bar.update(done - bar.n)

    def close(self) -> None:
        """End the bar's line (what follows starts on a fresh one)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    finish = close


def _columns(stream) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return 0
