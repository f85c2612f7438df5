"""`n1studio check CASE ANSWER... [--jsonl FILE] [--out ELEMENT ...] [--json] [--tol KEY=VALUE]`.

Prints the verdict of an answer on a variant: a human summary, or the `n1studio.verdict/1`
document with --json. Exit code 0 when every answer is feasible, 1 when one is not, 2 for
a user mistake (unknown case or element, missing answer file, bad tolerance). An answer
that is not JSON, or JSON of the wrong shape, is a verdict (format), not an error.

Many answers in one process: several ANSWER files and/or `--jsonl FILE` (repeatable), one
answer per line. The references are solved once for all of them. A JSONL line is one of
- an answer document (`{"schema": "n1studio.answer/1", "buses": [...], ...}`);
- an object with the answer under "answer" (a document, the model's text, or null), as
  `n1studio ask --json` and dataset/eval records hold it, or with the text under "text";
- anything else (prose, truncated JSON, bytes): judged as the answer's text, so it is a
  `format` verdict.
Blank lines are skipped. With several answers, or with --jsonl, --json prints one verdict
per line (JSON Lines) in input order, each with "source" (`FILE:LINE` or the file name)
and the line's "id" when it has one; without --json, one line per answer and a total.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from n1studio.commands.args import add_variant_args, variant_from_args
from n1studio.errors import N1Error

log = logging.getLogger(__name__)

_TABLE_ROWS = 40


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="check answers against a variant: the verdicts",
                       description="Check n1studio.answer/1 documents against CASE with the "
                                   "given elements out of service.")
    add_variant_args(p)
    p.add_argument("answers", metavar="ANSWER", nargs="*",
                   help="answer file(s), '-' for stdin")
    p.add_argument("--jsonl", metavar="FILE", action="append", default=[],
                   help="a JSON Lines file of answers, one per line (repeatable; '-' for stdin)")
    p.add_argument("--json", action="store_true",
                   help="print the verdict document (one per line for several answers)")
    p.add_argument("--tol", metavar="KEY=VALUE", action="append", default=[],
                   help="override a tolerance, e.g. p_mw=0.5 (repeatable; see the README)")
    p.add_argument("--no-reference", action="store_true",
                   help="skip the reference AC OPF (no cost gap, no recall test)")
    p.add_argument("--repair", action="store_true",
                   help="add the distance to feasibility: the nearest operating point that "
                        "satisfies every constraint, the moves to it and the repaired answer")
    p.set_defaults(func=run)


def _open(path: str):
    """A binary file object for `path` ('-' is stdin); a missing file is a user error."""
    if path == "-":
        return sys.stdin.buffer
    p = Path(path).expanduser()
    if not p.exists():
        raise N1Error(f"no such answer file: {p}")
    if p.is_dir():
        raise N1Error(f"{p} is a directory, not an answer file")
    try:
        return p.open("rb")
    except OSError as exc:
        raise N1Error(f"cannot read {p}: {exc.strerror or exc}") from exc


def read_answer_bytes(path: str) -> bytes:
    """The answer file's bytes; a missing or unreadable file is a user error (N1Error)."""
    f = _open(path)
    try:
        return f.read()
    except OSError as exc:
        raise N1Error(f"cannot read {path}: {exc.strerror or exc}") from exc
    finally:
        if f is not sys.stdin.buffer:
            f.close()


def read_answer_text(path: str) -> str:
    """The answer's text; a missing or unreadable file is a user error (N1Error)."""
    return read_answer_bytes(path).decode("utf-8", errors="replace")


def jsonl_answers(path: str):
    """(line number, answer, id) for each non-blank line of a JSON Lines file (see above)."""
    from n1studio.check.parse import MAX_ANSWER_BYTES

    f = _open(path)
    try:
        for lineno, line in enumerate(f, 1):
            if lineno == 1:
                line = line.removeprefix(b"\xef\xbb\xbf")
            if not line.strip():
                continue
            yield (lineno, *_line_answer(line, MAX_ANSWER_BYTES))
    except OSError as exc:
        raise N1Error(f"cannot read {path}: {exc.strerror or exc}") from exc
    finally:
        if f is not sys.stdin.buffer:
            f.close()


def _line_answer(line: bytes, limit: int):
    """What a JSONL line holds to be judged, and its id (None when it has none)."""
    if len(line) > limit:
        return line, None  # the checker refuses it, saying its size
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):
        return line, None  # not JSON: the checker says where
    if not isinstance(obj, dict):
        return line, None
    ident = obj.get("id")
    ident = ident if isinstance(ident, str) or (type(ident) is int) else None
    if "buses" not in obj and "generators" not in obj:
        if "answer" in obj:
            return obj["answer"], ident
        if isinstance(obj.get("text"), str):
            return obj["text"], ident
    return line, ident


def _inputs(args):
    """(source, answer, id) for every answer asked for, in order."""
    stdin_used = False
    for path in list(args.answers) + list(args.jsonl):
        if path == "-":
            if stdin_used:
                raise N1Error("'-' (stdin) can be read only once")
            stdin_used = True
    for path in args.answers:
        yield path, read_answer_bytes(path), None
    for path in args.jsonl:
        for lineno, answer, ident in jsonl_answers(path):
            yield f"{path}:{lineno}", answer, ident


def run(args: argparse.Namespace) -> int:
    from n1studio import pipeline
    from n1studio.check import Tolerances
    from n1studio.grid.cases import load_case

    if not args.answers and not args.jsonl:
        raise N1Error("no answer given: name an ANSWER file ('-' for stdin) or --jsonl FILE")
    tol = Tolerances().with_overrides(args.tol)
    net = load_case(args.case)
    variant = variant_from_args(args, net)
    refs = pipeline.References() if args.no_reference else pipeline.references(variant)
    title = f"{net.name} {variant.label}"

    def judge(answer) -> dict:
        return pipeline.judge(variant, answer, refs=refs, tolerances=tol, repair=args.repair)

    if len(args.answers) == 1 and not args.jsonl:  # one answer: one document, one summary
        verdict = judge(read_answer_bytes(args.answers[0]))
        if args.json:
            from n1studio.schema import emit_json

            emit_json(verdict)
        else:
            sys.stdout.write(summary(verdict, title) + "\n")
        return 0 if verdict["feasible"] else 1

    from n1studio.schema import json_default

    n = feasible = 0
    for source, answer, ident in _inputs(args):
        verdict = judge(answer)
        n += 1
        feasible += bool(verdict["feasible"])
        if args.json:
            verdict["source"] = source
            if ident is not None:
                verdict["id"] = ident
            line = json.dumps(verdict, allow_nan=False, default=json_default)
        else:
            line = f"{source}: {one_line(verdict)}"
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
    if n == 0:
        raise N1Error("no answers: every line of the --jsonl file(s) is blank")
    if not args.json:
        sys.stdout.write(f"{title}: {n} answer{'s' if n != 1 else ''}, {feasible} feasible, "
                         f"{n - feasible} infeasible\n")
    return 0 if feasible == n else 1


def one_line(verdict: dict) -> str:
    """FEASIBLE, or INFEASIBLE with the number of violations and the first one."""
    v = verdict["violations"]
    if verdict["feasible"]:
        return "FEASIBLE"
    first = v[0] if v else None
    text = f"INFEASIBLE ({len(v)} violation{'s' if len(v) != 1 else ''}"
    if first is not None:
        what = first.get("message") or f"{_num(first['value'])} vs limit {_num(first['limit'])}"
        text += f"; {first['constraint']} {first['element']}: {what}"
    return text + ")"


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
                         _num(x["excess"]),
                         unit if x["value"] is not None else x.get("message", "")))
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        for r in rows:
            cells = enumerate(zip(r[:5], widths, strict=True))
            text = "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in cells)
            lines.append("  " + text + ("  " + r[5] if r[5] else ""))
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
    rec = verdict.get("recall") or {}
    if verdict["recalled_n_answer"]:
        lines.append(f"recall: RECALLED — within {rec.get('margin')} of the N case's reference "
                     f"(distance {rec.get('to_n')}; to this variant's own {rec.get('to_own')}): "
                     "it looks like the recalled N answer")
    elif rec.get("verdict") == "own":
        lines.append(f"recall: nearest its own optimum — within {rec.get('margin')} of this "
                     "variant's reference (not by itself feasible or solved)")
    elif rec.get("to_n") is not None:
        why = "" if rec.get("can_tell") else " (this variant cannot tell: its two references " \
            "are nearly the same)"
        lines.append(f"recall: neither — {rec.get('to_n')} from the N reference, "
                     f"{rec.get('to_own')} from its own{why}")
    if "distance_to_feasible" in verdict:
        d = verdict["distance_to_feasible"]
        lines.append("distance to feasibility: " + ("none (no feasible point)" if d is None
                                                    else f"{d:.5f}"))
    for w in verdict.get("warnings") or []:
        lines.append(f"note: {w}")
    return "\n".join(lines)


def _num(x) -> str:
    if x is None:
        return "-"
    return f"{x:.6g}" if abs(x) < 1e6 else f"{x:.4e}"


def _money(x) -> str:
    return "-" if x is None else f"{x:,.2f} $/h"
