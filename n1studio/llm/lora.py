"""LoRA adapters on the local model: checked before llama.cpp sees them, named by their hash.

An adapter is a GGUF file written by llama.cpp's `convert_lora_to_gguf.py`: metadata
`general.type = "adapter"`, `adapter.type = "lora"`, the base model's
`general.architecture`, and for every adapted weight `W` of the base a pair of tensors
`W.lora_a` (dimensions [n_in, rank]) and `W.lora_b` ([rank, n_out]). llama.cpp applies
`W x + scale * alpha / rank * B A x`. A file that is not that, or not for this base,
gives one clear line here (llama.cpp would say "failed to initialize LoRA adapter" or, for
some mistakes, abort the worker).

The adapter's SHA-256 and its scale are part of the model's identity: in a study's run
settings, in the worker's load key and in the prompt state kept on disk, so answers with
and without an adapter (or with another scale) never mix.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import threading
from dataclasses import dataclass
from pathlib import Path

from n1studio.errors import ModelError
from n1studio.llm.gguf import inspect_gguf
from n1studio.resources import cache_dir

log = logging.getLogger(__name__)

#: The largest |scale| accepted: beyond it an adapter only produces noise.
MAX_SCALE = 10.0


@dataclass(frozen=True)
class Adapter:
    """A checked LoRA adapter."""

    path: Path
    sha256: str
    architecture: str
    rank: int
    alpha: float | None
    n_weights: int  # base weights it adapts
    name: str


def check_scale(scale: float) -> float:
    """The scale as a float, or ModelError in one line."""
    try:
        s = float(scale)
    except (TypeError, ValueError):
        raise ModelError(f"--lora-scale needs a number, not {scale!r}") from None
    if not math.isfinite(s) or abs(s) > MAX_SCALE:
        raise ModelError(f"--lora-scale must be between -{MAX_SCALE:g} and {MAX_SCALE:g} "
                         f"(got {scale})")
    return s


def check_adapter(path: str | Path, model_path: str | Path) -> Adapter:
    """The adapter at `path` if it is a LoRA adapter for the model at `model_path`; else
    ModelError with one line saying what it is instead."""
    p = Path(path).expanduser()
    if not p.exists():
        raise ModelError(f"LoRA adapter not found: {p}")
    try:
        info = inspect_gguf(p)
    except ModelError as exc:
        raise ModelError(f"LoRA adapter {exc}") from None
    meta = info.metadata
    kind = meta.get("general.type")
    if kind != "adapter":
        what = f"its general.type is {kind!r}" if kind else "it has no general.type"
        raise ModelError(f"{p.name} is not a LoRA adapter ({what}, not 'adapter'); --lora "
                         "takes an adapter GGUF such as convert_lora_to_gguf.py writes")
    if meta.get("adapter.type") != "lora":
        raise ModelError(f"{p.name} is a {meta.get('adapter.type')!r} adapter, not a LoRA one "
                         "(adapter.type must be 'lora')")
    base = inspect_gguf(model_path)
    if info.architecture != base.architecture:
        raise ModelError(f"{p.name} is a LoRA adapter for {info.architecture}, but the model "
                         f"{base.path.name} is {base.architecture}")
    rank, n = _check_pairs(p.name, info.shapes, base.shapes, base.path.name)
    alpha = meta.get("adapter.lora.alpha")
    return Adapter(path=p.resolve(), sha256=file_sha256(p), architecture=info.architecture,
                   rank=rank, alpha=float(alpha) if alpha is not None else None,
                   n_weights=n, name=info.name)


def _check_pairs(name: str, shapes: dict, base: dict, base_name: str) -> tuple[int, int]:
    """(rank, adapted weights) after checking every lora_a/lora_b pair against the base."""
    pairs: dict[str, dict] = {}
    for t, dims in shapes.items():
        stem, dot, part = t.rpartition(".")
        if dot and part in ("lora_a", "lora_b"):
            pairs.setdefault(stem, {})[part] = dims
        else:
            raise ModelError(f"{name}: tensor {t!r} is not a LoRA tensor (W.lora_a / W.lora_b)")
    if not pairs:
        raise ModelError(f"{name} is a LoRA adapter without any tensor")
    rank = 0
    for w, ab in sorted(pairs.items()):
        if set(ab) != {"lora_a", "lora_b"}:
            missing = "lora_b" if "lora_a" in ab else "lora_a"
            raise ModelError(f"{name}: {w} has no {w}.{missing}")
        if w not in base:
            raise ModelError(f"{name} adapts {w}, which {base_name} does not have: it is an "
                             "adapter for another model")
        a, b, wd = ab["lora_a"], ab["lora_b"], base[w]
        if len(a) != 2 or len(b) != 2 or len(wd) < 2 or a[1] != b[0]:
            raise ModelError(f"{name}: {w}'s lora_a {list(a)} and lora_b {list(b)} do not "
                             "make a low-rank pair")
        if a[0] != wd[0] or b[1] != wd[1]:
            raise ModelError(f"{name}: {w} is {list(wd[:2])} in {base_name}, but the adapter's "
                             f"pair maps {a[0]} to {b[1]}: it is an adapter for another model")
        rank = max(rank, int(a[1]))
    return rank, len(pairs)


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file (a model, an adapter), computed once per (path, size, modification
    time): remembered in the process and across runs in the user's cache
    (`gguf-sha256.json`; hashing a model takes seconds). The one hash of model files: the
    study's identities and the prompt states on disk both use it."""
    p = Path(path).expanduser().resolve()
    st = p.stat()
    return _sha256(str(p), st.st_size, st.st_mtime_ns)


_MEMO_LOCK = threading.Lock()


@functools.lru_cache(maxsize=32)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    key = f"{path}|{size}|{mtime_ns}"
    memo = cache_dir("gguf-sha256.json")
    with _MEMO_LOCK:
        try:
            known = json.loads(memo.read_text())
        except (OSError, ValueError):
            known = {}
        if not isinstance(known, dict):
            known = {}
        if isinstance(known.get(key), str):
            return known[key]
        h = hashlib.sha256()
        try:
            with open(path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 22), b""):
                    h.update(block)
        except OSError as exc:
            raise ModelError(f"{path} cannot be read: {exc.strerror}") from None
        known = {k: v for k, v in known.items() if Path(k.split("|")[0]).exists()}
        known[key] = h.hexdigest()
        try:
            memo.parent.mkdir(parents=True, exist_ok=True)
            tmp = memo.with_suffix(".tmp")
            tmp.write_text(json.dumps(known, indent=0))
            tmp.replace(memo)
        except OSError as exc:  # a read-only home is fine: hashed again next time
            log.info("cannot remember model hashes in %s: %s", memo, exc)
        return known[key]


def model_label(model_path: str, lora_path: str | None = None, scale: float = 1.0) -> str:
    """How a run's model is named: the GGUF file, and the adapter with its scale."""
    name = Path(model_path).name
    if not lora_path:
        return name
    return f"{name} + {Path(lora_path).name}" + ("" if scale == 1.0 else f" ×{scale:g}")
