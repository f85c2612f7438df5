"""Curation commands: studies (commands/study.py), datasets, batch evaluation; the report by
family is `n1studio.app.commands` (its PNG needs Qt).

    n1studio study new|info|runs|check|annotate STUDY   # commands/study.py
    n1studio dataset build CASE --study STUDY [--kinds line,trafo] [--sample K --seed S]
                           [--feasible-only] [--no-islanding] [--sweep SWEEP.json] [--name NAME]
    n1studio dataset list STUDY
    n1studio dataset export STUDY [--dataset NAME] --out SET.jsonl
    n1studio dataset import SET.jsonl --study STUDY [--name NAME]
    n1studio dataset import DIR --format opfdata --study STUDY   # OPFData examples
    n1studio dataset export STUDY [NAME] --format opfdata|sft|hf --out DIR
    n1studio dataset reprompt STUDY [NAME]         # rebuild prompts older than the renderer
    n1studio eval --study STUDY [--dataset NAME] [--model GGUF ...] [--limit N]  # all datasets
    n1studio report --study STUDY [--dataset NAME] --out DIR [--json]

`eval` is resumable: run it again after a stop or a crash and it carries on where it was.
"""

from __future__ import annotations

import argparse
import sys

from n1studio.commands.args import add_endpoint_args, add_lora_args, lora_from_args
from n1studio.commands.study import quiet_when_stdout_closes
from n1studio.commands.study import register as register_study


def register(sub: argparse._SubParsersAction) -> None:
    register_study(sub)
    _register_dataset(sub)
    _register_eval(sub)


# ---- datasets ---------------------------------------------------------------------------------

def _register_dataset(sub) -> None:
    p = sub.add_parser("dataset", help="build, list, export and import N / N-1 datasets",
                       description="A dataset is the N case of a grid and a selection of its N-1 "
                                   "variants, each with its prompt and reference AC OPF answer.")
    ss = p.add_subparsers(dest="dataset_command", metavar="ACTION")
    q = ss.add_parser("build", help="build a dataset of a grid's N and N-1 cases",
                      description="Solve the reference AC OPF of the N case and of each selected "
                                  "outage, and store them with their prompts as a dataset.")
    q.add_argument("case", metavar="CASE", help="built-in case name or a .json / .m file")
    q.add_argument("--study", required=True, metavar="STUDY",
                   help="the study file (created if missing)")
    q.add_argument("--name", metavar="NAME", help="dataset name (default CASE-n1)")
    q.add_argument("--kinds", default="line,trafo",
                   help="element kinds to take out (default line,trafo; also gen, sgen, load)")
    q.add_argument("--sample", type=int, metavar="K", help="keep K outages drawn at random")
    q.add_argument("--seed", type=int, default=0, metavar="S", help="seed of --sample (default 0)")
    q.add_argument("--feasible-only", action="store_true",
                   help="keep only outages whose AC OPF is feasible")
    q.add_argument("--no-islanding", action="store_true",
                   help="leave out outages that split the grid")
    q.add_argument("--sweep", metavar="SWEEP.json",
                   help="take the outages from a saved sweep (`n1studio sweep --save FILE`), or "
                        "'study' for the grid's latest sweep kept in the study (`sweep --study`)")
    q.add_argument("--status", default="ok,violations",
                   help="with --sweep: statuses to keep (default ok,violations)")
    q.add_argument("--no-n", action="store_true", help="leave the N case out")
    q.add_argument("--family", action="append", default=[], metavar="F",
                   help="a family of variants, each its own split next to N (repeatable; "
                        "default n-1): n-1, n-2, load:0.1, scale:1.1, cost:0.2, relabel, or "
                        "combinations such as n-1+load:0.1; --sample K variants per family")
    q.add_argument("--example", choices=["n"], default=None,
                   help="n: every prompt shows the solved N case as a worked example")
    q.add_argument("--replace", action="store_true", help="replace a dataset of the same name")
    q.add_argument("--workers", type=int, default=None, metavar="N",
                   help="processes solving the references (default: all cores but one)")
    q.add_argument("--ray", metavar="ADDRESS", help="solve the references on the Ray cluster "
                   "at ADDRESS (`local` starts one here; needs the `ray` extra)")
    q.set_defaults(func=run_dataset_build)
    q = ss.add_parser("list", help="the datasets of a study")
    q.add_argument("study", metavar="STUDY")
    q.set_defaults(func=run_dataset_list)
    q = ss.add_parser("export", help="write a dataset as JSONL (one n1studio.case/1 per line), "
                      "OPFData, chat JSONL for fine-tuning (sft) or a Hugging Face folder (hf)")
    q.add_argument("study", metavar="STUDY")
    q.add_argument("name", metavar="NAME", nargs="?", help="which dataset (same as --dataset)")
    q.add_argument("--dataset", metavar="NAME", help="which dataset (default: the latest)")
    q.add_argument("--out", required=True, metavar="PATH",
                   help="the file to write (jsonl) or folder (opfdata, sft, hf)")
    q.add_argument("--format", choices=("jsonl", "opfdata", "sft", "hf"), default="jsonl",
                   help="jsonl (default), opfdata (group_*/example_*.json), sft (chat JSONL "
                        "per split + README.md card), hf (a folder datasets.load_dataset opens)")
    q.add_argument("--split-by", choices=("grid", "family"), default="grid",
                   help="sft/hf: what never crosses between train, validation and test")
    q.add_argument("--fractions", metavar="TRAIN,VAL,TEST", default="0.8,0.1,0.1",
                   help="sft/hf: split fractions (default 0.8,0.1,0.1)")
    q.add_argument("--seed", type=int, default=0, help="sft/hf: seed of the split")
    q.set_defaults(func=run_dataset_export)
    q = ss.add_parser("import", help="read a JSONL dataset or OPFData examples into a study")
    q.add_argument("jsonl", metavar="FILE_OR_DIR")
    q.add_argument("--format", choices=("jsonl", "opfdata"), default="jsonl",
                   help="jsonl (an n1studio.case/1 export) or opfdata (example JSON files)")
    q.add_argument("--no-check", action="store_true",
                   help="opfdata: keep the solutions without judging them (no reference solves)")
    q.add_argument("--study", required=True, metavar="STUDY",
                   help="the study file (created if missing)")
    q.add_argument("--name", metavar="NAME", help="dataset name (default: as in the file)")
    q.add_argument("--replace", action="store_true", help="replace a dataset of the same name")
    q.set_defaults(func=run_dataset_import)
    q = ss.add_parser("reprompt", help="rebuild the stored prompts that differ from a fresh render",
                      description="Datasets built before a prompt fix hold prompts that misstate "
                                  "the grid; this re-renders them in place (references kept).")
    q.add_argument("study", metavar="STUDY")
    q.add_argument("name", metavar="NAME", nargs="?", help="which dataset (default: the latest)")
    q.set_defaults(func=run_dataset_reprompt)
    p.set_defaults(func=lambda a: (p.print_help(), 2)[1])


def run_dataset_build(args) -> int:
    import json

    from n1studio.curate.dataset import build_dataset
    from n1studio.curate.progress import ProgressBar
    from n1studio.curate.study import Study
    from n1studio.errors import N1Error
    from n1studio.grid.cases import load_case

    net = load_case(args.case)
    sweep = None
    if args.sweep == "study":
        with Study.open(args.study) as st:
            sweep = st.latest_sweep(st.add_grid(net, args.case))
        if sweep is None:
            raise N1Error(f"{args.study} keeps no sweep of {args.case} (run `n1studio sweep "
                          f"{args.case} --study {args.study}` first)")
    elif args.sweep:
        try:
            with open(args.sweep, encoding="utf-8") as fh:
                sweep = json.load(fh)
        except (OSError, ValueError) as exc:
            raise N1Error(f"cannot read the sweep {args.sweep}: {exc}") from None
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    bar = ProgressBar("references")
    with Study.open(args.study, create=True) as st, st.writer("dataset build"):
        try:
            ds = build_dataset(st, net, args.case, args.name, kinds=kinds, sample=args.sample,
                               seed=args.seed, feasible_only=args.feasible_only,
                               no_islanding=args.no_islanding, include_n=not args.no_n,
                               sweep=sweep, statuses=tuple(args.status.split(",")),
                               replace=args.replace, families=args.family or None,
                               example=args.example == "n", progress=bar,
                               workers=args.workers, ray=args.ray)
        finally:
            bar.close()
        items = st.dataset_items(ds)
        counts: dict[str, int] = {}
        for it in items:
            counts[it["split"]] = counts.get(it["split"], 0) + 1
        print(f"dataset {st.dataset_name(ds)!r} in {args.study}: {len(items)} cases ("
              + ", ".join(f"{n} {split}" for split, n in counts.items()) + ")")
    return 0


@quiet_when_stdout_closes
def run_dataset_list(args) -> int:
    from n1studio.curate.dataset import stale_warning
    from n1studio.curate.study import Study

    with Study.open(args.study) as st:
        for d in st.datasets():
            counts: dict[str, int] = {}
            for it in st.dataset_items(d["id"]):
                counts[it["split"]] = counts.get(it["split"], 0) + 1
            print(f"{d['name']}: {d['size']} cases ("
                  + ", ".join(f"{n} {split}" for split, n in counts.items()) + f") {d['spec']}")
            _warn(stale_warning(st, d["id"]))
    return 0


def _warn(line: str | None) -> None:
    if line:
        print(f"n1studio: warning: {line}", file=sys.stderr)


def run_dataset_reprompt(args) -> int:
    from n1studio.curate.dataset import reprompt_dataset
    from n1studio.curate.progress import ProgressBar
    from n1studio.curate.study import Study

    bar = ProgressBar("prompts")
    with Study.open(args.study) as st, st.writer("dataset reprompt"):
        ds = st.dataset_id(args.name)
        try:
            n = reprompt_dataset(st, ds, progress=bar)
        finally:
            bar.close()
        print(f"dataset {st.dataset_name(ds)!r}: {n} of {len(st.dataset_items(ds))} prompts "
              "rebuilt")
    return 0


def run_dataset_export(args) -> int:
    from n1studio.curate.dataset import export_jsonl, stale_warning
    from n1studio.curate.study import Study

    with Study.open(args.study) as st:
        ds = st.dataset_id(args.dataset or args.name)
        _warn(stale_warning(st, ds))
        if args.format == "opfdata":
            from n1studio.curate.opfdata import export_opfdata

            n = export_opfdata(st, ds, args.out)
            print(f"wrote {n} OPFData examples of {st.dataset_name(ds)!r} under {args.out}")
            return 0
        if args.format in ("sft", "hf"):
            from n1studio.curate.export import export_split, parse_fractions

            counts = export_split(st, ds, args.out, fmt=args.format, split_by=args.split_by,
                                  fractions=parse_fractions(args.fractions), seed=args.seed)
            shown = ", ".join(f"{k} {v}" for k, v in counts.items())
            print(f"wrote {st.dataset_name(ds)!r} as {args.format} under {args.out} ({shown}; "
                  f"split by {args.split_by})")
            return 0
        n = export_jsonl(st, ds, args.out)
        print(f"wrote {n} records of {st.dataset_name(ds)!r} to {args.out}")
    return 0


def run_dataset_import(args) -> int:
    from n1studio.curate.dataset import import_jsonl
    from n1studio.curate.study import Study

    with Study.open(args.study, create=True) as st, st.writer("dataset import"):
        if args.format == "opfdata":
            from n1studio.curate.opfdata import import_opfdata

            ds = import_opfdata(st, args.jsonl, name=args.name, replace=args.replace,
                                check=not args.no_check)
        else:
            ds = import_jsonl(st, args.jsonl, name=args.name, replace=args.replace)
        print(f"imported {len(st.dataset_items(ds))} cases as dataset {st.dataset_name(ds)!r} "
              f"into {args.study}")
    return 0


# ---- eval -------------------------------------------------------------------------------------

def _register_eval(sub) -> None:
    p = sub.add_parser("eval", help="run GGUF models over a dataset (resumable)",
                       description="Ask each model about each case of the dataset and store the "
                                   "answer and its verdict; cases already answered with the same "
                                   "model (by SHA-256) and settings are skipped, so running it "
                                   "again resumes an interrupted evaluation.")
    p.add_argument("--study", required=True, metavar="STUDY")
    p.add_argument("--dataset", metavar="NAME",
                   help="only this dataset (default: every dataset of the study)")
    p.add_argument("--model", action="append", metavar="GGUF",
                   help="a GGUF model file (repeatable; default: the bundled Gemma 3 270M); "
                        "with --endpoint, the server's model name")
    add_lora_args(p)
    add_endpoint_args(p)
    p.add_argument("--concurrency", type=int, default=1, metavar="N",
                   help="with --endpoint: answers in flight at once (default 1)")
    p.add_argument("--limit", type=int, metavar="N", help="stop after N new runs")
    p.add_argument("--free", action="store_true",
                   help="free-text answers instead of the constrained JSON scaffold")
    p.add_argument("--gpu-layers", type=int, default=0, metavar="N",
                   help="layers to offload to the GPU (-1 = all)")
    p.add_argument("--threads", type=int, default=None, metavar="N", help="CPU threads")
    p.add_argument("--temperature", type=float, default=0.0, metavar="T")
    p.add_argument("--seed", type=int, default=0, metavar="S")
    p.add_argument("--json", action="store_true", help="print a JSON summary at the end")
    p.add_argument("--repair", action="store_true",
                   help="judge each answer with its distance to feasibility too")
    p.add_argument("--likelihood", action="store_true",
                   help="a local model: store each new run's likelihood probe too (ll_n, "
                        "ll_own, delta_ll; see n1studio likelihood)")
    p.set_defaults(func=run_eval_cmd)


def run_eval_cmd(args) -> int:
    from n1studio.curate.evaluate import run_eval_datasets
    from n1studio.curate.progress import ProgressBar
    from n1studio.curate.study import Study
    from n1studio.jobs import JobState, Partial, Progress
    from n1studio.llm.runtime import CONSTRAINED, FREE, ModelSettings

    kw = {"n_gpu_layers": args.gpu_layers, "temperature": args.temperature, "seed": args.seed,
          "mode": FREE if args.free else CONSTRAINED, **lora_from_args(args)}
    if args.threads:
        kw["n_threads"] = args.threads
    settings = ModelSettings(**kw)
    bar = ProgressBar("eval", delay=0.0)

    def report(ev) -> None:
        if isinstance(ev, Progress):
            bar(ev.done, ev.total, ev.text)
        elif isinstance(ev, Partial) and ev.kind == "run" and not bar.enabled:
            r = ev.value
            v = r["verdict"] or {}
            print(f"run {r['run_id']}: {r['model']} {r['variant']} feasible="
                  f"{bool(v.get('feasible'))} satisfaction={v.get('overall_satisfaction')}",
                  file=sys.stderr)

    state = JobState(report)
    models, server = args.model or [None], None
    if args.endpoint:
        from n1studio.commands.clients import make_client
        from n1studio.errors import OptionError

        if not args.model or len(args.model) != 1:
            raise OptionError("--endpoint takes one --model NAME: the server's model name")
        server_args = argparse.Namespace(endpoint=args.endpoint, model=args.model[0],
                                         chat=args.chat, api_key_env=args.api_key_env,
                                         timeout=args.timeout, constrained=args.constrained,
                                         idle_timeout=args.idle_timeout, retries=args.retries)
        models = []

        def server():
            return make_client(server_args, settings)

    with Study.open(args.study) as st, st.writer("eval"):  # one evaluation at a time
        ids = ([st.dataset_id(args.dataset)] if args.dataset
               else [d["id"] for d in st.datasets()] or [st.dataset_id(None)])
        names = ", ".join(st.dataset_name(i) for i in ids)
        print(f"evaluating {len(ids)} dataset(s) of {args.study}: {names}",
              file=sys.stderr if args.json else sys.stdout, flush=True)
        try:
            summary = run_eval_datasets(st, ids, models, settings, limit=args.limit,
                                        repair=args.repair, state=state, server=server,
                                        concurrency=args.concurrency,
                                        likelihood=args.likelihood)
        except KeyboardInterrupt:
            state.stop()
            bar.close()
            print("n1studio: evaluation stopped; finished runs are saved, run the same command "
                  "to resume", file=sys.stderr)
            return 130
        finally:
            bar.close()
    if args.json:
        from n1studio.schema import emit_json

        emit_json(summary.to_dict())
    else:
        per = "; ".join(f"{d['name']}: {d['done']} new, {d['skipped']} already there"
                        for d in summary.datasets)
        print(f"{summary.done} new run(s), {summary.skipped} already in the study, "
              f"{summary.seconds:.0f} s" + (" (stopped)" if summary.cancelled else "")
              + (f" ({per})" if len(summary.datasets) > 1 else ""))
    return 0
