"""Batch evaluation: one or several GGUF models over a dataset, resumable, one commit per run.

Why this shape:
- Resumable: a (variant, model SHA-256, settings) triple already in the study is skipped,
  and every run is committed the moment it finishes, so a stop, a crash or a kill loses at
  most the answer in progress; running the same command again carries on.
- Prefix cache: the cases are asked grid by grid (the N case first, then its N-1 variants)
  through one model client, so the grid description every prompt of that grid shares is
  processed once and reused from the worker's cache.
- Models are compared on the same set: each run is labelled by model file name and hash.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from n1studio.controls import is_control
from n1studio.curate.dataset import variant_of
from n1studio.curate.study import Study, settings_key
from n1studio.jobs import JobState, JobStopped

log = logging.getLogger(__name__)



def _model_name(path: str) -> str:
    return path if is_control(path) else Path(path).name


@dataclass
class EvalSummary:
    """What an evaluation did: runs made, skipped (already in the study), and whether it stopped."""

    done: int = 0
    skipped: int = 0
    total: int = 0
    cancelled: bool = False
    models: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {"done": self.done, "skipped": self.skipped, "total": self.total,
                "cancelled": self.cancelled, "models": self.models,
                "seconds": round(self.seconds, 2)}


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    k = 0
    while k < n and a[k] == b[k]:
        k += 1
    return k


def run_eval(study: Study, dataset_id: int, models: list[str | Path | None],
             settings=None, *, limit: int | None = None, repair: bool = False,
             state: JobState | None = None) -> EvalSummary:
    """Ask every model about every case of the dataset that is not in the study yet.

    `models` are GGUF paths (None = the default model) or controls (`control:reference`,
    ...: see n1studio.controls). `settings` is an `n1studio.llm.runtime.ModelSettings`
    (its model path is replaced per model). `limit` caps the number of new runs (across
    models). `repair` adds each answer's distance to feasibility to its verdict (the
    report's median distance). Reports on `state` (n1studio.jobs): Progress(done, total, "model: variant")
    and Partial("run", {run_id, variant, split, model, verdict}) for every stored run. A
    stop (state.stop()) ends between answers or inside one (which is then dropped, not
    stored); the summary says `cancelled`.
    """
    from n1studio import pipeline
    from n1studio.controls import control_label
    from n1studio.llm.client import ModelClient
    from n1studio.llm.prompt import Prompt, render_prompt
    from n1studio.llm.runtime import ModelSettings, validate_settings

    state = state or JobState()
    t0 = time.perf_counter()
    base = settings or ModelSettings()
    items = study.dataset_items(dataset_id)
    # grid by grid, N first: the prefix cache of one grid's shared prompt part is reused
    items.sort(key=lambda it: (it["grid_id"], it["split"] != "N", it["position"]))
    summary = EvalSummary()
    plan = []
    for m in models:
        if is_control(str(m) if m else None):
            s = replace(base, model_path=control_label(str(m)))
            model_id = study.add_control(s.model_path)
        else:
            s = validate_settings(replace(base, model_path=str(m) if m else None))
            model_id = study.add_model(s.model_path)
        sdict = s.to_dict()
        skey = settings_key(sdict)
        todo = [it for it in items if not study.has_run(it["variant_id"], model_id, skey)]
        summary.skipped += len(items) - len(todo)
        info = next(x for x in study.models() if x["id"] == model_id)
        summary.models.append({"file_name": info["file_name"], "sha256": info["sha256"],
                               "todo": len(todo)})
        plan.append((s, model_id, sdict, todo))
    total = sum(len(p[3]) for p in plan)
    if limit is not None:
        total = min(total, max(0, limit))
    summary.total = total
    nets: dict[int, object] = {}
    for s, model_id, sdict, todo in plan:
        if summary.done >= total or state.cancelled:
            break
        client = None if is_control(s.model_path) else ModelClient(s)
        try:
            for it in todo:
                if summary.done >= total or state.cancelled:
                    break
                net = nets.get(it["grid_id"])
                if net is None:
                    net = nets[it["grid_id"]] = study.load_net(it["grid_id"])
                variant = variant_of(net, it)
                prompt = render_prompt(variant)
                if prompt.text != it["prompt"]:  # the dataset's own prompt text is what is asked
                    prompt = Prompt(text=it["prompt"],
                                    shared_chars=_common_prefix(prompt.shared, it["prompt"]),
                                    generators=prompt.generators, buses=prompt.buses)
                name = _model_name(s.model_path)
                state.progress(summary.done, total, f"{name}: {variant.label}")
                started = time.time()
                try:
                    res = pipeline.ask(variant, s, client=client, prompt=prompt, repair=repair,
                                       state=JobState(cancel=state.cancel))
                except JobStopped:  # the answer in progress is dropped, not stored
                    summary.cancelled = True
                    break
                run_id = study.add_run(it["variant_id"], model_id, sdict, res.prompt, res.raw,
                                       res.answer, res.verdict, res.stats, started, time.time())
                summary.done += 1
                state.partial("run", {"run_id": run_id, "variant": variant.label,
                                      "split": it["split"], "model": name,
                                      "verdict": res.verdict})
                state.progress(summary.done, total, f"{name}: {variant.label}")
        finally:
            if client is not None:
                client.close()
    if state.cancelled:
        summary.cancelled = True
    summary.seconds = time.perf_counter() - t0
    return summary
