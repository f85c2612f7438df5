"""Conclusions right by default, read back from what a user sees: a study with families on
two PGLib grids in two datasets, evaluated by the controls without --dataset, then
`study info`, `study runs`, `report --json` and report.html."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from scipy import stats

from n1studio.cli import main

C14, C30 = "pglib_opf_case14_ieee", "pglib_opf_case30_ieee"


def _run(capsys, argv: list[str]) -> str:
    assert main(argv) == 0, capsys.readouterr().err
    return capsys.readouterr().out


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """Two datasets (case14: N-1 and load:0.1; case30: N-1, N-1+load:0.1 and cost:0.3),
    answered by the ideal solver and the ideal memoriser with `eval` and no --dataset,
    and by control:noise on the case14 dataset only (--dataset narrows it)."""
    tmp = tmp_path_factory.mktemp("fam")
    path = str(tmp / "s.n1study")
    for argv in (["dataset", "build", C14, "--study", path, "--name", "c14", "--sample", "3",
                  "--seed", "1", "--no-islanding", "--feasible-only", "--family", "n-1",
                  "--family", "load:0.1", "--workers", "1"],
                 ["dataset", "build", C30, "--study", path, "--name", "c30", "--sample", "2",
                  "--seed", "4", "--no-islanding", "--feasible-only", "--family", "n-1",
                  "--family", "n-1+load:0.1", "--family", "cost:0.3", "--workers", "1"]):
        assert main(argv) == 0
    return tmp, path


@pytest.fixture(scope="module")
def evaluated(study):
    tmp, path = study
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["eval", "--study", path, "--model", "control:reference",
                     "--model", "control:recall-n"]) == 0
        first = out.getvalue()
        assert main(["eval", "--study", path, "--dataset", "c14",
                     "--model", "control:noise"]) == 0
    return tmp, path, first, out.getvalue()[len(first):]


def test_eval_without_dataset_covers_every_dataset_and_says_which(evaluated, capsys):
    _, path, first, narrowed = evaluated
    assert "evaluating 2 dataset(s)" in first and "c14, c30" in first
    assert "evaluating 1 dataset(s)" in narrowed and "c14" in narrowed and "c30" not in narrowed
    # resumable: asked again, nothing is new
    again = _run(capsys, ["eval", "--study", path, "--model", "control:reference",
                          "--model", "control:recall-n"])
    assert again.splitlines()[-1].startswith("0 new run(s)")


def test_study_info_runs_and_report_name_each_variant_alike(evaluated, capsys):
    _, path, _, _ = evaluated
    info = _run(capsys, ["study", "info", path])
    assert "dataset 'c14': 7 cases (1 N, 3 N-1, 3 load:0.1)" in info
    assert "dataset 'c30': 7 cases (1 N, 2 N-1, 2 cost:0.3, 2 N-1+load:0.1)" in info
    runs = json.loads(_run(capsys, ["study", "runs", path, "--json"]))["runs"]
    table = _run(capsys, ["study", "runs", path]).splitlines()
    head = table[0].split()
    assert head[:5] == ["ID", "GRID", "FAMILY", "VARIANT", "MODEL"]
    by_id = {r["id"]: r for r in runs}
    for line in table[1:]:
        cols = line.split()
        r = by_id[int(cols[0])]
        # the grid's whole name and the variant's family, as the report calls it
        assert cols[1] == r["grid"] and cols[1] in (C14, C30)
        assert cols[2] == r["split"]
    splits = {r["split"] for r in runs}
    assert splits == {"N", "N-1", "load:0.1", "N-1+load:0.1", "cost:0.3"}
    # a perturbed variant without outages is never N
    assert all(r["split"] == "N" for r in runs if r["label"] == "N")
    rep = json.loads(_run(capsys, ["report", "--study", path, "--json"]))
    assert rep["families"] == ["N", "N-1", "cost:0.3", "load:0.1", "N-1+load:0.1"]
    counts = {}
    for r in runs:
        key = (r["model"], r["split"])
        counts[key] = counts.get(key, 0) + 1
    for m in rep["models"]:
        for f, st in m["families"].items():
            assert st["runs"] == counts.get((m["model"], f), 0)


def test_memoriser_drops_from_n_on_every_family_and_the_solver_does_not(evaluated, capsys,
                                                                         tmp_path):
    _, path, _, _ = evaluated
    out = tmp_path / "rep"
    rep = json.loads(_run(capsys, ["report", "--study", path, "--out", str(out), "--no-png",
                                   "--json"]))
    by = {m["model"]: m for m in rep["models"]}
    mem, ref = by["control:recall-n"], by["control:reference"]
    assert mem["families"]["N"]["metrics"]["feasible_rate"]["value"] == 1.0
    assert mem["families"]["N"]["metrics"]["feasible_rate"]["n"] == 2  # one N per grid
    for f in ("N-1", "load:0.1", "N-1+load:0.1"):
        d = mem["drops"][f]["feasible_rate"]
        assert d["value"] > 0.5 and d["method"] == "newcombe"
        assert d["ci"][0] < d["value"] <= d["ci"][1]
        o = mem["drops"][f]["overall_satisfaction"]
        assert o["value"] > 0 and o["method"] == "paired by grid"
        assert ref["drops"][f]["feasible_rate"]["value"] == 0.0
        # every variant that can tell its N and own references apart reads "recalled"
        assert mem["families"][f]["metrics"]["recalled_n_rate"]["value"] in (None, 1.0)
    assert mem["families"]["N-1"]["metrics"]["recalled_n_rate"]["value"] == 1.0
    # a cost change keeps the N dispatch feasible: the memoriser is feasible there, not solved
    cost = mem["families"]["cost:0.3"]["metrics"]
    assert cost["feasible_rate"]["value"] == 1.0
    assert ref["families"]["cost:0.3"]["metrics"]["solved_rate"]["value"] == 1.0
    # coverage and method are in the document
    assert [d["name"] for d in rep["covers"]["datasets"]] == ["c14", "c30"]
    assert set(rep["covers"]["models"]) == {"control:noise:0.05", "control:recall-n",
                                           "control:reference"}
    assert "Student" in rep["method"]["mean"] and "Wilson" in rep["method"]["rate"]
    assert "Newcombe" in rep["method"]["drop_rate"] and rep["method"]["min_n"] == 30
    page = (out / "report.html").read_text()
    for text in ("How the numbers are made", "Student", "Newcombe", "nearest its own optimum",
                 "c14 (", "c30 (", "N-1+load:0.1", "n=3†", "class=\"small\""):
        assert text in page, text
    # "own" is read as what it is, never as solved
    assert "<td>nearest its own optimum</td>" in page and "<td>own</td>" not in page


def test_one_cell_recomputed_from_the_raw_runs(evaluated, capsys):
    """control:noise's overall satisfaction on case14's N-1 variants: mean and Student-t
    interval recomputed with scipy from `study runs --json`."""
    _, path, _, _ = evaluated
    runs = json.loads(_run(capsys, ["study", "runs", path, "--dataset", "c14",
                                    "--json"]))["runs"]
    xs = np.array([r["verdict"]["overall_satisfaction"] for r in runs
                   if r["model"] == "control:noise:0.05" and r["split"] == "N-1"])
    assert len(xs) == 3 and xs.std() > 0
    lo, hi = stats.t.interval(0.95, len(xs) - 1, loc=xs.mean(), scale=stats.sem(xs))
    rep = json.loads(_run(capsys, ["report", "--study", path, "--dataset", "c14", "--json"]))
    noise = next(m for m in rep["models"] if m["model"] == "control:noise:0.05")
    cell = noise["families"]["N-1"]["metrics"]["overall_satisfaction"]
    assert cell["n"] == 3 and cell["small"] is True
    assert cell["value"] == pytest.approx(xs.mean(), abs=1e-12)
    assert cell["ci"] == pytest.approx([max(0.0, lo), min(1.0, hi)], abs=1e-9)
    text = _run(capsys, ["report", "--study", path, "--dataset", "c14"])
    shown = f"{100 * xs.mean():.1f}% [{100 * max(0.0, lo):.0f}–{100 * min(1.0, hi):.0f}] n=3†"
    assert shown in text
    assert not math.isnan(cell["value"])
    # the text output names what it covers
    assert re.search(r"Covers datasets: c14 \(\d+ runs of 7 cases\)", text)
