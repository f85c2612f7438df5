"""The model worker stops quietly: a Stop or a close() while it reads the prompt is a stop,
not a failure, and a parent that dies mid-prompt leaves no traceback and no worker behind.

Real default model, real worker processes, PGLib-sized prompt (case14).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from n1studio.grid.variant import Variant
from n1studio.llm.client import ModelClient
from n1studio.llm.prompt import render_prompt
from n1studio.llm.runtime import FREE, ModelSettings

pytestmark = pytest.mark.slow  # the real model on the CPU


def test_stop_while_reading_the_prompt_is_a_stop(client, case14):
    p = render_prompt(Variant(case14, ["line:7"]))
    cancel = threading.Event()
    events, progress = [], []

    def on_event(ev):
        events.append(ev.get("ev"))
        if ev.get("ev") == "progress":  # the first prompt batch is read: Stop now
            progress.append((ev["done"], ev["total"]))
            cancel.set()

    res = client.complete(p.text, settings=ModelSettings(mode=FREE, max_tokens=50),
                          on_event=on_event, cancel=cancel)
    assert res.cancelled
    assert res.raw == ""
    assert "token" not in events
    assert progress and progress[-1][0] < progress[-1][1]  # it stopped before the end
    # the worker is still there and answers the next request
    again = client.complete("The capital of France is", settings=ModelSettings(mode=FREE),
                            max_tokens=3)
    assert not again.cancelled and again.raw


def test_close_from_another_thread_while_reading_the_prompt(case14):
    p = render_prompt(Variant(case14, ["trafo:0"]))
    c = ModelClient(ModelSettings(mode=FREE, max_tokens=50))
    out = {}
    started = threading.Event()

    def ask():
        out["res"] = c.complete(p.text, on_event=lambda ev: ev.get("ev") == "progress"
                                and started.set())

    t = threading.Thread(target=ask)
    t.start()
    assert started.wait(300)
    proc = c._proc  # the worker process, to read its exit status
    c.close()  # what the window does when it closes
    t.join(60)
    assert not t.is_alive()
    assert out["res"].cancelled  # the asking thread got a stop, not an error
    # the worker is gone: it ended by itself (0) at its next prompt batch, or, on a machine
    # too loaded to finish that batch within close()'s 3 s, was killed (-9); never an error
    assert proc.exitcode in (0, -9)


PARENT_DIES = textwrap.dedent("""
    import os, signal, sys
    from n1studio.grid.cases import load_case
    from n1studio.grid.variant import Variant
    from n1studio.llm.client import ModelClient
    from n1studio.llm.prompt import render_prompt
    from n1studio.llm.runtime import FREE, ModelSettings

    p = render_prompt(Variant(load_case("case14"), ["line:2"]))
    c = ModelClient(ModelSettings(mode=FREE, max_tokens=50))

    def on_event(ev):
        if ev.get("ev") == "progress":  # reading the prompt: the parent dies
            print(c.worker_pid, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

    c.complete(p.text, on_event=on_event)
""")


def test_parent_killed_while_the_worker_reads_the_prompt():
    proc = subprocess.Popen([sys.executable, "-c", PARENT_DIES], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=600)  # EOF once the worker, which shares it, is gone
    assert proc.returncode == -9
    worker = int(out.split()[0])
    assert "Traceback" not in err and "Error" not in err, err
    deadline = time.monotonic() + 30
    while os.path.exists(f"/proc/{worker}") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not os.path.exists(f"/proc/{worker}") or _zombie(worker)


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
