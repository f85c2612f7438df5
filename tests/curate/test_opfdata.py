"""OPFData in and out: an example written here from the PGLib .m file by this test's own
reader of the documented layout imports and checks feasible; export -> import round trips."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from n1studio.curate.dataset import build_dataset
from n1studio.curate.opfdata import SOLUTION_MODEL, export_opfdata, import_opfdata
from n1studio.curate.study import Study
from n1studio.grid.cases import load_case, pglib_cases
from n1studio.grid.variant import Variant, base_model
from n1studio.pipeline import reference

ARRAYS = ("vmin", "vmax", "pd", "qd", "gs", "bs", "is_ref", "bus_on", "f", "t", "yff", "yft",
          "ytf", "ytt", "rate", "angmin", "angmax", "branch_on", "gen_bus", "pmin", "pmax",
          "qmin", "qmax", "c2", "c1", "c0", "gen_on", "load_p", "load_q", "load_on")


def _matrix(text: str, name: str) -> np.ndarray:
    body = re.search(rf"mpc\.{name}\s*=\s*\[(.*?)\];", text, re.DOTALL).group(1)
    rows = [r.split("%")[0].strip().rstrip(";").split() for r in body.splitlines()]
    return np.array([[float(x) for x in r] for r in rows if r])


def independent_example(case: str) -> dict:
    """An OPFData example of a PGLib case written straight from its .m file in the
    documented layout (per unit, radians, per-unit costs), with our solver's solution."""
    text = Path(pglib_cases()[case]).read_text()
    base = float(re.search(r"mpc\.baseMVA\s*=\s*([\d.]+)", text).group(1))
    bus, gen = _matrix(text, "bus"), _matrix(text, "gen")
    branch, cost = _matrix(text, "branch"), _matrix(text, "gencost")
    row = {int(b): k for k, b in enumerate(bus[:, 0])}
    loads = [(row[int(b[0])], [b[2] / base, b[3] / base]) for b in bus if b[2] or b[3]]
    shunts = [(row[int(b[0])], [b[5] / base, b[4] / base]) for b in bus if b[4] or b[5]]
    gens = [[g[6], g[1] / base, g[9] / base, g[8] / base, g[2] / base, g[4] / base,
             g[3] / base, g[5], c[4] * base ** 2, c[5] * base, c[6]]
            for g, c in zip(gen, cost, strict=True)]
    lines = {"senders": [], "receivers": [], "features": []}
    trafos = {"senders": [], "receivers": [], "features": []}
    for br in branch:
        f, t, r, x, b, ra, rb, rc, tap, shift = br[:10]
        a0, a1 = math.radians(br[11]), math.radians(br[12])
        if tap == 0 and shift == 0:
            d, feats = lines, [a0, a1, b / 2, b / 2, r, x, ra / base, rb / base, rc / base]
        else:
            d, feats = trafos, [a0, a1, r, x, ra / base, rb / base, rc / base, tap or 1.0,
                                math.radians(shift), b / 2, b / 2]
        d["senders"].append(row[int(f)])
        d["receivers"].append(row[int(t)])
        d["features"].append(feats)
    grid = {"nodes": {"bus": [[b[9], b[1], b[12], b[11]] for b in bus], "generator": gens,
                      "load": [ld for _, ld in loads], "shunt": [s for _, s in shunts]},
            "edges": {"ac_line": lines, "transformer": trafos,
                      "generator_link": {"senders": list(range(len(gen))),
                                         "receivers": [row[int(g[0])] for g in gen]},
                      "load_link": {"senders": list(range(len(loads))),
                                    "receivers": [b for b, _ in loads]},
                      "shunt_link": {"senders": list(range(len(shunts))),
                                     "receivers": [b for b, _ in shunts]}},
            "context": [[base]]}
    # the solution: our reference AC OPF of the same case, put on the .m file's rows
    net = load_case(case)
    ref = reference(Variant(net))
    assert ref.success
    ans = ref.answer
    by_bus = {int(net[t].at[int(i), "bus"]): g for g in ans["generators"]
              for t, i in [g["element"].split(":")]}
    volts = {int(b["element"].split(":")[1]): b for b in ans["buses"]}
    sol_bus = [[math.radians(volts[int(b[0])]["va_degree"]), volts[int(b[0])]["vm_pu"]]
               for b in bus]
    sol_gen = [[by_bus[int(g[0])]["p_mw"] / base, by_bus[int(g[0])]["q_mvar"] / base]
               for g in gen]
    return {"grid": grid, "solution": {"nodes": {"bus": sol_bus, "generator": sol_gen}},
            "metadata": {"objective": float(ref.objective)}}


@pytest.mark.parametrize("case", ["pglib_opf_case14_ieee", "pglib_opf_case30_ieee"])
def test_independent_example_imports_and_checks_feasible(tmp_path, case):
    doc = independent_example(case)
    d = tmp_path / "pglib" / "group_0"
    d.mkdir(parents=True)
    (d / "example_0.json").write_text(json.dumps(doc))
    with Study.open(tmp_path / "s.n1s", create=True) as st:
        ds = import_opfdata(st, tmp_path / "pglib")
        items = st.dataset_items(ds)
        assert [it["split"] for it in items] == ["N"]
        runs = st.runs(ds)
        assert len(runs) == 1 and runs[0]["model"] == SOLUTION_MODEL
        v = runs[0]["verdict"]
        assert v["feasible"], v["violations"][:3]
        assert v["overall_satisfaction"] == 1.0
        net = st.load_net(items[0]["grid_id"])
    # the imported grid is the PGLib case: same numbers, and our reference reaches the
    # example's objective
    ours = base_model(load_case(case))
    theirs = base_model(net)
    for a in ("vmin", "vmax", "pd", "qd", "gs", "bs", "f", "t", "yff", "yft", "ytf", "ytt",
              "pmin", "pmax", "qmin", "qmax", "c2", "c1", "c0"):
        np.testing.assert_allclose(getattr(theirs, a), getattr(ours, a), rtol=1e-9, atol=1e-9,
                                   err_msg=a)
    obj = reference(Variant(net)).objective
    assert abs(obj - doc["metadata"]["objective"]) <= 1e-4 * abs(doc["metadata"]["objective"])


def _pyg_read(path: Path) -> dict:
    """What torch_geometric.datasets.OPFDataset.process reads from one file, as arrays."""
    obj = json.loads(path.read_text())
    grid, solution, metadata = obj["grid"], obj["solution"], obj["metadata"]
    out = {"x": np.asarray(grid["context"], dtype=float).reshape(-1),
           "objective": float(metadata["objective"]),
           "index": int(path.name.split(".")[0].split("_")[1])}
    for n in ("bus", "generator", "load", "shunt"):
        out[n] = np.asarray(grid["nodes"][n], dtype=float)
    for n in ("bus", "generator"):
        out[n + "_y"] = np.asarray(solution["nodes"][n], dtype=float)
    for e in ("ac_line", "transformer"):
        out[e] = np.asarray([grid["edges"][e]["senders"], grid["edges"][e]["receivers"]])
        out[e + "_attr"] = np.asarray(grid["edges"][e]["features"], dtype=float)
        out[e + "_label"] = np.asarray(solution["edges"][e]["features"], dtype=float)
    for e in ("generator_link", "load_link", "shunt_link"):
        out[e] = np.asarray([grid["edges"][e]["senders"], grid["edges"][e]["receivers"]])
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rt")
    st = Study.open(tmp / "a.n1s", create=True)
    net = load_case("pglib_opf_case14_ieee")
    ds = build_dataset(st, net, "pglib_opf_case14_ieee", kinds=("line", "trafo"), sample=2,
                       seed=3, no_islanding=True)
    n = export_opfdata(st, ds, tmp / "out")
    yield tmp, st, ds, n
    st.close()


def test_export_is_the_layout_pyg_reads_and_n1_drops_the_row(built):
    tmp, st, ds, n = built
    files = sorted((tmp / "out").glob("group_*/example_*.json"))
    assert len(files) == n == 3
    rows = [_pyg_read(f) for f in files]
    items = st.dataset_items(ds)
    m = base_model(st.load_net(items[0]["grid_id"]))
    for r, it in zip(rows, items, strict=True):
        assert r["x"].tolist() == [m.base_mva]
        assert r["bus"].shape == (len(m.bus_names), 4) and r["bus_y"].shape == (14, 2)
        assert r["generator"].shape == (5, 11) and r["generator_y"].shape == (5, 2)
        assert r["ac_line_attr"].shape[1] == 9 and r["transformer_attr"].shape[1] == 11
        assert r["ac_line_label"].shape[1] == 4
        branches = r["ac_line"].shape[1] + r["transformer"].shape[1]
        assert branches == len(m.branch_names) - len(it["outages"])
        assert r["objective"] == pytest.approx(st.solution(it["variant_id"])["objective"])
    # the flows written for the N case agree with the reference's voltages: at the slack
    # generator's bus the injected P equals the generator's output less the load
    assert rows[0]["ac_line_label"].shape[0] == 17


def test_round_trip_same_grids_references_objectives(built, tmp_path):
    tmp, st, ds, _ = built
    with Study.open(tmp_path / "b.n1s", create=True) as b:
        ds_b = import_opfdata(b, tmp / "out", check=False)
        a_items, b_items = st.dataset_items(ds), b.dataset_items(ds_b)
        assert [i["outages"] for i in b_items] == [i["outages"] for i in a_items]
        assert [i["split"] for i in b_items] == [i["split"] for i in a_items]
        assert len(b.grids()) == 1
        net_a, net_b = st.load_net(a_items[0]["grid_id"]), b.load_net(b_items[0]["grid_id"])
        for ia, ib in zip(a_items, b_items, strict=True):
            ma = Variant(net_a, ia["outages"]).model
            mb = Variant(net_b, ib["outages"]).model
            for attr in ARRAYS:
                np.testing.assert_allclose(getattr(mb, attr), getattr(ma, attr), rtol=1e-9,
                                           atol=1e-9, err_msg=attr)
            assert mb.branch_names == ma.branch_names and mb.gen_names == ma.gen_names
            sa, sb = st.solution(ia["variant_id"]), b.solution(ib["variant_id"])
            assert sb["objective"] == pytest.approx(sa["objective"], rel=1e-12)
            ga = {g["element"]: g for g in sa["answer"]["generators"]}
            for g in sb["answer"]["generators"]:
                assert g["p_mw"] == pytest.approx(ga[g["element"]]["p_mw"], abs=1e-9)
                assert g["q_mvar"] == pytest.approx(ga[g["element"]]["q_mvar"], abs=1e-9)
            va = {x["element"]: x for x in sa["answer"]["buses"]}
            for x in sb["answer"]["buses"]:
                assert x["vm_pu"] == pytest.approx(va[x["element"]]["vm_pu"], abs=1e-9)
                assert x["va_degree"] == pytest.approx(va[x["element"]]["va_degree"], abs=1e-9)


def test_import_into_the_same_study_finds_the_grid_and_its_variants(built):
    tmp, st, ds, _ = built
    grids = len(st.grids())
    ds2 = import_opfdata(st, tmp / "out", name="back", check=False)
    assert len(st.grids()) == grids  # the N-1 examples are variants of the known grid
    assert [i["variant_id"] for i in st.dataset_items(ds2)] == [
        i["variant_id"] for i in st.dataset_items(ds)]


def test_load_case_opens_an_example(built):
    tmp, st, ds, _ = built
    f = next((tmp / "out").glob("group_0/example_0.json"))
    net = load_case(f)
    ref = base_model(st.load_net(st.dataset_items(ds)[0]["grid_id"]))
    np.testing.assert_allclose(base_model(net).yff, ref.yff, rtol=1e-9, atol=1e-9)


def test_a_broken_example_is_one_line(tmp_path, capsys):
    from n1studio.cli import main

    bad = tmp_path / "example_0.json"
    doc = independent_example("pglib_opf_case14_ieee")
    doc["grid"]["nodes"]["bus"][2] = [1.0, 1.0]  # a bus row with two numbers
    bad.write_text(json.dumps(doc))
    rc = main(["dataset", "import", str(bad), "--format", "opfdata", "--study",
               str(tmp_path / "s.n1s")])
    err = capsys.readouterr().err
    assert rc == 2
    assert "example_0.json: grid.nodes.bus is not a table of numbers" in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


BUNDLED = sorted(p.stem for p in (Path(__file__).resolve().parents[2] / "resources" / "pglib")
                 .glob("pglib_opf_*.m"))


@pytest.mark.parametrize("case", BUNDLED)
def test_every_bundled_case_round_trips_through_opfdata(case, tmp_path):
    """Export then import gives the same grid (every GridModel array to 1e-9) and the same
    reference objective, on every PGLib case the project bundles."""
    with Study.open(tmp_path / "a.n1s", create=True) as st:
        ds = build_dataset(st, load_case(case), case, sample=0)
        assert export_opfdata(st, ds, tmp_path / "out") == 1
        item = st.dataset_items(ds)[0]
        ma = Variant(st.load_net(item["grid_id"]), []).model
        obj = st.solution(item["variant_id"])["objective"]
    with Study.open(tmp_path / "b.n1s", create=True) as b:
        ds_b = import_opfdata(b, tmp_path / "out", check=False)
        ib = b.dataset_items(ds_b)[0]
        mb = Variant(b.load_net(ib["grid_id"]), []).model
        for attr in ARRAYS:
            np.testing.assert_allclose(getattr(mb, attr), getattr(ma, attr), rtol=1e-9,
                                       atol=1e-9, err_msg=attr)
        assert b.solution(ib["variant_id"])["objective"] == pytest.approx(obj, rel=1e-12)


def test_a_failed_import_leaves_nothing_and_names_the_file(tmp_path, capsys):
    """The first example is good (its grid would be added), the second is broken: the import
    is all or nothing, and the error names the broken file."""
    from n1studio.cli import main

    folder = tmp_path / "set"
    folder.mkdir()
    good = independent_example("pglib_opf_case14_ieee")
    (folder / "example_0.json").write_text(json.dumps(good))
    bad = json.loads(json.dumps(good))
    bad["grid"]["nodes"]["bus"][2] = [1.0, 1.0]
    (folder / "example_1.json").write_text(json.dumps(bad))
    path = tmp_path / "s.n1s"
    with Study.open(path, create=True):
        pass
    rc = main(["dataset", "import", str(folder), "--format", "opfdata", "--study", str(path),
               "--no-check"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1
    assert "example_1.json" in err and "nothing was imported" in err
    with Study.open(path) as st:
        assert st.grids() == [] and st.models() == [] and st.datasets() == []
        assert st.info()["variants"] == 0 and st.info()["runs"] == 0
