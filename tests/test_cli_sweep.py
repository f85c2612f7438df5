"""`n1studio sweep` as users call it."""

from __future__ import annotations

import json

from n1studio.cli import main
from n1studio.curate.dataset import dataset_records
from n1studio.curate.study import Study


def test_sweep_json_one_result_per_element(capsys):
    assert main(["sweep", "case14", "--kinds", "line,trafo,gen", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)  # exactly one JSON document
    assert doc["schema"] == "n1studio.sweep/1" and doc["case"] == "case14"
    names = [r["element"] for r in doc["results"]]
    assert names == [f"line:{i}" for i in range(15)] + [f"trafo:{i}" for i in range(5)] + \
        [f"gen:{i}" for i in range(4)]
    by = {r["element"]: r for r in doc["results"]}
    # trafo:3 splits off bus 7, whose synchronous condenser has no load to serve there: an
    # operator trips it with the outage, so bus 7 is cut off (the same answer as
    # `solve --out trafo:3`'s islands and the drawing; issues 9 and 17)
    assert by["trafo:3"]["status"] == "islanded" and by["trafo:3"]["islanded_buses"] == ["bus:7"]
    assert by["trafo:3"]["n_islands"] == 2 and by["trafo:3"]["tripped"] == ["gen:3"]
    assert doc["operating_point"]["at"] == "reference"
    for r in doc["results"]:
        assert set(r) >= {"element", "status", "islanded_buses", "violations"}
        for v in r["violations"]:
            assert set(v) >= {"constraint", "element", "value", "limit"}
    assert doc["stats"]["counts"]["islanded"] == 1


def test_sweep_table_is_ranked(capsys):
    assert main(["sweep", "case118", "--top", "5"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "186 outages" in out[0] and "9 islanded" in out[0]
    rows = [line.split() for line in out if line[:4].strip().isdigit()]
    assert [r[2] for r in rows] == ["islanded"] * 5
    assert "more" in out[-1]


def test_sweep_save_feeds_dataset_build(tmp_path, capsys):
    sweep, study = tmp_path / "s.json", tmp_path / "s.n1study"
    assert main(["sweep", "case14", "--save", str(sweep), "--top", "1"]) == 0
    doc = json.loads(sweep.read_text())
    assert doc["schema"] == "n1studio.sweep/1"
    wanted = [r["element"] for r in doc["results"] if r["status"] in ("ok", "violations")]
    assert len(wanted) == 19 and "trafo:3" not in wanted  # islanded: not a default candidate
    assert main(["dataset", "build", "case14", "--study", str(study), "--sweep", str(sweep),
                 "--name", "from-sweep", "--workers", "1"]) == 0
    capsys.readouterr()
    with Study.open(study) as st:
        recs = dataset_records(st, st.dataset_id("from-sweep"))
        assert st.dataset_spec(st.dataset_id("from-sweep"))["from_sweep"] is True
    # the N case, then exactly the sweep's ok and violation outages, each with its reference
    assert recs[0]["split"] == "N" and recs[0]["outages"] == []
    n1 = [r for r in recs if r["split"] == "N-1"]
    assert [r["outages"] for r in n1] == [[el] for el in wanted]
    assert all(r["objective"] is not None and r["reference"] for r in n1)


def test_sweep_bad_input(capsys):
    assert main(["sweep", "case14", "--kinds", "wires"]) == 2
    err = capsys.readouterr().err
    assert "unknown outage kind 'wires'" in err and "Traceback" not in err
    assert main(["sweep", "nosuchcase"]) == 2
    assert "unknown case" in capsys.readouterr().err


def test_sweep_opf_says_which_variants_are_feasible(capsys):
    import pytest

    from n1studio.grid.cases import load_case
    from n1studio.grid.variant import Variant
    from n1studio.solve.reference import reference

    assert main(["sweep", "case9", "--opf", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["stats"]["opf_feasible"] == sum(r["opf"]["feasible"] for r in doc["results"])
    net = load_case("case9")
    for r in doc["results"]:
        if r["status"] == "ok":
            ref = reference(Variant(net, [r["element"]]), "ac")
            assert r["opf"]["feasible"] is True
            assert r["opf"]["objective"] == pytest.approx(ref.objective, rel=1e-6)


def test_sweep_of_buses_and_the_slack(capsys):
    assert main(["sweep", "case14", "--kinds", "bus,ext_grid", "--json"]) == 0
    by = {r["element"]: r for r in json.loads(capsys.readouterr().out)["results"]}
    # the only slack (ext_grid:0 at bus 0) gone: no power flow can be solved, and it says why
    for el in ("ext_grid:0", "bus:0"):
        assert by[el]["status"] == "diverged" and "slack" in by[el]["reason"]
    # bus 6 joins bus 7 (a synchronous condenser, no load) to the grid: taking it out splits
    # bus 7 off on its own; with nothing to serve there its condenser trips, so bus 7 is cut off
    assert by["bus:6"]["status"] == "islanded" and by["bus:6"]["islanded_buses"] == ["bus:7"]
    assert by["bus:6"]["n_islands"] == 2 and by["bus:6"]["tripped"] == ["gen:3"]
