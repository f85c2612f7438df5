"""Sizes follow the number of elements, never the value of an id (issue 19): PGLib case14
with its buses numbered near 2^31 opens, converts and solves like case14, in a process
whose address space is capped at 3 GB (an index sized by the largest id needs 16 GB)."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO
from tests.grid import case_mutations as cm

FIRST = 2**31 - 20
_CHILD = """
import json, sys
from n1studio.grid.cases import load_case
from n1studio.grid.variant import Variant
from n1studio.solve.acopf import solve_acopf
from n1studio.solve.dcopf import solve_dcopf
out = []
for path in sys.argv[1:]:
    v = Variant(load_case(path), ["line:3"])
    ac, dc = solve_acopf(v.model), solve_dcopf(v.model)
    out.append({"buses": v.model.bus_names, "ac": ac.objective, "dc": dc.objective,
                "islands": v.islands.describe()})
print(json.dumps(out))
"""


def _cap_memory():
    cap = 3 * 1024**3
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def _solve(*paths) -> list[dict]:
    out = subprocess.run([sys.executable, "-c", _CHILD, *map(str, paths)], cwd=REPO, text=True,
                         capture_output=True, timeout=300, preexec_fn=_cap_memory, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_bus_ids_near_2_31_cost_what_case14_costs(tmp_path, pglib):
    text = pglib("case14_ieee").read_text()
    paths = []
    for first in (1, FIRST):
        paths.append(tmp_path / f"from_{first}.m")
        paths[-1].write_text(cm.renumber_buses(text, first))
    t0 = time.perf_counter()
    small, big = _solve(*paths)
    assert time.perf_counter() - t0 < 120, "minutes for two 14-bus grids"
    assert big["buses"] == [f"bus:{FIRST + k}" for k in range(14)]
    # the same grid under other numbers: the same optima, the same topology
    assert big["ac"] == pytest.approx(small["ac"], rel=1e-6)
    assert big["dc"] == pytest.approx(small["dc"], rel=1e-9)
    assert big["islands"] == small["islands"] == "connected"
