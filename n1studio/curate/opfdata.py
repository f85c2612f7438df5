"""OPFData in and out of a study: `n1studio dataset import DIR --format opfdata` and
`n1studio dataset export STUDY --format opfdata --out DIR`.

The format itself (the JSON layout PyTorch Geometric's `OPFDataset` reads, grid <-> example
conversion) lives in `n1studio.grid.opfdata`; this module decides what an example is in a
study:

- **Grid or variant.** An example whose grid equals a grid already in the study less some
  generator / line / transformer rows (the N-1 release drops the removed row) is that
  grid's variant with those elements out; anything else becomes a new grid (pandapower net
  built from the example, stored in the study; its source is the example file). Examples
  of one folder are read in order (``group_G/example_I.json`` by G, then I), so an N case
  exported first makes the N-1 examples after it its variants.
- **The example's solution** is kept twice: as a run of the pseudo-model
  ``opfdata:solution`` (`Study.add_control`), judged by the checker against our own
  reference AC OPF when `check` is on (the default; `--no-check` skips the solves), and as
  the variant's stored reference (``solutions`` row, status ``opfdata``) only when the
  variant has none yet, so a study's own references are never overwritten.
- All imported examples form one dataset (split ``N`` without outages, ``N-1`` with).

Export writes one example per dataset item, ``group_G/example_I.json`` with 15,000
examples per group as in the release, the study's reference as the solution and its
objective as ``metadata.objective``; ``metadata.n1studio`` adds the grid, outages and split
(ignored by other readers). Only line, trafo, impedance and generator outages can be
written (the format has no flag for a bus out of service).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from pathlib import Path

from n1studio.curate.families import family_name
from n1studio.curate.study import Study
from n1studio.errors import N1Error
from n1studio.grid import opfdata as od
from n1studio.grid.variant import Variant, base_model
from n1studio.llm.prompt import render_prompt
from n1studio.pipeline import judge

log = logging.getLogger(__name__)

SOLUTION_MODEL = "opfdata:solution"
GROUP_SIZE = 15_000
_WRITABLE = ("line", "trafo", "impedance", "ext_grid", "gen", "sgen")

Progress = Callable[[int, int], None]


def example_files(path: str | Path) -> list[Path]:
    """The example files of a file or folder, in release order (group, then example)."""
    p = Path(path).expanduser()
    if p.is_file():
        return [p]
    if not p.is_dir():
        raise N1Error(f"no such file or folder: {p}")
    files = [f for f in p.rglob("*.json") if f.is_file()]

    def order(f: Path):
        nums = [int(n) for n in re.findall(r"\d+", str(f.relative_to(p)))]
        return nums, str(f)

    files.sort(key=order)
    if not files:
        raise N1Error(f"{p} holds no OPFData example (*.json)")
    return files


def _known(study: Study, cache: dict, gid: int):
    if gid not in cache:
        net = study.load_net(gid)
        grid, names = od.grid_part(base_model(net), net)
        cache[gid] = (net, grid, names)
    return cache[gid]


def import_opfdata(study: Study, path: str | Path, name: str | None = None, *,
                   replace: bool = False, check: bool = True,
                   progress: Progress | None = None) -> int:
    """Import OPFData examples into `study` as one dataset; returns its id (see module).

    All or nothing: the import is one transaction, so an example that cannot be read
    leaves no grid, variant, model or run of the import behind, and the error names its
    file."""
    files = example_files(path)
    cache: dict = {}
    items: list[dict] = []
    seen: set[int] = set()
    with study.transaction():
        mid = study.add_control(SOLUTION_MODEL)
        for k, f in enumerate(files, 1):
            try:
                _import_one(study, f, Path(path), mid, cache, items, seen, check)
            except N1Error as exc:
                text = str(exc) if f.name in str(exc) else f"{f}: {exc}"
                raise N1Error(f"{text}; nothing was imported") from None
            except (KeyError, IndexError, TypeError, ValueError) as exc:
                raise N1Error(f"{f}: not an OPFData example this version reads "
                              f"({type(exc).__name__}: {exc}); nothing was imported") from None
            if progress:
                progress(k, len(files))
        src = Path(path).expanduser()
        ds_name = name or f"opfdata-{src.stem if src.is_file() else src.name}"
        spec = {"imported_from": str(src), "format": "opfdata", "examples": len(files)}
        return study.create_dataset(ds_name, spec, items, replace=replace)


def _import_one(study: Study, f: Path, root: Path, mid: int, cache: dict, items: list[dict],
                seen: set[int], check: bool) -> None:
    """One example file: its grid (matched to a known one, else added), variant, reference
    and the solution's run (judged when `check`); its dataset item appended to `items`."""
    doc = od.read_example(f)
    gid = outages = names = None
    for g in study.grids():
        net, grid, base_names = _known(study, cache, g["id"])
        missing = od.match_rows(doc, grid)
        if missing is None:
            continue
        gid = g["id"]
        outages = [base_names[key][i] for key, rows in missing.items() for i in rows]
        names = {key: [n for i, n in enumerate(base_names[key])
                       if i not in set(missing.get(key, ()))] for key in base_names}
        break
    if gid is None:
        label = f.stem if f.parent == root or root.is_file() else f"{f.parent.name}-{f.stem}"
        net = od.example_net(doc, label)
        gid = study.add_grid(net, str(f), name=label)
        names = od.example_row_names(net, doc)
        outages = []
        cache.pop(gid, None)
    net = _known(study, cache, gid)[0]
    variant = Variant(net, outages)
    answer = od.answer_of(doc, names)
    vid = study.add_variant(gid, variant.outages)
    objective = (doc.get("metadata") or {}).get("objective")
    if answer is not None and study.solution(vid, "ac") is None:
        study.set_solution(vid, "ac", "opfdata", True,
                           float(objective) if isinstance(objective, (int, float)) else None,
                           answer)
    prompt = render_prompt(variant).text
    if answer is not None:
        t0 = time.time()
        verdict = judge(variant, answer) if check else None
        study.add_run(vid, mid, {"model_path": SOLUTION_MODEL}, prompt,
                      json.dumps(answer, allow_nan=False), answer, verdict,
                      {"source": str(f), "control": True}, t0, time.time())
    if vid not in seen:
        seen.add(vid)
        items.append({"variant_id": vid, "split": family_name(variant.outages),
                      "prompt": prompt})


def export_opfdata(study: Study, dataset_id: int, out: str | Path,
                   progress: Progress | None = None) -> int:
    """Write the dataset as OPFData examples under `out`; returns how many."""
    out = Path(out).expanduser()
    items = study.dataset_items(dataset_id)
    nets: dict[int, object] = {}
    grids = {g["id"]: g for g in study.grids()}
    for k, it in enumerate(items):
        gid = it["grid_id"]
        if gid not in nets:
            nets[gid] = study.load_net(gid)
        net = nets[gid]
        bad = [o for o in it["outages"] if o.split(":")[0] not in _WRITABLE]
        if bad:
            raise N1Error(f"{it['label']}: {bad[0]} cannot be written in OPFData (its tables "
                          "have no bus or load status); leave such variants out")
        if it.get("perturbation"):
            raise N1Error(f"{it['label']}: a perturbed variant ({it['perturbation']}) is not an "
                          "OPFData example of its grid; export its family as sft/hf instead")
        variant = Variant(net, it["outages"])
        grid, names = od.grid_part(variant.model, net)
        sol = study.solution(it["variant_id"], "ac")
        doc = {"grid": grid}
        answer = sol["answer"] if sol and sol.get("answer") else None
        if answer is not None:
            doc["solution"] = od.solution_part(variant.model, names, answer)
        doc["metadata"] = {"objective": sol["objective"] if sol else None,
                           "n1studio": {"grid": grids[gid]["name"], "outages": it["outages"],
                                        "split": it["split"]}}
        p = out / f"group_{k // GROUP_SIZE}" / f"example_{k}.json"
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(json.dumps(doc, allow_nan=False), encoding="utf-8")
        except OSError as exc:
            raise N1Error(f"cannot write {p}: {exc.strerror}") from None
        if progress:
            progress(k + 1, len(items))
    return len(items)
