"""One question end to end: variant + model -> reference, answer, verdict.

The command line (`n1studio ask`, `check`), the app and batch evaluation all call these
functions, so a variant's answer is asked, judged and compared the same way everywhere:

- `references(variant)`: the variant's own AC OPF reference and, for a variant, the
  unperturbed N case's (for the recall test). Solved once per variant however many
  callers ask at once (`n1studio.solve.reference` keeps them and serialises per variant).
- `judge(variant, answer)`: the verdict of any answer (a file, a paste, a model's text)
  against those references.
- `ask(variant, settings, state=...)`: prompt -> model -> answer -> verdict, reporting
  through `n1studio.jobs` (progress, partial results) and stopping when asked.

`llm` knows prompts, runtimes and parsing; `check` knows verdicts; only this module puts
them together.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from n1studio.check import check_answer
from n1studio.controls import control_answer, control_label, is_control
from n1studio.errors import N1Error
from n1studio.grid.variant import Variant
from n1studio.jobs import JobState, JobStopped
from n1studio.llm.ask import ask_variant
from n1studio.llm.prompt import render_prompt

log = logging.getLogger(__name__)


@dataclass
class References:
    """The references an answer is judged against (None where the solve did not succeed)."""

    own: Any = None  # OpfResult of the variant itself
    n: Any = None  # OpfResult of the unperturbed N case (None for the N case itself)

    @property
    def own_answer(self) -> dict | None:
        return _answer_of(self.own)

    @property
    def n_answer(self) -> dict | None:
        return _answer_of(self.n)

    @property
    def own_objective(self) -> float | None:
        r = self.own
        if r is None or not getattr(r, "success", False):
            return None
        obj = getattr(r, "objective", None)
        return float(obj) if obj is not None and np.isfinite(obj) else None


def _answer_of(result) -> dict | None:
    if result is None or not getattr(result, "success", False):
        return None
    return getattr(result, "answer", None)


def reference(variant, *, state: JobState | None = None):
    """The AC OPF reference of `variant` (cached; stops when `state` is cancelled)."""
    # casadi and highspy (0.2 s) load with the first solve: `n1studio prompt` renders without
    from n1studio.solve.reference import reference as solve_reference  # noqa: PLC0415 - above

    cancel = state.cancel if state is not None else None
    return solve_reference(variant, kind="ac", cancel=cancel)


def references(variant, *, state: JobState | None = None) -> References:
    """The variant's reference and the N case's (N first: the N-1 solve warm-starts from it).

    A solver failure is not the answer's fault: it leaves that reference None and the
    verdict then has no cost gap / recall evidence. A stop raises `JobStopped`.
    """
    refs = References()
    if not variant.is_base:
        if state is not None:
            state.status("solving the N case's reference AC OPF…", stage="reference")
        refs.n = _solve_or_none(Variant(variant.base), state)
    if state is not None:
        state.status(f"solving the reference AC OPF of {variant.label}…", stage="reference")
    refs.own = _solve_or_none(variant, state)
    if state is not None:
        state.partial("reference", refs.own)
    return refs


def _solve_or_none(variant, state: JobState | None):
    try:
        result = reference(variant, state=state)
    except JobStopped:
        raise
    except Exception as exc:  # noqa: BLE001 -- a solver failure is reported, never fatal here
        log.warning("%s: reference solution failed: %s", variant.label, exc)
        return None
    if getattr(result, "status", "") == "cancelled":
        raise JobStopped()
    if not getattr(result, "success", False):
        log.info("%s: the reference AC OPF did not succeed (%s)", variant.label,
                 getattr(result, "status", "?"))
    return result


def judge(variant, answer: dict | str | None, *, refs: References | None = None,
          tolerances=None, repair: bool = False, state: JobState | None = None) -> dict:
    """The `n1studio.verdict/1` of `answer` on `variant`, with references for the cost gap
    and the recall test (solved here when not given).

    `repair` adds the distance to feasibility (n1studio.solve.nearest):
    `distance_to_feasible`, the per-element `moves` and the `repaired` answer (in the
    grid's own names), all None where the variant has no feasible point."""
    refs = refs if refs is not None else references(variant, state=state)
    answer = to_canonical(variant, answer)
    n_answer = refs.n_answer
    if variant.relabelling is not None and n_answer is not None:
        # the recall test compares what was written: the N answer as written for the
        # canonical prompt, read in this prompt's names (a relabelled variant of the same
        # physics can tell the memoriser from the solver only by its names)
        n_answer = variant.relabelling.answer_to_canonical(n_answer)
    verdict = check_answer(variant.model, answer, tolerances=tolerances,
                           reference=refs.own_answer, reference_objective=refs.own_objective,
                           n_reference=n_answer)
    if repair:
        verdict.update(distance(variant, answer, refs=refs))
    return verdict


def distance(variant, answer, *, refs: References | None = None) -> dict:
    """Distance to feasibility of an answer (in the grid's own names) on `variant`:
    {"distance_to_feasible", "moves", "repaired"}; the search starts from the variant's
    reference when it is known (same point, fewer Ipopt iterations)."""
    from n1studio.solve.nearest import repair_fields  # noqa: PLC0415 - casadi, as reference()

    start = refs.own if refs is not None and getattr(refs.own, "success", False) else None
    try:
        return repair_fields(variant.model, answer, start=start)
    except Exception as exc:  # noqa: BLE001 -- an unreadable answer has no distance, not a crash
        log.info("%s: no distance to feasibility: %s", variant.label, exc)
        return {"distance_to_feasible": None, "moves": None, "repaired": None}


def to_canonical(variant, answer):
    """An answer written in a relabelled variant's prompt names, in the grid's own names
    (unchanged for other variants; text that is not a JSON object is left to the checker,
    which reports it as `format`)."""
    rl = variant.relabelling
    if rl is None:
        return answer
    if isinstance(answer, (str, bytes)):
        try:
            text = answer.decode("utf-8-sig") if isinstance(answer, bytes) else answer
            doc = json.loads(text.lstrip("\ufeff"))
        except (ValueError, RecursionError):
            return answer
        return rl.answer_to_canonical(doc) if isinstance(doc, dict) else answer
    return rl.answer_to_canonical(answer)


@dataclass
class Asked:
    """One model run on one variant, judged: everything a study keeps."""

    variant: str  # the variant's label, e.g. "N-1 line:3"
    outages: list[str]
    prompt: str
    raw: str
    answer: dict | None
    verdict: dict | None
    stats: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    model: str = ""
    references: References | None = field(default=None, repr=False)

    @property
    def reference(self):
        return self.references.own if self.references is not None else None

    def to_dict(self, with_prompt: bool = True) -> dict:
        doc = {"variant": self.variant, "outages": self.outages, "answer": self.answer,
               "verdict": self.verdict, "raw": self.raw, "stats": self.stats,
               "settings": self.settings, "model": self.model}
        if with_prompt:
            doc["prompt"] = self.prompt
        return doc


# the runtime's wire events -> the job protocol
_STAGE_TEXT = {"loading": "loading the model…", "loaded": "model loaded"}


def _relay(state: JobState):
    def on_event(ev: dict) -> None:
        kind = ev.get("ev")
        if kind == "token":
            state.partial("token", ev.get("text", ""))
        elif kind == "progress":
            state.progress(int(ev.get("done", 0)), int(ev.get("total", 0)),
                           "reading the prompt", stage="prompt")
        elif kind in _STAGE_TEXT:
            state.status(ev.get("message") or _STAGE_TEXT[kind], stage="model")
            state.partial(kind, {k: v for k, v in ev.items() if k != "ev"})
    return on_event


def render(variant, template: str | None = None, *, example: bool = False,
           state: JobState | None = None):
    """The prompt of `variant` (`n1studio.llm.prompt.Prompt`); with `example`, the solved
    N case is written into it as a worked example (solved here, once per grid)."""
    shown = None
    if example:
        n = _solve_or_none(Variant(variant.base), state)
        shown = _answer_of(n)
        if shown is None:
            raise N1Error("--example n: the N case has no optimal AC OPF to show")
    return render_prompt(variant, template, example=shown)


def ask(variant, settings=None, *, client=None, template: str | None = None,
        prompt=None, example: bool = False, tolerances=None, refs: References | None = None,
        repair: bool = False, state: JobState | None = None) -> Asked:
    """Ask a model about `variant` and judge its answer against the references.

    `settings` is an `n1studio.llm.runtime.ModelSettings` (None: the default model);
    `client` a runtime (the shared local worker when None); `prompt` a
    `n1studio.llm.prompt.Prompt` to send instead of the rendered one; `example` writes
    the solved N case into the prompt as a worked example (see `render`); `repair` adds
    the distance to feasibility to the verdict (see `judge`). Reports on `state`:
    Partial("prompt", text), Progress(stage="prompt") while the model reads it,
    Partial("token", text), Partial("answer", dict | None), status lines,
    Partial("reference", OpfResult), Partial("verdict", dict). A stop during the answer
    raises `JobStopped` whose partial is the `Asked` so far (raw text, no verdict).
    Raises ModelError for model trouble (bad file, dead worker).
    """
    state = state or JobState()
    p = prompt if prompt is not None else render(variant, template, example=example,
                                                 state=state)
    state.partial("prompt", p.text)
    if is_control(getattr(settings, "model_path", None)):
        return _ask_control(variant, settings.model_path, p.text, tolerances, refs, state,
                            repair)
    state.status("starting the model…", stage="model")
    res = ask_variant(variant, settings, _relay(state), state.cancel, client=client, prompt=p)
    asked = Asked(variant=res.variant, outages=res.outages, prompt=res.prompt, raw=res.raw,
                  answer=res.answer, verdict=None, stats=res.stats, settings=res.settings,
                  model=res.model)
    if res.cancelled:
        raise JobStopped(asked)
    state.partial("answer", res.answer)
    asked.references = refs if refs is not None else references(variant, state=state)
    state.status("checking the answer…", stage="check")
    asked.verdict = judge(variant, res.answer if res.answer is not None else res.raw,
                          refs=asked.references, tolerances=tolerances, repair=repair)
    state.partial("verdict", asked.verdict)
    return asked


def _ask_control(variant, name: str, prompt_text: str, tolerances, refs: References | None,
                 state: JobState, repair: bool = False) -> Asked:
    """A control answers from the references (n1studio.controls), through the same steps
    and events as a model: the text it "writes" is its answer as JSON."""
    label = control_label(name)
    t0 = time.perf_counter()
    refs = refs if refs is not None else references(variant, state=state)
    n_answer = refs.own_answer if variant.is_base else refs.n_answer  # N's own is the N answer
    answer = control_answer(label, variant.model, refs.own_answer, n_answer,
                            label=variant.label)
    if variant.relabelling is not None and not label.startswith("control:recall-n"):
        # the ideal solver writes in the prompt's names; the memoriser in the canonical ones
        answer = variant.relabelling.answer_to_prompt(answer)
    raw = json.dumps(answer, allow_nan=False) if answer is not None else ""
    state.partial("token", raw)
    state.partial("answer", answer)
    asked = Asked(variant=variant.label, outages=list(variant.outages), prompt=prompt_text,
                  raw=raw, answer=answer, verdict=None,
                  stats={"control": True, "wall_s": round(time.perf_counter() - t0, 4)},
                  settings={"model_path": label, "control": True}, model=label,
                  references=refs)
    state.check(asked)
    state.status("checking the answer…", stage="check")
    asked.verdict = judge(variant, answer if answer is not None else raw, refs=refs,
                          tolerances=tolerances, repair=repair)
    state.partial("verdict", asked.verdict)
    return asked
