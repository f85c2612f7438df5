"""Reference OPF benchmark: our AC/DC OPF against PGLib's published optima and pandapower.

Prints, per PGLib case in ../shared/data/pglib (up to 1354 buses; --large adds
case2869_pegase): our AC objective, BASELINE.md's, the relative gap, our build and solve
times, pandapower's `runopp` objective and time (or its failure), and our DC objective
against BASELINE's DC column. Then the N-1 warm-start speedup on case118: every line
outage that keeps the grid connected (up to --n1 of them), solved from the flat start
and from the N solution, with the compiled NLP reused in both.

    .venv/bin/python bench/bench_opf.py            # about a minute on 2 cores
    .venv/bin/python bench/bench_opf.py --large    # adds case2869_pegase

`--builtin` instead solves pandapower's built-in cases (case4gs ... case9241pegase, up to
--max-buses) from the flat start, each within --time-limit seconds of Ipopt, and prints
load, build and solve times, status, iterations and objective; for the cases PGLib also
ships (case1354pegase, case2869pegase) it solves the PGLib file too and prints both
objectives (the data differ: PGLib adds costs, ratings and angle limits).

    .venv/bin/python bench/bench_opf.py --builtin --max-buses 3000 --time-limit 150
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "solve"))

import numpy as np
from pglib_baseline import PGLIB, baseline, bus_count, pglib_files

from n1studio.grid.cases import load_matpower
from n1studio.grid.variant import Variant, n1_candidates
from n1studio.solve import acopf
from n1studio.solve.dcopf import solve_dcopf

REPO = Path(__file__).resolve().parents[1]


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
        print(f"{name:<24} {r.objective:>14,.2f} {ref_ac:>12.5g} {gap:>+8.4f} "
              f"{r.build_time_s:>8.2f} "
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
        diff = max((abs(a - b) / abs(b) for a, b in zip(objs[name], objs["flat start"], strict=True)
                    if math.isfinite(a) and math.isfinite(b)), default=0.0)
        print(f"  {name:<22}: {secs / k * 1000:7.1f} ms/solve, {its / k:5.1f} Ipopt iterations, "
              f"{ok}/{len(outs)} solved, speedup {flat[0] / max(secs, 1e-9):.2f}x "
              f"(max objective difference {diff:.1e})")


# built-in pandapower case -> the PGLib file of the same grid (different data)
PGLIB_TWIN = {"case1354pegase": "pglib_opf_case1354_pegase",
              "case2869pegase": "pglib_opf_case2869_pegase",
              "case1888rte": "pglib_opf_case1888_rte", "case300": "pglib_opf_case300_ieee",
              "case118": "pglib_opf_case118_ieee", "case57": "pglib_opf_case57_ieee",
              "case39": "pglib_opf_case39_epri", "case30": "pglib_opf_case30_ieee",
              "case14": "pglib_opf_case14_ieee", "case5": "pglib_opf_case5_pjm"}


def _solve_line(name: str, load, time_limit: float) -> tuple[str, float]:
    """Load, build and solve one grid cold; the printed row and the objective."""
    t = time.perf_counter()
    try:
        net = load()
        model = Variant(net).model
    except Exception as exc:  # noqa: BLE001 -- a case that cannot load is a row, not a crash
        return f"{name:<26} load failed: {exc}", math.nan
    t_load = time.perf_counter() - t
    acopf.clear_cache()
    r = acopf.solve_acopf(model, time_limit_s=time_limit)
    rated = int(np.isfinite(model.rate).sum())
    obj = f"{r.objective:>16,.2f}" if r.success else f"{'-':>16}"
    row = (f"{name:<26} {model.n_bus:>6} {rated:>6}/{len(model.rate):<6} {t_load:>7.1f} "
           f"{r.build_time_s:>8.2f} {r.solve_time_s:>8.2f} {r.iterations:>5}  "
           f"{r.status:<16} {obj}")
    return row, r.objective if r.success else math.nan


def builtin_table(args) -> None:
    from n1studio.grid.cases import PANDAPOWER_CASES, load_case

    base = baseline()
    head = (f"{'case':<26} {'buses':>6} {'rated/branches':>13} {'load s':>7} {'build s':>8} "
            f"{'solve s':>8} {'iter':>5}  {'status':<16} {'objective $/h':>16}  note")
    print(f"pandapower built-in cases, AC OPF from the flat start, Ipopt time limit "
          f"{args.time_limit:g} s (cases over {args.max_buses} buses skipped)")
    print(head)
    print("-" * len(head))
    for name in PANDAPOWER_CASES:
        n_bus = len(load_case(name).bus)
        if n_bus > args.max_buses:
            print(f"{name:<26} {n_bus:>6}  skipped (--max-buses {args.max_buses})", flush=True)
            continue
        row, obj = _solve_line(name, lambda n=name: load_case(n), args.time_limit)
        print(row, flush=True)
        twin = PGLIB_TWIN.get(name)
        if twin and (name.endswith("pegase") or args.twins) and (PGLIB / f"{twin}.m").exists():
            row, tobj = _solve_line(f"  PGLib {twin.replace('pglib_opf_', '')}",
                                    lambda p=PGLIB / f"{twin}.m": load_matpower(p),
                                    args.time_limit)
            ref = base.get(twin, (math.nan, math.nan))[1]
            print(f"{row}  BASELINE {ref:,.2f}; built-in/PGLib {obj / tobj:.4f}", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--large", action="store_true", help="add case2869_pegase")
    ap.add_argument("--pandapower-max-buses", type=int, default=300,
                    help="run pandapower's runopp up to this size (default 300; it is slow)")
    ap.add_argument("--n1", type=int, default=20, help="outages in the warm-start measurement")
    ap.add_argument("--builtin", action="store_true",
                    help="solve pandapower's built-in cases instead (see the module docstring)")
    ap.add_argument("--max-buses", type=int, default=3000,
                    help="--builtin: skip cases with more buses (default 3000)")
    ap.add_argument("--time-limit", type=float, default=150.0,
                    help="--builtin: Ipopt time limit per case in seconds (default 150)")
    ap.add_argument("--twins", action="store_true",
                    help="--builtin: solve the PGLib file of every grid PGLib also has, "
                         "not only the PEGASE ones")
    args = ap.parse_args()
    if args.builtin:
        t = time.perf_counter()
        builtin_table(args)
        print(f"\n(total {time.perf_counter() - t:.0f} s)")
        return 0
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
