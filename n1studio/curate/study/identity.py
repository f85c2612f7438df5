"""What identifies a grid, an outage set, a model file and a run's settings in a study."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from n1studio.errors import ModelError, StudyError
from n1studio.llm.lora import file_sha256

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

def model_sha256(path: str | Path) -> str:
    """SHA-256 of a model file (llm.lora.file_sha256: cached by path, size and mtime)."""
    p = Path(path).expanduser().resolve()
    try:
        p.stat()
        return file_sha256(p)
    except (OSError, ModelError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else str(exc)
        raise StudyError(f"model file {p} cannot be read: {why}") from None


def settings_key(settings: dict) -> str:
    """The part of model settings that changes answers (not the path, threads or GPU layers)."""
    keep = {k: v for k, v in sorted(settings.items())
            if k not in ("model_path", "n_threads", "n_threads_batch", "n_gpu_layers", "n_ctx")}
    return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()[:16]
