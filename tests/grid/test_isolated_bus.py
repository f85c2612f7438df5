"""Issue 10: a case with an isolated bus (no branch) opens, solves, checks and sweeps.

The files are PGLib case14 with one bus added and nothing attached to it: as a MATPOWER
row of type 4 (MATPOWER's "isolated") or type 1, and as a pandapower JSON bus. The extra
bus changes nothing physical, so every number must be case14's own; an in-service bus with
no generator in its island is cut off (grid/topology.py) and is neither solved nor asked.
"""

from __future__ import annotations

from pathlib import Path

import pandapower as pp
import pytest

from n1studio.check import check_answer
from n1studio.grid.cases import load_case
from n1studio.grid.variant import Variant, base_model
from n1studio.solve.reference import reference
from n1studio.solve.sweep import run_sweep

CASE14 = Path(__file__).resolve().parents[2] / "resources" / "pglib" / "pglib_opf_case14_ieee.m"


def _with_extra_bus(tmp_path, bus_type: int):
    text = CASE14.read_text()
    head, sep, tail = text.partition("mpc.bus = [")
    body, end, rest = tail.partition("];")
    row = f"\t15\t {bus_type}\t 0.0\t 0.0\t 0.0\t 0.0\t 1\t 1.0\t 0.0\t 1.0\t 1\t 1.06\t 0.94;\n"
    path = tmp_path / f"case14_isolated_type{bus_type}.m"
    path.write_text(head + sep + body + row + end + rest)
    return path


def _json_with_extra_bus(tmp_path):
    net = load_case(CASE14)
    pp.create_bus(net, vn_kv=float(net.bus.vn_kv.iloc[0]), index=15, min_vm_pu=0.94,
                  max_vm_pu=1.06)
    path = tmp_path / "case14_isolated.json"
    pp.to_json(net, str(path))
    return path


@pytest.fixture(scope="module")
def plain():
    net = load_case(CASE14)
    return net, reference(Variant(net), "ac"), run_sweep(net)


@pytest.mark.parametrize("make", ["type4", "type1", "json"])
def test_isolated_bus_opens_solves_checks_and_sweeps(make, tmp_path, plain):
    path = {"type4": lambda: _with_extra_bus(tmp_path, 4),
            "type1": lambda: _with_extra_bus(tmp_path, 1),
            "json": lambda: _json_with_extra_bus(tmp_path)}[make]()
    _, base_ref, base_sweep = plain
    net = load_case(path)
    m = base_model(net)
    assert len(m.bus_names) >= 15
    assert "bus:15" not in [n for n, e in zip(m.bus_names, m.energised(), strict=True) if e]
    v = Variant(net)
    in_service = bool(net.bus.in_service.get(15, False))
    assert v.islands.cut_buses == (["bus:15"] if in_service else [])
    # solving: the same optimum as the file without the bus
    ref = reference(v, "ac")
    assert ref.success
    assert ref.objective == pytest.approx(base_ref.objective, rel=1e-6)
    assert "bus:15" not in {b["element"] for b in ref.answer["buses"]}
    # checking: the reference's own answer is feasible
    verdict = check_answer(v.model, ref.answer)
    assert verdict["feasible"], verdict["violations"]
    # sweeping: every outage classified as in the file without the bus
    doc = run_sweep(net)
    got = {r["element"]: r["status"] for r in doc["results"]}
    want = {r["element"]: r["status"] for r in base_sweep["results"]}
    assert got == want
    for r in doc["results"]:
        assert r["islanded_buses"] == Variant(net, [r["element"]]).islands.cut_buses


def test_type4_bus_is_out_of_service_and_a_type1_bus_is_cut_off(tmp_path):
    # MATPOWER's type 4 means "isolated": pandapower reads it as a bus out of service
    m = base_model(load_case(_with_extra_bus(tmp_path, 4)))
    assert not m.bus_on[m.bus_names.index("bus:15")]
    v = Variant(load_case(_with_extra_bus(tmp_path, 1)))
    assert v.islands.n_islands == 2 and v.islands.cut_buses == ["bus:15"]
    assert v.islands.describe() == "2 islands, 1 bus(es) cut off"
