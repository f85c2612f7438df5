"""One bulk writer at a time, stable run ids, no orphaned annotations: real processes, one
real study file."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from n1studio.curate.study import Study, check_study
from n1studio.errors import StudyBusyError
from n1studio.grid.cases import load_case

CLI = [sys.executable, "-c", "import sys; from n1studio.cli import main; sys.exit(main())"]


def _holder(p: Path, purpose: str = "eval") -> subprocess.Popen:
    """A real process that takes the study's writer lease and keeps it."""
    script = textwrap.dedent(f"""
        import time
        from n1studio.curate.study import Study
        st = Study.open({str(p)!r})
        with st.writer({purpose!r}):
            print("holding", flush=True)
            time.sleep(120)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "holding"
    return proc


def test_second_eval_waits_then_refuses_naming_the_writer(tmp_path):
    p = tmp_path / "busy.n1study"
    Study.open(p, create=True).close()
    holder = _holder(p)
    try:
        t0 = time.monotonic()
        res = subprocess.run([*CLI, "eval", "--study", str(p)], capture_output=True, text=True,
                             timeout=120, check=False)
        waited = time.monotonic() - t0
        assert res.returncode == 2, res.stderr
        assert "Traceback" not in res.stderr
        err = res.stderr.strip()
        assert len(err.splitlines()) == 1, err
        assert re.search(rf"study busy\.n1study is being written by pid {holder.pid} \(eval\) "
                         r"since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", err), err
        assert waited >= 4.0  # it waited for the lease before refusing
        with Study.open(p) as st:
            assert st.writer_lease()["pid"] == holder.pid
            with pytest.raises(StudyBusyError, match=f"pid {holder.pid}"), st.writer("eval", 0.0):
                pass
    finally:
        holder.kill()
        holder.wait()
    # the holder was killed (no chance to release): its lease is stale and taken over at once
    with Study.open(p) as st:
        assert st.writer_lease() is None
        with st.writer("eval", wait=0.0):
            assert st.writer_lease()["pid"] == os.getpid()
        assert st.writer_lease() is None  # released on exit


def test_two_writers_keep_run_ids_and_annotations(tmp_path):
    """Two processes store the same 20 runs at once while runs are annotated: 20 runs, the
    ids first given never change, every annotation still points at its run."""
    p = tmp_path / "race.n1study"
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF" + bytes(60))
    with Study.open(p, create=True) as st:
        gid = st.add_grid(load_case("case14"), "case14", store_net=False)
        vids = [st.add_variant(gid, [f"line:{k}"]) for k in range(20)]
        mid = st.add_model(model)
    script = textwrap.dedent(f"""
        import sys, time
        from n1studio.curate.study import Study
        st = Study.open({str(p)!r})
        print("ready", flush=True)
        sys.stdin.readline()
        for rep in range(3):
            for v in {vids!r}:
                st.add_run(v, {mid}, {{"mode": "constrained"}}, "p", f"{{sys.argv[1]}} {{rep}}",
                           None, {{"feasible": False}}, None, time.time(), time.time())
        print("done", flush=True)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, name], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True) for name in ("A", "B")]
    for pr in procs:
        assert pr.stdout.readline().strip() == "ready"
    for pr in procs:
        pr.stdin.write("go\n")
        pr.stdin.flush()
    first_ids: dict[int, int] = {}
    with Study.open(p) as st:
        while len(first_ids) < 20:  # annotate each run as soon as it exists
            for r in st.runs():
                if r["variant_id"] not in first_ids:
                    first_ids[r["variant_id"]] = r["id"]
                    st.annotate("run", r["id"], note=f"seen {r['raw']}")
            time.sleep(0.01)
    for pr in procs:
        assert pr.stdout.readline().strip() == "done"
        assert pr.wait(timeout=60) == 0
    with Study.open(p) as st:
        runs = st.runs()
        assert len(runs) == 20
        assert {r["variant_id"]: r["id"] for r in runs} == first_ids
        for r in runs:
            assert st.annotation("run", r["id"])["note"].startswith("seen ")
    assert check_study(p) == []  # no orphaned annotation, nothing damaged


@pytest.mark.slow
def test_two_real_evals_ask_each_case_once(tmp_path):
    """`n1studio eval` twice at once on one study with the default model: the second refuses
    in one line, the first stores every case once; a third finds nothing left to ask."""
    p = tmp_path / "eval.n1study"
    build = subprocess.run([*CLI, "dataset", "build", "case14", "--study", str(p), "--sample",
                            "1", "--seed", "3"], capture_output=True, text=True, timeout=300,
                           check=False)
    assert build.returncode == 0, build.stderr
    first = subprocess.Popen([*CLI, "eval", "--study", str(p)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the first evaluation has the lease
            conn = sqlite3.connect(p)
            try:
                if conn.execute("SELECT count(*) FROM writer").fetchone()[0]:
                    break
            finally:
                conn.close()
            time.sleep(0.2)
        second = subprocess.run([*CLI, "eval", "--study", str(p)], capture_output=True,
                                text=True, timeout=120, check=False)
        assert second.returncode == 2, second.stderr
        assert f"is being written by pid {first.pid} (eval)" in second.stderr
        out, err = first.communicate(timeout=600)
    finally:
        if first.poll() is None:
            first.send_signal(signal.SIGKILL)
            first.wait()
    assert first.returncode == 0, err
    assert "2 new run(s), 0 already in the study" in out
    conn = sqlite3.connect(p)
    try:
        assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 2
    finally:
        conn.close()
    third = subprocess.run([*CLI, "eval", "--study", str(p)], capture_output=True, text=True,
                           timeout=300, check=False)
    assert third.returncode == 0, third.stderr
    assert "0 new run(s), 2 already in the study" in third.stdout
