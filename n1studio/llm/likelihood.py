"""The likelihood probe: which of two answers does the model itself find more probable?

For a variant, two texts are written exactly as constrained answers to the variant's
prompt (`scaffold.written_answer`: the plan's fixed pieces, each tokenized alone, and the
numbers at the plan's precision, one character per token, as the worker writes them and
as the memoriser in training/ was trained): the N case's reference answer and the
variant's own reference answer. The model's mean log-probability per token of each after
the prompt gives `ll_n` and `ll_own`; `delta_ll = ll_n - ll_own` (nats per token) is
positive when the model prefers the canonical answer: a recall signature that needs no
sampling.

Names: the own answer is written in the prompt's names (for a relabelled variant,
`answer_to_prompt`), the N answer as written for the canonical prompt, its names read as
the prompt's (what a memoriser writes; `pipeline.judge` reads it the same way).

Local GGUF models are scored in the worker with our own log-softmax over the logits
(`llm/scoring.py`); servers through their prompt log-probabilities
(`llm/endpoint_score.py`, where the server has them).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from n1studio.errors import ModelError
from n1studio.llm.prompt import Prompt
from n1studio.llm.runtime import ModelSettings, validate_settings
from n1studio.llm.scaffold import written_answer

SCHEMA = "n1studio.likelihood/1"


@dataclass
class Likelihood:
    """The probe's result on one variant."""

    variant: str
    outages: list[str]
    model: str
    ll_n: float
    ll_own: float
    n_tokens_n: int
    n_tokens_own: int
    text_n: str
    text_own: str
    prompt: str = ""
    settings: dict = field(default_factory=dict)
    stats: dict = field(default_factory=dict)

    @property
    def delta_ll(self) -> float:
        return self.ll_n - self.ll_own

    def to_dict(self, with_prompt: bool = True) -> dict:
        doc = {"schema": SCHEMA, "variant": self.variant, "outages": self.outages,
               "model": self.model, "ll_n": _r(self.ll_n), "ll_own": _r(self.ll_own),
               "delta_ll": _r(self.delta_ll), "n_tokens_n": self.n_tokens_n,
               "n_tokens_own": self.n_tokens_own, "text_n": self.text_n,
               "text_own": self.text_own, "settings": self.settings, "stats": self.stats}
        if with_prompt:
            doc["prompt"] = self.prompt
        return doc

    def summary(self) -> str:
        """One line for people: which answer the model prefers, by how much."""
        d = self.delta_ll
        which = "the N answer" if d > 0 else "the variant's own answer"
        return f"the model prefers {which} by {abs(d):.3f} nats per token"


def _r(x: float) -> float:
    return round(float(x), 6)


def _written(prompt: Prompt, answer: dict, what: str) -> list[tuple[str, str]]:
    try:
        return written_answer(prompt, answer)
    except KeyError as exc:
        raise ModelError(f"{what} has no value for {exc.args[0]}: it cannot be written as an "
                         "answer to this prompt") from None


def answer_pieces(prompt: Prompt, n_answer: dict, own_answer: dict,
                  relabelling=None) -> tuple[list, list]:
    """(N pieces, own pieces): the N case's and the variant's reference answers written as
    constrained answers to `prompt` (both answers given in the grid's canonical names)."""
    own = relabelling.answer_to_prompt(own_answer) if relabelling is not None else own_answer
    return (_written(prompt, n_answer, "the N case's reference answer"),
            _written(prompt, own, "the variant's reference answer"))


def answer_texts(prompt: Prompt, n_answer: dict, own_answer: dict,
                 relabelling=None) -> tuple[str, str]:
    """(N text, own text): `answer_pieces` joined."""
    a, b = answer_pieces(prompt, n_answer, own_answer, relabelling)
    return "".join(t for _, t in a), "".join(t for _, t in b)


def score_texts(prompt: Prompt, texts: list, settings: ModelSettings, *, client,
                on_event: Callable[[dict], None] | None = None,
                cancel: threading.Event | None = None) -> tuple[list[dict], dict]:
    """(one score per text, statistics): {"n_tokens", "logprob_sum", "mean"} of each
    text written after the prompt, from the local worker or a server that can. A text is
    a string or a list of ("t" | "n", text) pieces (`scaffold.written_answer`)."""
    scorer = getattr(client, "score", None)
    if scorer is None:
        raise ModelError(f"{getattr(client, 'label', 'this runtime')} cannot score texts: "
                         "the likelihood needs a local GGUF model or a server with prompt "
                         "log-probabilities")
    comp = scorer(prompt.text, texts, settings=settings, on_event=on_event, cancel=cancel,
                  shared_chars=prompt.shared_chars)
    if comp.cancelled or not comp.scores:
        raise ModelError("the likelihood was stopped before it was computed")
    for s in comp.scores:
        if not (s.get("n_tokens") and math.isfinite(float(s.get("mean", math.nan)))):
            raise ModelError("the model gave no finite log-probability for a text")
    return comp.scores, comp.stats


def likelihood(variant, prompt: Prompt, n_answer: dict | None, own_answer: dict | None,
               settings: ModelSettings | None = None, *, client,
               on_event: Callable[[dict], None] | None = None,
               cancel: threading.Event | None = None) -> Likelihood:
    """The likelihood probe on `variant` with its `prompt`, from the N case's and the
    variant's reference answers (canonical names; for the N case itself both are its own).
    ModelError when a reference is missing or the runtime cannot score."""
    if n_answer is None or own_answer is None:
        which = "the N case" if n_answer is None else "the variant"
        raise ModelError(f"{which} has no reference AC OPF answer: no likelihood to compare")
    local = not hasattr(client, "settings_dict")
    s = validate_settings(settings or ModelSettings()) if local else settings
    pieces = answer_pieces(prompt, n_answer, own_answer, variant.relabelling)
    text_n, text_own = ("".join(t for _, t in p) for p in pieces)
    scores, stats = score_texts(prompt, list(pieces), s, client=client, on_event=on_event,
                                cancel=cancel)
    if local:
        settings_doc, model = s.to_dict(), s.label
    else:
        settings_doc, model = client.settings_dict(), client.label
    return Likelihood(variant=variant.label, outages=list(variant.outages), model=model,
                      ll_n=float(scores[0]["mean"]), ll_own=float(scores[1]["mean"]),
                      n_tokens_n=int(scores[0]["n_tokens"]),
                      n_tokens_own=int(scores[1]["n_tokens"]), text_n=text_n,
                      text_own=text_own, prompt=prompt.text, settings=settings_doc,
                      stats=stats)
