"""Is an N-1 answer the N answer recalled? Distance of an answer to two reference answers.

The distance between two answers is taken over the elements both hold (and the variant
still has): the root mean square of
- generator p_mw divided by the unit's range (Pmax - Pmin; base MVA where unbounded),
- bus vm_pu divided by the bus's band (vmax - vmin; 0.1 pu where degenerate),
- bus va_degree divided by the spread of the N-1 reference's angles (at least 1 degree),
  after shifting each answer so that the angles' mean over the common buses is zero
  (the angle reference is arbitrary).
The recall verdict (`recall_check`) says "recalled" (within the margin of the N reference),
"own" (within the margin of the variant's own reference) or "neither", with the two
distances, the margin and whether the variant can tell at all; `recalled_n_answer` is
true only for "recalled".
"""

from __future__ import annotations

import math

import numpy as np


def _vectors(model, doc: dict | None) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """Finite numbers by exact element name; anything of the wrong shape is skipped (the
    parser already reported it as `format`)."""
    gens: dict[str, float] = {}
    buses: dict[str, tuple[float, float]] = {}
    if not isinstance(doc, dict):
        return gens, buses
    for item in _entries(doc, "generators"):
        name = item["element"]
        if name not in gens:  # the first entry of a duplicate is the one used
            p = _finite(item.get("p_mw"))
            if p is not None:
                gens[name] = p
    for item in _entries(doc, "buses"):
        name = item["element"]
        if name not in buses:
            vm, va = _finite(item.get("vm_pu")), _finite(item.get("va_degree"))
            if vm is not None and va is not None:
                buses[name] = (vm, va)
    return gens, buses


def _entries(doc: dict, key: str):
    items = doc.get(key)
    if not isinstance(items, list):  # 5, true, 1e308, an object: nothing to compare
        return
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("element"), str):
            yield item


def _finite(x) -> float | None:
    """`x` as a finite float, or None (booleans, strings, NaN, integers beyond float range)."""
    if not isinstance(x, (int, float)) or isinstance(x, bool):
        return None
    try:
        v = float(x)
    except OverflowError:
        return None
    return v if math.isfinite(v) else None


def distance(model, a: dict | None, b: dict | None, va_scale: float = 10.0) -> float | None:
    """Normalised RMS distance between answers `a` and `b` on the variant's common elements."""
    return _distance(model, _vectors(model, a), _vectors(model, b), va_scale)


def _distance(model, va: tuple, vb: tuple, va_scale: float) -> float | None:
    (ga, ba), (gb, bb) = va, vb
    terms: list[float] = []
    base = model.base_mva
    for name in ga.keys() & gb.keys():
        try:
            kind, rows = model.index(name)
        except KeyError:
            continue
        if kind != "gen" or not model.gen_on[rows[0]]:
            continue
        k = rows[0]
        rng = (model.pmax[k] - model.pmin[k]) * base
        if not np.isfinite(rng) or rng <= 1e-6:
            rng = base
        terms.append((ga[name] - gb[name]) / rng)
    common = []
    for name in ba.keys() & bb.keys():
        try:
            kind, rows = model.index(name)
        except KeyError:
            continue
        if kind == "bus" and model.bus_on[rows[0]]:
            common.append((name, rows[0]))
    if common:
        vma = np.array([ba[n][0] for n, _ in common])
        vmb = np.array([bb[n][0] for n, _ in common])
        band = np.array([model.vmax[k] - model.vmin[k] for _, k in common])
        band = np.where(np.isfinite(band) & (band > 1e-6), band, 0.1)
        vaa = np.array([ba[n][1] for n, _ in common])
        vab = np.array([bb[n][1] for n, _ in common])
        terms += list((vma - vmb) / band)
        terms += list(((vaa - vaa.mean()) - (vab - vab.mean())) / max(va_scale, 1.0))
    if not terms:
        return None
    return float(np.sqrt(np.mean(np.square(terms))))


#: Below this separation between the N and the variant's own reference, a memoriser and a
#: solver write (nearly) the same numbers: the variant cannot tell them apart. 0.02 is two
#: percent of a unit's range (or of a bus's voltage band) on average, the size of
#: `control:noise:0.02`; chosen from the controls (README, "Calibration").
MIN_SEPARATION = 0.02
#: An answer within this fraction of the separation of one reference is that reference's
#: answer. At 1/2 the two balls only touch, so no answer is both; an answer outside both
#: (zeros, noise, a guess) is "neither".
MARGIN_FRACTION = 0.5


def recall_check(model, answer: dict | None, n_reference: dict | None,
                 reference: dict | None) -> dict:
    """The recall verdict of an answer: which reference it is, with the evidence.

    `to_n` and `to_own` are the distances (module docstring) of the answer to the N case's
    reference and to the variant's own; `separation` the distance between the two
    references, `margin` = MARGIN_FRACTION x separation. The verdict is "recalled" when
    `to_n <= margin`, "own" when `to_own <= margin`, else "neither"; a variant whose
    references are closer than MIN_SEPARATION cannot tell (`can_tell` false, "neither"),
    nor can one without both references or an unreadable answer.
    """
    out = {"verdict": "neither", "to_n": None, "to_own": None, "margin": None,
           "separation": None, "can_tell": False, "recalled_n_answer": False}
    if not isinstance(n_reference, dict) or not isinstance(reference, dict):
        return out
    ref = _vectors(model, reference)
    angles = [va for _, va in ref[1].values()]
    spread = float(np.ptp(angles)) if angles else 10.0
    nref = _vectors(model, n_reference)
    with np.errstate(all="ignore"):
        sep = _distance(model, nref, ref, spread)
    if sep is None or not np.isfinite(sep):
        return out
    margin = MARGIN_FRACTION * sep
    out.update(separation=_r(sep), margin=_r(margin), can_tell=bool(sep >= MIN_SEPARATION))
    if not isinstance(answer, dict):
        return out
    ans = _vectors(model, answer)  # read once: the answer may be long (duplicates)
    with np.errstate(all="ignore"):
        d_n = _distance(model, ans, nref, spread)
        d_own = _distance(model, ans, ref, spread)
    out.update(to_n=_r(d_n), to_own=_r(d_own))
    if not out["can_tell"] or d_n is None or d_own is None:
        return out
    if d_n <= margin:
        out["verdict"] = "recalled"
    elif d_own <= margin:
        out["verdict"] = "own"
    out["recalled_n_answer"] = out["verdict"] == "recalled"
    return out


def _r(x):
    return None if x is None or not np.isfinite(x) else round(float(x), 6)
