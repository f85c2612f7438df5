"""The app's side of asking the model: one long-lived model client (its worker process keeps
llama.cpp's prefix cache across variants), the job the window runs on a thread, and the
checking of the answer against the variant's reference. No Qt here: the window runs
`ask_and_check` in a `Job` and receives its events as signals.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from n1studio.errors import ModelError, N1Error

log = logging.getLogger(__name__)

_client = None
_client_lock = threading.Lock()


def gpu_supported() -> bool:
    try:
        from n1studio.llm.runtime import gpu_offload_supported
    except ImportError:
        return False
    return bool(gpu_offload_supported())


def build_text() -> str:
    return "GPU offload available" if gpu_supported() else "CPU only"


def client():
    """The shared model client (created on first use)."""
    global _client
    with _client_lock:
        if _client is None:
            from n1studio.llm.client import ModelClient

            _client = ModelClient()
        return _client


def worker_pid() -> int | None:
    """The model worker process id while it runs (tests kill it to check the window survives)."""
    return _client.worker_pid if _client is not None else None


def shutdown() -> None:
    """Stop the model worker (the window is closing)."""
    global _client
    with _client_lock:
        if _client is not None:
            try:
                _client.close()
            except Exception:  # closing is best effort
                log.debug("model client close failed", exc_info=True)
            _client = None


def prompt_text(variant) -> str:
    from n1studio.llm.prompt import render_prompt

    return render_prompt(variant).text


def settings_from(values: dict):
    from n1studio.llm.runtime import ModelSettings

    keys = ("model_path", "n_gpu_layers", "n_ctx", "temperature", "seed", "mode", "n_threads")
    return ModelSettings(**{k: values[k] for k in keys if k in values and values[k] is not None})


def ask_and_check(entry, values: dict, prompt_override: str | None, base_entry,
                  on_event: Callable[[dict], None], cancel: threading.Event) -> dict:
    """Job: ask the model about `entry.variant`, then check its answer.

    Returns {"answer", "raw", "prompt", "stats", "verdict", "model_file", "reference"}.
    A dead model worker raises ModelError (the window shows it and keeps everything).
    """
    from n1studio.llm.prompt import render_prompt
    from n1studio.llm.scaffold import answer_plan

    variant = entry.variant
    settings = settings_from(values)
    prompt = render_prompt(variant)
    text = prompt_override if prompt_override else prompt.text
    on_event({"ev": "prompt", "text": text})
    plan = answer_plan(prompt) if settings.mode == "constrained" else None
    on_event({"ev": "loading", "message": "starting the model…"})
    comp = client().complete(text, plan=plan, settings=settings, on_event=on_event,
                             cancel=cancel)
    if comp.cancelled:
        raise ModelError("stopped: the model was stopped before it finished its answer")
    answer = _parse(comp.raw)
    on_event({"ev": "checking", "message": "checking the answer…"})
    ref = entry.reference
    if ref is None:
        on_event({"ev": "reference", "message": "solving the reference AC OPF…"})
        ref = solve(variant)
    base_ref = None
    if not variant.is_base:
        base_ref = base_entry.reference or solve(base_entry.variant)
    verdict = check(variant, answer if answer is not None else comp.raw, ref, base_ref)
    return {"answer": answer, "raw": comp.raw, "prompt": text, "stats": comp.stats,
            "verdict": verdict, "model_file": settings.resolved().model_path, "reference": ref}


def _parse(raw: str) -> dict | None:
    """The answer document in the model's text (constrained output is JSON by construction;
    free text goes through the checker's own extraction)."""
    try:
        from n1studio.llm.answer import extract_answer  # free-mode extraction, when present
    except ImportError:
        extract_answer = None
    if extract_answer is not None:
        try:
            return extract_answer(raw)
        except N1Error:
            return None
    import json

    try:
        doc = json.loads(raw)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def solve(variant):
    """The reference AC OPF of a variant (None when no solver is available)."""
    try:
        from n1studio.solve.reference import reference
    except ImportError:
        from n1studio.solve.acopf import solve_acopf

        return solve_acopf(variant.model)
    return reference(variant, kind="ac")


def check(variant, answer, ref, base_ref) -> dict:
    """The verdict of `answer` on `variant` against the given references."""
    from n1studio.check import check_answer

    ok = ref is not None and getattr(ref, "success", False)
    bok = base_ref is not None and getattr(base_ref, "success", False)
    return check_answer(variant.model, answer,
                        reference=ref.answer if ok else None,
                        reference_objective=float(ref.objective) if ok else None,
                        n_reference=base_ref.answer if bok else None)
