"""Read MATPOWER `.m` case files (PGLib-OPF format) into a PYPOWER case dict.

A small, strict parser: it reads `mpc.baseMVA` and the numeric matrices
`mpc.bus`, `mpc.gen`, `mpc.branch`, `mpc.gencost` and nothing is evaluated.
Errors name the file and what is wrong with it.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from n1studio.errors import CaseError

_MATRIX = re.compile(r"mpc\.(\w+)\s*=\s*\[(.*?)\]\s*;", re.DOTALL)
_SCALAR = re.compile(r"mpc\.(baseMVA)\s*=\s*([-+0-9.eE]+)\s*;")
_REQUIRED = {"bus": 13, "gen": 10, "branch": 13}


def _parse_matrix(name: str, body: str, path: Path) -> np.ndarray:
    rows = []
    for lineno, raw in enumerate(body.splitlines()):
        line = raw.split("%", 1)[0].strip()
        for chunk in line.split(";"):
            chunk = chunk.strip()
            if not chunk:
                continue
            try:
                rows.append([float(x) for x in chunk.replace(",", " ").split()])
            except ValueError as exc:
                raise CaseError(f"{path.name}: mpc.{name} has a non-numeric entry: {chunk!r}") from exc
    if not rows:
        return np.zeros((0, 0))
    width = max(len(r) for r in rows)
    if any(len(r) != width for r in rows):
        raise CaseError(f"{path.name}: mpc.{name} has rows of different lengths")
    return np.array(rows, dtype=float)


def read_matpower(path: str | Path) -> dict:
    """Parse a MATPOWER file into a PYPOWER-style dict (`baseMVA`, `bus`, `gen`, ...)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise CaseError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if "mpc" not in text:
        raise CaseError(f"{path.name}: not a MATPOWER case (no 'mpc' structure found)")
    ppc: dict = {"version": "2"}
    m = _SCALAR.search(text)
    if not m:
        raise CaseError(f"{path.name}: mpc.baseMVA is missing")
    ppc["baseMVA"] = float(m.group(2))
    for name, body in _MATRIX.findall(text):
        ppc[name] = _parse_matrix(name, body, path)
    for name, width in _REQUIRED.items():
        if name not in ppc or ppc[name].size == 0:
            raise CaseError(f"{path.name}: mpc.{name} is missing or empty")
        if ppc[name].shape[1] < width:
            raise CaseError(
                f"{path.name}: mpc.{name} has {ppc[name].shape[1]} columns, expected at least {width}"
            )
    if "gencost" in ppc and ppc["gencost"].size and len(ppc["gencost"]) < len(ppc["gen"]):
        raise CaseError(f"{path.name}: mpc.gencost has fewer rows than mpc.gen")
    bus_ids = set(ppc["bus"][:, 0].astype(int))
    for name, cols in (("gen", (0,)), ("branch", (0, 1))):
        for c in cols:
            missing = set(ppc[name][:, c].astype(int)) - bus_ids
            if missing:
                raise CaseError(f"{path.name}: mpc.{name} refers to unknown bus {min(missing)}")
    return ppc
