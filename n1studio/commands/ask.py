"""`n1studio ask CASE [--out ELEMENT ...] [--model GGUF] [--gpu-layers N] [--free] [--json]`.

Asks a local GGUF model (the default Gemma 3 270M unless --model) to solve the OPF of the
variant, streams the answer as it comes (to stderr, so stdout stays clean), checks it and
prints a summary, or with --json one document {"answer", "verdict", "raw", "prompt",
"stats", ...}. Exit code 0 when the answer is feasible, 1 when it is not, 2 for a user
mistake (unknown case or element, bad model file, bad settings).
"""

from __future__ import annotations

import argparse
import sys

from n1studio.commands.args import (
    add_endpoint_args,
    add_example_arg,
    add_lora_args,
    add_variant_args,
    lora_from_args,
    variant_from_args,
)
from n1studio.llm.runtime import CONSTRAINED, FREE


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ask", help="ask a local GGUF model to solve a variant's OPF, and check it",
                       description="Ask a local GGUF model for the OPF of CASE with the given "
                                   "elements out of service; the answer is checked.")
    add_variant_args(p)
    p.add_argument("--model", metavar="GGUF",
                   help="a GGUF model file (default: $N1STUDIO_MODEL, else the bundled "
                        "Gemma 3 270M)")
    add_lora_args(p)
    add_endpoint_args(p)
    p.add_argument("--gpu-layers", type=int, default=0, metavar="N",
                   help="layers to offload to the GPU (-1 = all; needs a GPU build)")
    p.add_argument("--threads", type=int, default=None, metavar="N",
                   help="CPU threads (default: all cores but one)")
    p.add_argument("--ctx", type=int, default=0, metavar="N",
                   help="context size in tokens (default: sized to the prompt)")
    p.add_argument("--temperature", type=float, default=0.0, metavar="T",
                   help="sampling temperature (0 = greedy, reproducible)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="sampling seed")
    p.add_argument("--max-tokens", type=int, default=2048, metavar="N",
                   help="answer budget in free mode")
    p.add_argument("--free", action="store_true",
                   help="let the model write freely (default: constrained to the answer schema)")
    add_example_arg(p)
    p.add_argument("--template", metavar="FILE", help="a prompt template (Jinja2) to use instead "
                                                     "of resources/prompts/opf_prompt.j2")
    p.add_argument("--no-prompt", action="store_true", help="leave the prompt out of --json")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from n1studio import pipeline
    from n1studio.commands.clients import make_client
    from n1studio.curate.progress import ProgressBar
    from n1studio.errors import N1Error
    from n1studio.grid.cases import load_case
    from n1studio.jobs import JobState, Partial, Progress
    from n1studio.llm.ask import STAT_KEYS
    from n1studio.llm.runtime import ModelSettings
    from n1studio.schema import emit_json

    net = load_case(args.case)
    variant = variant_from_args(args, net)
    template = None
    if args.template:
        try:
            with open(args.template, encoding="utf-8") as fh:
                template = fh.read()
        except OSError as exc:
            raise N1Error(f"cannot read the template {args.template}: {exc.strerror}") from None
    settings = ModelSettings(model_path=None if args.endpoint else args.model,
                             n_gpu_layers=args.gpu_layers, n_ctx=args.ctx,
                             temperature=args.temperature, seed=args.seed,
                             max_tokens=args.max_tokens, mode=FREE if args.free else CONSTRAINED,
                             **lora_from_args(args))
    if args.threads is not None:
        settings.n_threads = args.threads

    err = sys.stderr
    progress = ProgressBar("reading the prompt", delay=0.0, stream=err, unit="tokens",
                           log_every=2.0)
    streaming = {"on": False}

    def report(ev) -> None:
        if isinstance(ev, Progress) and ev.stage == "prompt" and ev.total > 256:
            progress.update(ev.done, ev.total)
        elif isinstance(ev, Partial) and ev.kind == "token" and not args.json:
            if not streaming["on"]:
                streaming["on"] = True
                progress.finish()
                err.write(f"{variant.label}: ")
            err.write(ev.value)
            err.flush()

    state = JobState(report)
    client = make_client(args, settings)
    try:
        res = pipeline.ask(variant, settings, client=client, template=template,
                           example=args.example == "n", state=state)
    except KeyboardInterrupt:
        state.stop()
        raise
    except N1Error:
        if streaming["on"]:  # the error on a line of its own, after the streamed text
            err.write("\n")
            err.flush()
        raise
    finally:
        client.close()
    if args.endpoint:  # what answered: the server's model, not a local file
        res.model = client.label
    progress.finish()
    if streaming["on"]:
        err.write("\n")
        err.flush()
    verdict = res.verdict or {}
    feasible = bool(verdict.get("feasible"))
    if args.json:
        doc = {"answer": res.answer, "verdict": res.verdict, "raw": res.raw,
               "stats": res.stats, "case": args.case, "outages": res.outages,
               "model": res.model, "mode": settings.mode}
        if args.endpoint:
            doc["runtime"] = client.identity()
        if not args.no_prompt:
            doc["prompt"] = res.prompt
        emit_json(doc)
        return 0 if feasible else 1
    st = res.stats
    print(f"{variant.label} of {args.case}, model {res.model} ({settings.mode})")
    print("  " + ", ".join(f"{k} {st.get(k)}" for k in STAT_KEYS))
    if res.answer is None:
        print("  answer: unreadable")
    if verdict:
        sat = verdict.get("overall_satisfaction")
        viol = verdict.get("violations") or []
        print(f"  verdict: {'feasible' if feasible else 'infeasible'}, overall satisfaction "
              f"{sat}, {len(viol)} violation(s)")
        for v in viol[:10]:
            print(f"    {v.get('constraint')} {v.get('element')}: value {v.get('value')}, "
                  f"limit {v.get('limit')}")
        if len(viol) > 10:
            print(f"    ... {len(viol) - 10} more")
        if verdict.get("cost_gap") is not None:
            print(f"  cost gap to the reference: {verdict['cost_gap']:.1%}")
    return 0 if feasible else 1
