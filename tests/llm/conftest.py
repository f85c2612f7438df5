"""Fixtures for the model runtime tests: the real default model and one shared worker."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from n1studio.grid.cases import load_case
from n1studio.llm.client import ModelClient
from n1studio.llm.runtime import ModelSettings, default_model_path


@pytest.fixture(scope="session")
def default_model():
    return default_model_path()


@pytest.fixture(scope="module")
def client(default_model):
    c = ModelClient(ModelSettings())
    yield c
    c.close()


@pytest.fixture(scope="session")
def case14():
    return load_case("case14")


# ---- a real OpenAI-compatible server (llama-cpp-python's own) --------------------------------
# Shared by tests/llm/test_endpoint.py-style tests and tests/curate/test_eval_concurrency.py
# (which loads this file by path: fixtures of a conftest only reach its own folder).
SERVER_MODEL = "gemma-3-270m"
SERVER_KEY_ENV = "N1STUDIO_TEST_SERVER_KEY"
SERVER_KEY = "sk-test-5f0c2a1e9b7d-never-print-me"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def llama_server(model_path, log_path, *, key: str | None = SERVER_KEY,
                 alias: str = SERVER_MODEL, extra: tuple[str, ...] = (),
                 interrupt: bool = False):
    """`python -m llama_cpp.server` with `model_path` on 127.0.0.1; yields its URL.

    `interrupt=False` (`--interrupt_requests False`): by default llama_cpp.server ends a
    streaming answer as soon as another request waits (it serves one request at a time
    behind a global lock), which would cut every answer of a concurrent evaluation short;
    with it off, requests queue and each one finishes. `interrupt=True` keeps the server's
    own default."""
    port = free_port()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path),
           "--model_alias", alias, "--host", "127.0.0.1", "--port", str(port),
           "--n_ctx", "4096", "--n_threads", "1", "--n_threads_batch",
           str(len(os.sched_getaffinity(0))), *extra]
    if not interrupt:
        cmd += ["--interrupt_requests", "False"]
    if key:
        cmd += ["--api_key", key]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited ({proc.returncode}):\n"
                            + Path(log_path).read_text(errors="replace")[-2000:])
            try:
                req = urllib.request.Request(url + "/v1/models",
                                             headers={"Authorization": f"Bearer {key}"})
                with urllib.request.urlopen(req, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("llama_cpp.server did not come up in 180 s")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def llama_server_url(default_model, tmp_path_factory):
    """The URL of a llama.cpp server with the default model (key: SERVER_KEY)."""
    with llama_server(default_model, tmp_path_factory.mktemp("server") / "server.log") as url:
        yield url


# ---- a tiny real LoRA adapter for the default model ------------------------------------------
LORA_WEIGHTS = ("blk.0.attn_q.weight", "blk.1.attn_q.weight", "blk.0.ffn_down.weight")


def write_lora(path, base_path, weights=LORA_WEIGHTS, *, rank: int = 1, sigma: float = 0.08,
               seed: int = 0, arch: str | None = None, general_type: str = "adapter",
               shapes_from: str | None = None):
    """A LoRA adapter GGUF (llama.cpp's layout: W.lora_a [n_in, rank], W.lora_b [rank, n_out],
    general.type "adapter", adapter.type "lora") for `weights` of the model at `base_path`,
    with seeded random entries: a real adapter llama.cpp loads, made in a second.
    `shapes_from`: take every weight's shape from this base weight (names it lacks)."""
    import gguf
    import numpy as np

    from n1studio.llm.gguf import inspect_gguf

    base = inspect_gguf(base_path)
    w = gguf.GGUFWriter(str(path), arch or base.architecture)
    w.add_string("general.type", general_type)
    w.add_string("adapter.type", "lora")
    w.add_float32("adapter.lora.alpha", float(rank))
    rng = np.random.default_rng(seed)
    for name in weights:
        n_in, n_out = base.shapes[shapes_from or name][:2]
        # numpy shapes are the GGUF dimensions reversed
        w.add_tensor(f"{name}.lora_a", rng.normal(0, sigma, (rank, n_in)).astype(np.float32))
        w.add_tensor(f"{name}.lora_b", rng.normal(0, sigma, (n_out, rank)).astype(np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


@pytest.fixture(scope="session")
def make_lora():
    """`write_lora` (for tests that make adapters of their own)."""
    return write_lora


@pytest.fixture(scope="session")
def tiny_lora(default_model, tmp_path_factory):
    """A rank-1 LoRA adapter for the default model (three weights of its first layers)."""
    return write_lora(tmp_path_factory.mktemp("lora") / "tiny-lora.gguf", default_model)
