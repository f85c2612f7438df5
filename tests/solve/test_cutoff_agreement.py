"""Issue 9: "cut off" has one definition (grid/topology.py). For every branch outage, the
sweep's `islanded_buses` are the variant's `islands.cut_buses` (what `solve --json` prints,
what the drawing shades and what the prompt leaves out), and the OPF solves exactly the
other buses in service."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from n1studio.grid.cases import load_case
from n1studio.grid.variant import Variant
from n1studio.llm.prompt import answer_elements
from n1studio.solve.sweep import run_sweep
from n1studio.solve.topology import solve_set


@pytest.mark.parametrize("case", ["case14", "case30", "pglib_opf_case118_ieee"])
def test_sweep_and_variant_agree_on_every_branch_outage(case):
    net = load_case(case)
    doc = run_sweep(net, kinds=("line", "trafo", "impedance"))
    assert doc["stats"]["contingencies"] == doc["stats"]["requested"] > 0
    n_cut = 0
    for r in doc["results"]:
        v = Variant(net, [r["element"]])
        rep = v.islands
        assert r["islanded_buses"] == rep.cut_buses, r["element"]
        assert (r["status"] == "islanded") == rep.islanded, r["element"]
        if r["status"] == "islanded":
            assert r["lost_load_mw"] == pytest.approx(rep.lost_load_mw, abs=1e-4)
        # the OPF solves every bus in service that is not cut off, and only those
        m = v.model
        solved = {m.bus_names[k] for k in solve_set(m).buses if m.bus_names[k]}
        named_on = {n for n, on in zip(m.bus_names, m.bus_on, strict=True) if n and on}
        assert solved == named_on - set(rep.cut_buses), r["element"]
        # the prompt asks the model for exactly the solved buses
        assert set(answer_elements(m)[1]) == solved
        n_cut += bool(rep.cut_buses)
    if case != "case14":  # case14's one radial bus holds a condenser: nothing is ever cut off
        assert n_cut > 0, "the case has radial loads; the test must see some cut off"


def _cli(*args: str) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-m", "n1studio.cli", *args], capture_output=True,
                         text=True, env=env, timeout=300, check=False)
    assert out.returncode in (0, 1), out.stderr
    return json.loads(out.stdout)


def test_cli_sweep_json_equals_cli_solve_json_islands():
    sweep = _cli("sweep", "pglib_opf_case30_ieee", "--json")
    cut = [r for r in sweep["results"] if r["islanded_buses"]]
    assert cut, "pglib case30 has a radial load bus"
    r = cut[0]
    solved = _cli("solve", "pglib_opf_case30_ieee", "--out", r["element"], "--json")
    assert solved["islands"]["cut_buses"] == r["islanded_buses"]
    assert solved["islands"]["lost_load_mw"] == pytest.approx(r["lost_load_mw"], abs=1e-4)
    # and the solved answer covers no cut-off bus
    assert not {b["element"] for b in solved["buses"]} & set(r["islanded_buses"])
    assert np.isfinite(solved["objective"])
