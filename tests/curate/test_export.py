"""Fine-tuning exports: chat JSONL split so nothing tested was trained on, a card beside it,
and a Hugging Face folder the real `datasets` library opens."""

from __future__ import annotations

import json

import pytest

from n1studio.curate.dataset import build_dataset
from n1studio.curate.export import export_split, parse_fractions
from n1studio.curate.study import Study
from n1studio.errors import N1Error
from n1studio.grid.cases import load_case


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("exp")
    st = Study.open(tmp / "s.n1s", create=True)
    # one dataset over three grids: build each, then join their items
    items = []
    for case in ("pglib_opf_case14_ieee", "pglib_opf_case5_pjm", "pglib_opf_case30_ieee"):
        ds = build_dataset(st, load_case(case), case, kinds=("line",), sample=2, seed=1,
                           no_islanding=True)
        items += [{"variant_id": i["variant_id"], "split": i["split"], "prompt": i["prompt"]}
                  for i in st.dataset_items(ds)]
    ds = st.create_dataset("three", {"grids": 3}, items)
    yield tmp, st, ds
    st.close()


def _read(path):
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_sft_split_by_grid_never_tests_a_trained_grid(study):
    tmp, st, ds = study
    counts = export_split(st, ds, tmp / "sft", fmt="sft", split_by="grid", seed=0)
    assert sum(counts.values()) == 9 and all(counts.values())
    parts = {s: _read(tmp / "sft" / f"{s}.jsonl") for s in ("train", "validation", "test")}
    grids = {s: {r["grid"] for r in rows} for s, rows in parts.items()}
    assert grids["train"].isdisjoint(grids["test"]) and grids["train"].isdisjoint(
        grids["validation"]) and grids["validation"].isdisjoint(grids["test"])
    rec = parts["test"][0]
    assert [m["role"] for m in rec["messages"]] == ["user", "assistant"]
    assert rec["messages"][0]["content"] == rec["prompt"]
    ref = json.loads(rec["messages"][1]["content"])
    assert ref["schema"] == "n1studio.answer/1"
    assert ref["objective"] == pytest.approx(rec["objective"], rel=1e-6)
    card = (tmp / "sft" / "README.md").read_text()
    assert card.startswith("---\n") and "Split by **grid**" in card
    # the same seed gives the same split; the card names every grid where it went
    again = export_split(st, ds, tmp / "sft2", fmt="sft", split_by="grid", seed=0)
    assert again == counts
    for g in grids.values():
        assert all(name in card for name in g)


def test_split_by_family_keeps_n_and_n1_apart(study):
    tmp, st, ds = study
    export_split(st, ds, tmp / "fam", fmt="sft", split_by="family", fractions=(0.5, 0, 0.5),
                 seed=2)
    fams = {s: {r["family"] for r in _read(tmp / "fam" / f"{s}.jsonl")}
            for s in ("train", "test")}
    assert fams["train"] | fams["test"] == {"N", "N-1"}
    assert fams["train"].isdisjoint(fams["test"])
    assert not (tmp / "fam" / "validation.jsonl").exists()


def test_hf_folder_opens_with_datasets(study):
    datasets = pytest.importorskip("datasets")
    tmp, st, ds = study
    counts = export_split(st, ds, tmp / "hf", fmt="hf", split_by="grid", seed=0)
    d = datasets.load_dataset(str(tmp / "hf"))
    assert {s: d[s].num_rows for s in d} == {s: n for s, n in counts.items() if n}
    row = d["test"][0]
    assert row["messages"][0]["role"] == "user"
    assert isinstance(row["outages"], list) and row["case"].startswith("pglib_opf_")
    assert json.loads(row["perturbation"]) == {}


def test_bad_fractions_are_one_line():
    with pytest.raises(N1Error, match="three non-negative numbers"):
        parse_fractions("0.8,0.3")
    assert parse_fractions("8,1,1") == pytest.approx((0.8, 0.1, 0.1))


def test_sft_rows_carry_the_perturbation_the_reward_rebuilds(tmp_path):
    """A perturbed family's rows say their perturbation, and the reward rebuilds the same
    variant from it: the reference answer of the row scores as the ideal solver."""
    import json as _json

    from n1studio.curate.dataset import build_dataset
    from n1studio.curate.export import records
    from n1studio.curate.study import Study
    from n1studio.grid.cases import load_case
    from n1studio.reward import make_reward

    case = "pglib_opf_case14_ieee"
    with Study.open(tmp_path / "p.n1study", create=True) as st:
        ds = build_dataset(st, load_case(case), case, "p",
                           families=["n-1+load:0.2", "n-1+relabel"], sample=2, seed=5,
                           feasible_only=True)
        rows = [r for r in records(st, ds) if r["family"] != "N"]
    assert len(rows) == 4
    assert [_json.loads(r["perturbation"]).get("load_noise") for r in rows[:2]] == [0.2, 0.2]
    # the relabelled rows' assistant turns are written in their prompts' names: read back
    # through the relabelling they are the ideal solver's answers (reward 1.0 below), which
    # they would not be in the grid's own names
    reward = make_reward()
    scores = reward(prompts=[r["prompt"] for r in rows],
                    completions=[r["reference"] for r in rows],
                    case=[r["case"] for r in rows], outages=[r["outages"] for r in rows],
                    perturbation=[r["perturbation"] for r in rows])
    assert scores == [1.0] * len(rows)
