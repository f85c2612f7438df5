"""The report by family: intervals with known values, and the controls read as they must."""

from __future__ import annotations

import pytest

from n1studio.curate.report import build_report, median_ci, report_text, wilson


def test_wilson_interval_known_values():
    # Wilson score intervals (z = 1.96) as published tables give them
    assert wilson(0, 6) == pytest.approx([0.0, 0.390], abs=1e-3)
    assert wilson(6, 6) == pytest.approx([0.610, 1.0], abs=1e-3)
    assert wilson(50, 100) == pytest.approx([0.404, 0.596], abs=1e-3)
    assert wilson(0, 0) is None


def test_median_interval_brackets_the_median():
    xs = list(range(1, 101))
    lo, hi = median_ci(xs)
    assert lo < 50.5 < hi and (lo, hi) == (41, 60)  # ranks 40..60 of 100 (0-based 40, 59)
    assert median_ci([3.0]) == [3.0, 3.0]


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
    ref, mem = by["control:reference"]["families"], by["control:recall-n"]["families"]
    assert ref["N-1"]["feasible_rate"] == 1.0 and ref["N-1"]["overall_satisfaction"] == 1.0
    assert ref["N-1"]["recalled_n_rate"] == 0.0
    assert mem["N-1"]["recalled_n_rate"] == 1.0 and mem["N"]["feasible_rate"] == 1.0
    assert mem["N"]["recalled_n_rate"] is None  # no N answer to recall on the N case
    # the memoriser's drop from N is the signature; the ideal solver has none
    assert by["control:reference"]["drops"]["N-1"]["overall_satisfaction"] == 0.0
    assert by["control:recall-n"]["drops"]["N-1"]["feasible_rate"] == 1.0
    assert ref["N-1"]["feasible_rate_ci"] == pytest.approx(wilson(4, 4))
    text = report_text(rep)
    assert "control:recall-n  control" in text and "small sample" in text
