"""Keep it held (issue 10): a few hundred hostile answers, every one a verdict, never a crash.

Mutations (tests/check/fuzzing.py) of the reference answers of PGLib case14 (N and N-1
line:6) and case30, seeded so a failure reproduces. Each answer is judged as the checker
gets it (dict, text or bytes) with both references (cost gap and recall run too), and as
`ask --free` gets it (the model's text through `extract_answer`, then the checker). The
time bound per input is generous (it catches hangs, not slowness: bench/bench_fuzz_answers.py
measures speed).
"""

from __future__ import annotations

import copy
import json
import random
import time

import pytest

from n1studio.check import check_answer
from n1studio.llm.parse import extract_answer
from n1studio.schema import CONSTRAINT_KINDS, VERDICT
from tests.check.conftest import ac_reference, model_of
from tests.check.fuzzing import MUTATIONS, describe, mutate

SEED = 20261125
PER_INPUT_S = 10.0  # a hang, not a slow check: a check takes milliseconds here
KINDS = set(CONSTRAINT_KINDS) | {"format", "removed_element"}

TARGETS = [("pglib_opf_case14_ieee", ()), ("pglib_opf_case14_ieee", ("line:6",)),
           ("pglib_opf_case30_ieee", ())]


def _refs(case: str, outages: tuple[str, ...]) -> dict:
    own = ac_reference(case, outages)
    assert own.success, f"{case} {outages}: the reference AC OPF failed ({own.status})"
    n = ac_reference(case) if outages else None
    return {"reference": own.answer, "reference_objective": float(own.objective),
            "n_reference": n.answer if n is not None else None}


def _assert_verdict(verdict, what: str) -> None:
    assert isinstance(verdict, dict), what
    assert verdict["schema"] == VERDICT, what
    assert isinstance(verdict["feasible"], bool), what
    assert verdict["feasible"] == (not verdict["violations"]), what
    assert {v["constraint"] for v in verdict["violations"]} <= KINDS, what
    json.dumps(verdict, allow_nan=False)  # a valid JSON document, whatever came in


@pytest.mark.parametrize("case,outages", TARGETS)
def test_hostile_answers_are_verdicts_in_bounded_time(case, outages):
    model = model_of(case, outages)
    refs = _refs(case, outages)
    rng = random.Random(f"{SEED}:{case}:{outages}")
    seen_kinds = set()
    for i in range(110):
        kind, answer = mutate(rng, copy.deepcopy(refs["reference"]))
        seen_kinds.add(kind)
        what = f"#{i} {kind}: {describe(answer)}"
        t0 = time.perf_counter()
        verdict = check_answer(model, answer, **refs)
        elapsed = time.perf_counter() - t0
        _assert_verdict(verdict, what)
        assert elapsed < PER_INPUT_S, f"{what} took {elapsed:.1f} s"
        if isinstance(answer, (str, bytes)):  # the free-mode route: text -> extract -> check
            text = answer.decode("utf-8", "replace") if isinstance(answer, bytes) else answer
            t0 = time.perf_counter()
            verdict = check_answer(model, extract_answer(text), **refs)
            elapsed = time.perf_counter() - t0
            _assert_verdict(verdict, "free mode " + what)
            assert elapsed < PER_INPUT_S, f"free mode {what} took {elapsed:.1f} s"
    assert len(seen_kinds) >= len(MUTATIONS) - 2, sorted(set(MUTATIONS) - seen_kinds)


def test_control_reference_is_feasible_and_one_bad_voltage_is_flagged_there():
    """An independent control: the fuzz harness judges real answers correctly."""
    case, outages = TARGETS[1]
    model = model_of(case, outages)
    refs = _refs(case, outages)
    verdict = check_answer(model, json.dumps(refs["reference"]), **refs)
    assert verdict["feasible"] is True, verdict["violations"][:3]
    assert verdict["cost_gap"] == pytest.approx(0.0, abs=1e-6)

    bad = copy.deepcopy(refs["reference"])
    entry = bad["buses"][5]
    entry["vm_pu"] = 1.5
    verdict = check_answer(model, bad, **refs)
    voltage = [(v["element"], v["value"]) for v in verdict["violations"]
               if v["constraint"] == "voltage"]
    assert voltage == [(entry["element"], 1.5)]
    assert not [v for v in verdict["violations"] if v["constraint"] == "format"]
