"""N-1 sweep speed: contingencies per second, against pandapower's run_contingency.

    .venv/bin/python bench/bench_sweep.py [--pp-sample 20] [--skip-big]

Prints, for case118 (every branch) and case2869pegase (every branch): cold time (the
first sweep of a freshly opened net, GridModel and LSGrid conversion included), warm
time (the net already prepared, as in the app), and contingencies/s end to end including
islanding and classification; then pandapower's `run_contingency` on a sample of
case118's branch outages (it is slow) and the speed ratio.
"""

from __future__ import annotations

import argparse
import copy
import logging
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from n1studio.grid.cases import load_case
from n1studio.solve.sweep import run_sweep


def _sweep(case: str, repeats: int) -> tuple[float, float, dict]:
    net = load_case(case)
    t = time.perf_counter()
    doc = run_sweep(net)
    cold = time.perf_counter() - t
    warm = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        doc = run_sweep(net)
        warm = min(warm, time.perf_counter() - t)
    return cold, warm, doc


def _pandapower(case: str, sample: int) -> tuple[float, int]:
    from pandapower.contingency import run_contingency

    net = load_case(case)
    lines = list(net.line.index[net.line.in_service])[:sample]
    cases = {"line": {"index": lines}}
    logging.getLogger("pandapower").setLevel(logging.CRITICAL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        work = copy.deepcopy(net)
        t = time.perf_counter()
        run_contingency(work, cases)
        dt = time.perf_counter() - t
    return dt, len(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pp-sample", type=int, default=20, help="branch outages for pandapower")
    ap.add_argument("--repeats", type=int, default=5, help="warm repeats (best is kept)")
    ap.add_argument("--skip-big", action="store_true", help="skip case2869pegase")
    args = ap.parse_args()
    rows = {}
    for case, reps in (("case118", args.repeats), ("case2869pegase", 1)):
        if case != "case118" and args.skip_big:
            continue
        cold, warm, doc = _sweep(case, reps)
        n = doc["stats"]["contingencies"]
        c = doc["stats"]["counts"]
        rows[case] = n / warm
        print(f"{case:<16} {n:>5} branch outages: cold {cold:7.3f} s ({n / cold:8.1f}/s), "
              f"warm {warm:7.3f} s ({n / warm:8.1f}/s)  [{c['ok']} ok, {c['violations']} "
              f"violations, {c['islanded']} islanded, {c['diverged']} diverged; "
              f"{doc['stats']['engine']}]")
    dt, k = _pandapower("case118", args.pp_sample)
    pp_rate = k / dt
    print(f"pandapower run_contingency case118: {k} line outages in {dt:.2f} s "
          f"({pp_rate:.1f}/s)")
    print(f"ratio case118 n1studio/pandapower: {rows['case118'] / pp_rate:.0f}x")
    print("targets: case118 >= 2000/s; case2869pegase full branch sweep <= 60 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
