"""eval --concurrency N and eval --endpoint: answers in flight, each stored as it is checked.

Cheap parts use controls (n1studio.controls: they answer from the references, with no
model), so a dataset of PGLib case14 variants is evaluated in seconds with four answers in
flight; the server part asks the real llama.cpp server (llama-cpp-python's own, the default
model, free answers of a few tokens) and is marked slow.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from n1studio.curate.dataset import build_dataset
from n1studio.curate.evaluate import run_eval
from n1studio.curate.study import Study
from n1studio.errors import ModelError
from n1studio.jobs import JobState, Partial, Progress

REPO = Path(__file__).resolve().parents[2]
CASE14 = str(REPO / "resources" / "pglib" / "pglib_opf_case14_ieee.m")
CONTROLS = ["control:reference", "control:zeros"]


def _server_helpers():
    """tests/llm/conftest.py's server starter (a conftest's fixtures reach its folder only)."""
    spec = importlib.util.spec_from_file_location("llm_server_conftest",
                                                  REPO / "tests" / "llm" / "conftest.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _runs(path: Path) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT variant_id, model_id, verdict FROM runs").fetchall()
    finally:
        conn.close()


@pytest.fixture
def study(tmp_path):
    from n1studio.grid.cases import load_case

    path = tmp_path / "study.n1study"
    with Study.open(path, create=True) as st:
        ds = build_dataset(st, load_case(CASE14), CASE14, "c14", sample=6, seed=1,
                           no_islanding=True, feasible_only=True)
        n = len(st.dataset_items(ds))
    assert n == 7
    return path


def test_controls_four_in_flight_store_every_run_once_from_the_calling_thread(study):
    """Concurrency 4 with two controls: 14 runs, one per (case, control); each stored and
    reported on the calling thread (the study's connection never leaves it); the reference
    control is feasible on every case, as it is when asked one at a time."""
    main = threading.get_ident()
    seen_threads, runs = set(), []

    def report(ev):
        seen_threads.add(threading.get_ident())
        if isinstance(ev, Partial) and ev.kind == "run":
            runs.append(ev.value)

    with Study.open(study) as st, st.writer("eval"):
        ds = st.dataset_id(None)
        summary = run_eval(st, ds, CONTROLS, concurrency=4, state=JobState(report))
        assert (summary.done, summary.skipped, summary.cancelled) == (14, 0, False)
        by_model = {m["id"]: m["file_name"] for m in st.models()}
        stored = st.runs(ds)
    assert seen_threads == {main}
    assert len(runs) == 14 and len({r["run_id"] for r in runs}) == 14
    pairs = [(r["variant_id"], by_model[r["model_id"]]) for r in stored]
    assert len(pairs) == len(set(pairs)) == 14
    ref = [r for r in stored if by_model[r["model_id"]] == "control:reference"]
    assert all(r["verdict"]["feasible"] for r in ref)
    zeros = [r for r in stored if by_model[r["model_id"]] == "control:zeros"]
    assert not any(r["verdict"]["feasible"] for r in zeros)


def test_a_stop_mid_way_keeps_what_was_checked_and_a_rerun_finishes_without_duplicates(study):
    """Stopped after 3 stored runs with 4 in flight: the runs stored so far stay, the
    answers in flight are either stored or dropped whole; the rerun adds exactly the rest."""
    state = JobState()
    stored_events = []

    def report(ev):
        if isinstance(ev, Partial) and ev.kind == "run":
            stored_events.append(ev.value["run_id"])
            if len(stored_events) == 3:
                state.stop()

    state._report = report
    with Study.open(study) as st, st.writer("eval"):
        ds = st.dataset_id(None)
        first = run_eval(st, ds, ["control:reference"], concurrency=4, state=state)
    assert first.cancelled and 3 <= first.done < 7
    assert len(_runs(study)) == first.done
    with Study.open(study) as st, st.writer("eval"):
        second = run_eval(st, st.dataset_id(None), ["control:reference"], concurrency=4)
    assert second.skipped == first.done and second.done == 7 - first.done
    rows = _runs(study)
    assert len(rows) == len({r[0] for r in rows}) == 7


def test_killed_mid_way_then_rerun_gives_every_case_once(study):
    """`n1studio eval --concurrency 4` killed (SIGKILL) once a run is committed, run again:
    every case has exactly one run; nothing stored before the kill is lost."""
    cmd = [sys.executable, "-m", "n1studio.cli", "eval", "--study", str(study),
           "--model", "control:reference", "--concurrency", "4"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while not _runs(study) and proc.poll() is None:
            assert time.monotonic() < deadline, "no run committed in time"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    before = {r[0] for r in _runs(study)}
    assert before
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    rows = _runs(study)
    assert len(rows) == 7 and len({r[0] for r in rows}) == 7 and before <= {r[0] for r in rows}


def test_concurrency_with_a_local_model_is_refused_in_one_line(study):
    with Study.open(study) as st, pytest.raises(ModelError) as exc:
        run_eval(st, st.dataset_id(None), [None], concurrency=2)
    msg = str(exc.value)
    assert "\n" not in msg and "--endpoint" in msg and "one worker process" in msg
    out = subprocess.run([sys.executable, "-m", "n1studio.cli", "eval", "--study", str(study),
                          "--concurrency", "2"], capture_output=True, text=True, timeout=300,
                         check=False)
    assert out.returncode == 2
    assert "one worker process" in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert _runs(study) == []


@pytest.mark.slow
def test_a_real_server_two_in_flight_recorded_by_its_identity_never_its_key(
        tmp_path, monkeypatch):
    """eval --endpoint against llama.cpp's server, 2 answers in flight: every case answered
    once, the model row names the server ("gemma-3-270m @ 127.0.0.1:PORT") and is keyed by
    its identity; the API key is nowhere in the study file; a rerun skips everything."""
    from n1studio.grid.cases import load_case
    from n1studio.llm.endpoint import EndpointClient
    from n1studio.llm.runtime import FREE, ModelSettings, default_model_path

    helpers = _server_helpers()
    monkeypatch.setenv(helpers.SERVER_KEY_ENV, helpers.SERVER_KEY)
    path = tmp_path / "study.n1study"
    with Study.open(path, create=True) as st:
        build_dataset(st, load_case(CASE14), CASE14, "c14", sample=2, seed=1,
                      no_islanding=True, feasible_only=True)
    settings = ModelSettings(mode=FREE, max_tokens=6, n_threads=1)
    with helpers.llama_server(default_model_path(), tmp_path / "server.log") as url:
        def factory():
            # llama_cpp.server answers one request at a time: a queued request waits for
            # the one ahead of it before its first byte, so the timeout covers the queue
            return EndpointClient(url, helpers.SERVER_MODEL, api_key_env=helpers.SERVER_KEY_ENV,
                                  settings=settings, timeout_s=1200)

        events = []
        with Study.open(path) as st, st.writer("eval"):
            ds = st.dataset_id(None)
            summary = run_eval(st, ds, [], settings, server=factory, concurrency=2,
                               state=JobState(events.append))
            assert (summary.done, summary.cancelled) == (3, False)
            models = st.models()
            stored = st.runs(ds)
        with Study.open(path) as st, st.writer("eval"):
            again = run_eval(st, st.dataset_id(None), [], settings, server=factory,
                             concurrency=2)
        assert (again.done, again.skipped) == (0, 3)
    port = url.rsplit(":", 1)[1]
    assert [m["file_name"] for m in models] == [f"gemma-3-270m @ 127.0.0.1:{port}"]
    assert models[0]["sha256"].startswith("endpoint:")
    assert len(stored) == len({r["variant_id"] for r in stored}) == 3
    assert all(r["settings"]["endpoint"] == url and r["settings"]["model"] == "gemma-3-270m"
               for r in stored)
    assert all(r["raw"] for r in stored)
    progress = [e for e in events if isinstance(e, Progress)]
    assert progress[-1].done == progress[-1].total == 3
    for f in path.parent.glob("study.n1study*"):
        assert helpers.SERVER_KEY.encode() not in f.read_bytes()


def test_eval_endpoint_mistakes_are_one_line_and_store_nothing(study):
    """--endpoint without one --model NAME, and a server that is not there: exit 2, one
    line, no model or run recorded."""
    helpers = _server_helpers()
    base = [sys.executable, "-m", "n1studio.cli", "eval", "--study", str(study)]
    no_model = subprocess.run(base + ["--endpoint", "http://127.0.0.1:9"], capture_output=True,
                              text=True, timeout=300, check=False)
    refused = subprocess.run(base + ["--endpoint", f"http://127.0.0.1:{helpers.free_port()}",
                                     "--model", "m", "--concurrency", "2"],
                             capture_output=True, text=True, timeout=300, check=False)
    for out in (no_model, refused):
        assert out.returncode == 2, out.stderr
        assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
    assert "--model NAME" in no_model.stderr
    assert "127.0.0.1" in refused.stderr
    assert _runs(study) == []
    with Study.open(study) as st:
        assert st.models() == []
