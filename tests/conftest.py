"""Shared test fixtures: where the PGLib reference cases live."""

from __future__ import annotations

import ctypes
import os
import sys
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


# PySide6 6.12.0 drops references it does not own: one to None per Qt message through a
# Python handler (pytest-qt installs one) and per call of a method returning None, one to True
# per Signal.emit() (measured in n1studio/app/runtime/qtlog.py). On Python < 3.12 these objects are
# not immortal: after a long run a count reaches zero and Python aborts (none_dealloc,
# bool_dealloc), turning a green run red. Make them effectively immortal for the session, as
# Python 3.12 does (the app does the same in qtlog.keep_singletons_alive).
def pytest_sessionstart(session):
    if sys.version_info < (3, 12):
        for obj in (None, True, False):
            ctypes.c_ssize_t.from_address(id(obj)).value += 1 << 40
