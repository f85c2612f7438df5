"""`n1studio prompt CASE [--out ELEMENT ...] [--template FILE]`: the exact prompt, on stdout.

Prints the text a model is sent for the variant (`render_prompt(...).text`, what `ask`
sends and the app's prompt tab shows) and nothing else, so any model anywhere can be
asked and its answer checked with `n1studio check CASE ANSWER.json --out ...`.
"""

from __future__ import annotations

import argparse
import sys

from n1studio.commands.args import add_example_arg, add_variant_args, variant_from_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("prompt", help="print the exact prompt a model is sent for a variant",
                       description="Print the prompt of CASE with the given elements out of "
                                   "service, exactly as `ask` sends it, on stdout.")
    add_variant_args(p)
    add_example_arg(p)
    p.add_argument("--template", metavar="FILE", help="a prompt template (Jinja2) to use instead "
                                                     "of resources/prompts/opf_prompt.j2")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from n1studio import pipeline
    from n1studio.llm.prompt import read_template

    template = read_template(args.template) if args.template else None
    variant = variant_from_args(args)
    sys.stdout.write(pipeline.render(variant, template, example=args.example == "n").text)
    sys.stdout.flush()
    return 0
