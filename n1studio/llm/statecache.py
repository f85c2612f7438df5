"""A grid's prompt read once, not once per process: its shared part kept on disk.

Every variant of a grid shares the first part of its prompt (the instructions and the
grid's tables, `Prompt.shared`); reading it is most of a cold answer's time. The worker
keeps it in llama.cpp's KV cache while it lives; this module keeps it across processes:
after reading a shared part the worker writes the sequence's state (llama.cpp's
`llama_state_seq_save_file`: the tokens and their keys and values) here, and a new worker
asked about the same grid loads it instead of reading the prompt again.

A file is named by a hash of everything its state depends on: the model file's SHA-256,
the adapter's SHA-256 and scale, the llama.cpp build, and the tokens themselves, so a
state is never used with another model, adapter, scale or prompt. The folder is bounded
in size (least recently used files go first). `N1STUDIO_PROMPT_CACHE` names another folder,
or `off` turns the cache off; `N1STUDIO_PROMPT_CACHE_MB` bounds it (default 2048).
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import logging
import os
import tempfile
import threading
from pathlib import Path

from n1studio.llm.lora import file_sha256
from n1studio.resources import cache_dir as user_cache

log = logging.getLogger(__name__)

CACHE_ENV = "N1STUDIO_PROMPT_CACHE"
SIZE_ENV = "N1STUDIO_PROMPT_CACHE_MB"
DEFAULT_MB = 2048
FORMAT = 1
SUFFIX = ".kvstate"
#: Shared parts shorter than this are read faster than a state file is found and loaded.
MIN_TOKENS = 256

_lock = threading.Lock()


def cache_dir() -> Path | None:
    """The folder of prompt states, or None when the cache is off."""
    env = os.environ.get(CACHE_ENV, "").strip()
    if env.lower() in ("off", "0", "no", "false"):
        return None
    if env:
        return Path(env).expanduser()
    return user_cache("prompt-states")


def limit_bytes() -> int:
    try:
        mb = float(os.environ.get(SIZE_ENV, DEFAULT_MB))
    except ValueError:
        mb = DEFAULT_MB
    return int(max(0.0, mb) * (1 << 20))


def model_key(settings: dict, build: str) -> str:
    """What a state depends on besides its tokens: the model's and adapter's hashes, the
    adapter's scale and the llama.cpp build (its state layout)."""
    doc = {"format": FORMAT, "build": build, "model": file_sha256(settings["model_path"]),
           "lora": settings.get("lora_sha256") if settings.get("lora_path") else None,
           "lora_scale": float(settings.get("lora_scale", 1.0)) if settings.get("lora_path")
           else None}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def state_file(folder: Path, key: str, tokens: list[int]) -> Path:
    h = hashlib.sha256(key.encode())
    h.update(b"".join(int(t).to_bytes(4, "little", signed=True) for t in tokens))
    return folder / f"{h.hexdigest()[:40]}{SUFFIX}"


def load(llama_cpp, ctx, path: Path, tokens: list[int]) -> bool:
    """Load the state at `path` into sequence 0 of the (cleared) context when its tokens
    are exactly `tokens`; False (and nothing loaded) otherwise."""
    if not path.is_file():
        return False
    n = len(tokens)
    buf = (llama_cpp.llama_token * n)()
    count = ctypes.c_size_t(0)
    try:
        read = llama_cpp.llama_state_seq_load_file(ctx, str(path).encode(), 0, buf, n,
                                                   ctypes.byref(count))
    except OSError as exc:  # a damaged file: read the prompt instead
        log.info("prompt state %s not loaded: %s", path.name, exc)
        read = 0
    if not read or count.value != n or list(buf) != list(tokens):
        log.info("prompt state %s does not match; reading the prompt", path.name)
        return False
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used: kept longest
    return True


def save(llama_cpp, ctx, path: Path, tokens: list[int]) -> bool:
    """Write sequence 0's state (holding exactly `tokens`) to `path`, then bound the folder."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=SUFFIX, dir=folder)
        os.close(fd)
    except OSError as exc:
        log.info("prompt states cannot be kept in %s: %s", folder, exc)
        return False
    arr = (llama_cpp.llama_token * len(tokens))(*tokens)
    try:
        ok = llama_cpp.llama_state_seq_save_file(ctx, tmp.encode(), 0, arr, len(tokens)) > 0
        if ok:
            os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    if ok:
        prune(folder, limit_bytes())
    return ok


def prune(folder: Path, limit: int) -> None:
    """Delete the least recently used states until the folder holds at most `limit` bytes."""
    with _lock:
        try:
            files = [(p.stat().st_mtime, p.stat().st_size, p) for p in folder.glob("*" + SUFFIX)
                     if not p.name.startswith(".tmp-")]
        except OSError:
            return
        total = sum(s for _, s, _ in files)
        for _, size, p in sorted(files):
            if total <= limit:
                break
            with contextlib.suppress(OSError):
                p.unlink()
                total -= size


