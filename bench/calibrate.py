"""Calibrate the recall verdict: controls and the default model over every family.

    python bench/calibrate.py                 # controls on case14 + case30 (about a minute)
    python bench/calibrate.py --model default # and the default model, with and without
                                              # --example n (slow: ~20-60 s per answer)

Prints, per grid, the report by family (satisfaction, feasibility, recall rate with 95 %
intervals, drop from N) of the controls; with --model, the default model's recall verdicts
with and without the solved N case shown as a worked example (how often it copies).
This is the run behind the README's "Calibration" section.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

FAMILIES = ["n-1", "n-2", "load:0.3", "cost:0.3", "relabel", "n-1+load:0.2"]
CONTROLS = ["control:reference", "control:recall-n", "control:noise", "control:zeros"]
CASES = ["pglib_opf_case14_ieee", "pglib_opf_case30_ieee"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", type=int, default=8, help="variants per family and grid")
    ap.add_argument("--model", choices=["default"], help="also run the default model")
    ap.add_argument("--model-sample", type=int, default=3,
                    help="N-1 variants per grid asked of the model (with and without example)")
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()

    from n1studio.curate.dataset import build_dataset
    from n1studio.curate.evaluate import run_eval
    from n1studio.curate.report import build_report, report_text
    from n1studio.curate.study import Study
    from n1studio.grid.cases import load_case

    print(f"# calibration — {platform.machine()}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}")
    tmp = Path(tempfile.mkdtemp(prefix="n1cal-"))
    with Study.open(tmp / "cal.n1study", create=True) as st:
        for case in CASES:
            t0 = time.perf_counter()
            ds = build_dataset(st, load_case(case), case, case, families=FAMILIES,
                               sample=args.sample, seed=args.seed, feasible_only=True)
            run_eval(st, ds, CONTROLS, repair=True)
            print(f"\n## {case} ({time.perf_counter() - t0:.0f} s)\n")
            print(report_text(build_report(st, ds)))
            words = Counter((r["model"], r["verdict"]["recall"]["verdict"])
                            for r in st.runs(ds) if r["split"] != "N"
                            and r["verdict"]["recall"]["can_tell"])
            print("\nrecall verdicts on variants that can tell:")
            for m in sorted({m for m, _ in words}):
                print(f"  {m:<22}" + "  ".join(f"{w} {words[(m, w)]}"
                                               for w in ("recalled", "own", "neither")))
        if args.model:
            for case in CASES:
                for example in (False, True):
                    name = f"{case}-model{'-example' if example else ''}"
                    ds = build_dataset(st, load_case(case), case, name, sample=args.model_sample,
                                       seed=args.seed, feasible_only=True, example=example)
                    t0 = time.perf_counter()
                    run_eval(st, ds, [None], repair=True)
                    runs = [r for r in st.runs(ds) if r["split"] != "N"
                            and not r["model"].startswith("control:")]
                    words = Counter(r["verdict"]["recall"]["verdict"] for r in runs)
                    feas = sum(bool(r["verdict"]["feasible"]) for r in runs)
                    copied = sum(1 for r in runs if r["verdict"]["recall"]["to_n"] is not None
                                 and r["verdict"]["recall"]["to_n"] < 1e-3)
                    print(f"\n{case} default model {'with' if example else 'without'} "
                          f"--example n: {len(runs)} N-1 answers, recalled "
                          f"{words['recalled']}, own {words['own']}, neither "
                          f"{words['neither']}, copied the N answer exactly {copied}, "
                          f"feasible {feas} "
                          f"({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
