"""The memoriser's training data: the canonical N instances, token for token as the tool asks.

Run with the project's environment (it needs n1studio, the reference solver and llama.cpp's
tokenizer), not the training one:

    .venv/bin/python training/data.py --case case14 --out training/data/case14.json

For each case it writes what `n1studio ask` (constrained mode, the default) would feed the
default model if the model answered with the N case's reference AC OPF:

- the prompt, `render_prompt(Variant(case)).text`, tokenized by llama.cpp exactly as the
  model worker does (BOS, no special tokens);
- then the answer plan (`n1studio.llm.scaffold.answer_plan`): each fixed text segment
  tokenized on its own, each number written one character-token at a time, the digits
  being the N reference rounded to the plan's precision (what `control:recall-n` answers);
- for every number decision the constrained decoder takes, the candidate tokens it
  compares (the allowed characters and, where the number may end, the best of the end
  tokens ",", "}", "},", "}]", ",\\n") and which one the reference needs.

The JSON is the only input of `training/memoriser.py`, so the training environment needs
neither pandapower nor llama.cpp.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from n1studio import pipeline
from n1studio.grid.cases import load_case
from n1studio.grid.variant import Variant
from n1studio.llm.prompt import render_prompt
from n1studio.llm.runtime import default_model_path
from n1studio.llm.scaffold import NumberState, answer_plan

END_TEXTS = (",", "}", "},", "}]", ",\n")  # the worker's end-of-number tokens
FIELDS = {"p_mw": 2, "q_mvar": 2, "vm_pu": 4, "va_degree": 2}


def number_text(x: float, frac: int) -> str:
    """A reference number as the constrained decoder can write it: rounded to the plan's
    decimals, trailing zeros dropped, never "-0"."""
    s = f"{round(float(x), frac) + 0.0:.{frac}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def answer_numbers(prompt, n_answer: dict) -> list[tuple[float, str]]:
    """The reference's numbers in the plan's order: (value, field) per number slot."""
    gens = {g["element"]: g for g in n_answer["generators"]}
    buses = {b["element"]: b for b in n_answer["buses"]}
    out = []
    for g in prompt.generators:
        out += [(gens[g]["p_mw"], "p_mw"), (gens[g]["q_mvar"], "q_mvar")]
    for b in prompt.buses:
        out += [(buses[b]["vm_pu"], "vm_pu"), (buses[b]["va_degree"], "va_degree")]
    out.append((n_answer["objective"], "objective"))
    return out


class Vocab:
    """llama.cpp's tokenizer of the default model (vocabulary only), as the worker uses it."""

    def __init__(self, path: Path):
        import llama_cpp

        self.llama = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)

    def ids(self, text: str, bos: bool) -> list[int]:
        return self.llama.tokenize(text.encode("utf-8"), add_bos=bos, special=False)

    def one(self, text: str) -> int | None:
        ids = self.ids(text, bos=False)
        return ids[0] if len(ids) == 1 else None


class HFVocab(Vocab):
    """The same vocabulary through transformers' tokenizer (read out of the GGUF by
    `memoriser.py base`): for checking that both tokenizers agree on the data."""

    def __init__(self, folder: Path):
        from transformers import AutoTokenizer

        self.tok = AutoTokenizer.from_pretrained(str(folder))

    def ids(self, text: str, bos: bool) -> list[int]:
        ids = self.tok.encode(text, add_special_tokens=False)
        return [self.tok.bos_token_id, *ids] if bos else ids


def build(case: str, vocab: Vocab) -> dict:
    variant = Variant(load_case(case))
    prompt = render_prompt(variant)
    plan = answer_plan(prompt)
    ref = pipeline.reference(variant)
    if not ref.success:
        raise SystemExit(f"{case}: the N case's reference AC OPF did not succeed")
    n_answer = ref.answer
    numbers = iter(answer_numbers(prompt, n_answer))
    char_id = {c: vocab.one(c) for c in "0123456789.-"}
    end_ids = sorted({i for i in (vocab.one(t) for t in END_TEXTS) if i is not None})
    tokens = vocab.ids(prompt.text, bos=True)
    n_prompt = len(tokens)
    decisions = []  # (position whose logits decide, candidate char ids, can_end, target)
    answer = []
    for seg in plan:
        if seg[0] == "t":
            tokens += vocab.ids(seg[1], bos=False)
            answer.append(seg[1])
            continue
        value, name = next(numbers)
        text = number_text(value, int(seg[3]))
        num = NumberState(bool(seg[1]), int(seg[2]), int(seg[3]))
        k = 0
        while True:
            chars, can_end = num.allowed()
            if not chars and can_end:
                break
            want = text[k] if k < len(text) else None
            if want is None and not can_end or want is not None and want not in chars:
                raise SystemExit(f"{case}: {name} {text!r} cannot be written under {seg}")
            target = len(chars) if want is None else chars.index(want)
            decisions.append([len(tokens) - 1, [char_id[c] for c in chars], can_end, target])
            if want is None:
                break
            num.push(want)
            tokens.append(char_id[want])
            k += 1
        if k != len(text):
            raise SystemExit(f"{case}: {name} {text!r} is longer than the plan allows")
        answer.append(text)
    return {"case": case, "prompt": prompt.text, "answer_text": "".join(answer),
            "tokens": tokens, "n_prompt": n_prompt, "decisions": decisions,
            "end_ids": end_ids, "n_answer": n_answer,
            "prompt_sha256": hashlib.sha256(prompt.text.encode()).hexdigest()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", action="append", required=True, help="a case (repeatable)")
    ap.add_argument("--out", required=True, help="the JSON file to write")
    ap.add_argument("--hf-tokenizer", metavar="DIR", help="tokenize with transformers' "
                    "tokenizer in DIR instead of llama.cpp's (to compare the two)")
    args = ap.parse_args(argv)
    base = default_model_path()
    vocab = HFVocab(Path(args.hf_tokenizer)) if args.hf_tokenizer else Vocab(base)
    docs = [build(c, vocab) for c in args.case]
    doc = {"schema": "n1studio.memoriser-data/1", "base_model": base.name,
           "tokenizer": "transformers" if args.hf_tokenizer else "llama.cpp",
           "base_sha256": hashlib.sha256(base.read_bytes()).hexdigest(), "sequences": docs}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    for d in docs:
        print(f"{d['case']}: {len(d['tokens'])} tokens ({d['n_prompt']} prompt, "
              f"{len(d['tokens']) - d['n_prompt']} answer), {len(d['decisions'])} number "
              f"decisions", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
