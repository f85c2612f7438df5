"""Answer x variant -> `n1studio.verdict/1` (SPEC.md).

`check_answer` judges an answer against a `GridModel` (optionally with references for the
cost gap and the recall test). The checker knows verdicts only: fetching the references of
a variant is `n1studio.pipeline.judge`'s job.

The verdict holds the SPEC keys (schema, feasible, violations, satisfaction,
overall_satisfaction, objective, reference_objective, cost_gap, recalled_n_answer) and:
`claimed_objective` (the answer's own `objective`), `counts` (constraints and violations
per kind), `tolerances`, `outages`, `usable`, `warnings`, `recall` (the recall verdict with its
evidence: verdict, to_n, to_own, margin, separation, can_tell; check/recall.py).

Each violation: constraint, element, value, limit, excess (>= 0, how far beyond the
limit), unit, and for `format`, `removed_element` and not-evaluable records a `message`
(value and excess are null there). Order: format, removed_element, then the six kinds in
SPEC order, elements in grid order.

Rules: `feasible` means no violation of any kind. satisfaction = satisfied / constraints
per kind (1.0 for a kind with no constraints); overall = satisfied / constraints over
the six kinds. When the answer is unusable as a whole (no answer, not JSON, not an object,
no bus list or no bus voltage), every kind scores 0.0 and only the format problems are
listed. `objective` is the cost of the answer's dispatch (null when a dispatch is
missing), `cost_gap` = (objective - reference_objective) / |reference_objective|.
"""

from __future__ import annotations

import logging

import numpy as np

from n1studio.check.evaluate import dispatch_cost, evaluate, prepare
from n1studio.check.parse import parse_answer
from n1studio.check.recall import recall_check
from n1studio.check.tolerances import Tolerances
from n1studio.schema import CONSTRAINT_KINDS, VERDICT

log = logging.getLogger(__name__)


def check_answer(model, answer: dict | str | None, *, tolerances: Tolerances | None = None,
                 reference: dict | None = None, n_reference: dict | None = None, outages=(),
                 reference_objective: float | None = None) -> dict:
    """Judge `answer` on `model` (with `outages` taken out first, if given) -> verdict dict."""
    tol = tolerances or Tolerances()
    if outages:
        model = _with_outages(model, outages)
    prep = prepare(model)
    ans = parse_answer(model, answer, prep.required_bus, prep.required_gen, tol.gen_vm_pu,
                       lookups=prep.lookups)

    violations = list(_ordered_issues(ans.issues))
    counts = {}
    if ans.usable:
        results = evaluate(model, prep, ans, tol)
        for kind in CONSTRAINT_KINDS:
            violations += results[kind].violations
        counts = {k: {"constraints": results[k].total, "violated": len(results[k].violations)}
                  for k in CONSTRAINT_KINDS}
        satisfaction = {k: (results[k].satisfied / results[k].total if results[k].total else 1.0)
                        for k in CONSTRAINT_KINDS}
        total = sum(r.total for r in results.values())
        overall = sum(r.satisfied for r in results.values()) / total if total else 1.0
    else:
        totals = {"power_balance": len(prep.ext), "voltage": len(prep.ext), "gen_p": len(prep.gp),
                  "gen_q": len(prep.gq), "thermal": len(prep.th_names), "angle": len(prep.an_names)}
        counts = {k: {"constraints": n, "violated": n} for k, n in totals.items()}
        satisfaction = {k: 0.0 for k in CONSTRAINT_KINDS}
        overall = 0.0

    objective = dispatch_cost(model, ans.p_mw, prep.required_gen)
    ref_obj = reference_objective
    if ref_obj is None and isinstance(reference, dict):
        ref_obj = _reference_objective(model, reference, prep.required_gen)
    cost_gap = None
    if objective is not None and ref_obj is not None and abs(ref_obj) > 1e-9:
        cost_gap = (objective - ref_obj) / abs(ref_obj)
    recall = recall_check(model, ans.document if ans.usable else None, n_reference, reference)

    return {
        "schema": VERDICT,
        "feasible": not violations,
        "violations": violations,
        "satisfaction": {k: round(v, 6) for k, v in satisfaction.items()},
        "overall_satisfaction": round(overall, 6),
        "objective": _r(objective),
        "claimed_objective": _r(ans.claimed_objective),
        "reference_objective": _r(ref_obj),
        "cost_gap": _r(cost_gap),
        "recalled_n_answer": recall["recalled_n_answer"],
        "recall": {k: recall[k] for k in ("verdict", "to_n", "to_own", "margin", "separation",
                                          "can_tell")},
        "usable": ans.usable,
        "counts": counts,
        "outages": list(model.outages),
        "tolerances": tol.to_dict(),
        "warnings": ans.warnings,
    }


def _reference_objective(model, reference: dict, required_gen: np.ndarray) -> float | None:
    obj = reference.get("objective")
    if isinstance(obj, (int, float)) and not isinstance(obj, bool) and np.isfinite(obj):
        return float(obj)
    parsed = parse_answer(model, reference, np.zeros(model.n_bus, bool), required_gen)
    return dispatch_cost(model, parsed.p_mw, required_gen)


def _with_outages(model, outages) -> object:
    """`model` with `outages` applied, memoised on the model so repeated checks reuse the
    cached Ybus of the variant."""
    extra = tuple(sorted({str(o).strip() for o in outages} - set(model.outages)))
    if not extra:
        return model
    memo = model.__dict__.setdefault("_n1check_variants", {})
    if extra not in memo:
        if len(memo) >= 32:
            memo.pop(next(iter(memo)))
        memo[extra] = model.with_outages(extra)
    return memo[extra]


_ISSUE_ORDER = {"format": 0, "removed_element": 1}


def _ordered_issues(issues: list[dict]):
    return sorted(issues, key=lambda v: _ISSUE_ORDER.get(v["constraint"], 2))


def _r(x):
    if x is None:
        return None
    x = float(x)
    return round(x, 6) + 0.0 if np.isfinite(x) else None
