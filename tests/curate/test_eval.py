"""A real evaluation with the default model: killed mid-way, resumed, then reported.

Small on purpose (case14's N case and 2 N-1 variants, constrained answers): each answer
takes ~15 s on two CPU cores.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from n1studio.curate.dataset import build_dataset
from n1studio.curate.evaluate import run_eval
from n1studio.curate.report import build_report, write_report
from n1studio.curate.study import Study, model_sha256
from n1studio.schema import CONSTRAINT_KINDS

pytestmark = pytest.mark.slow


def _runs(path: Path) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT id, variant_id, model_id, finished_at FROM runs "
                            "ORDER BY id").fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    from n1studio.grid.cases import load_case
    from n1studio.llm.runtime import default_model_path

    path = tmp_path_factory.mktemp("eval") / "study.n1study"
    with Study.open(path, create=True) as st:
        ds = build_dataset(st, load_case("case14"), "case14", "c14", sample=2, seed=3,
                           no_islanding=True, feasible_only=True)
        assert len(st.dataset_items(ds)) == 3
    # evaluate in a separate process and kill it (and its model worker) hard as soon as
    # the first run is committed
    proc = subprocess.Popen([sys.executable, "-m", "n1studio.cli", "eval", "--study", str(path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 1500
        while not _runs(path):
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "no run committed in time"
            time.sleep(0.5)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    after_kill = _runs(path)
    with Study.open(path) as st:
        summary = run_eval(st, st.dataset_id("c14"), [None])
    return path, after_kill, summary, default_model_path()


def test_killed_evaluation_keeps_finished_runs_and_resumes(evaluated):
    path, after_kill, summary, _ = evaluated
    assert 1 <= len(after_kill) < 3
    final = _runs(path)
    assert len(final) == 3
    assert final[: len(after_kill)] == after_kill  # the committed runs are untouched
    assert len({r[1] for r in final}) == 3  # one run per case, none twice
    assert summary.skipped == len(after_kill) and summary.done == 3 - len(after_kill)
    # running again does nothing: everything is in the study
    with Study.open(path) as st:
        again = run_eval(st, st.dataset_id("c14"), [None])
    assert again.done == 0 and again.skipped == 3


def test_runs_are_labelled_and_prefix_cache_is_reused(evaluated):
    path, _, _, model = evaluated
    with Study.open(path) as st:
        runs = st.runs(st.dataset_id("c14"))
        models = st.models()
    assert len(models) == 1
    assert models[0]["file_name"] == model.name
    assert models[0]["sha256"] == model_sha256(model)
    for r in runs:
        assert r["model"] == model.name and r["prompt"] and r["raw"]
        assert r["verdict"]["schema"] == "n1studio.verdict/1"
        assert r["settings"]["mode"] == "constrained"
    # the resumed part asked the same grid in sequence through one worker: the later
    # prompts found the shared grid description in the cache
    resumed = [r for r in runs if r["split"] == "N-1"]
    assert any((r["stats"] or {}).get("cached_tokens", 0) > 0 for r in resumed)


def test_report_numbers_come_from_the_verdicts(evaluated, tmp_path):
    path, _, _, model = evaluated
    with Study.open(path) as st:
        runs = st.runs(st.dataset_id("c14"))
        report = build_report(st, st.dataset_id("c14"))
    (row,) = report["models"]
    assert row["model"] == model.name
    n = [r["verdict"] for r in runs if r["split"] == "N"]
    n1 = [r["verdict"] for r in runs if r["split"] == "N-1"]
    fam = {f: st["metrics"] for f, st in row["families"].items()}
    assert row["families"]["N"]["runs"] == 1 and row["families"]["N-1"]["runs"] == 2
    for k in CONSTRAINT_KINDS:
        sn = n[0]["satisfaction"][k]
        sn1 = sum(v["satisfaction"][k] for v in n1) / 2
        assert fam["N"][f"satisfaction:{k}"]["value"] == pytest.approx(sn)
        assert fam["N-1"][f"satisfaction:{k}"]["value"] == pytest.approx(sn1)
        assert fam["N-1"][f"satisfaction:{k}"]["n"] == 2
        assert row["drops"]["N-1"][f"satisfaction:{k}"]["value"] == pytest.approx(sn - sn1)
    assert fam["N-1"]["feasible_rate"]["value"] == pytest.approx(
        sum(bool(v["feasible"]) for v in n1) / 2)
    telling = [v["recall"]["verdict"] for v in n1 if v["recall"]["can_tell"]]
    assert fam["N-1"]["recalled_n_rate"]["n"] == len(telling)
    if telling:
        assert fam["N-1"]["recalled_n_rate"]["value"] == pytest.approx(
            telling.count("recalled") / len(telling))
    from n1studio.app.curate.report import svg_to_png

    files = write_report(report, tmp_path / "rep", png_writer=svg_to_png)
    png = files["png"].read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    page = files["html"].read_text()
    assert row["sha256"] in page and "power_balance" in page
