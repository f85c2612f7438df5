"""Reference AC OPF solves per second: serial, N worker processes, and Ray (local).

PGLib case30 (resources/pglib), every single line outage, solved through
`n1studio.solve.parallel.ReferencePool` as `dataset build --workers N` / `--ray local` do.
For each runner: the start-up (spawning the processes or the Ray runtime and its actors,
each loading the grid and solving the N case once; forced by mapping the N case twice per
worker), the map of all solves, and solves per second with and without the start-up.
Ray's overhead is its time over the process pool's for the same work.

    .venv/bin/python bench/bench_parallel.py [--case FILE] [--workers 1,2] [--no-ray]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from n1studio.grid.cases import load_case
from n1studio.grid.variant import n1_candidates
from n1studio.solve.parallel import ReferencePool, ray_available

REPO = Path(__file__).resolve().parents[1]


def run(net, specs, workers: int, ray: str | None) -> dict:
    from n1studio.solve import reference

    reference.clear()
    t0 = time.perf_counter()
    with ReferencePool(net, workers=workers, ray=ray) as pool:
        if pool.kind == "serial":  # the same start as a worker: the N case solved first
            from n1studio.grid.variant import Variant

            reference.reference(Variant(net), "ac")
        else:  # start every worker (spawn, imports, grid, N case): the N spec is free after
            pool.map([((), None)] * (2 * pool.workers))
        t1 = time.perf_counter()
        out = pool.map(specs)
        t2 = time.perf_counter()
    t3 = time.perf_counter()
    ok = sum(bool(r.success) for r in out)
    return {"runner": pool.kind if not ray else f"ray {ray}", "workers": workers,
            "solves": len(specs), "optimal": ok, "startup_s": round(t1 - t0, 2),
            "map_s": round(t2 - t1, 2), "shutdown_s": round(t3 - t2, 2),
            "solves_per_s_map": round(len(specs) / (t2 - t1), 2),
            "solves_per_s_total": round(len(specs) / (t3 - t0), 2),
            "objectives": [r.objective if r.success else None for r in out]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", default=str(REPO / "resources/pglib/pglib_opf_case30_ieee.m"))
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--no-ray", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    net = load_case(args.case)
    specs = [((el,), None) for el in n1_candidates(net, ["line"])]
    rows = [run(net, specs, int(w), None) for w in args.workers.split(",")]
    if not args.no_ray and ray_available():
        rows.append(run(net, specs, max(int(w) for w in args.workers.split(",")), "local"))
    base = rows[0]["objectives"]
    for r in rows:
        same = all((a is None and b is None) or (a is not None and b is not None
                                                  and abs(a - b) <= 1e-6 * abs(a))
                   for a, b in zip(base, r.pop("objectives"), strict=True))
        r["same_as_serial"] = same
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        for r in rows:
            print(f"{r['runner']:<12} workers {r['workers']}: {r['solves']} solves "
                  f"({r['optimal']} optimal), start {r['startup_s']} s, map {r['map_s']} s, "
                  f"stop {r['shutdown_s']} s -> {r['solves_per_s_map']}/s "
                  f"({r['solves_per_s_total']}/s with start/stop), same as serial: "
                  f"{r['same_as_serial']}")
        procs = [r for r in rows if r["runner"] == "processes"]
        ray_rows = [r for r in rows if r["runner"].startswith("ray")]
        if procs and ray_rows:
            p, q = procs[-1], ray_rows[0]
            print(f"Ray overhead vs processes ({q['workers']} workers): start "
                  f"{q['startup_s'] - p['startup_s']:+.1f} s, map {q['map_s'] - p['map_s']:+.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
