"""Controls: pseudo-models whose answers are known, run through the same pipeline as a model.

A measuring instrument is calibrated with known inputs. Each control answers a variant
without a language model, and is marked as a control wherever it appears (its name
starts with `control:`):

- `control:reference`: the variant's own reference AC OPF (the ideal solver). Its verdict
  is feasible, its cost gap 0 and its recall verdict "own".
- `control:recall-n`: the unperturbed N case's reference, as written for the canonical
  prompt, whatever the variant (the ideal memoriser). On a variant that can tell, its
  recall verdict is "recalled".
- `control:noise[:S]`: the variant's reference with every number moved by seeded noise:
  P and Q by S times the unit's range (base MVA where unbounded), voltage magnitudes by
  S times the bus's band, angles by S times 10 degrees (z ~ N(0, 1) per number, seeded by
  the variant's label and `seed`). S defaults to `NOISE_DEFAULT` (0.05).
- `control:zeros`: every number 0 (the junk a weak model writes).

Layer: beside `check` and `llm` (uses grid results only); `n1studio.pipeline` runs them.
"""

from __future__ import annotations

import copy
import hashlib
import math

import numpy as np

from n1studio.errors import N1Error

PREFIX = "control:"
KINDS = ("reference", "recall-n", "noise", "zeros")
NOISE_DEFAULT = 0.05
ANGLE_SCALE_DEG = 10.0


class ControlError(N1Error):
    """An unknown control name."""


def is_control(name: str | None) -> bool:
    return isinstance(name, str) and name.startswith(PREFIX)


def parse_control(name: str) -> tuple[str, float | None]:
    """`control:noise:0.1` -> ("noise", 0.1); `control:zeros` -> ("zeros", None)."""
    if not is_control(name):
        raise ControlError(f"{name!r} is not a control (controls start with {PREFIX!r})")
    kind, _, arg = name[len(PREFIX):].partition(":")
    if kind not in KINDS:
        raise ControlError(f"unknown control {name!r}; the controls are "
                           + ", ".join(PREFIX + k for k in KINDS))
    if kind != "noise":
        if arg:
            raise ControlError(f"control:{kind} takes no parameter")
        return kind, None
    if not arg:
        return kind, NOISE_DEFAULT
    try:
        size = float(arg)
    except ValueError:
        raise ControlError(f"control:noise:S needs a number S, not {arg!r}") from None
    if not (math.isfinite(size) and 0 <= size <= 10):
        raise ControlError(f"control:noise:S needs 0 <= S <= 10, not {arg}")
    return kind, size


def control_label(name: str) -> str:
    kind, size = parse_control(name)
    return f"{PREFIX}{kind}" + (f":{size:g}" if kind == "noise" else "")


def control_answer(name: str, model, own: dict | None, n_answer: dict | None, *,
                   label: str = "", seed: int = 0) -> dict | None:
    """The answer control `name` gives on a variant (its masked `model`), from the
    variant's own reference answer `own` and the N case's `n_answer` (None where those
    references could not be solved: the control then has nothing to say)."""
    kind, size = parse_control(name)
    if kind == "recall-n":
        return copy.deepcopy(n_answer) if n_answer is not None else None
    if own is None:
        return None
    ans = copy.deepcopy(own)
    if kind == "reference":
        return ans
    if kind == "zeros":
        for g in ans.get("generators", []):
            g.update(p_mw=0.0, q_mvar=0.0, vm_pu=0.0)
        for b in ans.get("buses", []):
            b.update(vm_pu=0.0, va_degree=0.0)
        ans.pop("objective", None)
        return ans
    return _noisy(ans, model, size, label, seed)


def _noisy(ans: dict, model, size: float, label: str, seed: int) -> dict:
    digest = hashlib.sha256(f"{label}|{seed}|{size}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    base = model.base_mva
    gidx = {n: k for k, n in enumerate(model.gen_names)}
    bidx = {n: k for k, n in enumerate(model.bus_names) if n}
    for g in ans.get("generators", []):
        k = gidx.get(g["element"])
        if k is None:
            continue
        prange = (model.pmax[k] - model.pmin[k]) * base
        qrange = (model.qmax[k] - model.qmin[k]) * base
        prange = prange if np.isfinite(prange) and prange > 0 else base
        qrange = qrange if np.isfinite(qrange) and qrange > 0 else base
        g["p_mw"] = float(g["p_mw"] + size * prange * rng.standard_normal())
        g["q_mvar"] = float(g["q_mvar"] + size * qrange * rng.standard_normal())
        band = _band(model, model.gen_bus[k])
        g["vm_pu"] = float(g["vm_pu"] + size * band * rng.standard_normal())
    for b in ans.get("buses", []):
        k = bidx.get(b["element"])
        if k is None:
            continue
        b["vm_pu"] = float(b["vm_pu"] + size * _band(model, k) * rng.standard_normal())
        b["va_degree"] = float(b["va_degree"]
                               + size * ANGLE_SCALE_DEG * rng.standard_normal())
    ans.pop("objective", None)
    return ans


def _band(model, k: int) -> float:
    band = float(model.vmax[k] - model.vmin[k])
    return band if np.isfinite(band) and band > 0 else 0.1
