"""The model worker: one process that owns the llama.cpp model and answers requests.

The parent (`llm/client.py`) starts it with multiprocessing's "spawn" context and talks
to it over a pipe. A request is a dict {"op": "ask", "settings", "prompt", "plan",
"max_tokens", "shared_chars"}; the worker answers with events: {"ev": "loaded"},
{"ev": "progress"} (prompt processing), {"ev": "token", "text"} as each token comes, then
{"ev": "done", "raw", "stats"} or {"ev": "error", "message"}. {"op": "score", "settings",
"prompt", "texts", "shared_chars"} asks for the log-probabilities of texts written after the
prompt (`llm/scoring.py`); its "done" carries "scores". Cancellation is a shared Event
checked between tokens and between prompt batches. The model itself, its prefix cache and
its sampling are `llm/engine.py`'s `Engine`.

The worker ends quietly: when the parent goes away (its pipe closes, the window quits during
an answer) or sends SIGTERM, it stops without a traceback; SIGINT (Ctrl-C in the terminal
reaches the whole process group) is left to the parent, which decides what stops.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import traceback

from n1studio.llm.engine import (
    Cancelled,
    Engine,
    ParentGone,
    WorkerError,
    loader,
    quiet_llama_logs,
)
from n1studio.llm.gguf import inspect_gguf
from n1studio.llm.scoring import CHUNK, score_texts

__all__ = ["Cancelled", "Engine", "ParentGone", "WorkerError", "serve"]

log = logging.getLogger(__name__)


# ---- the worker process ----------------------------------------------------------------------
def _ctx_size(needed: int, asked: int, current: int, n_train: int) -> int:
    """The context to run with: the user's size if given, else grown in steps of 1024."""
    if asked:
        if needed > asked:
            raise WorkerError(f"the prompt and answer need {needed} tokens but the context is "
                              f"{asked}; raise the context size (--ctx) or leave it automatic")
        return asked
    if needed > n_train:
        raise WorkerError(f"the prompt and answer need {needed} tokens, longer than the model's "
                          f"{n_train}-token context; use a model with a longer context")
    if needed <= current:
        return current
    return min(n_train, -(-needed // 1024) * 1024)


def _tokenizer(path: str):
    """A vocabulary-only model: tokenizes prompts before the context size is known."""
    import llama_cpp  # noqa: PLC0415 - in the worker process only (ModelClient imports serve)

    Llama = loader(llama_cpp)

    quiet_llama_logs(llama_cpp)
    try:
        return Llama(model_path=path, vocab_only=True, verbose=False)
    except (ValueError, RuntimeError, OSError) as exc:
        raise WorkerError(f"llama.cpp cannot load {os.path.basename(path)}: {exc}") from None


def _context_length(path: str) -> int:
    """The model's training context from the GGUF header (a vocab-only load reports 0)."""
    try:
        return int(inspect_gguf(path).context_length or 4096)
    except Exception as exc:  # noqa: BLE001 -- ModelError or an I/O error: one line
        raise WorkerError(str(exc)) from None


_PIPE_ERRORS = (BrokenPipeError, ConnectionResetError, EOFError, OSError)


def _send(conn, ev: dict) -> None:
    """Send an event to the parent; ParentGone when it is no longer there."""
    try:
        conn.send(ev)
    except _PIPE_ERRORS as exc:
        raise ParentGone() from exc


def _reply_error(conn, message: str, detail: str | None = None) -> bool:
    """Report a failed request; False when the parent is gone (then the worker stops)."""
    try:
        _send(conn, {"ev": "error", "message": message, "detail": detail})
    except ParentGone:
        return False
    return True


def serve(conn, cancel_event) -> None:
    """The worker's main loop (the target of the spawned process)."""
    # Ctrl-C reaches the whole process group: the parent decides (it sends shutdown, sets the
    # cancel event or kills us). SIGTERM (the parent's exit cleanup) keeps its default: the
    # process ends at once, without running Python code, so without a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    engine: Engine | None = None
    vocab = None
    vocab_path = None
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            break
        if msg.get("op") == "shutdown":
            break
        if msg.get("op") not in ("ask", "score"):
            continue
        try:
            settings = msg["settings"]
            key = (settings["model_path"], settings["n_threads"],
                   settings.get("n_threads_batch"), settings["n_gpu_layers"],
                   settings.get("lora_path"), settings.get("lora_scale"),
                   settings.get("lora_sha256"))
            if vocab_path != settings["model_path"]:
                vocab, vocab_path = _tokenizer(settings["model_path"]), settings["model_path"]

            def count(text: str, bos: bool, vocab=vocab) -> int:
                return len(vocab.tokenize(text.encode("utf-8"), add_bos=bos, special=False))

            budget = int(msg.get("max_tokens") or 0)
            if msg["op"] == "score":  # the longest text written after the prompt
                budget = max((count(t, False) if isinstance(t, str) else
                              sum(len(x) if k == "n" else count(x, False) for k, x in t)
                              for t in msg["texts"]), default=0)
            elif msg.get("plan") is not None:
                budget += sum(count(s[1], False) for s in msg["plan"] if s[0] == "t")
            needed = count(msg["prompt"], True) + budget + 8 + CHUNK  # CHUNK: batch padding
            n_train = _context_length(settings["model_path"])
            current = engine.n_ctx if engine is not None and engine.load_key == key else 0
            want = _ctx_size(needed, int(settings.get("n_ctx") or 0), current, n_train)
            load_s = 0.0
            if engine is None or engine.load_key != key or engine.n_ctx != want:
                if engine is not None:
                    engine.llama.close()
                    engine = None
                engine = Engine(settings, n_ctx=want)
                engine.load_key = key
                load_s = engine.load_s
                _send(conn, {"ev": "loaded", "load_s": round(load_s, 3), "n_ctx": want,
                           "n_ctx_train": n_train})
            engine.settings = dict(settings)
            if msg["op"] == "score":
                result = score_texts(engine, msg["prompt"], msg["texts"],
                                     int(msg.get("shared_chars") or 0),
                                     lambda ev: _send(conn, ev), cancel_event.is_set)
            else:
                result = engine.run(msg["prompt"], msg.get("plan"), int(msg["max_tokens"]),
                                    lambda ev: _send(conn, ev), cancel_event.is_set,
                                    int(msg.get("shared_chars") or 0))
            result["stats"]["load_s"] = round(load_s, 3)
            _send(conn, {"ev": "done", **result})
        except ParentGone:
            break
        except Cancelled:  # stopped while reading the prompt: a stop, not a failure
            try:
                _send(conn, {"ev": "done", "raw": "", "stats": {"cancelled": True}})
            except ParentGone:
                break
        except WorkerError as exc:
            if not _reply_error(conn, str(exc)):
                break
        except Exception as exc:  # noqa: BLE001 -- reported with its traceback; keep serving
            if not _reply_error(conn, f"model worker failed: {type(exc).__name__}: {exc}",
                                traceback.format_exc()):
                break
    _close(engine, vocab)


def _close(engine: Engine | None, vocab) -> None:
    """Free llama.cpp's model and context before the interpreter ends (quietly)."""
    for llama in (engine.llama if engine is not None else None, vocab):
        if llama is not None:
            try:
                llama.close()
            except Exception:  # ending anyway
                log.debug("closing llama.cpp failed", exc_info=True)
    sys.stderr.flush()

