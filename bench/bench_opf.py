"""Reference OPF benchmark: our AC/DC OPF against PGLib's published optima and pandapower.

Prints, per PGLib case in ../shared/data/pglib (up to 1354 buses; --large adds
case2869_pegase): our AC objective, BASELINE.md's, the relative gap, our build and solve
times, pandapower's `runopp` objective and time (or its failure), and our DC objective
against BASELINE's DC column. Then the N-1 warm-start speedup on case118: every line
outage that keeps the grid connected (up to --n1 of them), solved from the flat start
and from the N solution, with the compiled NLP reused in both.

    .venv/bin/python bench/bench_opf.py            # about a minute on 2 cores
    .venv/bin/python bench/bench_opf.py --large    # adds case2869_pegase
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "solve"))

from pglib_baseline import PGLIB, baseline, bus_count, pglib_files

from n1studio.grid.cases import load_matpower
from n1studio.grid.variant import Variant, n1_candidates
from n1studio.solve import acopf
from n1studio.solve.dcopf import solve_dcopf


def pandapower_opf(path: Path, timeout_buses: int) -> tuple[str, float]:
    """pandapower's runopp (PIPS) on the same net: objective text and seconds."""
    import pandapower as pp

    if bus_count(path) > timeout_buses:
        return "skipped", math.nan
    net = load_matpower(path)
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.getLogger("pandapower").setLevel(logging.CRITICAL)
        try:
            pp.runopp(net, calculate_voltage_angles=True, init="flat", numba=False)
            text = f"{net.res_cost:,.2f}"
        except Exception as exc:  # noqa: BLE001 -- its failure is the figure we report
            text = "failed: " + (str(exc).split("\n")[0][:28] or exc.__class__.__name__)
    return text, time.perf_counter() - t


def table(args) -> None:
    base = baseline()
    files = [p for p in pglib_files() if bus_count(p) <= 1354 or (args.large and "2869" in p.stem)]
    head = (f"{'case':<24} {'ours AC $/h':>14} {'BASELINE AC':>12} {'gap %':>8} {'build s':>8} "
            f"{'solve s':>8} {'it':>4}  {'pandapower runopp':>26} {'pp s':>6}  "
            f"{'ours DC $/h':>14} {'BASELINE DC':>12} {'gap %':>8}")
    print(head)
    print("-" * len(head))
    for path in files:
        model = Variant(load_matpower(path)).model
        acopf.clear_cache()  # cold: the build is part of the figure
        r = acopf.solve_acopf(model)
        dc = solve_dcopf(model)
        ref_dc, ref_ac = base.get(path.stem, (math.nan, math.nan))
        gap = 100 * (r.objective - ref_ac) / ref_ac
        dgap = 100 * (dc.objective - ref_dc) / ref_dc
        pp_text, pp_t = pandapower_opf(path, args.pandapower_max_buses)
        name = path.stem.replace("pglib_opf_", "")
        print(f"{name:<24} {r.objective:>14,.2f} {ref_ac:>12.5g} {gap:>+8.4f} {r.build_time_s:>8.2f} "
              f"{r.solve_time_s:>8.2f} {r.iterations:>4}  {pp_text:>26} {pp_t:>6.2f}  "
              f"{dc.objective:>14,.2f} {ref_dc:>12.5g} {dgap:>+8.4f}", flush=True)


def warm_start(args) -> None:
    path = PGLIB / "pglib_opf_case118_ieee.m"
    net = load_matpower(path)
    acopf.clear_cache()
    n = acopf.solve_acopf(Variant(net).model)  # builds the NLP once
    outs = [e for e in n1_candidates(net, ("line",)) if not Variant(net, [e]).islands.islanded]
    outs = outs[: args.n1]
    t = time.perf_counter()
    acopf.solve_acopf(Variant(net, [outs[0]]).model, init=acopf.warm_start_from(n))
    warm_build = time.perf_counter() - t  # includes one solve
    modes = {"flat start": None, "from N, primal": acopf.warm_start_from(n, duals=False),
             "from N, primal+duals": acopf.warm_start_from(n)}
    stats = {k: [0.0, 0, 0] for k in modes}
    objs = {k: [] for k in modes}
    for e in outs:
        m = Variant(net, [e]).model
        for k, init in modes.items():
            r = acopf.solve_acopf(m, init=init)
            stats[k][0] += r.solve_time_s
            stats[k][1] += r.iterations
            stats[k][2] += r.success
            objs[k].append(r.objective if r.success else math.nan)
    k = max(len(outs), 1)
    flat = stats["flat start"]
    print(f"\nN-1 warm start, case118_ieee, {len(outs)} line outages (connected); NLP built once "
          f"in {n.build_time_s:.2f} s, warm-start solver in {warm_build:.2f} s, both reused:")
    for name, (secs, its, ok) in stats.items():
        diff = max((abs(a - b) / abs(b) for a, b in zip(objs[name], objs["flat start"])
                    if math.isfinite(a) and math.isfinite(b)), default=0.0)
        print(f"  {name:<22}: {secs / k * 1000:7.1f} ms/solve, {its / k:5.1f} Ipopt iterations, "
              f"{ok}/{len(outs)} solved, speedup {flat[0] / max(secs, 1e-9):.2f}x "
              f"(max objective difference {diff:.1e})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--large", action="store_true", help="add case2869_pegase")
    ap.add_argument("--pandapower-max-buses", type=int, default=300,
                    help="run pandapower's runopp up to this size (default 300; it is slow)")
    ap.add_argument("--n1", type=int, default=20, help="outages in the warm-start measurement")
    args = ap.parse_args()
    if not PGLIB.is_dir():
        print(f"PGLib data not found at {PGLIB}", file=sys.stderr)
        return 2
    t = time.perf_counter()
    table(args)
    warm_start(args)
    print(f"\n(total {time.perf_counter() - t:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
