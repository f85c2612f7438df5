"""Reference solves on several processes or on Ray give the serial dataset and sweep.

PGLib case30 (bundled in resources/pglib) with a few N-1 variants: serial, `--workers 2`
(spawned processes, the grid loaded once per worker) and `--ray local` build the same
variants, in the same order, with the same references (objectives equal to 1e-6 relative)
and the same prompts; `sweep --opf` likewise.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from n1studio.curate.dataset import build_dataset
from n1studio.curate.study import Study
from n1studio.errors import N1Error
from n1studio.grid.cases import load_case
from n1studio.solve.parallel import ReferencePool, default_workers, ray_available
from n1studio.solve.sweep import run_sweep

REPO = Path(__file__).resolve().parents[2]
CASE30 = str(REPO / "resources" / "pglib" / "pglib_opf_case30_ieee.m")


def _dataset(tmp_path: Path, tag: str, **kw) -> list[tuple]:
    path = tmp_path / f"{tag}.n1study"
    with Study.open(path, create=True) as st:
        ds = build_dataset(st, load_case(CASE30), CASE30, "c30", sample=5, seed=2,
                           families=["n-1"], **kw)
        out = []
        for it in st.dataset_items(ds):
            sol = st.solution(it["variant_id"])
            out.append((tuple(it["outages"]), it["split"], it["position"], it["prompt"],
                        sol["status"], sol["success"], sol["objective"]))
    return out


def _same(a: list[tuple], b: list[tuple]) -> None:
    assert [x[:6] for x in a] == [x[:6] for x in b]  # variants, order, prompts, statuses
    for x, y in zip(a, b, strict=True):
        if x[6] is None or y[6] is None:
            assert x[6] is y[6] is None
        else:
            assert y[6] == pytest.approx(x[6], rel=1e-6)


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    return _dataset(tmp_path_factory.mktemp("serial"), "serial", workers=1)


def test_the_serial_dataset_has_the_variants_asked_for(serial):
    assert [x[1] for x in serial] == ["N"] + ["N-1"] * 5
    assert serial[0][5] and serial[0][6] == pytest.approx(8208.5, rel=1e-3)  # PGLib's 8.2085e3


def test_two_worker_processes_build_the_serial_dataset(serial, tmp_path):
    _same(serial, _dataset(tmp_path, "workers", workers=2))


def test_two_processes_keep_the_order_of_a_filtered_build(tmp_path):
    """With feasible_only, infeasible outages are dropped in draw order: a batch solved in
    parallel must not change which ones are kept."""
    a = _dataset(tmp_path, "a", workers=1, feasible_only=True, no_islanding=True)
    b = _dataset(tmp_path, "b", workers=2, feasible_only=True, no_islanding=True)
    _same(a, b)
    assert all(x[5] for x in a)


@pytest.mark.skipif(not ray_available(), reason="the ray extra is not installed")
def test_ray_local_builds_the_serial_dataset(serial, tmp_path):
    _same(serial, _dataset(tmp_path, "ray", workers=2, ray="local"))


def test_sweep_opf_with_two_workers_matches_serial():
    net = load_case(CASE30)
    one = run_sweep(net, "trafo", opf=True, workers=1)
    two = run_sweep(load_case(CASE30), "trafo", opf=True, workers=2)
    assert [r["element"] for r in one["results"]] == [r["element"] for r in two["results"]]
    assert len(one["results"]) >= 4
    for a, b in zip(one["results"], two["results"], strict=True):
        assert (a["opf"]["feasible"], a["opf"]["status"]) == \
            (b["opf"]["feasible"], b["opf"]["status"])
        if a["opf"]["objective"] is not None:
            assert b["opf"]["objective"] == pytest.approx(a["opf"]["objective"], rel=1e-6)


def test_bad_worker_counts_and_ray_addresses_are_one_line():
    assert default_workers() >= 1
    with pytest.raises(N1Error, match="at least 1"):
        ReferencePool(None, workers=0)
    out = subprocess.run([sys.executable, "-m", "n1studio.cli", "sweep", CASE30, "--opf",
                          "--workers", "0"], capture_output=True, text=True, timeout=300,
                         check=False)
    assert out.returncode == 2 and "--workers must be at least 1" in out.stderr
    assert "Traceback" not in out.stderr
