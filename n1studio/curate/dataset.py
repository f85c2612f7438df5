"""N and N-1 datasets: built from a grid or a sweep, labelled with reference answers, as JSONL.

A dataset is an ordered list of cases of one or more grids: the N case of each grid (split
``"N"``) and a selection of its single outages (split ``"N-1"``), each with the prompt a
model is asked and the reference AC OPF answer as its label.

JSONL record format (``n1studio.case/1``), one JSON object per line::

    {"schema": "n1studio.case/1",
     "dataset": "case14-n1",              # the dataset's name
     "split": "N-1",                      # "N" (no outage) or "N-1"
     "grid": {"name": "case14",           # grid identity: display name,
              "source": "case14",         # where it opens from (built-in name or path),
              "sha256": "9f2c..."},       # and the hash of its numeric content
     "outages": ["line:3"],               # elements out of service (SPEC element names)
     "prompt": "You are ...",             # the exact prompt text asked
     "reference": {"schema": "n1studio.answer/1", "generators": [...], "buses": [...],
                   "objective": 8081.5},  # the reference AC OPF answer (null if none)
     "objective": 8081.5,                 # its cost in $/h (null when not solved)
     "status": "optimal"}                 # the reference solver's status

Lines are written with sorted keys and no extra spaces, so exporting a dataset, importing
it into another study and exporting it again gives byte-identical files.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

from n1studio import pipeline
from n1studio.curate.families import Family, candidate_draws, family_size, parse_family  # noqa: F401 - Family, parse_family: part of this module's API
from n1studio.curate.study import Study, grid_hash
from n1studio.errors import N1Error, StudyError
from n1studio.grid.cases import case_label, load_case
from n1studio.grid.perturb import Perturbation
from n1studio.grid.variant import Variant, n1_candidates
from n1studio.solve.parallel import ReferencePool, default_workers
from n1studio.solve.reference import reference

log = logging.getLogger(__name__)

CASE = "n1studio.case/1"
SPLIT_N, SPLIT_N1 = "N", "N-1"

Progress = Callable[[int, int], None]


def variant_of(net, item: dict) -> Variant:
    """The Variant a stored dataset item or run stands for (outages and perturbation)."""
    return Variant(net, item["outages"], Perturbation.from_dict(item.get("perturbation")))


def build_dataset(study: Study, net, source: str, name: str | None = None, *,
                  kinds=("line", "trafo"), sample: int | None = None, seed: int = 0,
                  feasible_only: bool = False, no_islanding: bool = False,
                  include_n: bool = True, sweep: dict | None = None,
                  statuses: tuple[str, ...] | None = None, replace: bool = False,
                  families: list[str] | None = None, example: bool = False,
                  progress: Progress | None = None,
                  cancel: Callable[[], bool] | None = None,
                  workers: int | None = 1, ray: str | None = None) -> int:
    """Build and store a dataset of `net`'s N case and its variants; returns its id.

    `families` (default `["n-1"]`) are `Family` texts, each a split of the dataset next to
    `N`. Outage candidates are every in-service element of `kinds`, or the elements of a
    `sweep` document whose status is in `statuses`. Per family, variants are drawn with
    `seed` (outages: candidates shuffled, K-element sets for N-K; perturbation seeds
    seed+1, seed+2, ...) and kept in that order until `sample` pass the filters, so the same
    seed gives the same set (`sample` None: every single outage for n-1, else 1 variant).
    Filters: `no_islanding` drops outages that split the grid; `feasible_only` keeps
    variants whose AC OPF is feasible. Every kept case is labelled with its reference AC
    OPF answer (solved here, stored). `example` writes the solved N case into every prompt.
    References are solved by `workers` processes (None: all cores but one) or on the Ray
    cluster at `ray` (n1studio.solve.parallel); the same dataset comes out either way.
    """

    label = case_label(net)
    name = name or f"{label}-n1"
    fams = [parse_family(f) for f in (families or ["n-1"])]
    if sweep is not None:
        if sweep.get("schema") != "n1studio.sweep/1":
            raise N1Error("the sweep file is not an n1studio.sweep/1 document")
        wanted = set(statuses or ("ok", "violations"))
        candidates = [r["element"] for r in sweep.get("results", []) if r.get("status") in wanted]
        kinds = sorted({c.split(":")[0] for c in candidates})
    else:
        candidates = n1_candidates(net, kinds)
    if sample is not None and sample < 0:
        raise N1Error("--sample must be zero or more")
    grid_id = study.add_grid(net, source, name=label)
    items: list[dict] = []
    plans = [(f, candidate_draws(f, candidates, sample, seed)) for f in fams]
    wants = [family_size(f, sample, len(candidates)) for f in fams]
    total = sum(wants) + (1 if include_n else 0)
    done = 0

    def label_case(variant: Variant, split: str, ref=None) -> dict | None:
        ref = ref if ref is not None else reference(variant, "ac")
        vid = study.add_variant(grid_id, variant.outages, variant.perturbation.to_dict(),
                                variant.label)
        study.set_solution(vid, "ac", ref.status, ref.success,
                           float(ref.objective) if ref.success else None,
                           ref.answer if ref.success else None, ref.solve_time_s)
        if feasible_only and not ref.success:
            return None
        prompt = pipeline.render(variant, example=example).text
        return {"variant_id": vid, "split": split, "prompt": prompt}

    if include_n:
        it = label_case(Variant(net), SPLIT_N)
        if it is None:
            raise N1Error(f"{label}: the N case has no feasible AC OPF; nothing to compare with")
        items.append(it)
        done += 1
        if progress:
            progress(done, total)
    seen: set[int] = {items[0]["variant_id"]} if items else set()
    kept_total = 0
    nw = default_workers() if workers is None else int(workers)
    nw = min(nw, max(1, sum(wants))) if nw > 1 else nw  # no idle processes to start
    with ReferencePool(net, workers=nw, ray=ray) as pool:
        parallel = pool.kind != "serial"
        for (fam, draws), want in zip(plans, wants, strict=True):
            kept = 0
            draws = iter(draws)
            while kept < want and not (cancel and cancel()):
                # the next candidates in draw order (one at a time serially; a batch for
                # the pool), kept in that order until `want` pass: the serial result
                size = max(want - kept, 4 * pool.workers) if parallel else 1
                batch = []
                for outages, pseed in draws:
                    v = Variant(net, outages, fam.perturbation(pseed) if fam.perturbed else None)
                    if no_islanding and v.islands.islanded:
                        continue
                    batch.append(v)
                    if len(batch) >= min(size, 64 * pool.workers):
                        break
                if not batch:
                    break
                refs = pool.map([(v.outages, v.perturbation.to_dict() if fam.perturbed
                                  else None) for v in batch], cancel=cancel) if parallel \
                    else [None]
                for variant, ref in zip(batch, refs, strict=False):  # refs: [None] when serial
                    if kept >= want or (parallel and ref is None):
                        break
                    it = label_case(variant, fam.split, ref)
                    if it is None or it["variant_id"] in seen:
                        continue
                    seen.add(it["variant_id"])
                    items.append(it)
                    kept += 1
                    done += 1
                    if progress:
                        progress(done, total)
            kept_total += kept
    spec = {"grid": label, "source": str(source), "kinds": list(kinds), "sample": sample,
            "seed": seed, "feasible_only": feasible_only, "no_islanding": no_islanding,
            "from_sweep": sweep is not None, "families": [f.text for f in fams],
            "example": bool(example),
            "statuses": list(statuses) if statuses else None, "include_n": include_n}
    ds = study.create_dataset(name, spec, items, replace=replace)
    log.info("dataset %s: %d cases (%d beyond N)", name, len(items), kept_total)
    return ds


def dataset_records(study: Study, dataset_id: int) -> list[dict]:
    """The dataset as `n1studio.case/1` records, in dataset order."""
    name = study.dataset_name(dataset_id)
    grids = {g["id"]: g for g in study.grids()}
    out = []
    for it in study.dataset_items(dataset_id):
        g = grids[it["grid_id"]]
        sol = study.solution(it["variant_id"], "ac")
        out.append({
            "schema": CASE, "dataset": name, "split": it["split"],
            "grid": {"name": g["name"], "source": g["source"], "sha256": g["content_hash"]},
            "outages": it["outages"], "perturbation": it.get("perturbation") or {},
            "prompt": it["prompt"],
            "reference": sol["answer"] if sol else None,
            "objective": sol["objective"] if sol else None,
            "status": sol["status"] if sol else None,
        })
    return out


def stale_prompts(study: Study, dataset_id: int, *, full: bool = True) -> list[dict]:
    """The dataset's items whose stored prompt differs from a fresh render of their variant.

    Datasets built before the prompt's number formatting was fixed (issue 9: a 160 MVA
    rating written `16`) hold prompts that misstate the grid. The grid tables are the
    part every variant shares, so each grid is rendered once and every stored prompt must
    start with it; with `full` (the default) each remaining item is rendered whole and
    compared too (its tail: outages, islands, load served). `full=False` is the quick
    check (one render per grid) the app's study panel uses. The default template is the
    reference: a dataset built with another template is reported as differing.
    """

    items = study.dataset_items(dataset_id)
    example = bool(study.dataset_spec(dataset_id).get("example"))
    nets: dict[int, object] = {}
    shared: dict[tuple, str] = {}
    stale = []
    for it in items:
        gid = it["grid_id"]
        if gid not in nets:
            nets[gid] = study.load_net(gid)
        variant = variant_of(nets[gid], it)
        key = (gid, variant.perturbation.key())
        if key not in shared:  # one render per grid and perturbation (its tables)
            shared[key] = pipeline.render(variant.with_outages(()), example=example).shared
        fresh_head = it["prompt"].startswith(shared[key])
        if not fresh_head or (full and it["prompt"] != pipeline.render(
                variant, example=example).text):
            stale.append(it)
    return stale


def stale_warning(study: Study, dataset_id: int, *, full: bool = True) -> str | None:
    """One line saying how many of the dataset's prompts are stale, or None when none is."""
    n = len(stale_prompts(study, dataset_id, full=full))
    if not n:
        return None
    name = study.dataset_name(dataset_id)
    return (f"dataset {name!r}: {n} of {len(study.dataset_items(dataset_id))} stored prompts "
            f"differ from a fresh render (built before a prompt fix?); rebuild them with "
            f"`n1studio dataset reprompt {study.path} {name}`")


def reprompt_dataset(study: Study, dataset_id: int,
                     progress: Progress | None = None) -> int:
    """Re-render every stale prompt of the dataset in place; returns how many changed.

    Variants, positions, splits and reference answers are kept; runs already made with the
    old prompts stay in the study as they were (their own `prompt` column says what the
    model was asked).
    """

    items = study.dataset_items(dataset_id)
    example = bool(study.dataset_spec(dataset_id).get("example"))
    nets: dict[int, object] = {}
    fresh = []
    for k, it in enumerate(items, 1):
        gid = it["grid_id"]
        if gid not in nets:
            nets[gid] = study.load_net(gid)
        text = pipeline.render(variant_of(nets[gid], it), example=example).text
        if text != it["prompt"]:
            fresh.append((text, dataset_id, it["variant_id"]))
        if progress:
            progress(k, len(items))
    if fresh:
        with study.transaction() as c:
            c.executemany("UPDATE dataset_items SET prompt = ? WHERE dataset_id = ? AND "
                          "variant_id = ?", fresh)
    log.info("dataset %s: %d prompts rebuilt", study.dataset_name(dataset_id), len(fresh))
    return len(fresh)


def _line(record: dict) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def export_jsonl(study: Study, dataset_id: int, out: str | Path) -> int:
    """Write the dataset as JSONL; returns the number of records."""
    recs = dataset_records(study, dataset_id)
    p = Path(out).expanduser()
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        with open(p, "w", encoding="utf-8") as fh:
            fh.writelines(_line(r) + "\n" for r in recs)
    except OSError as exc:
        raise N1Error(f"cannot write {p}: {exc.strerror}") from None
    return len(recs)


def read_jsonl(path: str | Path) -> list[dict]:
    """Read and validate `n1studio.case/1` records (clear errors with the line number)."""
    p = Path(path).expanduser()
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise N1Error(f"cannot read {p}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise N1Error(f"{p.name} is not a text (JSONL) file") from None
    recs = []
    for no, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
        except ValueError as exc:
            raise N1Error(f"{p.name}:{no}: not JSON ({exc.msg})") from None
        if not isinstance(r, dict) or r.get("schema") != CASE:
            raise N1Error(f"{p.name}:{no}: not an {CASE} record")
        for key in ("dataset", "split", "grid", "outages", "prompt"):
            if key not in r:
                raise N1Error(f"{p.name}:{no}: the record has no {key!r}")
        if not isinstance(r["split"], str) or not r["split"]:
            raise N1Error(f"{p.name}:{no}: split must be a family name such as 'N' or 'N-1'")
        if not isinstance(r.get("perturbation", {}), dict):
            raise N1Error(f"{p.name}:{no}: perturbation must be an object")
        recs.append(r)
    if not recs:
        raise N1Error(f"{p.name} holds no records")
    return recs


def import_jsonl(study: Study, path: str | Path, name: str | None = None,
                 replace: bool = False) -> int:
    """Import records into `study` as one dataset (named as in the file unless `name`).

    Each grid is reopened from its recorded source (or found in the study by hash) and
    must have the recorded hash. Prompts and reference answers are stored as they are in
    the file, so exporting the imported dataset gives the same lines.
    """
    recs = read_jsonl(path)
    names = {r["dataset"] for r in recs}
    ds_name = name or (names.pop() if len(names) == 1 else Path(path).stem)
    grid_ids: dict[str, int] = {}
    items = []
    for r in recs:
        g = r["grid"]
        h = g.get("sha256")
        if h not in grid_ids:
            gid = study.grid_id(h) if h else None
            if gid is None:
                try:
                    net = load_case(g["source"])
                except N1Error as exc:
                    raise StudyError(f"grid {g.get('name')!r}: cannot open its source "
                                     f"{g['source']!r} ({exc})") from None
                if h and grid_hash(net) != h:
                    raise StudyError(f"grid {g.get('name')!r} opened from {g['source']!r} differs "
                                     "from the one the dataset was built on (hash mismatch)")
                gid = study.add_grid(net, g["source"], name=g.get("name"))
            grid_ids[h] = gid
        pert = r.get("perturbation") or {}
        try:
                    Perturbation.from_dict(pert)
        except (TypeError, N1Error) as exc:
            raise N1Error(f"{Path(path).name}: perturbation {pert!r}: {exc}") from None
        vid = study.add_variant(grid_ids[h], r["outages"], pert)
        if r.get("reference") is not None or r.get("status") is not None:
            study.set_solution(vid, "ac", r.get("status") or "unknown",
                               r.get("reference") is not None, r.get("objective"),
                               r.get("reference"))
        items.append({"variant_id": vid, "split": r["split"], "prompt": r["prompt"]})
    spec = {"imported_from": Path(path).name, "records": len(recs)}
    return study.create_dataset(ds_name, spec, items, replace=replace)
