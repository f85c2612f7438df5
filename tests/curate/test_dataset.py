"""Datasets: filters, seeded samples, reference labels and the JSONL round trip."""

from __future__ import annotations

import json

import pytest

from n1studio.curate.dataset import (
    build_dataset,
    dataset_records,
    export_jsonl,
    import_jsonl,
    read_jsonl,
)
from n1studio.curate.study import Study, grid_hash
from n1studio.errors import N1Error
from n1studio.grid.cases import load_case
from n1studio.grid.variant import Variant
from n1studio.solve.reference import reference


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    path = tmp_path_factory.mktemp("ds") / "s.n1study"
    net = load_case("case14")
    with Study.open(path, create=True) as st:
        ds = build_dataset(st, net, "case14", "c14", sample=3, seed=7, no_islanding=True,
                           feasible_only=True)
        recs = dataset_records(st, ds)
    return path, net, recs


def test_n_case_first_with_its_reference(built):
    _, net, recs = built
    assert recs[0]["split"] == "N" and recs[0]["outages"] == []
    ref = reference(Variant(net), "ac")
    assert recs[0]["objective"] == pytest.approx(ref.objective)
    assert recs[0]["reference"]["generators"] == ref.answer["generators"]
    assert recs[0]["grid"] == {"name": "case14", "source": "case14", "sha256": grid_hash(net)}
    # case14's published optimum (pandapower case14 = MATPOWER case14)
    assert recs[0]["objective"] == pytest.approx(8081.5, rel=1e-3)


def test_sample_is_seeded_filtered_and_labelled(built, tmp_path):
    _, net, recs = built
    n1 = [r for r in recs if r["split"] == "N-1"]
    assert len(n1) == 3
    for r in n1:
        v = Variant(net, r["outages"])
        assert not v.islands.islanded  # --no-islanding
        assert r["status"] in ("optimal", "acceptable") and r["reference"] is not None
        assert r["prompt"].count(r["outages"][0]) >= 1  # the prompt names the outage
    # same seed, same set; another seed, another set (case14 has 20 branches)
    with Study.open(tmp_path / "again.n1study", create=True) as st:
        again = dataset_records(st, build_dataset(st, net, "case14", "x", sample=3, seed=7,
                                                  no_islanding=True, feasible_only=True))
    assert [r["outages"] for r in again] == [r["outages"] for r in recs]


def test_trafo3_islands_case14_and_is_left_out(tmp_path):
    # trafo:3 is the only link of bus 7 (a condenser, no load): its outage islands the grid
    net = load_case("case14")
    assert Variant(net, ["trafo:3"]).islands.islanded
    every = [f"line:{i}" for i in net.line.index] + [f"trafo:{i}" for i in net.trafo.index]
    with Study.open(tmp_path / "isl.n1study", create=True) as st:
        kept = dataset_records(st, build_dataset(st, net, "case14", "no-isl", no_islanding=True))
        spec = st.dataset_spec(st.dataset_id("no-isl"))
        alls = dataset_records(st, build_dataset(st, net, "case14", "all"))
    n1 = [r["outages"] for r in kept if r["split"] == "N-1"]
    # every single branch outage but trafo:3, each once, in a dataset that says it filtered
    assert sorted(o for (o,) in n1) == sorted(set(every) - {"trafo:3"}) and len(n1) == 19
    assert spec["no_islanding"] is True
    # without the filter the same build keeps it
    assert ["trafo:3"] in [r["outages"] for r in alls if r["split"] == "N-1"]


def test_export_import_round_trip(built, tmp_path):
    path, _, recs = built
    out1, out2 = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    with Study.open(path) as st:
        assert export_jsonl(st, st.dataset_id("c14"), out1) == 4
    with Study.open(tmp_path / "other.n1study", create=True) as st2:
        ds = import_jsonl(st2, out1)
        assert st2.dataset_name(ds) == "c14"
        assert dataset_records(st2, ds) == recs
        export_jsonl(st2, ds, out2)
    assert out1.read_bytes() == out2.read_bytes()
    lines = out1.read_text().splitlines()
    assert [json.loads(x) for x in lines] == recs
    assert all(json.loads(x)["schema"] == "n1studio.case/1" for x in lines)


def test_bad_jsonl_is_a_clear_error(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"schema": "n1studio.case/1", "dataset": "x"}\nnot json\n')
    with pytest.raises(N1Error, match="bad.jsonl:1: the record has no 'split'"):
        read_jsonl(p)
    p.write_text("hello\n")
    with pytest.raises(N1Error, match="bad.jsonl:1: not JSON"):
        read_jsonl(p)


def test_dataset_from_a_sweep(tmp_path):
    from n1studio.solve.sweep import run_sweep

    net = load_case("case14")
    sweep = run_sweep(net)
    with Study.open(tmp_path / "s.n1study", create=True) as st:
        ds = build_dataset(st, net, "case14", "from-sweep", sweep=sweep, statuses=("islanded",),
                           include_n=False)
        recs = dataset_records(st, ds)
    assert [r["outages"] for r in recs] == [["trafo:3"]]
