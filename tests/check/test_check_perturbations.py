"""One change to a correct answer is flagged at exactly that element and kind."""

from __future__ import annotations

import pytest

from n1studio.check import check_answer
from n1studio.grid.cases import load_case
from tests.check.conftest import model_of, runopp_answer

CASE = "case14"


def _neighbours(bus: int) -> set[int]:
    """Buses one branch away from `bus`, read from the pandapower tables themselves."""
    net = load_case(CASE)
    out = set()
    for a, b in list(zip(net.line.from_bus, net.line.to_bus, strict=True)) + \
            list(zip(net.trafo.hv_bus, net.trafo.lv_bus, strict=True)):
        if a == bus:
            out.add(int(b))
        if b == bus:
            out.add(int(a))
    return out


def _by_kind(verdict) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for v in verdict["violations"]:
        out.setdefault(v["constraint"], []).append(v["element"])
    return out


def _bus(answer, name):
    return next(b for b in answer["buses"] if b["element"] == name)


def _gen(answer, name):
    return next(g for g in answer["generators"] if g["element"] == name)


@pytest.mark.parametrize("bus", [4, 9, 13])
def test_voltage_above_vmax_is_flagged_at_that_bus(bus):
    net = load_case(CASE)
    vmax = float(net.bus.max_vm_pu[bus])
    answer = runopp_answer(CASE)
    _bus(answer, f"bus:{bus}")["vm_pu"] = vmax + 0.02
    verdict = check_answer(model_of(CASE), answer)
    kinds = _by_kind(verdict)
    assert verdict["feasible"] is False
    assert kinds["voltage"] == [f"bus:{bus}"]
    v = next(v for v in verdict["violations"] if v["constraint"] == "voltage")
    assert v["value"] == pytest.approx(vmax + 0.02)
    assert v["limit"] == pytest.approx(vmax)
    assert v["excess"] == pytest.approx(0.02)
    # the higher voltage breaks the balance at that bus and nowhere beyond its neighbours
    assert f"bus:{bus}" in kinds["power_balance"]
    assert set(kinds["power_balance"]) <= {f"bus:{b}" for b in _neighbours(bus) | {bus}}
    assert set(kinds) <= {"voltage", "power_balance", "thermal"}


def test_generator_above_pmax_is_flagged_at_that_generator():
    net = load_case(CASE)
    pmax = float(net.gen.max_p_mw[0])
    answer = runopp_answer(CASE)
    _gen(answer, "gen:0")["p_mw"] = pmax + 10.0
    verdict = check_answer(model_of(CASE), answer)
    kinds = _by_kind(verdict)
    assert kinds["gen_p"] == ["gen:0"]
    v = kinds and next(v for v in verdict["violations"] if v["constraint"] == "gen_p")
    assert (v["value"], v["limit"], v["unit"]) == (pytest.approx(pmax + 10), pytest.approx(pmax),
                                                   "MW")
    # only the injection at its bus changed
    assert kinds["power_balance"] == [f"bus:{int(net.gen.bus[0])}"]
    assert set(kinds) == {"gen_p", "power_balance"}
    assert verdict["satisfaction"]["gen_p"] == pytest.approx(4 / 5)


def test_generator_below_qmin_is_flagged_at_that_generator():
    net = load_case(CASE)
    qmin = float(net.gen.min_q_mvar[1])
    answer = runopp_answer(CASE)
    _gen(answer, "gen:1")["q_mvar"] = qmin - 5.0
    verdict = check_answer(model_of(CASE), answer)
    kinds = _by_kind(verdict)
    assert kinds["gen_q"] == ["gen:1"]
    v = next(v for v in verdict["violations"] if v["constraint"] == "gen_q")
    assert v["limit"] == pytest.approx(qmin) and v["excess"] == pytest.approx(5.0)
    assert kinds["power_balance"] == [f"bus:{int(net.gen.bus[1])}"]


@pytest.mark.parametrize("bus", [4, 8])
def test_wrong_angle_breaks_balance_at_that_bus_and_its_neighbours_only(bus):
    answer = runopp_answer(CASE)
    _bus(answer, f"bus:{bus}")["va_degree"] += 5.0
    verdict = check_answer(model_of(CASE), answer)
    kinds = _by_kind(verdict)
    assert set(kinds["power_balance"]) == {f"bus:{b}" for b in _neighbours(bus) | {bus}}
    assert set(kinds) <= {"power_balance", "thermal"}
    assert "voltage" not in kinds and "gen_p" not in kinds


def test_angle_difference_limit_is_flagged_at_that_branch():
    case = "pglib_opf_case30_ieee"
    try:
        from tests.check.conftest import ac_reference

        answer = ac_reference(case).answer
    except ImportError:  # pragma: no cover
        pytest.skip("no reference")
    net = load_case(case)
    f, t = int(net.line.from_bus[0]), int(net.line.to_bus[0])
    angmax = float(net.line.angmax_deg[0])
    va_t = _bus(answer, f"bus:{t}")["va_degree"]
    _bus(answer, f"bus:{f}")["va_degree"] = va_t + angmax + 1.0
    verdict = check_answer(model_of(case), answer)
    kinds = _by_kind(verdict)
    assert "line:0" in kinds["angle"]
    v = next(v for v in verdict["violations"]
             if v["element"] == "line:0" and v["constraint"] == "angle")
    assert v["value"] == pytest.approx(angmax + 1.0, abs=1e-6)
    assert v["limit"] == pytest.approx(angmax)
    # the other branches at the moved bus may break too, but only those touching it
    touching = {f"line:{i}" for i in net.line.index
                if f in (net.line.from_bus[i], net.line.to_bus[i])}
    touching |= {f"trafo:{i}" for i in net.trafo.index
                 if f in (net.trafo.hv_bus[i], net.trafo.lv_bus[i])}
    assert set(kinds["angle"]) <= touching


def test_line_overload_is_flagged_at_that_line():
    """Lower one line's rating below its flow in the optimum: thermal at exactly that line.

    (case14's ratings are far above its flows, so the rating is cut to 10 MVA.)"""
    answer = runopp_answer(CASE)
    model = model_of(CASE)
    first = check_answer(model, answer)
    assert first["feasible"]
    import dataclasses

    k = model.branch_names.index("line:0")
    rate = model.rate.copy()
    rate[k] = 10.0 / model.base_mva
    tight = dataclasses.replace(model, rate=rate)
    tight._finish()
    verdict = check_answer(tight, answer)
    assert _by_kind(verdict) == {"thermal": ["line:0"]}
    v = verdict["violations"][0]
    assert v["limit"] == pytest.approx(10.0) and v["unit"] == "MVA"
    # line 1-2 of case14 carries about 150 MW in the optimum
    assert 100 < v["value"] < 200
