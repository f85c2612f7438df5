"""Datasets for fine-tuning and RL: chat JSONL (`--format sft`) and a Hugging Face folder
(`--format hf`), split so that nothing tested was seen in training.

Each dataset item becomes one record::

    {"messages": [{"role": "user", "content": PROMPT},
                  {"role": "assistant", "content": REFERENCE_ANSWER_JSON}],
     "prompt": PROMPT, "reference": REFERENCE_ANSWER_JSON,
     "case": "pglib_opf_case14_ieee",     # where the grid opens from (load_case)
     "grid": "pglib_opf_case14_ieee", "grid_sha256": "...",
     "outages": ["line:3"], "perturbation": "{}",   # JSON of grid.perturb.Perturbation
     "family": "N-1", "objective": 8081.5}

`messages` is what TRL's SFTTrainer reads; `prompt` plus `case` / `outages` /
`perturbation` are what GRPO and `n1studio.reward` read (the reward rebuilds the variant
from them). Items without a reference answer are left out (nothing to teach).

Splits: the unit that never crosses between train, validation and test is the grid
(``split_by="grid"``: every variant of a grid lands in one split) or the family
(``split_by="family"``: the dataset item's split label, N / N-1 / ...). Units are shuffled
with `seed`; when there are at least as many units as non-empty fractions each such split
gets one unit first (test, then validation, then train), then each unit goes to the split
furthest below its share of records. Few units make uneven splits: the card says what
each holds.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from n1studio.curate.dataset import variant_of
from n1studio.curate.study import Study
from n1studio.errors import N1Error

SPLITS = ("train", "validation", "test")


def parse_fractions(text: str) -> tuple[float, float, float]:
    """`"0.8,0.1,0.1"` -> (0.8, 0.1, 0.1); one N1Error line when it is not three
    non-negative numbers with a positive sum."""
    try:
        parts = [float(x) for x in str(text).split(",")]
    except ValueError:
        raise N1Error(f"--fractions {text!r}: give three numbers, e.g. 0.8,0.1,0.1") from None
    if len(parts) != 3 or any(not (x >= 0) or x == float("inf") for x in parts) or sum(parts) <= 0:
        raise N1Error(f"--fractions {text!r}: give three non-negative numbers with a positive "
                      "sum (train, validation, test)")
    s = sum(parts)
    return tuple(x / s for x in parts)  # type: ignore[return-value]


def records(study: Study, dataset_id: int) -> list[dict]:
    """The dataset's items with a reference answer, as export records (dataset order)."""
    grids = {g["id"]: g for g in study.grids()}
    nets: dict[int, object] = {}
    out = []
    for it in study.dataset_items(dataset_id):
        sol = study.solution(it["variant_id"], "ac")
        if not sol or not sol.get("answer"):
            continue
        g = grids[it["grid_id"]]
        answer = sol["answer"]
        if (it.get("perturbation") or {}).get("relabel"):
            # the assistant writes in the names its (relabelled) prompt uses
            if it["grid_id"] not in nets:
                nets[it["grid_id"]] = study.load_net(it["grid_id"])
            answer = variant_of(nets[it["grid_id"]], it).relabelling.answer_to_prompt(answer)
        ref = json.dumps(answer, allow_nan=False, separators=(",", ":"))
        out.append({"messages": [{"role": "user", "content": it["prompt"]},
                                 {"role": "assistant", "content": ref}],
                    "prompt": it["prompt"], "reference": ref, "case": g["source"],
                    "grid": g["name"], "grid_sha256": g["content_hash"],
                    "outages": list(it["outages"]),
                    "perturbation": json.dumps(it.get("perturbation") or {}, sort_keys=True),
                    "family": it["split"], "objective": sol["objective"]})
    return out


def assign_splits(units: dict[str, int], fractions, seed: int) -> dict[str, str]:
    """unit -> split name, with `units` mapping each unit to its number of records."""
    keys = sorted(units)
    random.Random(seed).shuffle(keys)
    total = sum(units.values())
    out: dict[str, str] = {}
    count = dict.fromkeys(SPLITS, 0)
    wanted = [s for s, f in zip(SPLITS, fractions, strict=True) if f > 0]
    if len(keys) >= len(wanted):
        for s in sorted(wanted, key=lambda s: -SPLITS.index(s)):  # test, validation, train
            k = keys.pop(0)
            out[k] = s
            count[s] += units[k]
    share = dict(zip(SPLITS, fractions, strict=True))
    for k in keys:
        s = max(wanted, key=lambda s: (share[s] * total - count[s], -SPLITS.index(s)))
        out[k] = s
        count[s] += units[k]
    return out


def split_records(recs: list[dict], split_by: str, fractions, seed: int) -> dict[str, list]:
    if split_by not in ("grid", "family"):
        raise N1Error(f"--split-by must be grid or family, not {split_by!r}")
    key = "grid_sha256" if split_by == "grid" else "family"
    units: dict[str, int] = {}
    for r in recs:
        units[r[key]] = units.get(r[key], 0) + 1
    where = assign_splits(units, fractions, seed)
    out: dict[str, list] = {s: [] for s in SPLITS}
    for r in recs:
        out[where[r[key]]].append(r)
    return out


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r, ensure_ascii=False, allow_nan=False) + "\n" for r in rows)


def card(name: str, parts: dict[str, list], files: dict[str, str], split_by: str,
         fractions, seed: int, fmt: str) -> str:
    """The dataset card (Hugging Face format: YAML header, then prose)."""
    lines = ["---", "pretty_name: " + json.dumps(f"N-1 Studio: {name}"), "language:", "- en",
             "tags:", "- optimal-power-flow", "- power-systems", "- n-1", "task_categories:",
             "- text-generation", "configs:", "- config_name: default", "  data_files:"]
    for s, f in files.items():
        lines += [f"  - split: {s}", f"    path: {f}"]
    lines += ["---", "", f"# {name}", "",
              ("AC optimal power flow questions written by N-1 Studio: the prompt asks for the "
              "dispatch and voltages of one grid variant (the N case or an N-1 outage); the "
              "answer is the reference AC OPF solution as an `n1studio.answer/1` JSON "
              "document (Ipopt via CasADi)."), "",
              (f"Format: `{fmt}`. Each record has `messages` (user prompt, assistant reference "
              "answer), `prompt`, `reference`, and the columns a reward function needs to "
              "rebuild the variant: `case`, `outages`, `perturbation`, plus `grid`, "
              "`grid_sha256`, `family` and `objective` ($/h)."), "",
              "## Splits", "",
              f"Split by **{split_by}**: every record of one {split_by} is in one split, so no "
              "grid-and-perturbation seen in training is tested"
              + (" (a model is tested on grids it never saw)." if split_by == "grid" else
                 " (a model is tested on outage families it never saw)."),
              (f"Fractions asked (train, validation, test): "
              f"{', '.join(f'{f:g}' for f in fractions)}; seed {seed}."), "",
              "| split | records | grids | families |", "|---|---|---|---|"]
    for s in SPLITS:
        rows = parts.get(s, [])
        grids = sorted({r["grid"] for r in rows})
        fams = sorted({r["family"] for r in rows})
        lines.append(f"| {s} | {len(rows)} | {', '.join(grids) or '-'} | "
                     f"{', '.join(fams) or '-'} |")
    lines += ["", ("Empty splits have no file. Units are whole grids or families, so with "
              "few of them the splits cannot follow the fractions closely."), ""]
    return "\n".join(lines)


def export_split(study: Study, dataset_id: int, out: str | Path, *, fmt: str = "sft",
                 split_by: str = "grid", fractions=(0.8, 0.1, 0.1),
                 seed: int = 0) -> dict[str, int]:
    """Write the dataset for fine-tuning (`sft`: train/validation/test.jsonl + README.md)
    or as a Hugging Face folder (`hf`: data/<split>.jsonl + README.md with its configs).
    Returns the number of records per split."""
    if fmt not in ("sft", "hf"):
        raise N1Error(f"unknown export format {fmt!r} (sft or hf)")
    name = study.dataset_name(dataset_id)
    recs = records(study, dataset_id)
    if not recs:
        raise N1Error(f"dataset {name!r} has no item with a reference answer to export")
    parts = split_records(recs, split_by, fractions, seed)
    root = Path(out).expanduser()
    files = {}
    try:
        for s in SPLITS:
            if not parts[s]:
                continue
            rel = f"{s}.jsonl" if fmt == "sft" else f"data/{s}.jsonl"
            _write_jsonl(root / rel, parts[s])
            files[s] = rel
        (root / "README.md").write_text(card(name, parts, files, split_by, fractions, seed,
                                             fmt), encoding="utf-8")
    except OSError as exc:
        raise N1Error(f"cannot write under {root}: {exc.strerror}") from None
    return {s: len(parts[s]) for s in SPLITS}
