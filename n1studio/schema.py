"""The JSON documents of SPEC.md: `n1studio.answer/1` and `n1studio.verdict/1`."""

from __future__ import annotations

import json
import math
import sys

ANSWER = "n1studio.answer/1"
VERDICT = "n1studio.verdict/1"
CONSTRAINT_KINDS = ("power_balance", "voltage", "gen_p", "gen_q", "thermal", "angle")


def make_answer(generators: list[dict], buses: list[dict], objective: float | None = None) -> dict:
    """An answer document; numbers are rounded to what a model could sensibly write."""
    doc = {
        "schema": ANSWER,
        "generators": [
            {"element": g["element"], "p_mw": _r(g["p_mw"], 4), "q_mvar": _r(g["q_mvar"], 4),
             **({"vm_pu": _r(g["vm_pu"], 5)} if g.get("vm_pu") is not None else {})}
            for g in generators
        ],
        "buses": [{"element": b["element"], "vm_pu": _r(b["vm_pu"], 6),
                   "va_degree": _r(b["va_degree"], 5)} for b in buses],
    }
    if objective is not None:
        doc["objective"] = _r(objective, 4)
    return doc


def answer_json_schema() -> dict:
    """A generic JSON Schema of the answer (what a grammar-constrained baseline would use)."""
    num = {"type": "number"}
    return {
        "type": "object",
        "properties": {
            "schema": {"const": ANSWER},
            "generators": {"type": "array", "items": {
                "type": "object",
                "properties": {"element": {"type": "string"}, "p_mw": num, "q_mvar": num,
                               "vm_pu": num},
                "required": ["element", "p_mw", "q_mvar"]}},
            "buses": {"type": "array", "items": {
                "type": "object",
                "properties": {"element": {"type": "string"}, "vm_pu": num, "va_degree": num},
                "required": ["element", "vm_pu", "va_degree"]}},
            "objective": num,
        },
        "required": ["schema", "generators", "buses"],
    }


def _r(x, nd):
    x = float(x)
    return round(x, nd) if math.isfinite(x) else x


def json_default(o):
    """`json.dumps(default=...)` for numpy scalars and arrays in our documents."""
    import numpy as np  # noqa: PLC0415 - keeps numpy off the CLI's fast `--json` paths

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"cannot serialise {type(o).__name__}")


def emit_json(doc) -> None:
    """Print exactly one JSON document on stdout (what every `--json` prints)."""
    sys.stdout.write(json.dumps(doc, indent=2, allow_nan=False, default=json_default) + "\n")
    sys.stdout.flush()
