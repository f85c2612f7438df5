"""The likelihood probe in the report, read back from what a user sees: a study of PGLib
case14 (N and N-1) answered by the ideal solver, whose runs are stored again for a base
model and the base + a memoriser adapter with known ΔLL values (the run's stats, as `eval
--likelihood` keeps them), then `report --json`, report.html and the text report."""

from __future__ import annotations

import contextlib
import html
import io
import json
import time

import numpy as np
import pytest
from scipy import stats

from n1studio.cli import main
from n1studio.curate.dataset import build_dataset
from n1studio.curate.evaluate import run_eval
from n1studio.curate.report import build_report, report_text
from n1studio.curate.stats import auroc
from n1studio.curate.study import Study
from n1studio.grid.cases import load_case

C14 = "pglib_opf_case14_ieee"
LABEL = "ΔLL (nats/token, median)"
# ΔLL per N-1 run (nats/token): the memoriser prefers the N answer, with overlap and ties
BASE = [-0.41, -0.12, 0.05, -0.30, 0.22, -0.12, -0.05, 0.10, -0.25, 0.05]
MEMO = [0.35, 0.05, 0.61, 0.18, -0.12, 0.44, 0.27, 0.05, 0.90, 0.12]
N_BASE, N_MEMO = -0.02, 0.95


def _run(capsys, argv: list[str]) -> str:
    assert main(argv) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def _lk(d: float) -> dict:
    return {"likelihood": {"ll_n": -1.0 + d, "ll_own": -1.0, "delta_ll": d,
                           "n_tokens_n": 120, "n_tokens_own": 121}}


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lk")
    path = tmp / "s.n1study"
    base = tmp / "base.gguf"
    base.write_bytes(b"GGUF base model stand-in")
    adapter = tmp / "memo.gguf"
    adapter.write_bytes(b"GGUF adapter stand-in")
    with Study.open(path, create=True) as st:
        ds = build_dataset(st, load_case(C14), C14, "c14", sample=len(BASE), seed=3,
                           feasible_only=True)
        run_eval(st, ds, ["control:reference"])
        mb = st.add_model(base)
        mm = st.add_adapted_model(base, adapter, "ab" * 32, 1.0)
        runs = st.runs(ds)
        n1 = [r for r in runs if r["split"] == "N-1"]
        assert len(n1) == len(BASE) and sum(r["split"] == "N" for r in runs) == 1
        values = {mb: iter(BASE), mm: iter(MEMO)}
        now = time.time()
        for r in runs:
            for mid, n_value in ((mb, N_BASE), (mm, N_MEMO)):
                d = n_value if r["split"] == "N" else next(values[mid])
                st.add_run(r["variant_id"], mid, r["settings"], r["prompt"], r["raw"],
                           r["answer"], r["verdict"], {**(r["stats"] or {}), **_lk(d)},
                           now, now)
    return tmp, str(path)


@pytest.fixture(scope="module")
def report(study):
    """`report --json --out DIR`: what it prints, report.json and report.html."""
    tmp, path = study
    out = tmp / "out"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["report", "--study", path, "--out", str(out), "--no-png", "--json"]) == 0
    return json.loads(buf.getvalue()), json.loads((out / "report.json").read_text()), \
        (out / "report.html").read_text(encoding="utf-8")


def _delong(x, y) -> tuple[float, float]:
    """AUROC and DeLong's standard error by midranks (Sun & Xu 2014), independently."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    m, n = len(x), len(y)
    r = stats.rankdata(np.concatenate([x, y]))
    v10 = (r[:m] - stats.rankdata(x)) / n
    v01 = 1 - (r[m:] - stats.rankdata(y)) / m
    a = v10.mean()
    return a, float(np.sqrt(v10.var(ddof=1) / m + v01.var(ddof=1) / n))


def test_median_delta_ll_per_family_with_interval_and_n(report):
    printed, rep, page = report
    assert {k: v for k, v in printed.items() if k != "files"} == rep
    by = {m["model"]: m for m in rep["models"]}
    base, memo = by["base.gguf"], by["base.gguf + memo.gguf"]
    for m, xs, n_value in ((base, BASE, N_BASE), (memo, MEMO, N_MEMO)):
        c = m["families"]["N-1"]["metrics"]["delta_ll_median"]
        assert c["value"] == pytest.approx(float(np.median(xs)))
        assert c["n"] == len(xs) and c["small"] is True
        lo, hi = c["ci"]
        assert lo in xs and hi in xs and lo <= np.median(xs) <= hi
        assert min(xs) < lo and hi < max(xs)  # order statistics inside the range (n = 10)
        nc = m["families"]["N"]["metrics"]["delta_ll_median"]
        assert nc["value"] == pytest.approx(n_value) and nc["n"] == 1
        # the row in the model's HTML table: value, interval, n
        shown = f"{c['value']:+.3f} [{lo:+.3f}, {hi:+.3f}] n={len(xs)}†"
        assert shown in page
    # absent where no run has it: the control's table has no ΔLL row and no cell
    ref = by["control:reference"]
    assert "delta_ll_median" not in ref["families"]["N-1"]["metrics"]
    tables = html.unescape(page).split("<h2")
    ref_table = next(t for t in tables if ">control:reference</h2>" in t)
    base_table = next(t for t in tables if ">base.gguf</h2>" in t)
    assert LABEL not in ref_table and LABEL in base_table


def test_auroc_of_delta_ll_between_the_two_models(report, study, capsys):
    _, rep, page = report
    # controls are not compared; one pair of models on each family
    pairs = {(r["family"], r["a"], r["b"]): r for r in rep["auroc"]}
    assert set(pairs) == {("N", "base.gguf", "base.gguf + memo.gguf"),
                          ("N-1", "base.gguf", "base.gguf + memo.gguf")}
    r = pairs[("N-1", "base.gguf", "base.gguf + memo.gguf")]
    u = stats.mannwhitneyu(BASE, MEMO).statistic
    assert r["value"] == pytest.approx(u / (len(BASE) * len(MEMO)))
    assert r["n_a"] == len(BASE) and r["n_b"] == len(MEMO) and r["method"] == "delong"
    a, se = _delong(BASE, MEMO)
    assert a == pytest.approx(r["value"])
    assert r["ci"] == pytest.approx([max(0.0, a - 1.959964 * se), min(1.0, a + 1.959964 * se)],
                                    abs=1e-6)
    assert r["ci"][1] < 0.5  # the memoriser's ΔLL is above the base model's, clearly
    n = pairs[("N", "base.gguf", "base.gguf + memo.gguf")]
    assert n["value"] == 0.0 and n["ci"] is None and (n["n_a"], n["n_b"]) == (1, 1)
    # the HTML table and the method text say it
    text = html.unescape(page)
    lo, hi = r["ci"]
    assert f"{r['value']:.3f} [{lo:.3f}, {hi:.3f}] n=10/10†" in text
    assert "AUROC of ΔLL between models" in text and "DeLong" in text
    assert "Mann-Whitney" in rep["method"]["auroc"] and "DeLong" in rep["method"]["auroc"]
    # and the command's text output
    _, path = study
    out = _run(capsys, ["report", "--study", path])
    assert f"N-1: base.gguf vs base.gguf + memo.gguf: {r['value']:.3f}" in out
    assert LABEL in out


def test_no_likelihood_no_row_and_no_auroc(tmp_path):
    with Study.open(tmp_path / "c.n1study", create=True) as st:
        ds = build_dataset(st, load_case(C14), C14, "c14", sample=2, seed=2, feasible_only=True)
        run_eval(st, ds, ["control:reference"])
        rep = build_report(st, ds)
    assert rep["auroc"] == []
    assert all("delta_ll_median" not in f["metrics"] for m in rep["models"]
               for f in m["families"].values())
    assert LABEL not in report_text(rep) and "AUROC" not in report_text(rep)


def test_auroc_edges_match_mann_whitney():
    # complete separation: 1 with a degenerate interval; all ties: one half; a side empty
    assert auroc([2, 3, 4], [0, 1]) == (1.0, [1.0, 1.0])
    value, ci = auroc([1.0, 1.0], [1.0, 1.0, 1.0])
    assert value == 0.5 and ci == [0.5, 0.5]
    assert auroc([], [1.0]) == (None, None) and auroc([1.0], [0.0]) == (1.0, None)
    rng = np.random.default_rng(7)
    x, y = rng.normal(0.2, 1, 40).round(1), rng.normal(0, 1, 35).round(1)
    value, ci = auroc(x.tolist(), y.tolist())
    assert value == pytest.approx(stats.mannwhitneyu(x, y).statistic / (40 * 35))
    a, se = _delong(x, y)
    assert ci == pytest.approx([a - 1.959964 * se, a + 1.959964 * se], abs=1e-6)
