"""The one pipeline: references solved once per variant, verdicts against them, the model
asked and judged through the typed job protocol (real grids, the real default model)."""

from __future__ import annotations

import threading

import pytest

from n1studio import pipeline
from n1studio.grid.cases import load_case
from n1studio.grid.variant import Variant
from n1studio.jobs import Done, JobState, Partial, Progress, Stopped, run_job
from n1studio.solve import reference as reference_module
from tests.check.conftest import ac_reference, runopp_answer


def test_judge_fetches_the_references():
    variant = Variant(load_case("case14"), ["line:3"])
    answer = runopp_answer("case14", ["line:3"])
    verdict = pipeline.judge(variant, answer)
    assert verdict["feasible"] is True
    # pandapower's optimum and ours agree to well under a percent on this variant
    assert abs(verdict["cost_gap"]) < 5e-3
    assert verdict["recalled_n_answer"] is False


def test_judge_without_a_feasible_reference():
    """pglib case30 without gen:1 has no feasible operating point: no reference, no gap."""
    net = load_case("pglib_opf_case30_ieee")
    n_answer = ac_reference("pglib_opf_case30_ieee").answer
    verdict = pipeline.judge(Variant(net, ["gen:1"]), n_answer)
    assert verdict["reference_objective"] is None and verdict["cost_gap"] is None
    assert verdict["recalled_n_answer"] is False
    assert [v["element"] for v in verdict["violations"]
            if v["constraint"] == "removed_element"] == ["gen:1"]


def test_the_n_answer_judged_on_an_n1_variant_is_recalled():
    """A control: the N reference, given as the answer to an N-1 question, is the recalled
    N answer; the variant's own reference is not."""
    net = load_case("pglib_opf_case14_ieee")
    variant = Variant(net, ["line:6"])
    refs = pipeline.references(variant)
    assert refs.own.success and refs.n.success
    recalled = pipeline.judge(variant, refs.n_answer, refs=refs)
    own = pipeline.judge(variant, refs.own_answer, refs=refs)
    assert recalled["recalled_n_answer"] is True
    assert own["recalled_n_answer"] is False and own["feasible"] is True
    assert own["cost_gap"] == pytest.approx(0.0, abs=1e-6)


def test_a_reference_is_solved_once_however_many_callers_ask(monkeypatch):
    """Four threads ask for the same variant's reference at once: one solve, one result."""
    reference_module.clear()
    calls = []
    real = reference_module._ac_reference

    def counting(variant, *args, **kwargs):
        calls.append(variant.label)
        return real(variant, *args, **kwargs)

    monkeypatch.setattr(reference_module, "_ac_reference", counting)
    variant = Variant(load_case("pglib_opf_case30_ieee"), ["line:5"])
    results = []
    threads = [threading.Thread(target=lambda: results.append(pipeline.reference(variant)))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert calls == ["N-1 line:5"]
    assert len(results) == 4 and all(r is results[0] for r in results)
    # PGLib case30 with line:5 out: the optimum the README quotes
    assert results[0].objective == pytest.approx(7633.84, rel=1e-4)


def test_a_stopped_reference_is_stopped_not_failed():
    variant = Variant(load_case("pglib_opf_case118_ieee"), ["line:9"])
    reference_module.clear()
    state = JobState()
    state.stop()
    out = run_job(lambda state: pipeline.references(variant, state=state), state=state)
    assert isinstance(out, Stopped)
    assert reference_module.cached(variant) is None  # a stopped solve is never kept


@pytest.mark.slow
def test_ask_reports_through_the_job_protocol_and_judges_the_answer():
    """The real default model on pglib case14 with line:6 out: the prompt, progress while
    it is read, tokens, the answer, the reference and the verdict arrive in that order, and
    the verdict is the checker's verdict of the very answer returned."""
    variant = Variant(load_case("pglib_opf_case14_ieee"), ["line:6"])
    events = []
    state = JobState(events.append)
    out = run_job(pipeline.ask, variant, state=state)
    assert isinstance(out, Done), out
    asked = out.result
    kinds = [e.kind for e in events if isinstance(e, Partial)]
    assert kinds[0] == "prompt" and "token" in kinds
    order = [kinds.index(k) for k in ("prompt", "token", "answer", "reference", "verdict")]
    assert order == sorted(order)
    assert any(isinstance(e, Progress) and e.stage == "prompt" and e.total > 0 for e in events)
    tokens = "".join(e.value for e in events if isinstance(e, Partial) and e.kind == "token")
    assert tokens == asked.raw
    assert asked.verdict == pipeline.judge(variant, asked.answer, refs=asked.references)
    names = {g["element"] for g in asked.answer["generators"]}
    assert "line:6" not in names and asked.reference.success


@pytest.mark.slow
def test_a_stopped_answer_is_stopped_with_its_partial_text():
    variant = Variant(load_case("pglib_opf_case14_ieee"), ["line:6"])
    seen = []
    stop = threading.Event()

    def report(ev):
        if isinstance(ev, Partial) and ev.kind == "token":
            seen.append(ev.value)
            if len(seen) == 5:
                stop.set()

    state = JobState(report, cancel=stop)
    out = run_job(pipeline.ask, variant, state=state)
    assert isinstance(out, Stopped)
    assert out.partial.verdict is None
    assert out.partial.raw.startswith("".join(seen[:5]))


def test_judge_with_repair_grades_what_binary_feasibility_cannot():
    """Binary feasibility says both answers are infeasible; the distance says which is
    nearer, and the repaired answer checks feasible."""
    from n1studio.controls import control_answer

    variant = Variant(load_case("pglib_opf_case14_ieee"), ["line:6"])
    refs = pipeline.references(variant)
    near = control_answer("control:noise:0.02", variant.model, refs.own_answer, None,
                          label=variant.label)
    far = control_answer("control:zeros", variant.model, refs.own_answer, None)
    a = pipeline.judge(variant, near, refs=refs, repair=True)
    b = pipeline.judge(variant, far, refs=refs, repair=True)
    assert a["feasible"] is False and b["feasible"] is False
    assert 0 < a["distance_to_feasible"] < b["distance_to_feasible"]
    assert pipeline.judge(variant, a["repaired"], refs=refs)["feasible"] is True
    own = pipeline.judge(variant, refs.own_answer, refs=refs, repair=True)
    assert own["distance_to_feasible"] == pytest.approx(0.0, abs=1e-5)
    garbage = pipeline.judge(variant, "not an answer", refs=refs, repair=True)
    assert garbage["usable"] is False
