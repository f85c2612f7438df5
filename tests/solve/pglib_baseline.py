"""The published PGLib optima, read from BASELINE.md (PowerModels ACP/DCP + Ipopt, v23.07)."""

from __future__ import annotations

import math
import re
from pathlib import Path

PGLIB = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "pglib").resolve()
_ROW = re.compile(r"^\|\s*(pglib_opf_\w+)\s*\|\s*\d+\s*\|\s*\d+\s*\|\s*(\S+)\s*\|\s*(\S+)\s*\|")


def baseline() -> dict[str, tuple[float, float]]:
    """Case name -> (DC objective, AC objective) in $/h; NaN where BASELINE says `inf.`."""
    out: dict[str, tuple[float, float]] = {}
    path = PGLIB / "BASELINE.md"
    if not path.exists():
        return out
    for line in path.read_text().splitlines():
        m = _ROW.match(line)
        if m and m.group(1) not in out:
            out[m.group(1)] = (_num(m.group(2)), _num(m.group(3)))
    return out


def _num(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def pglib_files() -> list[Path]:
    return sorted(PGLIB.glob("pglib_opf_*.m"),
                  key=lambda p: int(re.search(r"case(\d+)", p.stem)[1]))


def bus_count(path: Path) -> int:
    return int(re.search(r"case(\d+)", path.stem)[1])
