"""The report's intervals against published values and scipy's own computations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from n1studio.curate.families import family_name, family_order
from n1studio.curate.stats import mean_ci, median_ci, newcombe, paired, welch, wilson


def test_wilson_interval_known_values():
    # Wilson score intervals (z = 1.96) as published tables give them
    assert wilson(0, 6) == pytest.approx([0.0, 0.390], abs=1e-3)
    assert wilson(6, 6) == pytest.approx([0.610, 1.0], abs=1e-3)
    assert wilson(50, 100) == pytest.approx([0.404, 0.596], abs=1e-3)
    assert wilson(0, 0) is None


def test_newcombe_difference_of_proportions_published_example():
    # Newcombe (1998), Statistics in Medicine 17:873, table II, 56/70 - 48/80, method 10
    assert newcombe(56, 70, 48, 80) == pytest.approx([0.0524, 0.3339], abs=1e-4)
    # 9/10 - 3/10: method 10 gives 0.1705 to 0.8090
    assert newcombe(9, 10, 3, 10) == pytest.approx([0.1705, 0.8090], abs=1e-4)
    assert newcombe(1, 0, 1, 2) is None


def test_mean_interval_is_student_t_not_normal():
    xs = [0.2, 0.5, 0.9]
    lo, hi = stats.t.interval(0.95, 2, loc=np.mean(xs), scale=stats.sem(xs))
    assert mean_ci(xs) == pytest.approx([max(0, lo), min(1, hi)])
    # three runs: t(0.975, 2) = 4.30, about twice the normal 1.96
    half = (mean_ci([0.4, 0.5, 0.6], lo=None, hi=None)[1] - 0.5) / stats.sem([0.4, 0.5, 0.6])
    assert half == pytest.approx(4.3027, abs=1e-4)
    assert mean_ci([0.7]) is None


def test_welch_and_paired_match_scipy():
    rng = np.random.default_rng(3)
    a, b = rng.uniform(0.5, 1, 7), rng.uniform(0, 0.8, 11)
    ci, df = welch(a, b)
    ref = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert ci == pytest.approx([ref.low, ref.high])
    d = rng.normal(0.2, 0.1, 6)
    ci, df = paired(d)
    ref = stats.ttest_1samp(d, 0).confidence_interval(0.95)
    assert ci == pytest.approx([ref.low, ref.high]) and df == 5
    assert welch([0.5], b) == (None, None)


def test_median_interval_brackets_the_median():
    xs = list(range(1, 101))
    lo, hi = median_ci(xs)
    assert lo < 50.5 < hi and (lo, hi) == (41, 60)
    assert median_ci([3.0]) == [3.0, 3.0]


def test_one_family_name_from_what_a_variant_is():
    assert family_name([], {}) == "N" and family_name([], None) == "N"
    assert family_name(["line:3"]) == "N-1" and family_name(["line:3", "gen:1"]) == "N-2"
    assert family_name([], {"load_noise": 0.1, "seed": 7}) == "load:0.1"
    assert family_name(["line:3"], {"load_noise": 0.10, "seed": 2}) == "N-1+load:0.1"
    assert family_name([], {"cost_noise": 0.3, "seed": 1}) == "cost:0.3"
    assert family_name([], {"relabel": True, "seed": 1}) == "relabel"
    assert family_name([], {"load_scale": 1.1}) == "scale:1.1"
    # a relabelled N case is not N: its prompt differs
    assert family_name([], {"relabel": True}) != "N"
    assert family_order(["relabel", "N-2", "N-1+load:0.1", "N", "load:0.1", "N-1"]) == [
        "N", "N-1", "N-2", "load:0.1", "relabel", "N-1+load:0.1"]


def test_dataset_family_split_is_the_same_name():
    from n1studio.curate.dataset import parse_family

    assert parse_family("load:0.1+n-1").split == "N-1+load:0.1"
    assert parse_family("n-2").split == "N-2" and parse_family("relabel").split == "relabel"
