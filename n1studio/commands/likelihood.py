"""`n1studio likelihood CASE [--out ...] [--model M] [--lora A] [--json]`.

The likelihood probe (SPEC.md "Likelihood"): the model's mean log-probability per token
of the N case's reference answer and of the variant's own, each written as an answer to
the variant's prompt; `delta_ll = ll_n - ll_own` > 0 means the model prefers the N answer.
Prints one line per number, or with --json one `n1studio.likelihood/1` document holding
the scored texts (anyone can recompute them). Exit 0; 2 for a user mistake (unknown case
or element, bad model or adapter, a server without prompt log-probabilities).
"""

from __future__ import annotations

import argparse

from n1studio.commands.args import (
    add_endpoint_args,
    add_example_arg,
    add_lora_args,
    add_variant_args,
    lora_from_args,
    variant_from_args,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("likelihood", help="how much more probable the model finds the N answer "
                                          "than the variant's own (nats per token)",
                       description="The likelihood probe: the model's mean log-probability per "
                                   "token of the N reference answer and of the variant's own "
                                   "reference answer, each written as an answer to the "
                                   "variant's prompt.")
    add_variant_args(p)
    p.add_argument("--model", metavar="GGUF", help="a GGUF model file (default: "
                   "$N1STUDIO_MODEL, else the bundled Gemma 3 270M); with --endpoint, the "
                   "server's model name")
    add_lora_args(p)
    add_endpoint_args(p)
    p.add_argument("--gpu-layers", type=int, default=0, metavar="N",
                   help="layers to offload to the GPU (-1 = all; needs a GPU build)")
    p.add_argument("--threads", type=int, default=None, metavar="N",
                   help="CPU threads (default: all cores but one)")
    add_example_arg(p)
    p.add_argument("--template", metavar="FILE", help="a prompt template (Jinja2) instead of "
                                                     "resources/prompts/opf_prompt.j2")
    p.add_argument("--no-prompt", action="store_true", help="leave the prompt out of --json")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from n1studio import pipeline
    from n1studio.commands.clients import make_client
    from n1studio.controls import is_control
    from n1studio.errors import OptionError
    from n1studio.grid.cases import load_case
    from n1studio.llm.likelihood import likelihood
    from n1studio.llm.prompt import read_template
    from n1studio.llm.runtime import ModelSettings, validate_settings
    from n1studio.schema import emit_json

    if is_control(args.model):
        raise OptionError(f"{args.model} is a control: it writes answers, it has no "
                          "probabilities to compare")
    settings = ModelSettings(model_path=None if args.endpoint else args.model,
                             n_gpu_layers=args.gpu_layers, **lora_from_args(args))
    if args.threads is not None:
        settings.n_threads = args.threads
    if not args.endpoint:  # a bad model or adapter: one line before any solve
        settings = validate_settings(settings)
    template = read_template(args.template) if args.template else None
    variant = variant_from_args(args, load_case(args.case))
    prompt = pipeline.render(variant, template, example=args.example == "n")
    refs = pipeline.references(variant)
    n_answer = refs.own_answer if variant.is_base else refs.n_answer
    client = make_client(args, settings)
    try:
        res = likelihood(variant, prompt, n_answer, refs.own_answer, settings, client=client)
    finally:
        client.close()
    if args.json:
        doc = res.to_dict(with_prompt=not args.no_prompt)
        doc["case"] = args.case
        emit_json(doc)
        return 0
    st = res.stats
    print(f"{res.variant} of {args.case}, model {res.model}")
    print(f"  ll_n   {res.ll_n:+.4f} nats/token over {res.n_tokens_n} tokens (the N answer)")
    print(f"  ll_own {res.ll_own:+.4f} nats/token over {res.n_tokens_own} tokens (its own)")
    print(f"  delta_ll {res.delta_ll:+.4f}: {res.summary()}")
    if st.get("wall_s") is not None:
        print(f"  prompt {st.get('prompt_tokens')} tokens ({st.get('prompt_state')}, "
              f"{st.get('prompt_s')} s), scored {st.get('scored_tokens')} tokens in "
              f"{st.get('score_s')} s")
    return 0
