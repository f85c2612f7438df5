"""Shared test fixtures: where the PGLib reference cases live."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# the workplace's PGLib-OPF files with BASELINE.md; a clone without them falls back to the
# nine cases the project bundles (tests of the others skip)
_SHARED_PGLIB = (REPO / ".." / "shared" / "data" / "pglib").resolve()
PGLIB = _SHARED_PGLIB if _SHARED_PGLIB.is_dir() else REPO / "resources" / "pglib"

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def pglib_file(case: str) -> Path:
    """Path of a PGLib file by short name, e.g. 'case14_ieee'."""
    path = PGLIB / f"pglib_opf_{case}.m"
    if not path.exists():
        pytest.skip(f"PGLib data not found at {PGLIB}")
    return path


@pytest.fixture
def pglib():
    return pglib_file

