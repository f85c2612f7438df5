"""Shared test fixtures: where the PGLib reference cases live."""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PGLIB = (REPO / ".." / "shared" / "data" / "pglib").resolve()

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


# PySide6 6.12's wrapper of a Python Qt message handler (pytest-qt installs one) drops one
# reference to None per Qt message. On Python < 3.12 None is not immortal: after a long run
# its count reaches zero while the interpreter finalises and Python aborts (none_dealloc),
# turning a green run red. The loss hides in the normal churn of None's count, so it cannot be
# measured here: make None effectively immortal for the session instead, as Python 3.12 does
# (n1studio/app/qtlog.py calibrates and compensates for the app's own handler).
def pytest_sessionstart(session):
    if sys.version_info < (3, 12):
        ctypes.c_ssize_t.from_address(id(None)).value += 1 << 40
