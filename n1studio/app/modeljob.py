"""The app's side of asking the model: one long-lived model client (its worker process keeps
llama.cpp's prefix cache across variants), the job the window runs on a thread, and the
checking of the answer against the variant's reference. No Qt here: the window runs
`ask_and_check` in a `Job` and receives its events as signals.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from n1studio.errors import ModelError

log = logging.getLogger(__name__)


def gpu_supported() -> bool:
    try:
        from n1studio.llm.runtime import gpu_offload_supported
    except ImportError:
        return False
    return bool(gpu_offload_supported())


def build_text() -> str:
    return "GPU offload available" if gpu_supported() else "CPU only"


def client():
    """The process-wide model client (its worker keeps the prefix cache across variants)."""
    from n1studio.llm.ask import shared_client

    return shared_client()


def worker_pid() -> int | None:
    """The model worker process id while it runs (tests kill it to check the window survives)."""
    from n1studio.llm import ask

    c = ask._SHARED.get("client")
    return c.worker_pid if c is not None else None


def shutdown() -> None:
    """Stop the model worker (the window is closing)."""
    from n1studio.llm import ask

    with ask._SHARED_LOCK:
        c = ask._SHARED.pop("client", None)
    if c is not None:
        try:
            c.close()
        except Exception:  # closing is best effort
            log.debug("model client close failed", exc_info=True)


def prompt_text(variant) -> str:
    from n1studio.llm.prompt import render_prompt

    return render_prompt(variant).text


def settings_from(values: dict):
    from n1studio.llm.runtime import ModelSettings

    keys = ("model_path", "n_gpu_layers", "n_ctx", "temperature", "seed", "mode", "n_threads")
    return ModelSettings(**{k: values[k] for k in keys if k in values and values[k] is not None})


def ask_and_check(entry, values: dict, prompt_override: str | None, base_entry,
                  on_event: Callable[[dict], None], cancel: threading.Event) -> dict:
    """Job: ask the model about `entry.variant` (llm.ask.ask_variant), then check the answer
    against the variant's reference (solved here when the window has not got it yet).

    Returns {"answer", "raw", "prompt", "stats", "verdict", "model_file", "reference"}.
    A dead model worker raises ModelError (the window shows it and keeps everything).
    """
    from n1studio.llm.ask import ask_variant
    from n1studio.llm.prompt import Prompt, render_prompt

    variant = entry.variant
    settings = settings_from(values)
    prompt = render_prompt(variant)
    if prompt_override and prompt_override != prompt.text:
        prompt = Prompt(text=prompt_override, shared_chars=0, generators=prompt.generators,
                        buses=prompt.buses)
    on_event({"ev": "prompt", "text": prompt.text})
    on_event({"ev": "loading", "message": "starting the model…"})
    res = ask_variant(variant, settings, on_event, cancel, client=client(), prompt=prompt,
                      check=False)
    if res.cancelled:
        raise ModelError("stopped before the answer was complete (the partial text is kept "
                         "in the Answer tab)")
    on_event({"ev": "checking", "message": "checking the answer…"})
    ref = entry.reference
    if ref is None:
        on_event({"ev": "reference", "message": "solving the reference AC OPF…"})
        ref = solve(variant)
    base_ref = None
    if not variant.is_base:
        base_ref = base_entry.reference or solve(base_entry.variant)
    verdict = check(variant, res.answer if res.answer is not None else res.raw, ref, base_ref)
    return {"answer": res.answer, "raw": res.raw, "prompt": prompt.text, "stats": res.stats,
            "verdict": verdict, "model_file": str(res.settings.get("model_path") or res.model),
            "reference": ref}


def solve(variant, cancel=None):
    """The reference AC OPF of a variant; a set `cancel` event stops Ipopt between iterations."""
    from n1studio.solve.reference import reference

    return reference(variant, kind="ac", cancel=cancel)


def check(variant, answer, ref, base_ref) -> dict:
    """The verdict of `answer` on `variant` against the given references."""
    from n1studio.check import check_answer

    ok = ref is not None and getattr(ref, "success", False)
    bok = base_ref is not None and getattr(base_ref, "success", False)
    return check_answer(variant.model, answer,
                        reference=ref.answer if ok else None,
                        reference_objective=float(ref.objective) if ok else None,
                        n_reference=base_ref.answer if bok else None)
