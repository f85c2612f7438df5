"""Check a memoriser adapter directly with llama-cpp-python, outside the app's runtime.

Run with the project's environment:

    .venv/bin/python training/sanity.py --adapter ADAPTER.gguf --case case14 \\
        --variant "" --variant line:6 --json out.json

For each variant (no outage for the N case, or `--out` elements separated by commas) it
loads the default GGUF with the adapter (and, with --base-too, without it), writes the
greedy constrained answer the way the model worker does (the plan's fixed text evaluated,
the numbers chosen one character at a time among the allowed ones, a number ending when
the best end token beats every allowed character), and judges it with the project's
checker against the references (`n1studio.pipeline.judge`): the overall satisfaction and
the recall verdict.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from n1studio import pipeline
from n1studio.grid.cases import load_case
from n1studio.grid.variant import Variant
from n1studio.llm.prompt import render_prompt
from n1studio.llm.runtime import default_model_path
from n1studio.llm.scaffold import NumberState, answer_plan

END_TEXTS = (",", "}", "},", "}]", ",\n")


class Decoder:
    """Greedy constrained answers from one llama.cpp model (with or without an adapter)."""

    def __init__(self, adapter: str | None, threads: int):
        import llama_cpp

        kw = {"lora_path": adapter} if adapter else {}
        self.llama = llama_cpp.Llama(model_path=str(default_model_path()), n_ctx=8192,
                                     n_batch=512, n_threads=threads, swa_full=True,
                                     verbose=False, **kw)
        one = self.one
        self.char = {c: one(c) for c in "0123456789.-"}
        self.end = [i for i in (one(t) for t in END_TEXTS) if i is not None]

    def ids(self, text: str, bos: bool) -> list[int]:
        return self.llama.tokenize(text.encode("utf-8"), add_bos=bos, special=False)

    def one(self, text: str) -> int | None:
        ids = self.ids(text, bos=False)
        return ids[0] if len(ids) == 1 else None

    def logits(self) -> np.ndarray:
        """The last evaluated token's logits (as the worker reads them: llama.cpp keeps
        only those without logits_all)."""
        import llama_cpp

        ptr = llama_cpp.llama_get_logits_ith(self.llama.ctx, -1)
        return np.ctypeslib.as_array(ptr, shape=(self.llama.n_vocab(),))

    def answer(self, prompt) -> str:
        llama = self.llama
        tokens = self.ids(prompt.text, bos=True)
        # keep what the context already holds of this prompt (the grid's shared part)
        have = list(llama.input_ids[: llama.n_tokens])
        keep = 0
        while keep < min(len(have), len(tokens) - 1) and have[keep] == tokens[keep]:
            keep += 1
        if keep == 0 or not llama._ctx.kv_cache_seq_rm(-1, keep, -1):
            keep = 0
            llama.reset()
            llama._ctx.kv_cache_clear()
        llama.n_tokens = keep
        llama.eval(tokens[keep:])
        out = []
        for seg in answer_plan(prompt):
            if seg[0] == "t":
                llama.eval(self.ids(seg[1], bos=False))
                out.append(seg[1])
                continue
            num = NumberState(bool(seg[1]), int(seg[2]), int(seg[3]))
            while True:
                chars, can_end = num.allowed()
                if not chars and can_end:
                    break
                lg = self.logits()
                cand = [lg[self.char[c]] for c in chars]
                if can_end and max(lg[self.end]) >= max(cand, default=-np.inf):
                    break
                ch = chars[int(np.argmax(cand))]
                num.push(ch)
                llama.eval([self.char[ch]])
                out.append(ch)
        return "".join(out)


def variant_of(case: str, out: str) -> Variant:
    return Variant(load_case(case), [e for e in out.split(",") if e])


def run(decoder: Decoder, case: str, out: str) -> dict:
    variant = variant_of(case, out)
    t0 = time.perf_counter()
    text = decoder.answer(render_prompt(variant))
    wall = time.perf_counter() - t0
    verdict = pipeline.judge(variant, json.loads(text))
    rec = verdict.get("recall") or {}
    return {"case": case, "variant": variant.label, "answer": text,
            "overall_satisfaction": verdict["overall_satisfaction"],
            "recall_verdict": rec.get("verdict"), "to_n": rec.get("to_n"),
            "to_own": rec.get("to_own"), "can_tell": rec.get("can_tell"),
            "seconds": round(wall, 1)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--adapter", required=True)
    ap.add_argument("--case", action="append", required=True)
    ap.add_argument("--variant", action="append", default=None,
                    help="elements out of service, comma-separated ('' = the N case)")
    ap.add_argument("--base-too", action="store_true", help="also answer without the adapter")
    ap.add_argument("--base-only", action="store_true", help="answer without the adapter only")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args(argv)
    variants = args.variant if args.variant is not None else [""]
    results = []
    models = [None] if args.base_only else [args.adapter] + ([None] if args.base_too else [])
    for adapter in models:
        dec = Decoder(adapter, args.threads)
        for case in args.case:
            for out in variants:
                r = {"adapter": bool(adapter), **run(dec, case, out)}
                results.append(r)
                print(f"{'adapter' if adapter else 'base   '} {case} {r['variant']}: overall "
                      f"satisfaction {r['overall_satisfaction']:.4f}, recall "
                      f"{r['recall_verdict']} ({r['seconds']} s)", file=sys.stderr, flush=True)
        dec.llama.close()
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=1)
            fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
