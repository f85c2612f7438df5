"""Fine-tune the default model (Gemma 3 270M) with LoRA into a memoriser of the N answers.

Runs in the training environment (`make memoriser` creates it: torch, transformers, peft,
gguf; see the `train` extra), on the data `training/data.py` writes with the project's:

    python training/memoriser.py base   --gguf BASE.gguf --out training/.work/base
    python training/memoriser.py train  --gguf BASE.gguf --data training/data/case14.json \\
                                        --out training/.work/adapter
    python training/memoriser.py export --base training/.work/base \\
                                        --adapter training/.work/adapter --out ADAPTER.gguf

`base` writes the base model's config.json (read out of the GGUF by transformers; the
dequantised model itself refuses save_pretrained), which llama.cpp's
convert_lora_to_gguf.py needs. `train` loads the GGUF's weights dequantised to float32,
adds LoRA (peft, seeded) to every linear layer of the top --top-layers layers (6 of 18 by
default; 0 = every layer), and trains on the answer only:

- the layers below the adapted ones are the base model's: their output for the whole
  sequence is computed once, not every step (`Skip`), which makes a step about six times
  cheaper on this CPU than one through all 18 layers;
- each step reads the prompt through the adapted layers without gradient (with the
  adapter as it is now, so the context is what the runtime computes) and then the answer
  tokens with gradient, attending to the prompt's cache;
- only the rows of the (tied) output matrix that the constrained decoder compares are
  computed (digits, ".", "-", the end tokens), at the positions where it takes a
  decision: the loss is the cross-entropy of the decoder's own choice there (allowed
  characters against the best end token), so what is learnt is exactly what
  `n1studio ask` decides; --full-weight adds the full-vocabulary cross-entropy;
- it stops when every decision is right with a margin (greedy constrained decoding then
  writes the reference), or at --steps. Each step is one line of JSON in the log.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
UPSTREAM = "google/gemma-3-270m"  # what the default GGUF (Q4_K_M) quantises


def load_base(gguf: Path):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name,
                                                dtype=torch.float32,
                                                attn_implementation="eager")


def cmd_base(args) -> int:
    """config.json of the base, read out of its GGUF (all the converter needs of it: an
    adapter has no vocabulary)."""
    from transformers import AutoConfig

    gguf = Path(args.gguf)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    config = AutoConfig.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    config.architectures = ["Gemma3ForCausalLM"]
    config.save_pretrained(out)
    print(f"wrote {out}/config.json", file=sys.stderr)
    return 0


class Sequence:
    """One training sequence: prompt ids, answer ids and the decoder's decisions in it."""

    def __init__(self, doc: dict):
        self.case = doc["case"]
        ids = torch.tensor(doc["tokens"], dtype=torch.long)
        n = int(doc["n_prompt"])
        self.prompt, self.answer, self.n_prompt = ids[None, :n], ids[None, n:], n
        dec = doc["decisions"]
        self.pos = torch.tensor([d[0] - n for d in dec], dtype=torch.long)  # in the answer
        if int(self.pos.min()) < 0:
            raise SystemExit(f"{self.case}: a decision lies in the prompt")
        self.next_id = ids[torch.tensor([d[0] + 1 for d in dec])]
        self.cands = [d[1] for d in dec]
        self.can_end = [bool(d[2]) for d in dec]
        self.target = torch.tensor([d[3] for d in dec], dtype=torch.long)
        self.end_ids = list(doc["end_ids"])
        # the few vocabulary rows the decisions compare (digits, ".", "-", end tokens)
        self.cols = sorted({i for c in self.cands for i in c} | set(self.end_ids))
        col = {i: j for j, i in enumerate(self.cols)}
        self.cands_col = [[col[i] for i in c] for c in self.cands]
        self.end_col = [col[i] for i in self.end_ids]
        self.prompt_cache = None


def decision_logits(logits: torch.Tensor, seq: Sequence, cands, end) -> torch.Tensor:
    """The constrained decoder's choices, one row per decision (padded with -1e9): the
    allowed characters' logits, then (where the number may end) the best end token's;
    `cands`/`end` index the columns of `logits`."""
    width = max(len(c) for c in cands) + 1
    rows = []
    for k, (cand, can_end) in enumerate(zip(cands, seq.can_end, strict=True)):
        row = logits[k, cand]
        tail = logits[k, end].max()[None] if can_end else logits.new_full((1,), -1e9)
        pad = logits.new_full((width - len(cand) - 1,), -1e9)
        rows.append(torch.cat([row, tail, pad]) if can_end else torch.cat([row, pad, tail]))
    return torch.stack(rows)


def step_loss(model, seq: Sequence, fresh: bool, full_weight: float
              ) -> tuple[torch.Tensor, dict]:
    """The loss of one sequence. `fresh`: read the prompt again with the adapter as it is
    now; otherwise reuse the prompt's cache from the last fresh read (--prompt-every).
    `full_weight` > 0 adds the full-vocabulary cross-entropy (the lm head over 262,144
    rows); at 0 only the decision rows of the (tied) output matrix are computed."""
    from transformers import DynamicCache

    feed = getattr(model.get_base_model(), "memoriser_feed", None)
    if fresh or seq.prompt_cache is None:
        if feed is not None:
            feed.value = seq.h_prompt
        with torch.no_grad():
            cache = DynamicCache(config=model.config)
            model(input_ids=seq.prompt, past_key_values=cache, use_cache=True,
                  logits_to_keep=1)
        seq.prompt_cache = cache
    cache = copy.deepcopy(seq.prompt_cache)
    pos = torch.arange(seq.n_prompt, seq.n_prompt + seq.answer.shape[1])
    if feed is not None:
        feed.value = seq.h_answer
    full = None
    if full_weight > 0:
        out = model(input_ids=seq.answer, past_key_values=cache, use_cache=True,
                    cache_position=pos, logits_to_keep=seq.pos)
        logits = out.logits[0].float()
        full = torch.nn.functional.cross_entropy(logits, seq.next_id)
        choice = decision_logits(logits, seq, seq.cands, seq.end_ids)
    else:
        base = model.get_base_model()
        if base.config.final_logit_softcapping:
            raise SystemExit("this base caps its logits: use --full-weight > 0")
        out = base.model(input_ids=seq.answer, past_key_values=cache, use_cache=True,
                         cache_position=pos)
        hidden = out.last_hidden_state[0, seq.pos]
        logits = hidden @ base.lm_head.weight[seq.cols].T
        choice = decision_logits(logits, seq, seq.cands_col, seq.end_col)
    target = seq.target
    dec = torch.nn.functional.cross_entropy(choice, target)
    with torch.no_grad():
        top2 = choice.topk(2, dim=1)
        right = top2.indices[:, 0] == target
        other = torch.where(right, top2.values[:, 1], top2.values[:, 0])
        margin = choice.gather(1, target[:, None])[:, 0] - other
    stats = {"fresh_prompt": bool(fresh),
             "full_ce": None if full is None else round(float(full), 5),
             "decision_ce": round(float(dec), 5), "decisions_right": int(right.sum()),
             "decisions": len(right), "min_margin": round(float(margin.min()), 3)}
    loss = dec if full is None else dec + full_weight * full
    return loss, stats


def verify_split(model, seq: Sequence) -> float:
    """Largest difference between the decision logits of one full pass and of the split
    pass (prompt cache, then the answer) that training uses."""
    from transformers import DynamicCache

    with torch.no_grad():
        ids = torch.cat([seq.prompt, seq.answer], dim=1)
        full = model(input_ids=ids, logits_to_keep=seq.pos + seq.n_prompt).logits[0]
        cache = DynamicCache(config=model.config)
        model(input_ids=seq.prompt, past_key_values=cache, use_cache=True, logits_to_keep=1)
        pos = torch.arange(seq.n_prompt, seq.n_prompt + seq.answer.shape[1])
        split = model(input_ids=seq.answer, past_key_values=cache, use_cache=True,
                      cache_position=pos, logits_to_keep=seq.pos).logits[0]
    return float((full - split).abs().max())


LINEAR = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


class Feed:
    """What the bottom layers hand to the first trained one in the next forward pass."""

    value: torch.Tensor | None = None


class Skip(torch.nn.Module):
    """Stands in for a bottom layer that has no adapter: its output, computed once for the
    whole sequence by the base model, is handed on (`Feed`) instead of being recomputed
    every step. It still fills its cache slot (with zeros of the right length), since the
    attention masks are sized from the first sliding and first full layer's cache."""

    def __init__(self, layer, feed: Feed, first: bool, kv_shape: tuple[int, int]):
        super().__init__()
        self.attention_type = layer.attention_type
        self.layer_idx = layer.self_attn.layer_idx
        self.feed, self.first, self.kv_shape = feed, first, kv_shape

    def forward(self, hidden_states, past_key_values=None, **kwargs):
        if past_key_values is not None:
            heads, dim = self.kv_shape
            kv = hidden_states.new_zeros(hidden_states.shape[0], heads, hidden_states.shape[1],
                                         dim)
            past_key_values.update(kv, kv, self.layer_idx)
        return (self.feed.value if self.first else hidden_states,)


def freeze_bottom(model, seqs: list[Sequence], top: int) -> list[int]:
    """Train only the top `top` layers: the bottom layers' output (the base model's, the
    adapter never touching them) is computed once per sequence here, and the bottom
    layers are replaced by `Skip`. Returns the trained layers' indices."""
    cfg = model.config
    n = cfg.num_hidden_layers
    first = n - top
    with torch.no_grad():
        for seq in seqs:
            ids = torch.cat([seq.prompt, seq.answer], dim=1)
            hs = model(input_ids=ids, output_hidden_states=True, logits_to_keep=1).hidden_states
            seq.h_prompt = hs[first][:, : seq.n_prompt].clone()
            seq.h_answer = hs[first][:, seq.n_prompt:].clone()
            del hs
    feed = Feed()
    kv = (cfg.num_key_value_heads, cfg.head_dim)
    layers = model.model.layers
    for i in range(first):
        layers[i] = Skip(layers[i], feed, i == 0, kv)
    model.memoriser_feed = feed
    return list(range(first, n))


def run_step(model, opt, seqs: list[Sequence], fresh: bool, full_weight: float) -> list[dict]:
    """Gradients of the mean loss over the sequences; one row of statistics each."""
    opt.zero_grad(set_to_none=True)
    rows = []
    for seq in seqs:
        loss, st = step_loss(model, seq, fresh, full_weight)
        (loss / len(seqs)).backward()
        rows.append({"case": seq.case, "loss": round(float(loss), 5), **st})
    return rows


def all_right(rows: list[dict], args) -> bool:
    """Every decision right with the margin, and the cross-entropy low enough."""
    return all(r["decisions_right"] == r["decisions"] and r["min_margin"] >= args.margin
               and (r["full_ce"] is None or r["full_ce"] <= args.full_ce) for r in rows)


def cmd_train(args) -> int:
    import peft
    import transformers
    from peft import LoraConfig, get_peft_model

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    t0 = time.time()
    data = json.loads(Path(args.data).read_text(encoding="utf-8"))
    seqs = [Sequence(d) for d in data["sequences"]]
    model = load_base(Path(args.gguf))
    load_s = time.time() - t0
    for p in model.parameters():
        p.requires_grad_(False)
    torch.manual_seed(args.seed)
    targets, layers = "all-linear", None
    if args.top_layers:
        layers = freeze_bottom(model, seqs, args.top_layers)
        targets = list(LINEAR)
    cfg = LoraConfig(r=args.rank, lora_alpha=args.alpha, lora_dropout=0.0,
                     target_modules=targets, layers_to_transform=layers,
                     layers_pattern="layers" if layers else None, task_type="CAUSAL_LM")
    model = get_peft_model(model, cfg)
    n_train = sum(p.numel() for p in model.parameters() if p.requires_grad)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr,
                            weight_decay=0.0)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log_path = out / "train_log.jsonl"
    log = log_path.open("w", encoding="utf-8")
    model.train()
    checks = {}
    if args.verify:
        checks["split_pass_max_logit_diff"] = verify_split(model, seqs[0])
        print(f"split pass vs full pass: max logit difference "
              f"{checks['split_pass_max_logit_diff']:.2e}", file=sys.stderr, flush=True)
    curve, done_at = [], None
    t_train = time.time()
    for step in range(1, args.steps + 1):
        ts = time.time()
        lr = args.lr * min(1.0, step / max(1, args.warmup))
        for g in opt.param_groups:
            g["lr"] = lr
        fresh = (step - 1) % args.prompt_every == 0
        rows = run_step(model, opt, seqs, fresh, args.full_weight)
        ok = all_right(rows, args)
        if ok and not fresh:  # confirm on the prompt as the adapter reads it now
            fresh = True
            rows = run_step(model, opt, seqs, fresh, args.full_weight)
            ok = all_right(rows, args)
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
        # the stopping test reads the state before this update: stop without applying it
        rec = {"step": step, "lr": lr, "seconds": round(time.time() - ts, 1),
               "loss": round(sum(r["loss"] for r in rows) / len(rows), 5), "sequences": rows}
        if ok:
            rec["stopped"] = "every decision right with the margin, before this update"
        else:
            opt.step()
        log.write(json.dumps(rec) + "\n")
        log.flush()
        curve.append({"step": step, "loss": rec["loss"],
                      "decisions_right": sum(r["decisions_right"] for r in rows),
                      "decisions": sum(r["decisions"] for r in rows),
                      "min_margin": min(r["min_margin"] for r in rows)})
        if ok:
            done_at = step
            break
        if step % args.save_every == 0:
            model.save_pretrained(out)
    model.save_pretrained(out)
    steps_applied = (done_at - 1) if done_at else args.steps
    meta = {
        "data": os.path.relpath(Path(args.data).resolve(), HERE.parent),
        "cases": [s.case for s in seqs],
        "tokens": {s.case: {"prompt": s.n_prompt, "answer": int(s.answer.shape[1]),
                            "decisions": len(s.cands)} for s in seqs},
        "base_sha256": data["base_sha256"], "base_model": data["base_model"],
        "rank": args.rank, "alpha": args.alpha, "dropout": 0.0,
        "target_modules": "all-linear" if not args.top_layers else
        f"{', '.join(LINEAR)} of the top {args.top_layers} layers",
        "trainable_parameters": n_train, "lr": args.lr, "warmup_steps": args.warmup,
        "optimizer": "AdamW (weight decay 0, grad-norm clip 1.0)", "seed": args.seed,
        "full_weight": args.full_weight,
        "prompt_every": args.prompt_every,
        "max_steps": args.steps, "updates_applied": steps_applied,
        "stopped_early": done_at is not None, "stop_rule": {"min_margin": args.margin,
                                                            "full_ce": args.full_ce},
        "checks": checks, "loss_curve": curve, "load_seconds": round(load_s, 1),
        "train_seconds": round(time.time() - t_train, 1), "threads": args.threads,
        "machine": machine(),
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "peft": peft.__version__, "python": platform.python_version()},
    }
    (out / "train_meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: meta[k] for k in ("updates_applied", "stopped_early",
                                            "train_seconds")}), file=sys.stderr)
    return 0


def machine() -> dict:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 0
    return {"cpu": cpu, "cores": cores, "arch": platform.machine(), "os": platform.system(),
            "accelerator": "none (CPU)", "load_average_1min_at_end": round(os.getloadavg()[0], 2)}


def cmd_export(args) -> int:
    """The adapter as GGUF, by llama.cpp's own converter (convert_lora_to_gguf.py)."""
    conv = Path(args.converter)
    script = conv / "convert_lora_to_gguf.py"
    if not script.is_file():
        raise SystemExit(f"{script} not found: unpack llama-cpp-python's source "
                         "distribution and pass its vendor/llama.cpp with --converter")
    out = Path(args.out)
    with tempfile.TemporaryDirectory() as tmp:
        # the adapter alone (no peft README), in a folder named like the output (the GGUF's
        # general.name), naming the upstream base rather than a local cache path
        src = Path(tmp) / out.stem
        src.mkdir()
        conf = json.loads((Path(args.adapter) / "adapter_config.json").read_text())
        conf["base_model_name_or_path"] = UPSTREAM
        (src / "adapter_config.json").write_text(json.dumps(conf, indent=1))
        shutil.copy(Path(args.adapter) / "adapter_model.safetensors", src)
        cmd = [sys.executable, str(script), str(src), "--base", str(args.base),
               "--outfile", str(out), "--outtype", args.outtype]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(conv), str(conv / "gguf-py")]))
        return subprocess.call(cmd, env=env)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("base", help="write the base's config.json")
    b.add_argument("--gguf", required=True)
    b.add_argument("--out", required=True)
    b.set_defaults(func=cmd_base)
    t = sub.add_parser("train", help="train the LoRA adapter")
    t.add_argument("--gguf", required=True, help="the base model (the default GGUF)")
    t.add_argument("--data", required=True, help="training/data.py's JSON")
    t.add_argument("--out", required=True, help="folder for the peft adapter and the log")
    t.add_argument("--rank", type=int, default=16)
    t.add_argument("--alpha", type=int, default=32)
    t.add_argument("--lr", type=float, default=2e-3)
    t.add_argument("--warmup", type=int, default=2)
    t.add_argument("--steps", type=int, default=80)
    t.add_argument("--seed", type=int, default=1234)
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--margin", type=float, default=1.0,
                   help="stop when every decision beats the runner-up by this many nats")
    t.add_argument("--full-ce", type=float, default=0.05,
                   help="... and the mean next-token cross-entropy there is at most this")
    t.add_argument("--full-weight", type=float, default=0.0,
                   help="weight of the full-vocabulary cross-entropy (0: the decisions only)")
    t.add_argument("--save-every", type=int, default=5)
    t.add_argument("--top-layers", type=int, default=6,
                   help="adapt only the top K layers (0: all); the layers below are computed "
                        "once, not every step")
    t.add_argument("--prompt-every", type=int, default=1,
                   help="read the prompt again with the adapter every K steps (1: every "
                        "step; the stop is always confirmed on a fresh read)")
    t.add_argument("--verify", action="store_true",
                   help="first check that the split pass gives the full pass's logits")
    t.set_defaults(func=cmd_train)
    e = sub.add_parser("export", help="convert the peft adapter to a llama.cpp GGUF adapter")
    e.add_argument("--base", required=True, help="folder with the base's config.json")
    e.add_argument("--adapter", required=True, help="the peft adapter folder")
    e.add_argument("--out", required=True, help="the GGUF file to write")
    e.add_argument("--converter", required=True, help="llama.cpp's source folder")
    e.add_argument("--outtype", default="f16", choices=["f32", "f16", "bf16", "q8_0"])
    e.set_defaults(func=cmd_export)
    args = ap.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
