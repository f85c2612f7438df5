"""The report's intervals, each the textbook method for its kind of number (95 %).

- a mean (satisfaction, of values in [0, 1]): Student's t, m ± t(0.975, n-1) s/√n, clipped
  to [0, 1]; none below two values;
- a rate k/n (feasible, solved, recalled): Wilson's score interval, sound for small n and
  for rates at 0 or 1;
- a median (distance to feasibility): the binomial order-statistic interval;
- the drop of a mean from N to a family: paired by grid where every family answer has
  its grid's N answer by the same model (the differences N(grid) - x, a t interval on
  them: the usual design, one N case per grid), else Welch's t on the difference of
  means (unequal variances, Welch-Satterthwaite degrees of freedom);
- the drop of a rate: the difference of two proportions with Newcombe's hybrid Wilson
  interval (Newcombe 1998, method 10);
- the AUROC of two samples (the likelihood probe's ΔLL of two models): the Mann-Whitney
  estimate P(x > y) + ½P(x = y) with DeLong's interval (DeLong et al. 1988, the two
  samples independent), clipped to [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from scipy import stats

CONFIDENCE = 0.95
Z95 = float(stats.norm.ppf(0.5 + CONFIDENCE / 2))

METHODS = {
    "confidence": CONFIDENCE,
    "mean": "Student's t interval of the mean (t at 0.975 with n-1 degrees of freedom), "
            "clipped to [0, 1]; none with fewer than 2 runs",
    "rate": "Wilson score interval (z = 1.96)",
    "median": "order-statistic interval of the median (binomial(n, 1/2) ranks)",
    "drop_mean": "N minus the family. Paired by grid when every family run has its grid's "
                 "N run by the same model: t interval of the differences N(grid) - run "
                 "(the N side's own spread is not in it: one N case per grid); otherwise "
                 "Welch's t interval of the difference of means",
    "drop_rate": "N minus the family: Newcombe's hybrid Wilson interval of the difference "
                 "of two proportions",
    "delta_ll": "the likelihood probe: ΔLL = LL(N answer) - LL(own answer), mean log-"
                "probability per answer token in nats, > 0 when the model prefers the "
                "canonical N answer; per family its median with the order-statistic interval",
    "auroc": "AUROC of ΔLL between two models on one family: P(ΔLL of A > ΔLL of B) + "
             "½ P(equal) over every pair of their runs (Mann-Whitney U / (n_A n_B)); 0.5 = "
             "no separation, 1 = every run of A above every run of B. Interval: DeLong's "
             "(1988) variance from the placement values (the two models' runs independent), "
             "normal at 1.96, clipped to [0, 1]; none with fewer than 2 runs a side, "
             "and [A, A] at complete separation (read n then)",
}


def finite(xs: Iterable) -> list[float]:
    """The finite numbers of `xs` (None, NaN, booleans and text left out)."""
    return [float(x) for x in xs if isinstance(x, (int, float)) and not isinstance(x, bool)
            and math.isfinite(x)]


def mean(xs: Iterable) -> float | None:
    xs = finite(xs)
    return sum(xs) / len(xs) if xs else None


def _t(df: float) -> float:
    return float(stats.t.ppf(0.5 + CONFIDENCE / 2, df))


def mean_ci(xs: Iterable, lo: float | None = 0.0, hi: float | None = 1.0) -> list[float] | None:
    """Student-t 95 % interval of the mean of `xs`, clipped to [lo, hi]; None below 2."""
    xs = finite(xs)
    n = len(xs)
    if n < 2:
        return None
    m = sum(xs) / n
    half = _t(n - 1) * _stdev(xs) / math.sqrt(n)
    return [m - half if lo is None else max(lo, m - half),
            m + half if hi is None else min(hi, m + half)]


def _stdev(xs: list[float]) -> float:
    m = sum(xs) / len(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


def wilson(k: int, n: int) -> list[float] | None:
    """Wilson score 95 % interval of a rate k/n (sound for small n and rates near 0 or 1)."""
    if n <= 0:
        return None
    p = k / n
    d = 1 + Z95 ** 2 / n
    c = (p + Z95 ** 2 / (2 * n)) / d
    h = Z95 * math.sqrt(p * (1 - p) / n + Z95 ** 2 / (4 * n * n)) / d
    return [max(0.0, c - h), min(1.0, c + h)]


def median_ci(xs: Iterable) -> list[float] | None:
    """95 % interval of a median from the order statistics (binomial(n, 1/2) ranks)."""
    xs = sorted(finite(xs))
    n = len(xs)
    if n == 0:
        return None
    half = Z95 * math.sqrt(n) / 2
    lo = max(0, math.floor(n / 2 - half))
    hi = min(n - 1, math.ceil(n / 2 + half) - 1)
    return [xs[lo], xs[max(lo, hi)]]


def newcombe(k1: int, n1: int, k2: int, n2: int) -> list[float] | None:
    """95 % interval of p1 - p2 (p1 = k1/n1, p2 = k2/n2), Newcombe's hybrid Wilson method."""
    a, b = wilson(k1, n1), wilson(k2, n2)
    if a is None or b is None:
        return None
    p1, p2 = k1 / n1, k2 / n2
    d = p1 - p2
    return [d - math.sqrt((p1 - a[0]) ** 2 + (b[1] - p2) ** 2),
            d + math.sqrt((a[1] - p1) ** 2 + (p2 - b[0]) ** 2)]


def welch(xs: Iterable, ys: Iterable) -> tuple[list[float] | None, float | None]:
    """Welch's 95 % interval of mean(xs) - mean(ys) and its degrees of freedom; (None, None)
    when a side has fewer than 2 values."""
    xs, ys = finite(xs), finite(ys)
    if len(xs) < 2 or len(ys) < 2:
        return None, None
    vx, vy = _stdev(xs) ** 2 / len(xs), _stdev(ys) ** 2 / len(ys)
    d = sum(xs) / len(xs) - sum(ys) / len(ys)
    se = math.sqrt(vx + vy)
    if se == 0:
        return [d, d], None
    df = (vx + vy) ** 2 / (vx ** 2 / (len(xs) - 1) + vy ** 2 / (len(ys) - 1))
    half = _t(df) * se
    return [d - half, d + half], df


def paired(diffs: Iterable) -> tuple[list[float] | None, float | None]:
    """The t 95 % interval of the mean of paired differences and its degrees of freedom."""
    ds = finite(diffs)
    if len(ds) < 2:
        return None, None
    return mean_ci(ds, lo=None, hi=None), float(len(ds) - 1)


def auroc(xs: Iterable, ys: Iterable) -> tuple[float | None, list[float] | None]:
    """P(x > y) + ½ P(x = y) over every pair (Mann-Whitney U / (n_x n_y)) and DeLong's
    95 % interval (independent samples), clipped to [0, 1]; (None, None) when a side is
    empty, no interval with fewer than 2 values a side."""
    xs, ys = finite(xs), finite(ys)
    nx, ny = len(xs), len(ys)
    if nx == 0 or ny == 0:
        return None, None
    # placement values: each x against every y, each y against every x
    vx = [sum(1.0 if x > y else 0.5 if x == y else 0.0 for y in ys) / ny for x in xs]
    vy = [sum(1.0 if x > y else 0.5 if x == y else 0.0 for x in xs) / nx for y in ys]
    a = sum(vx) / nx
    if nx < 2 or ny < 2:
        return a, None
    var = _var(vx) / nx + _var(vy) / ny
    half = Z95 * math.sqrt(var)
    return a, [max(0.0, a - half), min(1.0, a + half)]


def _var(xs: list[float]) -> float:
    m = sum(xs) / len(xs)
    return sum((x - m) ** 2 for x in xs) / (len(xs) - 1)
