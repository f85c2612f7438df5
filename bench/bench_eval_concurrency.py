"""eval --concurrency N against llama.cpp's server: answers per minute at 1, 2 and 4.

Starts llama-cpp-python's OpenAI-compatible server (`python -m llama_cpp.server`) on
127.0.0.1 with the default model (`--interrupt_requests False`: by default it cuts a
streaming answer short as soon as another request waits), builds a study with PGLib
case14's N case and a few N-1 variants, then runs `run_eval` with a server client factory
at each concurrency (a different seed per level, so no level skips another's runs) and
reports answers per minute. The server's prefix cache is warmed first with the grid's
prompt, so every level starts from the same cache.

What to expect from llama_cpp.server: it serves ONE request at a time (a global lock
around the model; there is no n_parallel / slot setting, and several models in a config
file share the same lock), so concurrency only overlaps our side (reference solves,
judging, HTTP) with the server's work. A server with continuous batching (vLLM, or
llama.cpp's own C++ `llama-server -np N`) decodes the N in-flight answers together.

    .venv/bin/python bench/bench_eval_concurrency.py [--levels 1,2,4] [--variants 3]
        [--max-tokens 16] [--constrained]
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
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from n1studio.curate.dataset import build_dataset
from n1studio.curate.evaluate import run_eval
from n1studio.curate.study import Study
from n1studio.grid.cases import load_case
from n1studio.llm.endpoint import EndpointClient
from n1studio.llm.runtime import CONSTRAINED, FREE, ModelSettings, default_model_path

REPO = Path(__file__).resolve().parents[1]

CASE14 = str(REPO / "resources/pglib/pglib_opf_case14_ieee.m")
MODEL = "gemma-3-270m"


def start_server(log_path: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(default_model_path()),
           "--model_alias", MODEL, "--host", "127.0.0.1", "--port", str(port),
           "--n_ctx", "4096", "--n_threads", "1", "--n_threads_batch",
           str(len(os.sched_getaffinity(0))), "--interrupt_requests", "False"]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while True:
        if proc.poll() is not None:
            raise SystemExit("llama_cpp.server exited:\n" + log_path.read_text()[-2000:])
        try:
            with urllib.request.urlopen(url + "/v1/models", timeout=2):
                return proc, url
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise SystemExit("llama_cpp.server did not come up") from None
            time.sleep(0.5)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--levels", default="1,2,4")
    ap.add_argument("--variants", type=int, default=3, help="N-1 variants beside N")
    ap.add_argument("--max-tokens", type=int, default=16, help="free answers' length")
    ap.add_argument("--constrained", action="store_true",
                    help="complete constrained answers (minutes each on a loaded CPU)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_eval_conc_"))
    path = tmp / "study.n1study"
    with Study.open(path, create=True) as st:
        ds = build_dataset(st, load_case(CASE14), CASE14, "c14", sample=args.variants,
                           seed=1, no_islanding=True, feasible_only=True)
        items = st.dataset_items(ds)
    base = ModelSettings(mode=CONSTRAINED if args.constrained else FREE,
                         max_tokens=args.max_tokens, n_threads=1)
    proc, url = start_server(tmp / "server.log")
    rows = []
    try:
        warm = EndpointClient(url, MODEL, settings=base, timeout_s=3600)
        warm.complete(items[0]["prompt"], max_tokens=1, settings=replace(base, mode=FREE))
        warm.close()
        for level in (int(x) for x in args.levels.split(",")):
            s = replace(base, seed=level)

            def factory(s=s):
                return EndpointClient(url, MODEL, settings=s, timeout_s=3600)

            with Study.open(path) as st, st.writer("eval"):
                t0 = time.perf_counter()
                summary = run_eval(st, st.dataset_id(None), [], s, server=factory,
                                   concurrency=level)
                dt = time.perf_counter() - t0
            rows.append({"concurrency": level, "answers": summary.done,
                         "seconds": round(dt, 1),
                         "answers_per_min": round(60 * summary.done / dt, 2)})
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    mode = "constrained" if args.constrained else f"free, {args.max_tokens} tokens"
    if args.json:
        print(json.dumps({"mode": mode, "cases": len(items), "rows": rows}, indent=1))
    else:
        print(f"llama_cpp.server, default model, PGLib case14 ({len(items)} cases, {mode}):")
        for r in rows:
            print(f"  concurrency {r['concurrency']}: {r['answers']} answers in "
                  f"{r['seconds']} s = {r['answers_per_min']} answers/min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
