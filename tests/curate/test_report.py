"""The report by family: the controls read as they must, every cell with its n."""

from __future__ import annotations

import pytest

from n1studio.curate.report import build_report, report_text, wilson


def test_report_of_the_controls(tmp_path):
    from n1studio.curate.dataset import build_dataset
    from n1studio.curate.evaluate import run_eval
    from n1studio.curate.study import Study
    from n1studio.grid.cases import load_case

    with Study.open(tmp_path / "c.n1study", create=True) as st:
        ds = build_dataset(st, load_case("pglib_opf_case14_ieee"), "pglib_opf_case14_ieee",
                           "c14", sample=4, seed=2, feasible_only=True)
        run_eval(st, ds, ["control:reference", "control:recall-n", "control:zeros"])
        rep = build_report(st, ds)
    assert rep["families"] == ["N", "N-1"] and rep["small_sample"] is True
    by = {m["model"]: m for m in rep["models"]}
    assert all(m["control"] for m in by.values())
    ref = {f: st["metrics"] for f, st in by["control:reference"]["families"].items()}
    mem = {f: st["metrics"] for f, st in by["control:recall-n"]["families"].items()}
    assert ref["N-1"]["feasible_rate"]["value"] == 1.0
    assert ref["N-1"]["overall_satisfaction"]["value"] == 1.0
    assert ref["N-1"]["solved_rate"]["value"] == 1.0 and ref["N-1"]["own_rate"]["value"] == 1.0
    assert ref["N-1"]["recalled_n_rate"]["value"] == 0.0
    assert mem["N-1"]["recalled_n_rate"]["value"] == 1.0
    assert mem["N"]["feasible_rate"]["value"] == 1.0
    assert mem["N"]["recalled_n_rate"]["value"] is None  # no N answer to recall on the N case
    # the memoriser's drop from N is the signature; the ideal solver has none
    assert by["control:reference"]["drops"]["N-1"]["overall_satisfaction"]["value"] == 0.0
    d = by["control:recall-n"]["drops"]["N-1"]["feasible_rate"]
    assert d["value"] == 1.0 and d["n_n"] == 1 and d["n_family"] == 4
    assert ref["N-1"]["feasible_rate"]["ci"] == pytest.approx(wilson(4, 4))
    assert ref["N-1"]["feasible_rate"]["n"] == 4 and ref["N-1"]["feasible_rate"]["small"]
    text = report_text(rep)
    assert "control:recall-n  control" in text and "n=4†" in text
    assert "nearest its own optimum" in text and "Covers datasets: c14" in text
