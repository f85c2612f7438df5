"""Arguments several commands share."""

from __future__ import annotations

import argparse

from n1studio.llm.endpoint_limits import DEFAULT_IDLE_S, DEFAULT_RETRIES, DEFAULT_TIMEOUT_S


def add_variant_args(p: argparse.ArgumentParser) -> None:
    """CASE and repeatable --out ELEMENT: the variant a command works on."""
    p.add_argument("case", metavar="CASE", help="built-in case name or a .json / .m file")
    p.add_argument("--out", metavar="ELEMENT", action="append", default=[],
                   help="take ELEMENT out of service, e.g. line:3 (repeatable)")
    g = p.add_argument_group("perturbations (seeded, reproducible; see README)")
    g.add_argument("--load-scale", type=float, default=1.0, metavar="F",
                   help="every load's P and Q times F")
    g.add_argument("--load-noise", type=float, default=0.0, metavar="S",
                   help="each load times its own factor uniform in [1-S, 1+S]")
    g.add_argument("--cost-noise", type=float, default=0.0, metavar="S",
                   help="each generator's c1 and c2 times its own factor in [1-S, 1+S]")
    g.add_argument("--relabel", action="store_true",
                   help="the same grid under permuted names and shuffled rows")
    g.add_argument("--perturb-seed", type=int, default=0, metavar="N",
                   help="seed of the perturbations (default 0)")


def perturbation_from_args(args: argparse.Namespace):
    """The Perturbation the command line asks for (a bad value: one line, exit 2)."""
    from n1studio.grid.perturb import Perturbation

    return Perturbation(load_scale=args.load_scale, load_noise=args.load_noise,
                        cost_noise=args.cost_noise, relabel=args.relabel,
                        seed=args.perturb_seed)


def variant_from_args(args: argparse.Namespace, net=None):
    """CASE (or the given net) with --out and the perturbations applied."""
    from n1studio.grid.cases import load_case
    from n1studio.grid.variant import Variant

    net = load_case(args.case) if net is None else net
    return Variant(net, args.out, perturbation_from_args(args))


def add_example_arg(p: argparse.ArgumentParser) -> None:
    """--example n: the solved N case written into the prompt as a worked example."""
    p.add_argument("--example", choices=["n"], default=None,
                   help="n: show the solved N case in the prompt as a worked example (a "
                        "control for copying)")


def add_endpoint_args(p: argparse.ArgumentParser) -> None:
    """--endpoint URL and how to talk to it (ask and eval): with it, --model names the
    server's model."""
    p.add_argument("--endpoint", metavar="URL", help="ask an OpenAI-compatible server (vLLM, "
                   "llama.cpp's server, ...) at URL; --model then names its model")
    p.add_argument("--constrained", choices=["grammar", "regex", "scaffold"], default="grammar",
                   help="with --endpoint: how the answer is held to the schema: one GBNF "
                        "grammar (llama.cpp's server; default), one regex (vLLM's structured "
                        "outputs) or a number at a time (llama.cpp, prefix cache)")
    p.add_argument("--chat", action="store_true", help="with --endpoint: use "
                   "/v1/chat/completions (the server applies the model's chat template)")
    p.add_argument("--api-key-env", metavar="NAME", help="with --endpoint: the environment "
                   "variable that holds the API key (the key is never printed or stored)")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, metavar="S",
                   help="with --endpoint: seconds one answer may take in all, retries and "
                        f"time queued on the server included (default {DEFAULT_TIMEOUT_S:g})")
    p.add_argument("--idle-timeout", type=float, default=DEFAULT_IDLE_S, metavar="S",
                   help="with --endpoint: seconds the server may send nothing, time queued "
                        f"included (default {DEFAULT_IDLE_S:g}, at most --timeout)")
    p.add_argument("--retries", type=int, default=DEFAULT_RETRIES, metavar="N",
                   help="with --endpoint: retries of one answer in all, for HTTP 429/5xx and "
                        f"dropped connections (default {DEFAULT_RETRIES})")


def add_lora_args(p: argparse.ArgumentParser) -> None:
    """--lora ADAPTER.gguf [--lora-scale S]: a LoRA adapter on the local model."""
    p.add_argument("--lora", metavar="ADAPTER.gguf",
                   help="a LoRA adapter GGUF (llama.cpp's convert_lora_to_gguf.py) applied to "
                        "the local model; for a server, serve the adapter there (vLLM "
                        "--lora-modules NAME=PATH) and pass --model NAME")
    p.add_argument("--lora-scale", type=float, default=1.0, metavar="S",
                   help="the adapter's scale (default 1; 0 gives the base model's answers)")


def lora_from_args(args: argparse.Namespace) -> dict:
    """The ModelSettings fields of --lora / --lora-scale (one line, exit 2, with --endpoint)."""
    from n1studio.errors import OptionError

    lora = getattr(args, "lora", None)
    if lora and getattr(args, "endpoint", None):
        raise OptionError("--lora applies to a local GGUF model; serve the adapter on the "
                          "server (vLLM --lora-modules NAME=PATH) and name it with --model NAME")
    return {"lora_path": lora, "lora_scale": getattr(args, "lora_scale", 1.0)} if lora else {}
