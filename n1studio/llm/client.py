"""The caller's side of the model worker: start it, ask, stream, cancel, survive its death.

`ModelClient` starts `llm.worker.serve` in a process of its own (multiprocessing "spawn":
no inherited threads or Qt state) and keeps it alive across requests, so llama.cpp's
prefix cache is reused from one variant to the next. `ask()` blocks the calling thread
(the CLI's main thread, or a Qt worker thread in the GUI) while it relays events to
callbacks. If the worker dies — a crash in llama.cpp, a kill, the out-of-memory killer —
`ask()` raises ModelError with one clear line and the next `ask()` starts a fresh worker.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import wait

from n1studio.errors import ModelError
from n1studio.llm.runtime import ModelSettings, validate_settings

log = logging.getLogger(__name__)

EventCallback = Callable[[dict], None]
TokenCallback = Callable[[str], None]


@dataclass
class Completion:
    """What the worker produced for one request."""

    raw: str
    stats: dict = field(default_factory=dict)
    cancelled: bool = False
    scores: list | None = None  # a "score" request: one entry per text (llm/scoring.py)


def describe_exit(code: int | None) -> str:
    """A user-facing reason for a worker's exit code."""
    if code is None:
        return "stopped responding"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = {"SIGKILL": " (killed, possibly by the out-of-memory killer)",
                "SIGSEGV": " (a crash inside llama.cpp)", "SIGABRT": " (llama.cpp aborted)",
                "SIGBUS": " (a crash inside llama.cpp)"}.get(name, "")
        return f"was killed by {name}{hint}"
    return f"exited with status {code}"


class ModelClient:
    """A model worker process and the requests sent to it. One request at a time."""

    def __init__(self, settings: ModelSettings | None = None):
        self.settings = settings or ModelSettings()
        self._ctx = mp.get_context("spawn")
        self._proc = None
        self._conn = None
        self._cancel = self._ctx.Event()
        self._lock = threading.Lock()
        self._closing = False  # close() was called: a broken pipe is a stop, not a death

    # ---- lifecycle -------------------------------------------------------------------------
    @property
    def worker_pid(self) -> int | None:
        """The worker's process id while it runs (None before the first request)."""
        p = self._proc
        return p.pid if p is not None and p.is_alive() else None

    def _start(self) -> None:
        # the worker's own code (numpy, the llama.cpp glue) runs in the spawned process
        from n1studio.llm.worker import serve  # noqa: PLC0415 - imported when a worker starts

        parent, child = self._ctx.Pipe(duplex=True)
        self._cancel.clear()
        proc = self._ctx.Process(target=serve, args=(child, self._cancel),
                                 name="n1studio-model", daemon=True)
        proc.start()
        child.close()
        self._proc, self._conn = proc, parent
        log.info("model worker started (pid %s)", proc.pid)

    def _discard(self) -> None:
        """Forget a dead or unusable worker; the next request starts a fresh one.

        Safe from two threads at once (the window closing while a job relays an answer)."""
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.close()
        if proc is not None:
            if proc.is_alive():
                proc.kill()
            proc.join(timeout=5)

    def close(self) -> None:
        """Stop the worker: an answer in progress stops at its next token or prompt batch
        (a relaying `complete()` returns it as cancelled), then the worker exits; one that
        has not within 3 s is killed. Callable from another thread than the one asking."""
        proc, conn = self._proc, self._conn
        if proc is None:
            return
        self._closing = True
        self._cancel.set()
        with contextlib.suppress(OSError, ValueError):
            conn.send({"op": "shutdown"})
        proc.join(timeout=3)
        self._discard()

    def kill(self) -> None:
        """Hard stop (e.g. a GUI Stop that must not wait for the current token)."""
        if self._proc is not None and self._proc.is_alive():
            self._proc.kill()

    def __enter__(self):  # returns self
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):  # best effort; daemon processes also die with the parent
        # a plain try: at interpreter exit `contextlib` may already be torn down
        try:  # noqa: SIM105
            self._discard()
        except Exception:  # noqa: BLE001, S110 -- never raise from __del__
            pass

    # ---- requests --------------------------------------------------------------------------
    def complete(self, prompt: str, plan: list | None = None, max_tokens: int | None = None,
                 settings: ModelSettings | None = None, on_token: TokenCallback | None = None,
                 on_event: EventCallback | None = None,
                 cancel: threading.Event | None = None, shared_chars: int = 0) -> Completion:
        """Run one completion in the worker: `plan` (constrained) or free text.

        Blocks until done; streams token text to `on_token` and every worker event to
        `on_event`. Setting `cancel` stops it between tokens (the partial text is returned,
        `cancelled=True`). `shared_chars`: the length of the prompt's part shared by every
        variant of its grid (kept on disk across processes). Raises ModelError for bad
        settings or a failed worker.
        """
        s = validate_settings(settings or self.settings)
        if max_tokens is None:
            max_tokens = s.max_tokens
        req = {"op": "ask", "settings": s.to_dict(), "prompt": prompt, "plan": plan,
               "max_tokens": int(max_tokens), "shared_chars": int(shared_chars)}
        return self._request(req, on_token, on_event, cancel)

    def score(self, prompt: str, texts: list[str], settings: ModelSettings | None = None,
              on_event: EventCallback | None = None, cancel: threading.Event | None = None,
              shared_chars: int = 0) -> Completion:
        """The log-probabilities of `texts`, each written after `prompt` (the prompt read
        once); `Completion.scores` holds one {"n_tokens", "logprob_sum", "mean",
        "token_logprobs"} per text."""
        s = validate_settings(settings or self.settings)
        req = {"op": "score", "settings": s.to_dict(), "prompt": prompt, "texts": list(texts),
               "shared_chars": int(shared_chars)}
        return self._request(req, None, on_event, cancel)

    def _request(self, req: dict, on_token, on_event, cancel) -> Completion:
        with self._lock:
            self._closing = False
            if self._proc is None or not self._proc.is_alive():
                self._discard()
                self._start()
            self._cancel.clear()
            try:
                self._conn.send(req)
            except (OSError, ValueError):
                return self._died()
            return self._relay(on_token, on_event, cancel)

    def _relay(self, on_token, on_event, cancel) -> Completion:
        conn, proc = self._conn, self._proc
        t_cancel = None
        stopped = Completion(raw="", stats={"cancelled": True}, cancelled=True)
        while True:
            if cancel is not None and cancel.is_set() and t_cancel is None:
                self._cancel.set()
                t_cancel = time.monotonic()
            if t_cancel is not None and time.monotonic() - t_cancel > 10:
                log.warning("model worker ignored Stop for 10 s; killing it")
                self._discard()
                return stopped
            try:
                ready = wait([conn, proc.sentinel], timeout=0.05)
                if not ready:
                    continue
                if conn in ready:
                    ev = conn.recv()
                elif proc.sentinel in ready:
                    if conn.poll():  # drain what it said before exiting
                        continue
                    return stopped if self._closing else self._died()
                else:
                    continue
            except (EOFError, OSError, ValueError):  # the pipe broke or close() closed it
                return stopped if self._closing else self._died()
            kind = ev.get("ev")
            if on_event is not None:
                on_event(ev)
            if kind == "token" and on_token is not None:
                on_token(ev["text"])
            elif kind == "done":
                stats = ev.get("stats", {})
                return Completion(raw=ev.get("raw", ""), stats=stats,
                                  cancelled=bool(stats.get("cancelled")),
                                  scores=ev.get("scores"))
            elif kind == "error":
                if ev.get("detail"):  # an unexpected failure: its traceback, for the log only
                    log.info("model worker traceback:\n%s", ev["detail"])
                raise ModelError(ev.get("message", "model worker failed"))

    def _died(self):
        proc = self._proc
        if proc is not None:
            proc.join(timeout=2)
        code = proc.exitcode if proc is not None else None
        self._discard()
        if self._closing:
            return Completion(raw="", stats={"cancelled": True}, cancelled=True)
        raise ModelError(f"the model worker {describe_exit(code)}; the answer was lost and the "
                         "model will be restarted on the next request")
