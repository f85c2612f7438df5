"""`n1studio study`: make, describe, list, check and annotate a study file.

    n1studio study new|info|runs STUDY             # make / describe a study file
    n1studio study check STUDY                     # SQLite integrity check + JSON columns
    n1studio study annotate STUDY --run ID [--tag T] [--note TEXT] [--keep|--reject]

Each prints to stdout and ends quietly when its reader stops early (`| head`).
"""

from __future__ import annotations

import functools
import os
import select
import sys

# ---- a reader that stops early (`| head`) -------------------------------------------------------

def _stdout_closed() -> bool:
    """Whether stdout is a pipe whose reader has gone (poll says POLLERR on its write end);
    True where poll is missing (a BrokenPipeError there is stdout's, as a rule)."""
    if not hasattr(select, "poll"):  # pragma: no cover - Windows
        return True
    try:
        poll = select.poll()
        poll.register(sys.stdout.fileno(), select.POLLOUT)
        return any(ev & (select.POLLERR | select.POLLHUP) for _, ev in poll.poll(0))
    except (OSError, ValueError, AttributeError):
        return False


def quiet_when_stdout_closes(func):
    """`n1studio study info S | head -1`: when the reader of stdout stops early, the command
    ends quietly with exit 0, as Unix tools do (a broken pipe elsewhere, e.g. to a model
    server, is still an error). Python's own advice: point stdout at devnull, so the final
    flush at exit does not fail again."""
    @functools.wraps(func)
    def run(args) -> int:
        try:
            code = func(args)
            sys.stdout.flush()  # a closed pipe is found here, not at exit
            return code
        except BrokenPipeError:
            if not _stdout_closed():
                raise
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 0
    return run


# ---- study ------------------------------------------------------------------------------------

def register(sub) -> None:
    p = sub.add_parser("study", help="make or describe a study file (SQLite)",
                       description="A study keeps grids, variants, reference solutions, model "
                                   "runs and annotations in one SQLite file.")
    ss = p.add_subparsers(dest="study_command", metavar="ACTION")
    q = ss.add_parser("new", help="create an empty study file")
    q.add_argument("study", metavar="STUDY", help="the study file to create, e.g. my.n1study")
    q.set_defaults(func=run_study_new)
    q = ss.add_parser("info", help="what a study holds")
    q.add_argument("study", metavar="STUDY")
    q.add_argument("--json", action="store_true", help="print one JSON document")
    q.set_defaults(func=run_study_info)
    q = ss.add_parser("runs", help="list the model runs of a study")
    q.add_argument("study", metavar="STUDY")
    q.add_argument("--dataset", metavar="NAME", help="only the runs of this dataset")
    q.add_argument("--json", action="store_true", help="print one JSON document")
    q.set_defaults(func=run_study_runs)
    q = ss.add_parser("annotate", help="tag, note, keep or reject a run or a variant")
    q.add_argument("study", metavar="STUDY")
    target = q.add_mutually_exclusive_group(required=True)
    target.add_argument("--run", type=int, metavar="ID", help="the run id (see `study runs`)")
    target.add_argument("--variant", type=int, metavar="ID", help="the variant id")
    q.add_argument("--tag", action="append", metavar="TAG", help="a tag (repeatable; replaces)")
    q.add_argument("--note", metavar="TEXT", help="a free-text note")
    dec = q.add_mutually_exclusive_group()
    dec.add_argument("--keep", action="store_true", help="mark it kept")
    dec.add_argument("--reject", action="store_true", help="mark it rejected")
    q.set_defaults(func=run_study_annotate)
    q = ss.add_parser("check", help="check a study file for damage",
                      description="SQLite's integrity check, the tables the schema needs, "
                                  "references between rows and every JSON column; read-only. "
                                  "Exit 0 when nothing is wrong, 1 when something is.")
    q.add_argument("study", metavar="STUDY")
    q.set_defaults(func=run_study_check)
    p.set_defaults(func=lambda a: (p.print_help(), 2)[1])


@quiet_when_stdout_closes
def run_study_check(args) -> int:
    from n1studio.curate.study import SCHEMA_VERSION, inspect_study

    found = inspect_study(args.study)
    problems = found["problems"]
    if not problems:
        print(f"{args.study}: ok (SQLite integrity check, schema, references, JSON columns)")
        if found["needs_migration"]:
            print(f"{args.study}: needs migrating: study schema version {found['version']}, "
                  f"this N-1 Studio writes {SCHEMA_VERSION}; it is upgraded in place the next "
                  f"time a command opens it for writing (e.g. `n1studio study info "
                  f"{args.study}`)")
        return 0
    for line in problems:
        print(line)
    print(f"{args.study}: {len(problems)} problem(s) found", file=sys.stderr)
    return 1


@quiet_when_stdout_closes
def run_study_new(args) -> int:
    from pathlib import Path

    from n1studio.curate.study import Study
    from n1studio.errors import StudyError

    if Path(args.study).expanduser().exists():
        raise StudyError(f"{args.study} already exists (use `n1studio study info {args.study}`)")
    with Study.open(args.study, create=True) as st:
        print(f"created study {st.path} (schema version {st.version})")
    return 0


@quiet_when_stdout_closes
def run_study_info(args) -> int:
    from n1studio.curate.study import Study

    with Study.open(args.study) as st:
        info = st.info()
    if args.json:
        from n1studio.schema import emit_json

        emit_json(info)
        return 0
    out = [f"study {info['path']} (schema {info['schema_version']})",
           (f"grids: {len(info['grids'])}   variants: {info['variants']}   references: "
            f"{info['solutions']}   runs: {info['runs']}   annotations: {info['annotations']}   "
            f"sweeps: {info['sweeps']}")]
    for g in info["grids"]:
        out.append(f"  grid {g['id']}: {g['name']} from {g['source']} ({g['content_hash'][:12]})")
    for d in info["datasets"]:
        fams = ", ".join(f"{n} {f}" for f, n in d["families"].items()) or "empty"
        out.append(f"  dataset {d['name']!r}: {d['size']} cases ({fams})")
    for m in info["models"]:
        out.append(f"  model {m['file_name']} sha256 {m['sha256'][:16]} ({m['size'] / 1e6:.0f} MB)")
    print("\n".join(out))
    return 0


@quiet_when_stdout_closes
def run_study_runs(args) -> int:
    from n1studio.curate.study import Study

    with Study.open(args.study) as st:
        ds = st.dataset_id(args.dataset) if args.dataset else None
        runs = st.runs(ds)
        notes = {r["id"]: st.annotation("run", r["id"]) for r in runs}
    if args.json:
        from n1studio.schema import emit_json

        emit_json({"runs": [{k: r[k] for k in ("id", "grid", "label", "split", "model",
                                               "model_sha256", "verdict", "stats", "cancelled")}
                            | {"annotation": notes[r["id"]]} for r in runs]})
        return 0
    if not runs:
        print("no runs yet (n1studio eval --study ...)")
        return 0
    rows = []
    for r in runs:
        v = r["verdict"] or {}
        gap = v.get("cost_gap")
        a = notes[r["id"]]
        rows.append([str(r["id"]), r["grid"], r["split"], r["label"], r["model"],
                     "yes" if v.get("feasible") else "no",
                     f"{100 * (v.get('overall_satisfaction') or 0):.1f}%",
                     "" if gap is None else f"{100 * gap:.1f}%",
                     " ".join(filter(None, [a["decision"] or "", ",".join(a["tags"]),
                                            a["note"]]))])
    head = ["ID", "GRID", "FAMILY", "VARIANT", "MODEL", "FEAS", "SATISF", "GAP", "NOTE"]
    # columns as wide as their longest value: no grid, family or model name is ever cut
    width = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    right = {0, 6, 7}
    for row in [head, *rows]:
        print("  ".join(c.rjust(width[i]) if i in right else c.ljust(width[i])
                        for i, c in enumerate(row)).rstrip())
    return 0


@quiet_when_stdout_closes
def run_study_annotate(args) -> int:
    from n1studio.curate.study import Study

    target, tid = ("run", args.run) if args.run is not None else ("variant", args.variant)
    decision = "keep" if args.keep else "reject" if args.reject else None
    with Study.open(args.study) as st:
        if target == "run" and not st.run_exists(tid):
            from n1studio.errors import StudyError

            raise StudyError(f"{args.study} has no run {tid} (see `n1studio study runs`)")
        if target == "variant":
            st.variant(tid)
        st.annotate(target, tid, tags=args.tag, note=args.note, decision=decision)
        print(f"{target} {tid}: {st.annotation(target, tid)}")
    return 0
