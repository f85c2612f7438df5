"""`n1studio sweep CASE [--kinds line,trafo,gen] [--at reference|file] [--opf] [--json]
[--all-violations]`.

Every single outage of the chosen kinds, classified ok / violations / islanded / diverged
(see n1studio/solve/sweep.py), at the N reference dispatch (default) or the file's own.
`--json` prints the `n1studio.sweep/1` document; otherwise a table ranked worst first,
headed by the summary the window shows too (`solve.sweep.describe`). A progress bar
appears on stderr for sweeps over a second.
"""

from __future__ import annotations

import argparse
import json
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sweep", help="N-1 contingency sweep: every single outage, classified",
        description="Take each element of the chosen kinds out of service in turn, run the AC "
                    "power flow and classify the outage: ok, violations (voltage or thermal "
                    "limits broken, new compared with the base case), islanded (buses cut "
                    "off; units left on an island without load are tripped with the outage), "
                    "diverged (no power-flow solution). The power flows start from the N "
                    "reference dispatch (the AC OPF of the base case) unless --at file.")
    p.add_argument("case", metavar="CASE", help="built-in case name or a .json / .m file")
    p.add_argument("--kinds", default="line,trafo,impedance",
                   help="comma-separated element kinds to take out (default: every branch, "
                        "line,trafo,impedance; also gen, sgen, load, ext_grid, bus, trafo3w)")
    p.add_argument("--at", choices=("reference", "file"), default="reference",
                   help="the operating point: the N reference dispatch, i.e. the base case's "
                        "AC OPF (default), or the file's own set-points")
    p.add_argument("--opf", action="store_true",
                   help="also solve each variant's AC OPF and say whether it is feasible (slow)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="with --opf: processes solving the AC OPFs (default: all cores but one)")
    p.add_argument("--ray", metavar="ADDRESS", help="with --opf: solve on the Ray cluster at "
                   "ADDRESS (`local` starts one here; needs the `ray` extra)")
    p.add_argument("--all-violations", action="store_true",
                   help="list violations the base case already has too")
    p.add_argument("--top", type=int, default=30, metavar="N",
                   help="rows of the table (default 30; 0 = all)")
    p.add_argument("--save", metavar="FILE", help="also write the JSON document to FILE")
    p.add_argument("--study", metavar="STUDY",
                   help="also keep the sweep in a study (`dataset build --sweep study` uses it)")
    p.add_argument("--json", action="store_true", help="print the n1studio.sweep/1 document")
    p.set_defaults(func=run_sweep_cmd)


def run_sweep_cmd(args: argparse.Namespace) -> int:
    from n1studio.curate.progress import ProgressBar
    from n1studio.errors import N1Error
    from n1studio.grid.cases import load_case
    from n1studio.jobs import JobState, Progress
    from n1studio.solve.sweep import SweepOptions, run_sweep

    net = load_case(args.case)
    bar = ProgressBar("sweep")
    state = JobState(lambda ev: bar(ev.done, ev.total)
                     if isinstance(ev, Progress) and ev.total else None)
    try:
        doc = run_sweep(net, args.kinds, opf=args.opf, state=state,
                        options=SweepOptions(all_violations=args.all_violations),
                        workers=args.workers, ray=args.ray, at=args.at)
    finally:
        bar.close()
    if args.save:
        try:
            with open(args.save, "w", encoding="utf-8") as fh:
                json.dump(doc, fh, indent=1)
        except OSError as exc:
            raise N1Error(f"cannot write {args.save}: {exc.strerror}") from None
    if args.study:
        from n1studio.curate.study import Study

        with Study.open(args.study, create=True) as st:
            st.add_sweep(st.add_grid(net, args.case), doc)
    if args.json:
        from n1studio.schema import emit_json

        emit_json(doc)
        return 0
    sys.stdout.write(format_table(doc, args.top) + "\n")
    return 0


def _detail(r: dict) -> str:
    if r["status"] == "islanded":
        from n1studio.grid.topology import describe_islands

        return describe_islands(r.get("n_islands", 2), r["islanded_buses"],
                                r.get("lost_load_mw", 0.0), show=4,
                                tripped=r.get("tripped", ()))
    if r["status"] == "diverged":
        return r.get("reason") or "no AC power-flow solution"
    if r["violations"]:
        v = max(r["violations"], key=lambda x: x.get("excess", 0.0))
        unit = "pu" if v["constraint"] == "voltage" else "MVA"
        return (f"{len(r['violations'])} violation(s); worst {v['constraint']} at {v['element']}: "
                f"{v['value']} {unit} vs limit {v['limit']:.4g}")
    return ""


def format_table(doc: dict, top: int = 30) -> str:
    """The ranked human table of a sweep document."""
    from n1studio.solve.sweep import describe, rank

    rows = rank(doc["results"])
    st = doc["stats"]
    lines = describe(doc)
    lines[0] += f" ({st['seconds']:.2f} s, {st['per_second']}/s, {st['engine']})"
    shown = rows if not top else rows[:top]
    width = max([len(r["element"]) for r in shown] + [7])
    lines.append(f"{'RANK':>4}  {'ELEMENT':<{width}}  {'STATUS':<10}  "
                 f"{'OPF':<10}  DETAIL" if st.get("opf_feasible") is not None else
                 f"{'RANK':>4}  {'ELEMENT':<{width}}  {'STATUS':<10}  DETAIL")
    for i, r in enumerate(shown, 1):
        opf = ""
        if "opf" in r:
            opf = f"{'feasible' if r['opf']['feasible'] else r['opf']['status']:<10}  "
        lines.append(f"{i:>4}  {r['element']:<{width}}  {r['status']:<10}  {opf}{_detail(r)}")
    if top and len(rows) > top:
        lines.append(f"... {len(rows) - top} more (--top 0 shows all, --json gives everything)")
    return "\n".join(lines)
