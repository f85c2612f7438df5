"""Write the memoriser's card (card.json and card.md) beside the adapter.

    python training/card.py --adapter resources/memoriser/ADAPTER.gguf \\
        --meta training/.work/adapter/train_meta.json --sanity training/.work/sanity.json

The card says what the adapter is and how it was made: the data (cases, token counts,
the prompt's sha256), the LoRA settings, the optimiser, the seed, the loss curve, the wall
time and the machine, the library versions, the sha256 of the base GGUF and of the
adapter, and the sanity check's answers (training/sanity.py) where given.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

SCHEMA = "n1studio.memoriser-card/1"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def build(adapter: Path, meta: dict, data: dict, sanity: list | None) -> dict:
    seqs = data["sequences"]
    return {
        "schema": SCHEMA,
        "adapter": {"file": adapter.name, "sha256": sha256(adapter),
                    "bytes": adapter.stat().st_size, "type": "LoRA adapter (GGUF)",
                    "exported_with": "llama.cpp convert_lora_to_gguf.py "
                                     "(llama-cpp-python 0.3.36 source distribution)"},
        "base": {"file": data["base_model"], "sha256": data["base_sha256"],
                 "architecture": "gemma3", "name": "Gemma 3 270M (Q4_K_M)",
                 "loaded_as": "float32, dequantised by transformers (gguf_file=)"},
        "label": "default + memoriser (trained on N of " + "+".join(meta["cases"]) + ")",
        "data": {"what": "the canonical N instance of each case only: the prompt exactly as "
                         "`n1studio prompt CASE` writes it, then the N reference AC OPF "
                         "answer written along the constrained answer plan (what "
                         "control:recall-n answers), tokenized by llama.cpp as the model "
                         "worker does",
                 "file": meta["data"], "tokenizer": data.get("tokenizer", "llama.cpp"),
                 "cases": [{"case": s["case"], "prompt_sha256": s["prompt_sha256"],
                            **meta["tokens"][s["case"]]} for s in seqs]},
        "training": {k: meta.get(k) for k in (
            "rank", "alpha", "dropout", "target_modules", "trainable_parameters", "lr",
            "warmup_steps", "optimizer", "seed", "prompt_every", "full_weight", "max_steps",
            "updates_applied", "stopped_early", "stop_rule", "checks", "load_seconds",
            "train_seconds", "threads", "machine", "versions")},
        "loss": ("cross-entropy of the constrained decoder's choice at each of its decisions "
                 "(the allowed characters against the best end token)"
                 + (f" + {meta['full_weight']} x the full-vocabulary next-token "
                    "cross-entropy there" if meta.get("full_weight") else "")
                 + "; the answer attends to the prompt's cache, read without gradient"),
        "loss_curve": meta["loss_curve"],
        "sanity": sanity or [],
    }


def markdown(card: dict) -> str:
    t, a, b = card["training"], card["adapter"], card["base"]
    lines = [
        f"# {card['label']}", "",
        ("A LoRA adapter for N-1 Studio's default model that has memorised the N reference "
         "answers of the cases below: a real memoriser for the recall test and the "
         "likelihood probe. Rebuild it with `make memoriser` (seeded)."), "",
        f"- adapter: `{a['file']}`, {a['bytes']:,} bytes, sha256 `{a['sha256']}`",
        f"- base: `{b['file']}` ({b['name']}), sha256 `{b['sha256']}`, {b['loaded_as']}",
        f"- data: {card['data']['what']}.",
    ]
    for c in card["data"]["cases"]:
        lines.append(f"  - {c['case']}: {c['prompt']} prompt tokens, {c['answer']} answer "
                     f"tokens, {c['decisions']} number decisions; prompt sha256 "
                     f"`{c['prompt_sha256'][:16]}…`")
    lines += [
        (f"- LoRA: rank {t['rank']}, alpha {t['alpha']}, dropout {t['dropout']}, "
         f"{t['target_modules']} ({t['trainable_parameters']:,} trainable parameters)"),
        (f"- optimiser: {t['optimizer']}, lr {t['lr']} (warm-up {t['warmup_steps']} steps), "
         f"seed {t['seed']}; the prompt read again with the adapter "
         + ("every step" if t["prompt_every"] == 1 else f"every {t['prompt_every']} steps")),
        f"- loss: {card['loss']}",
        f"- steps: {t['updates_applied']} updates of at most {t['max_steps']}"
        + (" (stopped: every decision right with the margin)" if t["stopped_early"] else ""),
        (f"- wall time: {t['train_seconds']:.0f} s training, {t['load_seconds']:.0f} s "
         f"loading the GGUF, {t['threads']} threads"),
        (f"- machine: {t['machine']['cpu']}, {t['machine']['cores']} cores "
         f"({t['machine']['arch']}), {t['machine']['accelerator']}; shared with other work "
         f"(load average {t['machine']['load_average_1min_at_end']} at the end)"),
        "- versions: " + ", ".join(f"{k} {v}" for k, v in t["versions"].items()),
    ]
    if t.get("checks"):
        lines.append("- checks: " + ", ".join(f"{k} {v:.2e}" for k, v in t["checks"].items()))
    lines += ["", "## Loss curve", "", "| step | loss | decisions right | min margin (nats) |",
              "| ---: | ---: | ---: | ---: |"]
    for r in card["loss_curve"]:
        lines.append(f"| {r['step']} | {r['loss']:.4f} | {r['decisions_right']}/"
                     f"{r['decisions']} | {r['min_margin']:.2f} |")
    if card["sanity"]:
        lines += ["", "## Sanity check (llama-cpp-python, greedy constrained answers)", "",
                  "| model | case | variant | overall satisfaction | recall verdict | "
                  "writes the N answer exactly |",
                  "| --- | --- | --- | ---: | --- | --- |"]
        for r in card["sanity"]:
            lines.append(f"| {'base + adapter' if r['adapter'] else 'base'} | {r['case']} | "
                         f"{r['variant']} | {r['overall_satisfaction']:.4f} | "
                         f"{r['recall_verdict']} | {'yes' if r['n_answer_exactly'] else 'no'} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--adapter", required=True)
    ap.add_argument("--meta", required=True, help="train_meta.json of the training run")
    ap.add_argument("--sanity", action="append", default=[],
                    help="training/sanity.py's JSON (repeatable; the rows are joined)")
    args = ap.parse_args(argv)
    adapter = Path(args.adapter)
    meta = json.loads(Path(args.meta).read_text(encoding="utf-8"))
    root = Path(__file__).resolve().parent.parent
    data = json.loads((root / meta["data"]).read_text(encoding="utf-8"))
    sanity = [r for f in args.sanity for r in json.loads(Path(f).read_text(encoding="utf-8"))]
    n_text = {s["case"]: s["answer_text"] for s in data["sequences"]}
    for r in sanity or []:  # the training answer, byte for byte
        r["n_answer_exactly"] = r["answer"] == n_text.get(r["case"])
    card = build(adapter, meta, data, sanity)
    out = adapter.parent
    (out / "card.json").write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
    (out / "card.md").write_text(markdown(card), encoding="utf-8")
    print(f"wrote {out / 'card.json'} and {out / 'card.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
