"""The report by family on a big study: seconds to build it and write it, and study runs.

Builds a study of case9 with N variants and perturbed families (N-1, load:S, cost:S,
N-1+load:S: every variant its own perturbation seed), then RUNS runs of two pseudo models
with seeded random verdicts (satisfaction, feasible, cost gap, recall), stored through
`Study.add_run` in one transaction. Then times `build_report` (every run: families from
the variants, Student-t, Wilson, Newcombe, paired or Welch drops), `write_report` (JSON,
SVG, HTML from the Jinja2 template; no PNG) and `Study.runs()`.

    .venv/bin/python bench/bench_report.py [--runs 20000] [--variants 400]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from n1studio.curate.report import build_report, write_report
from n1studio.curate.study import Study
from n1studio.grid.cases import load_case
from n1studio.schema import CONSTRAINT_KINDS

FAMILIES = (([], {}), (["line:3"], {}), ([], {"load_noise": 0.1}), ([], {"cost_noise": 0.3}),
            (["line:3"], {"load_noise": 0.1}))


def _verdict(rng: random.Random, good: float) -> dict:
    sat = {k: min(1.0, max(0.0, rng.gauss(good, 0.1))) for k in CONSTRAINT_KINDS}
    feasible = rng.random() < good - 0.3
    return {"feasible": feasible, "satisfaction": sat,
            "overall_satisfaction": sum(sat.values()) / len(sat),
            "cost_gap": rng.gauss(0.0, 0.02), "usable": True,
            "recall": {"verdict": rng.choice(["recalled", "own", "neither"]),
                       "can_tell": rng.random() < 0.8}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20000)
    ap.add_argument("--variants", type=int, default=400)
    args = ap.parse_args()
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.n1study"
        with Study.open(path, create=True) as st:
            gid = st.add_grid(load_case("case9"), "case9")
            t0 = time.perf_counter()
            with st.transaction():
                vids = [st.add_variant(gid, outs, {**pert, "seed": k} if pert else None)
                        for k in range(args.variants)
                        for outs, pert in [FAMILIES[k % len(FAMILIES)]]]
                models = [st.add_control("control:a"), st.add_control("control:b")]
                for i in range(args.runs):
                    vid = vids[i % len(vids)]
                    st.add_run(vid, models[i % 2], {"i": i}, "p", "{}", None,
                               _verdict(rng, 0.9 if vid == vids[0] else 0.7), {}, 0.0, 1.0)
            stored = time.perf_counter() - t0
            t0 = time.perf_counter()
            runs = st.runs()
            read = time.perf_counter() - t0
            t0 = time.perf_counter()
            rep = build_report(st)
            built = time.perf_counter() - t0
        t0 = time.perf_counter()
        files = write_report(rep, Path(tmp) / "rep")
        written = time.perf_counter() - t0
        size = sum(f.stat().st_size for f in files.values())
    print(json.dumps({"runs": len(runs), "variants": args.variants,
                      "families": rep["families"], "store_s": round(stored, 2),
                      "study_runs_s": round(read, 2), "build_report_s": round(built, 2),
                      "write_report_s": round(written, 2), "report_bytes": size}, indent=1))


if __name__ == "__main__":
    main()
