"""Constrained answers over HTTP against the local worker, same default model, same CPU.

Starts llama-cpp-python's OpenAI-compatible server (`python -m llama_cpp.server`) on
127.0.0.1 with the default model and the local worker's thread counts, then times a
complete constrained case14 answer (N-1 line:3) each way, and a second variant (N-1
line:7, the grid description already in the prefix cache):

- local worker (`ModelClient`): fixed JSON pieces in one batch, numbers sampled.
- endpoint "scaffold": one short request per number (GBNF for the number and the next
  character), prompt + answer-so-far re-sent; the server's prefix cache reads the tail.
- endpoint "grammar": one request with a GBNF grammar spelling the whole answer.

"cold" = the server's cache holds an unrelated prompt (the whole prompt is read again);
the worker is a fresh process (its model load is shown apart). Every answer is checked to
be schema-true for exactly the variant's elements.

`--hostile` (no model needed) times instead how a request to a hostile local server ends
(tests/llm/hostile_server.py): SSE comments forever, tokens forever, one byte at a time,
Retry-After forever, each under a DEADLINE_S deadline; and how long Stop takes to end a
read blocked before the first byte (STOP_TRIES tries).

    .venv/bin/python bench/bench_endpoint.py [--modes scaffold,grammar] [--port N]
    .venv/bin/python bench/bench_endpoint.py --hostile
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))

from n1studio.grid.cases import load_case
from n1studio.grid.variant import Variant
from n1studio.llm.client import ModelClient
from n1studio.llm.endpoint import EndpointClient
from n1studio.llm.prompt import render_prompt
from n1studio.llm.runtime import FREE, ModelSettings, default_model_path, prompt_threads
from n1studio.llm.scaffold import answer_plan, max_number_tokens
from n1studio.schema import ANSWER

MODEL = "gemma-3-270m"
DEADLINE_S = 5.0
STOP_TRIES = 10


def hostile() -> int:
    """How each never-ending request ends, and how fast Stop is (no model)."""
    import statistics
    import threading

    from n1studio.llm.endpoint import EndpointError
    from tests.llm.hostile_server import MODEL as HMODEL
    from tests.llm.hostile_server import HostileServer

    free = ModelSettings(mode=FREE, max_tokens=100_000, n_threads=1)
    print(f"deadline {DEADLINE_S:g} s, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"{'server':<34}{'ended after s':>14}  message")
    for mode, period in (("comments", 1.0), ("tokens", 0.01), ("drip", 1.0), ("busy", 1.0)):
        with HostileServer(mode, period=period) as srv:
            c = EndpointClient(srv.url, HMODEL, timeout_s=DEADLINE_S, retries=1000)
            t0 = time.monotonic()
            try:
                c.complete("x", settings=free)
                msg = "(no error)"
            except EndpointError as exc:
                msg = str(exc)
            took = time.monotonic() - t0
        print(f"{mode + f' (every {period:g} s)':<34}{took:>14.2f}  {msg[-70:]}", flush=True)
    stops = []
    for _ in range(STOP_TRIES):
        with HostileServer("silent") as srv:
            c = EndpointClient(srv.url, HMODEL, timeout_s=600)
            cancel = threading.Event()
            threading.Timer(0.2, cancel.set).start()
            t0 = time.monotonic()
            r = c.complete("x", settings=free, cancel=cancel)
            stops.append(time.monotonic() - t0 - 0.2)
            assert r.cancelled
    print(f"Stop during a blocked first read: median {statistics.median(stops) * 1000:.0f} ms, "
          f"max {max(stops) * 1000:.0f} ms after the press ({STOP_TRIES} tries)")
    return 0


def exact(raw: str, p) -> bool:
    try:
        doc = json.loads(raw)
    except ValueError:
        return False
    return (doc.get("schema") == ANSWER
            and [g["element"] for g in doc["generators"]] == p.generators
            and [b["element"] for b in doc["buses"]] == p.buses)


def start_server(port: int, threads: int, batch_threads: int) -> subprocess.Popen:
    fd, log_path = tempfile.mkstemp(prefix="n1-llama-server-", suffix=".log")
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(default_model_path()),
           "--model_alias", MODEL, "--host", "127.0.0.1", "--port", str(port),
           "--n_ctx", "4096", "--n_threads", str(threads),
           "--n_threads_batch", str(batch_threads)]
    proc = subprocess.Popen(cmd, stdout=fd, stderr=subprocess.STDOUT)
    os.close(fd)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 180:
        if proc.poll() is not None:
            sys.exit(f"server exited; see {log_path}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=2):
                return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    sys.exit("server did not come up")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--modes", default="scaffold,grammar")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--skip-local", action="store_true")
    ap.add_argument("--hostile", action="store_true", help="time hostile servers instead")
    args = ap.parse_args()
    if args.hostile:
        return hostile()
    s = ModelSettings()
    n_read = prompt_threads(s.n_threads, s.n_threads_batch)  # the server gets a fixed count
    port = args.port
    if not port:
        with socket.socket() as sk:
            sk.bind(("127.0.0.1", 0))
            port = sk.getsockname()[1]
    net = load_case("case14")
    a = render_prompt(Variant(net, ["line:3"]))
    b = render_prompt(Variant(net, ["line:7"]))
    print(f"model {default_model_path().name}, threads {s.n_threads} (decode) / "
          f"{n_read} (prompt), greedy, CPU, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}")
    print(f"{'runtime':<26}{'variant':<14}{'cache':<7}{'wall s':>8}{'ttft s':>8}"
          f"{'requests':>9}{'exact':>7}")

    def row(name, label, cache, st, ok):
        print(f"{name:<26}{label:<14}{cache:<7}{st['wall_s']:>8.2f}{st['ttft_s']:>8.2f}"
              f"{st.get('requests', 1) or 1:>9}{ok!s:>7}", flush=True)

    if not args.skip_local:
        load_s = 0.0
        with ModelClient(s) as local:
            for p, label, cache in ((a, "N-1 line:3", "cold"), (b, "N-1 line:7", "warm")):
                plan = answer_plan(p)
                r = local.complete(p.text, plan=plan, max_tokens=max_number_tokens(plan),
                                   settings=s)
                row("local worker", label, cache, r.stats, exact(r.raw, p))
                if cache == "cold":
                    load_s = r.stats.get("load_s", 0)
            print(f"{'':<26}(model load {load_s:.2f} s on the first request, not included)")

    proc = start_server(port, s.n_threads, n_read)
    try:
        for mode in filter(None, args.modes.split(",")):
            c = EndpointClient(f"http://127.0.0.1:{port}", MODEL, constrained=mode,
                               timeout_s=1800, idle_timeout_s=600)
            # evict the cached prompt: the next one is read from scratch
            c.complete("Hello", settings=ModelSettings(mode=FREE, max_tokens=1, n_threads=1))
            for p, label, cache in ((a, "N-1 line:3", "cold"), (b, "N-1 line:7", "warm")):
                r = c.complete(p.text, plan=answer_plan(p), settings=s)
                row(f"endpoint {mode}", label, cache, r.stats, exact(r.raw, p))
        print(f"server identity: {json.dumps(c.identity())}")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
