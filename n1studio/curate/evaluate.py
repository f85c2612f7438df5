"""Batch evaluation: GGUF models or a model server over a dataset, resumable, one commit per run.

Why this shape:
- Resumable: a (variant, model SHA-256, settings) triple already in the study is skipped,
  and every run is committed the moment it finishes, so a stop, a crash or a kill loses at
  most the answer in progress; running the same command again carries on.
- Prefix cache: the cases are asked grid by grid (the N case first, then its N-1 variants)
  through one model client, so the grid description every prompt of that grid shares is
  processed once and reused from the worker's cache.
- Models are compared on the same set: each run is labelled by model file name and hash;
  a model behind an OpenAI-compatible server by its endpoint, name and the identity the
  server reports (`Study.add_endpoint_model`), never by its API key.
- Concurrency (`concurrency=N`, a server only): N requests in flight, one `EndpointClient`
  per worker thread (a client sends one request at a time). Worker threads only ask and
  judge; the study's connection stays on the calling thread, which prepares each case
  (prompt, references), stores each run the moment it is checked and reports progress.
  A local GGUF model runs in one worker process, one answer at a time: it refuses N > 1.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path

from n1studio import pipeline
from n1studio.controls import control_label, is_control
from n1studio.curate.dataset import variant_of
from n1studio.curate.study import Study, settings_key
from n1studio.errors import ModelError
from n1studio.jobs import JobState, JobStopped
from n1studio.llm.client import ModelClient
from n1studio.llm.likelihood import likelihood
from n1studio.llm.prompt import Prompt, render_prompt
from n1studio.llm.runtime import FREE, ModelSettings, validate_settings

log = logging.getLogger(__name__)

#: settings of a server client that do not change answers (left out of a run's settings)
_TRANSPORT_KEYS = ("timeout_s", "retries", "api_key_env")


def run_settings(settings: dict, prompt: str) -> dict:
    """A run's settings with the hash of the prompt it was asked: the same variant asked
    with another prompt (a worked example, a fixed template) is another run, never a
    skipped one."""
    return {**settings, "prompt_sha256": hashlib.sha256(prompt.encode("utf-8")).hexdigest()}


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
    #: per dataset evaluated: {name, done, skipped} (run_eval_datasets)
    datasets: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"done": self.done, "skipped": self.skipped, "total": self.total,
                "cancelled": self.cancelled, "models": self.models,
                "datasets": self.datasets, "seconds": round(self.seconds, 2)}


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    k = 0
    while k < n and a[k] == b[k]:
        k += 1
    return k


def run_eval(study: Study, dataset_id: int, models: list[str | Path | None],
             settings=None, *, limit: int | None = None, repair: bool = False,
             state: JobState | None = None, server: Callable[[], object] | None = None,
             concurrency: int = 1, likelihood: bool = False) -> EvalSummary:
    """Ask every model about every case of the dataset that is not in the study yet.

    `models` are GGUF paths (None = the default model) or controls (`control:reference`,
    ...: see n1studio.controls). `settings` is an `n1studio.llm.runtime.ModelSettings`
    (its model path is replaced per model). `server` is a factory of
    `n1studio.llm.endpoint.EndpointClient`s (one per worker) for a model behind an
    OpenAI-compatible server, asked after `models`. `concurrency` keeps that many answers
    in flight (a server or controls only). `limit` caps the number of new runs (across
    models). `repair` adds each answer's distance to feasibility to its verdict (the
    report's median distance). Reports on `state` (n1studio.jobs): Progress(done, total,
    "model: variant")
    and Partial("run", {run_id, variant, split, model, verdict}) for every stored run. A
    stop (state.stop()) ends between answers or inside one (which is then dropped, not
    stored); the summary says `cancelled`. `likelihood` adds the likelihood probe
    (n1studio.llm.likelihood) of each new run of a local model to its stats, under
    "likelihood" ({ll_n, ll_own, delta_ll, n_tokens_n, n_tokens_own}), stored with the run.
    """
    state = state or JobState()
    t0 = time.perf_counter()
    base = settings or ModelSettings()
    items = study.dataset_items(dataset_id)
    # grid by grid, N first: the prefix cache of one grid's shared prompt part is reused
    items.sort(key=lambda it: (it["grid_id"], it["split"] != "N", it["position"]))
    summary = EvalSummary()
    if int(concurrency) < 1:
        raise ModelError(f"--concurrency must be at least 1 (got {concurrency})")
    if concurrency > 1 and any(not is_control(str(m) if m else None) for m in models):
        raise ModelError("--concurrency above 1 needs a model server (--endpoint): a local "
                         "GGUF model runs in one worker process, one answer at a time")
    plan = []
    entries: list[tuple[str | Path | None, object]] = [(m, None) for m in models]
    if server is not None:
        entries.append((None, server))
    for m, factory in entries:
        label = None
        if factory is not None:
            probe = factory()  # what answers: asked before any case (one clear line if not)
            try:
                s = validate_settings(replace(base, model_path=None))
                _probe_fingerprint(probe, s)
                model_id = study.add_endpoint_model(probe.identity())
                label = probe.label
                sdict = {k: v for k, v in probe.settings_dict().items()
                         if k not in _TRANSPORT_KEYS}
            finally:
                probe.close()
        elif is_control(str(m) if m else None):
            s = replace(base, model_path=control_label(str(m)))
            model_id = study.add_control(s.model_path)
        else:
            s = validate_settings(replace(base, model_path=str(m) if m else None))
            model_id = (study.add_adapted_model(s.model_path, s.lora_path, s.lora_sha256,
                                                s.lora_scale) if s.lora_path
                        else study.add_model(s.model_path))
        if factory is None:
            sdict = s.to_dict()
        todo = [it for it in items if not study.has_run(
            it["variant_id"], model_id, settings_key(run_settings(sdict, it["prompt"])))]
        summary.skipped += len(items) - len(todo)
        info = next(x for x in study.models() if x["id"] == model_id)
        summary.models.append({"file_name": info["file_name"], "sha256": info["sha256"],
                               "todo": len(todo)})
        plan.append((s, model_id, sdict, todo, factory, label))
    total = sum(len(p[3]) for p in plan)
    if limit is not None:
        total = min(total, max(0, limit))
    summary.total = total
    nets: dict[int, object] = {}
    for s, model_id, sdict, todo, factory, label in plan:
        if summary.done >= total or state.cancelled:
            break
        if concurrency > 1:
            _run_concurrent(study, todo, s, model_id, sdict, factory,
                            label or _model_name(s.model_path), int(concurrency), nets,
                            summary, total, state, repair)
            continue
        client = None if is_control(s.model_path) else (factory() if factory is not None
                                                        else ModelClient(s))
        try:
            for it in todo:
                if summary.done >= total or state.cancelled:
                    break
                variant, prompt = _case(study, nets, it)
                name = label or (s.label if s.lora_path else _model_name(s.model_path))
                state.progress(summary.done, total, f"{name}: {variant.label}")
                started = time.time()
                try:
                    res = pipeline.ask(variant, s, client=client, prompt=prompt, repair=repair,
                                       state=JobState(cancel=state.cancel))
                except JobStopped:  # the answer in progress is dropped, not stored
                    summary.cancelled = True
                    break
                if likelihood and isinstance(client, ModelClient):
                    res.stats["likelihood"] = _likelihood(variant, prompt, res, s, client,
                                                          state)
                run_id = study.add_run(it["variant_id"], model_id,
                                       run_settings(sdict, it["prompt"]), res.prompt, res.raw,
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


def run_eval_datasets(study: Study, dataset_ids: list[int], models: list[str | Path | None],
                      settings=None, *, limit: int | None = None, state: JobState | None = None,
                      **kw) -> EvalSummary:
    """`run_eval` over several datasets in turn (what `eval` without --dataset does: every
    dataset of the study), resumable like it; `limit` caps the new runs of all of them.
    The summary adds up the datasets' and lists each one's runs in `datasets`."""
    state = state or JobState()
    out = EvalSummary()
    for ds in dataset_ids:
        if state.cancelled or (limit is not None and out.done >= limit):
            break
        left = None if limit is None else limit - out.done
        one = run_eval(study, ds, models, settings, limit=left, state=state, **kw)
        out.done += one.done
        out.skipped += one.skipped
        out.total += one.total
        out.seconds += one.seconds
        out.cancelled = out.cancelled or one.cancelled
        for m in one.models:
            known = next((x for x in out.models if x["sha256"] == m["sha256"]), None)
            if known is None:
                out.models.append(dict(m))
            else:
                known["todo"] += m["todo"]
        out.datasets.append({"name": study.dataset_name(ds), "done": one.done,
                             "skipped": one.skipped})
    return out


def _likelihood(variant, prompt, res, s, client, state: JobState) -> dict | None:
    """The likelihood probe of one run (its prompt is still in the worker's cache), as the
    run's stats keep it; None where a reference is missing."""
    refs = res.references
    n_answer = refs.own_answer if variant.is_base else refs.n_answer
    if n_answer is None or refs.own_answer is None:
        return None
    try:
        lk = likelihood(variant, prompt, n_answer, refs.own_answer, s, client=client,
                        cancel=state.cancel)
    except ModelError:
        if state.cancelled:  # stopped: the run is kept without its likelihood
            return None
        raise
    doc = lk.to_dict(with_prompt=False)
    return {k: doc[k] for k in ("ll_n", "ll_own", "delta_ll", "n_tokens_n", "n_tokens_own")}


def _probe_fingerprint(client, s) -> None:
    """One one-token request, so the server's identity includes its fingerprint (sent with
    completions only, by servers that have one) before runs are keyed by it."""
    client.complete("0", max_tokens=1, settings=replace(s, mode=FREE, max_tokens=1))


def _case(study: Study, nets: dict, it: dict):
    """The variant and the prompt of a dataset item (the dataset's own prompt text)."""
    net = nets.get(it["grid_id"])
    if net is None:
        net = nets[it["grid_id"]] = study.load_net(it["grid_id"])
    variant = variant_of(net, it)
    prompt = render_prompt(variant)
    if prompt.text != it["prompt"]:  # the dataset's own prompt text is what is asked
        prompt = Prompt(text=it["prompt"],
                        shared_chars=_common_prefix(prompt.shared, it["prompt"]),
                        generators=prompt.generators, buses=prompt.buses)
    return variant, prompt


def _run_concurrent(study: Study, todo: list[dict], s, model_id: int, sdict: dict,
                    factory, name: str, n: int, nets: dict, summary: EvalSummary,
                    total: int, state: JobState, repair: bool) -> None:
    """`n` answers in flight: worker threads ask and judge, this thread prepares each case
    (prompt, references: solved here, one at a time) and stores each run as it comes."""
    clients: queue.Queue = queue.Queue()
    made = [factory() for _ in range(n)] if factory is not None else [None] * n
    for c in made:
        clients.put(c)

    def work(variant, prompt, refs):
        client = clients.get()
        try:
            started = time.time()
            res = pipeline.ask(variant, s, client=client, prompt=prompt, refs=refs,
                               repair=repair, state=JobState(cancel=state.cancel))
            return res, started, time.time()
        finally:
            clients.put(client)

    pending: dict = {}
    items = iter(todo)
    submitted = summary.done
    pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="eval")
    try:
        while True:
            while len(pending) < n and submitted < total and not state.cancelled:
                it = next(items, None)
                if it is None:
                    break
                variant, prompt = _case(study, nets, it)
                refs = pipeline.references(variant)  # here: CasADi stays on one thread
                variant.model  # noqa: B018 -- built here, read by the worker
                state.progress(summary.done, total, f"{name}: {variant.label}")
                pending[pool.submit(work, variant, prompt, refs)] = (it, variant)
                submitted += 1
            if not pending:
                break
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                it, variant = pending.pop(fut)
                try:
                    res, started, ended = fut.result()
                except JobStopped:  # the answer in progress is dropped, not stored
                    summary.cancelled = True
                    continue
                run_id = study.add_run(it["variant_id"], model_id,
                                       run_settings(sdict, it["prompt"]), res.prompt,
                                       res.raw, res.answer, res.verdict, res.stats,
                                       started, ended)
                summary.done += 1
                state.partial("run", {"run_id": run_id, "variant": variant.label,
                                      "split": it["split"], "model": name,
                                      "verdict": res.verdict})
                state.progress(summary.done, total, f"{name}: {variant.label}")
    except BaseException:  # Ctrl+C, a store that failed: stop the answers in flight
        state.stop()
        for c in made:
            if c is not None:
                c.kill()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        for c in made:
            if c is not None:
                c.close()
