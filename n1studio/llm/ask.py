"""Ask a model about a variant: prompt -> runtime -> text -> parsed answer.

`ask_variant` knows prompts, runtimes and parsing only; it never judges. The whole question
(references, answer, verdict, with progress and stop) is `n1studio.pipeline.ask`, which
the command line, the app and batch evaluation all call.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from n1studio.grid.variant import Variant
from n1studio.llm.client import ModelClient
from n1studio.llm.parse import extract_answer
from n1studio.llm.prompt import Prompt, render_prompt
from n1studio.llm.runtime import CONSTRAINED, ModelSettings, validate_settings
from n1studio.llm.scaffold import answer_plan, max_number_tokens

log = logging.getLogger(__name__)

STAT_KEYS = ("prompt_tokens", "cached_tokens", "completion_tokens", "ttft_s", "tokens_per_s",
             "wall_s")


@dataclass
class AskResult:
    """One model run on one variant."""

    variant: str  # the variant's label, e.g. "N-1 line:3"
    outages: list[str]
    prompt: str
    raw: str
    answer: dict | None
    stats: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    model: str = ""
    cancelled: bool = False

    def to_dict(self, with_prompt: bool = True) -> dict:
        doc = {"variant": self.variant, "outages": self.outages, "answer": self.answer,
               "raw": self.raw, "stats": self.stats,
               "settings": self.settings, "model": self.model, "cancelled": self.cancelled}
        if with_prompt:
            doc["prompt"] = self.prompt
        return doc


_shared: dict = {}
_shared_lock = threading.Lock()


def shared_client() -> ModelClient:
    """The process-wide model client: one worker, so every caller shares the prefix cache."""
    with _shared_lock:
        c = _shared.get("client")
        if c is None:
            c = _shared["client"] = ModelClient()
        return c


def shared_worker_pid() -> int | None:
    """The shared client's worker process id while it runs (None otherwise)."""
    c = _shared.get("client")
    return c.worker_pid if c is not None else None


def close_shared_client() -> None:
    """Stop the shared worker (e.g. when the window closes); a later ask starts a new one.
    Best effort: a worker that is already gone is not an error here."""
    with _shared_lock:
        c = _shared.pop("client", None)
    if c is not None:
        try:
            c.close()
        except Exception:  # closing a dead worker must not stop a quit
            log.debug("model client close failed", exc_info=True)


def ask_variant(variant: Variant, settings: ModelSettings | None = None,
                on_event: Callable[[dict], None] | None = None,
                cancel: threading.Event | None = None, *, client=None,
                template: str | None = None, prompt: Prompt | None = None) -> AskResult:
    """Ask the model to solve `variant`'s OPF; the answer is parsed, not judged.

    `client` is any runtime with `ModelClient.complete`'s signature (the local GGUF worker
    by default, or an OpenAI-compatible endpoint). on_event receives the runtime's events
    ({"ev": "token", "text"}, "progress" while the prompt is processed, "loaded"). `cancel`
    stops the answer between tokens (the partial text is kept, `cancelled` is set).
    `template` overrides the prompt template, `prompt` the whole prompt. Raises ModelError
    (settings, model file, worker failure) and nothing else for model trouble.
    """
    s = validate_settings(settings or ModelSettings())
    client = client or shared_client()
    p = prompt or render_prompt(variant, template)
    plan = max_tokens = None
    if s.mode == CONSTRAINED:
        plan = answer_plan(p)
        max_tokens = max_number_tokens(plan)
    else:
        max_tokens = s.max_tokens
    # the local worker keeps the prompt's shared part on disk for the next process
    extra = {"shared_chars": p.shared_chars} if isinstance(client, ModelClient) else {}
    comp = client.complete(p.text, plan=plan, max_tokens=max_tokens, settings=s,
                           on_event=on_event, cancel=cancel, **extra)
    answer = _read(comp.raw, constrained=plan is not None and not comp.cancelled)
    settings_doc, model = s.to_dict(), s.label
    if hasattr(client, "settings_dict"):  # a server: what answered is the server's model
        settings_doc, model = client.settings_dict(), client.label
    return AskResult(variant=variant.label, outages=list(variant.outages), prompt=p.text,
                     raw=comp.raw, answer=answer, stats=comp.stats,
                     settings=settings_doc, model=model, cancelled=comp.cancelled)


def _read(raw: str, constrained: bool) -> dict | None:
    if constrained:
        try:
            return json.loads(raw)
        except ValueError:  # should not happen; fall back to the tolerant reader
            log.warning("constrained answer is not valid JSON; reading it leniently")
    return extract_answer(raw)
