"""The N-1 sweep at the operating point an engineer means (issue 17): the N reference
dispatch by default, the file's own with ``at="file"``; every output says which, and the
command line and the window count the same outages the same way."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandapower as pp
import pytest

from n1studio.cli import main
from n1studio.grid.cases import load_case
from n1studio.grid.variant import Variant
from n1studio.solve.reference import reference
from n1studio.solve.sweep import DEFAULT_KINDS, describe, run_sweep
from n1studio.solve.sweep_point import dispatched

# The sweep before issue 17 (commit 4453d91, which always swept at the file's dispatch),
# recorded per element on every branch: `at="file"` must give exactly these.
BEFORE = {
    "case14": ({"ok": 12, "violations": 7, "islanded": 1, "diverged": 0},
               ["line:5", "line:10", "line:11", "line:12", "trafo:0", "trafo:2", "trafo:4"],
               ["trafo:3"]),
    "case30": ({"ok": 18, "violations": 20, "islanded": 3, "diverged": 0},
               ["line:5", "line:6", "line:8", "line:9", "line:10", "line:13", "line:17",
                "line:21", "line:23", "line:24", "line:25", "line:27", "line:28", "line:29",
                "line:31", "line:34", "line:35", "line:36", "line:37", "line:39"],
               ["line:12", "line:15", "line:33"]),
    "case118": ({"ok": 168, "violations": 9, "islanded": 9, "diverged": 0},
                ["line:14", "line:26", "line:27", "line:65", "line:66", "line:67", "line:68",
                 "line:69", "line:171"],
                ["line:6", "line:7", "line:103", "line:121", "line:163", "line:164", "line:170",
                 "trafo:11", "trafo:12"]),
    "pglib_opf_case118_ieee": ({"ok": 54, "violations": 122, "islanded": 9, "diverged": 1},
                               None,
                               ["line:6", "line:7", "line:104", "line:123", "line:165",
                                "line:166", "line:172", "impedance:0", "impedance:1"]),
}


@pytest.mark.parametrize("case", sorted(BEFORE))
def test_at_file_gives_the_results_of_before(case):
    counts, violated, islanded = BEFORE[case]
    doc = run_sweep(load_case(case), at="file")
    assert doc["operating_point"]["at"] == "file"
    assert doc["stats"]["counts"] == counts
    by_status = {s: [r["element"] for r in doc["results"] if r["status"] == s]
                 for s in ("violations", "islanded")}
    if violated is not None:
        assert by_status["violations"] == violated
    assert by_status["islanded"] == islanded


def test_pglib_case39_diverges_nowhere_at_the_n_reference():
    net = load_case("pglib_opf_case39_epri")
    # the file's dispatch has no AC power-flow solution: every outage that splits nothing
    # "diverged" there, for a reason no outage has
    at_file = run_sweep(net, at="file")
    assert at_file["stats"]["counts"] == {"ok": 0, "violations": 0, "islanded": 11,
                                          "diverged": 35}
    doc = run_sweep(net)
    assert doc["stats"]["counts"]["diverged"] == 0
    assert doc["stats"]["counts"]["islanded"] == 11 and doc["stats"]["contingencies"] == 46
    point = doc["operating_point"]
    n_ref = reference(Variant(net), "ac")
    assert point["at"] == "reference" and point["objective"] == pytest.approx(n_ref.objective)
    assert point["objective"] == pytest.approx(138_415.56, abs=0.01)
    # the N reference is within every limit: nothing to discount as the base case's own
    assert doc["stats"]["base_violations"] == []


def test_the_operating_point_is_the_n_reference_as_pandapower_solves_it():
    # independent of the sweep: pandapower's own power flow of the dispatched net lands on
    # the AC OPF's voltages and the slack's output
    net = load_case("pglib_opf_case39_epri")
    ref = reference(Variant(net), "ac")
    work = dispatched(net, ref)
    assert net.gen.p_mw.to_numpy() != pytest.approx(work.gen.p_mw.to_numpy())  # a copy changed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(work, calculate_voltage_angles=True)
    m = ref.model
    named = m.bus_index >= 0
    assert work.res_bus.vm_pu.loc[m.bus_index[named]].to_numpy() == \
        pytest.approx(ref.vm[named], abs=1e-6)
    k = m.gen_names.index(f"ext_grid:{work.ext_grid.index[0]}") \
        if len(work.ext_grid) else None
    if k is not None:
        assert work.res_ext_grid.p_mw.iloc[0] == pytest.approx(ref.pg[k], abs=1e-3)


def test_every_output_says_where_and_what_counts(capsys, tmp_path):
    assert main(["sweep", "case14", "--top", "3"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "20 outages of line, trafo, impedance at the N reference dispatch (AC OPF of the " \
        "base case), 8,081.53 $/h" in out[0]
    assert out[1] == ("Violations: voltage bands and branch MVA ratings after the outage; only "
                      "those the outage breaks anew or worsens (the base case's own do not "
                      "count).")
    assert main(["sweep", "case14", "--at", "file", "--all-violations", "--top", "3"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "at the file's own dispatch:" in out[0]
    assert "every one counts, the base case's own included" in out[1]
    assert main(["sweep", "case14", "--at", "file", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["operating_point"]["at"] == "file"
    assert doc["operating_point"]["text"] == "the file's own dispatch"
    assert doc["stats"]["rule"]["constraints"] == ["voltage", "thermal"]
    assert doc["stats"]["rule"]["base_case_counts"] is False
    with pytest.raises(SystemExit) as exit_:
        main(["sweep", "case14", "--at", "noon"])
    assert exit_.value.code == 2
    assert "invalid choice: 'noon'" in capsys.readouterr().err


def test_one_summary_for_the_command_line_and_the_window():
    doc = run_sweep(load_case("case30"))
    lines = describe(doc)
    c = doc["stats"]["counts"]
    assert lines[0].startswith("case30: 41 outages of line, trafo, impedance at the N reference")
    assert f"{c['ok']} ok, {c['violations']} with violations, {c['islanded']} islanded, " \
        f"{c['diverged']} diverged" in lines[0]
    assert tuple(doc["stats"]["kinds"]) == DEFAULT_KINDS


def test_a_grid_without_an_n_reference_is_swept_at_its_file_dispatch_and_says_why():
    net = load_case("case9")
    net.load["p_mw"] *= 6.0  # far beyond what the units can give
    doc = run_sweep(net, kinds="line")
    point = doc["operating_point"]
    assert point["at"] == "file" and point["requested"] == "reference"
    assert "N reference AC OPF is" in point["text"] and point["status"] != "optimal"
    assert math.isfinite(doc["stats"]["seconds"]) and np.all([r["element"] for r in doc["results"]])
