"""`n1studio cases` and `n1studio solve CASE [--out ELEMENT ...] [--dc | --pf] [--json]`.

`solve --json` prints the reference's `n1studio.answer/1` document (so it can be fed to
`check`) with a few extra top-level keys the checker ignores: case, outages, kind, status,
success, solve_time_s, build_time_s, message, islands. Exit code 0 when the reference is
optimal, 1 when it is not (infeasible, diverged: said on stderr, the JSON still printed),
2 for a user mistake.
"""

from __future__ import annotations

import argparse
import re
import sys

from n1studio.commands.args import add_variant_args, variant_from_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cases", help="list the built-in cases",
                       description="The grids `solve`, `check`, `ask` and the app open by name.")
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    p.set_defaults(func=run_cases)

    p = sub.add_parser("solve", help="the reference solution of a variant (AC OPF by default)",
                       description="Solve CASE with the given elements out of service and print "
                                   "the reference answer (n1studio.answer/1 with --json).")
    add_variant_args(p)
    kind = p.add_mutually_exclusive_group()
    kind.add_argument("--dc", action="store_true", help="DC OPF (HiGHS) instead of AC OPF")
    kind.add_argument("--pf", action="store_true",
                      help="AC power flow of the case's own dispatch (pandapower)")
    p.add_argument("--max-iter", type=int, default=None, metavar="N",
                   help="AC OPF: stop after N Ipopt iterations (default 1000)")
    p.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                   help="AC and DC OPF: stop the solver after this much time (default 300 s)")
    p.add_argument("--json", action="store_true", help="print the answer document")
    p.set_defaults(func=run_solve)


def _buses_from_name(name: str) -> int | None:
    # PGLib and pandapower case names carry their bus count (case118, pglib_opf_case1354_pegase)
    m = re.search(r"case_?(?:ieee|illinois)?(\d+)", name)
    return int(m.group(1)) if m else None


def run_cases(args: argparse.Namespace) -> int:
    from n1studio.grid.catalog import builtin_cases  # a name list: no pandapower import

    rows = [{"name": c["name"], "source": c["source"], "buses": _buses_from_name(c["name"])}
            for c in builtin_cases()]
    if args.json:
        from n1studio.schema import emit_json

        emit_json({"cases": rows})
        return 0
    width = max(len(r["name"]) for r in rows)
    out = [f"{'CASE':<{width}}  {'BUSES':>6}  SOURCE"]
    for r in rows:
        buses = "" if r["buses"] is None else str(r["buses"])
        out.append(f"{r['name']:<{width}}  {buses:>6}  {r['source']}")
    out.append("Open a file by path too: n1studio solve path/to/grid.m (or .json)")
    sys.stdout.write("\n".join(out) + "\n")
    return 0


def run_solve(args: argparse.Namespace) -> int:
    from n1studio.curate.progress import ProgressBar
    from n1studio.grid.cases import case_label, load_case
    from n1studio.solve.reference import reference

    kind = "dc" if args.dc else "pf" if args.pf else "ac"
    check_budget(args.max_iter, args.time_limit)
    net = load_case(args.case)
    variant = variant_from_args(args, net)
    bar = ProgressBar(_KIND_NAME[kind], unit="%")
    progress = None
    if bar.enabled and not args.json:
        def progress(fraction: float, text: str) -> None:
            bar(round(100 * min(max(fraction, 0.0), 1.0)), 100, text)
    budget = {"max_iter": args.max_iter, "time_limit_s": args.time_limit}  # AC; DC: the time
    try:
        result = reference(variant, kind, progress=progress, **budget)
    finally:
        bar.close()
    label = case_label(net)
    if args.json:
        from n1studio.schema import emit_json

        doc = result.answer
        if variant.relabelling is not None:  # in the names the variant's prompt uses
            doc = variant.relabelling.answer_to_prompt(doc)
        doc.update({"case": label, "outages": list(variant.outages), "kind": kind,
                    "variant": variant.label, "perturbation": variant.perturbation.to_dict(),
                    "status": result.status, "success": bool(result.success),
                    "solve_time_s": round(result.solve_time_s, 4),
                    "build_time_s": round(result.build_time_s, 4),
                    "message": result.message, "islands": variant.islands.to_dict()})
        emit_json(doc)
    else:
        sys.stdout.write(summary(result, variant, label) + "\n")
    if not result.success:
        print(f"n1studio: solve: {label} {variant.label}: {_KIND_NAME[kind]} {result.status} "
              f"({result.message})", file=sys.stderr)
        return 1
    return 0


def check_budget(max_iter: int | None, time_limit: float | None) -> None:
    """Refuse an AC OPF budget the solver cannot run with (one OptionError line)."""
    import math

    from n1studio.errors import OptionError

    if max_iter is not None and max_iter < 1:
        raise OptionError(f"--max-iter {max_iter}: give a whole number of Ipopt iterations "
                          "from 1")
    if time_limit is not None and not (math.isfinite(time_limit) and time_limit > 0):
        raise OptionError(f"--time-limit {time_limit:g}: give a positive, finite number of "
                          "seconds")


_KIND_NAME = {"ac": "AC OPF", "dc": "DC OPF", "pf": "AC power flow"}


def summary(result, variant, label: str, max_rows: int = 12) -> str:
    """A few lines a person reads: what was solved, status, cost, time, islands, dispatch."""
    import numpy as np

    m = result.model
    lines = [f"{label} {variant.label}: {_KIND_NAME[result.kind]} {result.status}"]
    if result.success and np.isfinite(result.objective):
        lines.append(f"  objective      {result.objective:,.2f} $/h")
    lines.append(f"  time           build {result.build_time_s:.3f} s, "
                 f"solve {result.solve_time_s:.3f} s"
                 + (f", {result.iterations} iterations" if result.iterations else ""))
    isl = variant.islands
    lines.append(f"  topology       {isl.describe()}")
    if isl.cut_buses:
        shown = ", ".join(isl.cut_buses[:8]) + (" ..." if len(isl.cut_buses) > 8 else "")
        lines.append(f"  not solved     {shown} (cut off from every generator)")
    lines.append(f"  solver         {result.message}")
    if result.success:
        gens = np.flatnonzero(result.gen_mask)
        lines.append(f"  dispatch       {len(gens)} generators, {int(result.bus_mask.sum())} buses")
        for g in gens[:max_rows]:
            lines.append(f"    {m.gen_names[g]:<14} P {result.pg[g]:10.3f} MW   "
                         f"Q {result.qg[g]:10.3f} Mvar   V {result.vm[m.gen_bus[g]]:.4f} pu")
        if len(gens) > max_rows:
            lines.append(f"    ... {len(gens) - max_rows} more (--json for all)")
    return "\n".join(lines)
