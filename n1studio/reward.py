"""A reward for RL on AC OPF answers, with TRL's `reward_funcs` signature, built on the checker.

    from n1studio.reward import make_reward
    reward = make_reward()                      # or make_reward(weights={...}, distance=True)
    reward(prompts, completions, case=[...], outages=[...], perturbation=[...])
    -> [float, ...]                             # one per completion

TRL calls ``reward(prompts=..., completions=..., **columns)`` where each dataset column
arrives as a list (one entry per completion) and a completion is a string or, for
conversational data, a list of chat messages (the last assistant message is read). The
variant of each completion comes from the columns that `dataset export --format sft|hf`
writes: `case` (a built-in name or a case file), `outages` (element names) and
`perturbation` (a `grid.perturb.Perturbation` as a dict or its JSON; "{}" for none).

Components, each in [0, 1] (the verdict is `n1studio.pipeline.judge`'s):

- ``format``: 1 when the text is a usable answer with no format problem, 0.5 when usable
  but with format problems (elements missing, unknown, repeated), 0 when unusable
  (not JSON, no bus voltages, ...);
- ``constraints``: the verdict's `overall_satisfaction` (share of constraints met);
- ``feasible``: 1 when the verdict is feasible (no violation at all), else 0;
- ``distance``: 1 - d / `distance_scale` clipped to [0, 1], where d is the normalised
  distance to the nearest feasible point (`solve.nearest.repair_fields`); 0 when no
  feasible point is found. It needs one Ipopt solve per completion, so it is off unless
  `distance=True`.

The reward is Σ weight·component. `DEFAULT_WEIGHTS` = format 0.1, constraints 0.4,
feasible 0.5, distance 0 (sum 1: a perfect answer scores 1.0, text that is not an answer
0.0 — the format floor); with `distance=True` and no weights given, `DISTANCE_WEIGHTS`
(0.1, 0.3, 0.4, 0.2). Grids, variants and references (the variant's AC OPF, and the N
case's for the recall test) are cached across calls; any failure to judge a completion
scores the format floor (0.0) and is logged, never raised.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable

from n1studio.grid.cases import load_case
from n1studio.grid.perturb import Perturbation
from n1studio.grid.variant import Variant
from n1studio.pipeline import judge, references, to_canonical
from n1studio.solve.nearest import repair_fields

log = logging.getLogger(__name__)

DEFAULT_WEIGHTS = {"format": 0.1, "constraints": 0.4, "feasible": 0.5, "distance": 0.0}
DISTANCE_WEIGHTS = {"format": 0.1, "constraints": 0.3, "feasible": 0.4, "distance": 0.2}
COMPONENTS = tuple(DEFAULT_WEIGHTS)


def completion_text(completion) -> str:
    """The answer text of a completion: a string, a chat message, or a list of messages
    (the last assistant message's content; the last message's when none says assistant)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        c = completion.get("content", "")
        return c if isinstance(c, str) else ""
    if isinstance(completion, (list, tuple)):
        msgs = [m for m in completion if isinstance(m, dict)]
        said = [m for m in msgs if m.get("role") == "assistant"] or msgs
        return completion_text(said[-1]) if said else ""
    return "" if completion is None else str(completion)


def _perturbation(value):
    if value is None or value == "":
        return Perturbation()
    if isinstance(value, Perturbation):
        return value
    if isinstance(value, str):
        value = json.loads(value)
    return Perturbation.from_dict(value or {})


class _Cache:
    """Grids by case, variants and their references by (case, outages, perturbation)."""

    def __init__(self):
        self.nets: dict = {}
        self.variants: dict = {}

    def variant(self, case: str, outages, perturbation):
        if isinstance(outages, str):
            outages = json.loads(outages) if outages.strip().startswith("[") else [
                o for o in outages.split(",") if o.strip()]
        p = _perturbation(perturbation)
        key = (str(case), tuple(sorted(outages or ())), p.key())
        hit = self.variants.get(key)
        if hit is None:
            if case not in self.nets:
                self.nets[case] = load_case(case)
            v = Variant(self.nets[case], list(outages or ()), p)
            hit = (v, references(v))
            self.variants[key] = hit
        return hit


def components(verdict: dict, repair: dict | None = None,
               distance_scale: float = 0.1) -> dict[str, float]:
    """The reward components of a verdict (and of `repair_fields` output when given)."""
    usable = bool(verdict.get("usable", False))
    fmt_problems = any(v.get("constraint") in ("format", "removed_element")
                       for v in verdict.get("violations", []))
    out = {"format": 0.0 if not usable else (0.5 if fmt_problems else 1.0),
           "constraints": float(verdict.get("overall_satisfaction") or 0.0) if usable else 0.0,
           "feasible": 1.0 if verdict.get("feasible") else 0.0, "distance": 0.0}
    if repair is not None:
        d = repair.get("distance_to_feasible")
        if d is not None and math.isfinite(d):
            out["distance"] = float(min(1.0, max(0.0, 1.0 - d / distance_scale)))
    if not math.isfinite(out["constraints"]):
        out["constraints"] = 0.0
    return out


def make_reward(weights: dict[str, float] | None = None, *, distance: bool = False,
                distance_scale: float = 0.1, case_column: str = "case",
                outages_column: str = "outages", perturbation_column: str = "perturbation",
                details: list | None = None) -> Callable[..., list[float]]:
    """A TRL reward function (see the module's docstring). `weights` overrides any of
    `COMPONENTS`; `details`, when a list, receives one dict of components per completion."""
    w = dict(DISTANCE_WEIGHTS if distance and weights is None else DEFAULT_WEIGHTS)
    for k, v in (weights or {}).items():
        if k not in w:
            raise ValueError(f"unknown reward component {k!r}; the components are "
                             + ", ".join(COMPONENTS))
        w[k] = float(v)
    if w["distance"] and not distance:
        distance = True
    cache = _Cache()

    def one(completion, case, outages, perturbation) -> tuple[float, dict]:
        variant, refs = cache.variant(case, outages, perturbation)
        text = completion_text(completion)
        verdict = judge(variant, text, refs=refs)
        repair = None
        if distance and verdict.get("usable"):
            repair = repair_fields(variant.model, to_canonical(variant, text),
                                   start=refs.own)
        comp = components(verdict, repair, distance_scale)
        return sum(w[k] * comp[k] for k in COMPONENTS), comp

    def reward(prompts=None, completions=None, **kwargs) -> list[float]:
        completions = list(completions or [])
        n = len(completions)
        cases = _column(kwargs, case_column, n)
        outs = _column(kwargs, outages_column, n, default=[])
        perts = _column(kwargs, perturbation_column, n, default="{}")
        scores = []
        for k, c in enumerate(completions):
            try:
                if cases[k] is None:
                    raise ValueError(f"no {case_column!r} column: which grid is this?")
                score, comp = one(c, cases[k], outs[k], perts[k])
                if not math.isfinite(score):
                    score, comp = 0.0, {}
            except Exception as exc:  # noqa: BLE001 -- a reward never stops training
                log.warning("reward: completion %d scored 0.0 (%s: %s)", k,
                            exc.__class__.__name__, str(exc)[:200])
                score, comp = 0.0, {"error": f"{exc.__class__.__name__}: {exc}"[:300]}
            scores.append(float(score))
            if details is not None:
                details.append(comp)
        return scores

    reward.__name__ = "n1studio_reward"
    reward.weights = dict(w)  # type: ignore[attr-defined]
    return reward


def _column(kwargs: dict, name: str, n: int, default=None) -> list:
    col = kwargs.get(name)
    if col is None:
        return [default] * n
    if isinstance(col, (str, bytes)) or not isinstance(col, (list, tuple)):
        return [col] * n
    col = list(col)
    return col + [default] * (n - len(col)) if len(col) < n else col[:n]


#: The default reward (TRL: `GRPOTrainer(reward_funcs=[reward], ...)`).
reward = make_reward()
