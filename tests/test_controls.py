"""Controls: known answers through the same pipeline as a model (pipeline, CLI, eval)."""

from __future__ import annotations

import json

import pytest

from n1studio import pipeline
from n1studio.controls import ControlError, control_answer, parse_control
from n1studio.grid.cases import load_case
from n1studio.grid.variant import Variant
from n1studio.jobs import JobState, Partial
from n1studio.llm.runtime import ModelSettings

CASE = "pglib_opf_case14_ieee"


@pytest.fixture(scope="module")
def variant():
    return Variant(load_case(CASE), ["line:6"])


def _ask(variant, name):
    events = []
    asked = pipeline.ask(variant, ModelSettings(model_path=name), state=JobState(events.append))
    return asked, events


def test_reference_control_is_the_ideal_solver(variant):
    asked, events = _ask(variant, "control:reference")
    v = asked.verdict
    assert v["feasible"] is True and v["violations"] == []
    assert v["cost_gap"] == pytest.approx(0.0, abs=1e-6)
    assert v["recalled_n_answer"] is False
    # the text it "wrote" is its answer, streamed like a model's tokens
    tokens = "".join(e.value for e in events if isinstance(e, Partial) and e.kind == "token")
    assert json.loads(tokens) == asked.answer
    assert asked.model == "control:reference" and asked.settings["control"] is True


def test_recall_n_control_is_the_ideal_memoriser(variant):
    asked, _ = _ask(variant, "control:recall-n")
    refs = pipeline.references(variant)
    assert asked.answer == json.loads(json.dumps(refs.n_answer))
    assert asked.verdict["recalled_n_answer"] is True
    assert asked.verdict["feasible"] is False  # the N dispatch does not fit the N-1 grid


def test_zeros_control_is_junk_never_recalled(variant):
    asked, _ = _ask(variant, "control:zeros")
    v = asked.verdict
    assert v["feasible"] is False and v["recalled_n_answer"] is False
    assert all(g["p_mw"] == 0 for g in asked.answer["generators"])
    # every bus voltage 0 breaks every bus's lower voltage limit
    assert {x["element"] for x in v["violations"] if x["constraint"] == "voltage"} == \
        {b["element"] for b in asked.answer["buses"]}


def test_noise_control_is_seeded_and_sized(variant):
    refs = pipeline.references(variant)
    a = control_answer("control:noise:0.05", variant.model, refs.own_answer, refs.n_answer,
                       label=variant.label)
    b = control_answer("control:noise:0.05", variant.model, refs.own_answer, refs.n_answer,
                       label=variant.label)
    big = control_answer("control:noise:0.5", variant.model, refs.own_answer, refs.n_answer,
                         label=variant.label)
    assert a == b  # reproducible
    own = {x["element"]: x["vm_pu"] for x in refs.own_answer["buses"]}

    def moved(ans):
        return max(abs(x["vm_pu"] - own[x["element"]]) for x in ans["buses"])

    assert 0 < moved(a) < moved(big)


def test_control_names_are_checked():
    assert parse_control("control:noise") == ("noise", 0.05)
    assert parse_control("control:noise:0.2") == ("noise", 0.2)
    for bad in ("control:oracle", "control:noise:x", "control:zeros:1", "control:noise:-1"):
        with pytest.raises(ControlError):
            parse_control(bad)


def test_ask_command_runs_a_control(capsys):
    from n1studio.cli import main

    code = main(["ask", CASE, "--out", "line:6", "--model", "control:reference", "--json",
                 "--no-prompt"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["verdict"]["feasible"] is True
    assert doc["model"] == "control:reference"
    code = main(["ask", CASE, "--out", "line:6", "--model", "control:oracle"])
    assert code == 2
    assert "unknown control" in capsys.readouterr().err


def test_eval_stores_controls_as_their_own_models(tmp_path):
    from n1studio.curate.dataset import build_dataset
    from n1studio.curate.evaluate import run_eval
    from n1studio.curate.study import Study

    with Study.open(tmp_path / "c.n1study", create=True) as st:
        ds = build_dataset(st, load_case(CASE), CASE, "c14", sample=2, seed=3,
                           no_islanding=True, feasible_only=True)
        summary = run_eval(st, ds, ["control:reference", "control:recall-n"])
        assert summary.done == 6 and not summary.cancelled
        names = {m["file_name"] for m in st.models()}
        assert names == {"control:reference", "control:recall-n"}
        runs = st.runs(ds)
        by_model = {}
        for r in runs:
            by_model.setdefault(r["model_id"], []).append(r)
        assert len(by_model) == 2
        # run again: nothing new, everything skipped (resumable like a model's runs)
        again = run_eval(st, ds, ["control:reference", "control:recall-n"])
        assert again.done == 0 and again.skipped == 6


def test_controls_on_a_relabelled_variant():
    """Relabelled: the same physics under other names. The ideal solver writes in the
    prompt's names and is judged feasible; the memoriser writes the canonical N answer and
    is caught recalling it, although the two references have the same objective."""
    from n1studio.grid.perturb import Perturbation

    v = Variant(load_case(CASE), ["line:6"], Perturbation(relabel=True, seed=4))
    ref, _ = _ask(v, "control:reference")
    mem, _ = _ask(v, "control:recall-n")
    assert ref.verdict["feasible"] is True and ref.verdict["recalled_n_answer"] is False
    assert ref.answer != pipeline.references(v).own_answer  # written in the prompt's names
    assert mem.verdict["recalled_n_answer"] is True and mem.verdict["feasible"] is False


def test_solve_and_check_round_trip_a_relabelled_variant(tmp_path, capsys):
    from n1studio.cli import main

    args = [CASE, "--out", "line:6", "--relabel", "--perturb-seed", "4", "--load-noise", "0.1"]
    assert main(["solve", *args, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["variant"] == "N-1 line:6 · load ±10 % #4 · relabelled #4"
    path = tmp_path / "a.json"
    path.write_text(json.dumps(doc))
    assert main(["check", CASE, str(path), *args[1:], "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["feasible"] is True
    # the same answer read without the relabelling breaks the grid
    assert main(["check", CASE, str(path), "--out", "line:6", "--load-noise", "0.1",
                 "--perturb-seed", "4", "--json"]) == 1
    capsys.readouterr()


def test_on_the_n_case_the_memoriser_is_right(net=None):
    """On the N case itself the recalled N answer is the right answer."""
    asked, _ = _ask(Variant(load_case(CASE)), "control:recall-n")
    assert asked.verdict["feasible"] is True and asked.verdict["recalled_n_answer"] is False
