"""A text progress bar on stderr that appears only for work lasting more than a second."""

from __future__ import annotations

import sys
import time


class ProgressBar:
    """Call it as `bar(done, total, what="")`; `close()` ends the line. Silent when not needed.

    Drawn only once the work has lasted `delay` seconds, at most every 0.1 s, and only on
    a terminal unless `force` (so logs and pipes stay clean).
    """

    def __init__(self, label: str, delay: float = 1.0, stream=None, force: bool = False):
        self.label = label
        self.delay = delay
        self.stream = stream or sys.stderr
        self.enabled = force or bool(getattr(self.stream, "isatty", lambda: False)())
        self.t0 = time.monotonic()
        self._last = 0.0
        self._drawn = False

    def __call__(self, done: int, total: int, what: str = "") -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.t0 < self.delay or (now - self._last < 0.1 and done < total):
            return
        self._last = now
        frac = done / total if total else 1.0
        width = 28
        fill = round(width * frac)
        rate = done / (now - self.t0) if now > self.t0 else 0.0
        eta = (total - done) / rate if rate > 0 else 0.0
        text = (f"\r{self.label} [{'#' * fill}{'.' * (width - fill)}] {done}/{total} "
                f"{rate:.1f}/s eta {eta:.0f}s {what[:40]}")
        self.stream.write(text.ljust(100)[:120])
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
