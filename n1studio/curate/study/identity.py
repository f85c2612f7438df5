"""What identifies a grid, an outage set, a model file and a run's settings in a study."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from n1studio.errors import StudyError
from n1studio.resources import cache_dir

log = logging.getLogger(__name__)


def outages_key(outages: Iterable[str]) -> str:
    """The canonical text of an outage set (sorted like Variant does)."""
    # n1studio.grid imports pandapower (seconds): `study info`, `runs` and `report` never need it
    from n1studio.grid.elements import sort_key  # noqa: PLC0415 (pandapower: seconds)

    return json.dumps(sorted(set(outages), key=sort_key))


def grid_hash(net) -> str:
    """SHA-256 of what defines a grid numerically (the GridModel arrays and element names).

    Independent of how the net was stored (pandapower JSON, MATPOWER, built-in), so a grid
    reopened from its source is recognised as the same one.
    """
    from n1studio.grid.variant import base_model  # noqa: PLC0415 (pandapower: seconds)

    m = base_model(net)
    h = hashlib.sha256()
    for arr in (m.vmin, m.vmax, m.pd, m.qd, m.gs, m.bs, m.is_ref, m.bus_on, m.f, m.t, m.yff,
                m.yft, m.ytf, m.ytt, m.rate, m.angmin, m.angmax, m.branch_on, m.gen_bus, m.pmin,
                m.pmax, m.qmin, m.qmax, m.c2, m.c1, m.c0, m.gen_on, m.load_p, m.load_q,
                m.load_on):
        a = np.asarray(arr)
        if a.dtype.kind in "fc":
            a = np.round(a, 9)
        h.update(a.tobytes())
    for names in (m.bus_names, m.branch_names, m.gen_names, m.load_names):
        h.update("\0".join(names).encode())
    h.update(repr(float(m.base_mva)).encode())
    return h.hexdigest()


# ---- GGUF hashing, once per file version -------------------------------------------------

_HASH_LOCK = threading.Lock()


def _hash_cache_file() -> Path:
    return cache_dir("gguf-sha256.json")


def model_sha256(path: str | Path) -> str:
    """SHA-256 of a model file, cached by (absolute path, size, mtime) across runs."""
    p = Path(path).expanduser().resolve()
    try:
        st = p.stat()
    except OSError as exc:
        raise StudyError(f"model file {p} cannot be read: {exc.strerror}") from None
    key = f"{p}|{st.st_size}|{st.st_mtime_ns}"
    cache_file = _hash_cache_file()
    with _HASH_LOCK:
        try:
            cache = json.loads(cache_file.read_text())
        except (OSError, ValueError):
            cache = {}
        if key in cache:
            return cache[key]
        h = hashlib.sha256()
        with open(p, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):
                h.update(block)
        digest = h.hexdigest()
        cache[key] = digest
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(cache, indent=0))
            tmp.replace(cache_file)
        except OSError as exc:  # a read-only home is fine: we hash again next time
            log.info("cannot cache model hashes in %s: %s", cache_file, exc)
        return digest


def settings_key(settings: dict) -> str:
    """The part of model settings that changes answers (not the path, threads or GPU layers)."""
    keep = {k: v for k, v in sorted(settings.items())
            if k not in ("model_path", "n_threads", "n_threads_batch", "n_gpu_layers", "n_ctx")}
    return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()[:16]
