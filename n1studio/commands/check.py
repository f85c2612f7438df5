"""`n1studio check CASE ANSWER.json [--out ELEMENT ...] [--json] [--tol KEY=VALUE]`.

Prints the verdict of an answer on a variant: a human summary, or the `n1studio.verdict/1`
document with --json. Exit code 0 when the answer is feasible, 1 when it is not, 2 for a
user mistake (unknown case or element, missing answer file, bad tolerance). An answer file
that is not JSON, or JSON of the wrong shape, is a verdict (format), not an error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from n1studio.commands._args import add_variant_args
from n1studio.errors import N1Error

log = logging.getLogger(__name__)

_TABLE_ROWS = 40


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="check an answer against a variant: the verdict",
                       description="Check an n1studio.answer/1 document against CASE with the "
                                   "given elements out of service.")
    add_variant_args(p)
    p.add_argument("answer", metavar="ANSWER.json", help="the answer file, '-' for stdin")
    p.add_argument("--json", action="store_true", help="print the verdict document")
    p.add_argument("--tol", metavar="KEY=VALUE", action="append", default=[],
                   help="override a tolerance, e.g. p_mw=0.5 (repeatable; see the README)")
    p.add_argument("--no-reference", action="store_true",
                   help="skip the reference AC OPF (no cost gap, no recall test)")
    p.set_defaults(func=run)


def read_answer_text(path: str) -> str:
    """The answer's text; a missing or unreadable file is a user error (N1Error)."""
    if path == "-":
        data = sys.stdin.buffer.read()
    else:
        p = Path(path).expanduser()
        if not p.exists():
            raise N1Error(f"no such answer file: {p}")
        if p.is_dir():
            raise N1Error(f"{p} is a directory, not an answer file")
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise N1Error(f"cannot read {p}: {exc.strerror or exc}") from exc
    return data.decode("utf-8", errors="replace")


def run(args: argparse.Namespace) -> int:
    from n1studio.check import Tolerances, check_answer, check_variant
    from n1studio.grid.cases import load_case
    from n1studio.grid.variant import Variant

    tol = Tolerances().with_overrides(args.tol)
    net = load_case(args.case)
    variant = Variant(net, args.out)
    text = read_answer_text(args.answer)
    if args.no_reference:
        verdict = check_answer(variant.model, text, tolerances=tol)
    else:
        verdict = check_variant(variant, text, tolerances=tol)
    if args.json:
        from n1studio.cli import emit_json

        emit_json(verdict)
    else:
        sys.stdout.write(summary(verdict, f"{net.name} {variant.label}") + "\n")
    return 0 if verdict["feasible"] else 1


def summary(verdict: dict, title: str) -> str:
    """The verdict as a few lines a person reads: status, violations, satisfaction, cost."""
    v = verdict["violations"]
    lines = [f"{title}: {'FEASIBLE' if verdict['feasible'] else 'INFEASIBLE'}"
             + (f" ({len(v)} violation{'s' if len(v) != 1 else ''})" if v else "")]
    if v:
        lines.append("")
        rows = [("constraint", "element", "value", "limit", "excess", "")]
        for x in v[:_TABLE_ROWS]:
            unit = x.get("unit", "")
            rows.append((x["constraint"], x["element"], _num(x["value"]), _num(x["limit"]),
                         _num(x["excess"]), unit if x["value"] is not None else x.get("message", "")))
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        for r in rows:
            lines.append("  " + "  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                                          for i, (c, w) in enumerate(zip(r[:5], widths)))
                         + ("  " + r[5] if r[5] else ""))
        if len(v) > _TABLE_ROWS:
            lines.append(f"  ... and {len(v) - _TABLE_ROWS} more (--json lists them all)")
    lines.append("")
    lines.append("satisfaction:")
    counts = verdict.get("counts") or {}
    for kind, s in verdict["satisfaction"].items():
        c = counts.get(kind)
        extra = f"  ({c['constraints'] - c['violated']}/{c['constraints']})" if c else ""
        lines.append(f"  {kind:<14} {s * 100:6.1f} %{extra}")
    lines.append(f"  {'overall':<14} {verdict['overall_satisfaction'] * 100:6.1f} %")
    lines.append("")
    obj, ref, gap = verdict["objective"], verdict["reference_objective"], verdict["cost_gap"]
    cost = f"cost: {_money(obj)}"
    if verdict.get("claimed_objective") is not None:
        cost += f" (claimed {_money(verdict['claimed_objective'])})"
    if ref is not None:
        cost += f", reference {_money(ref)}"
    if gap is not None:
        cost += f", gap {gap * 100:+.2f} %"
    lines.append(cost)
    if verdict["recalled_n_answer"]:
        lines.append("this answer is closer to the N case's reference than to this variant's: "
                     "it looks like the recalled N answer")
    for w in verdict.get("warnings") or []:
        lines.append(f"note: {w}")
    return "\n".join(lines)


def _num(x) -> str:
    if x is None:
        return "-"
    return f"{x:.6g}" if abs(x) < 1e6 else f"{x:.4e}"


def _money(x) -> str:
    return "-" if x is None else f"{x:,.2f} $/h"
