"""Opening grids: built-in names, PGLib MATPOWER files with their limits, JSON, bad input."""

from __future__ import annotations

import numpy as np
import pandapower as pp
import pandas as pd
import pytest

from n1studio.errors import CaseError, ElementError
from n1studio.grid.cases import builtin_cases, load_case
from n1studio.grid.matpower import read_matpower
from n1studio.grid.topology import island_report
from n1studio.grid.variant import Variant, base_model
from tests.conftest import PGLIB

ALL_PGLIB = sorted(PGLIB.glob("pglib_opf_*.m"))


def _close(model_values, file_values) -> None:
    """Equal to the file's numbers up to the per-unit round trip (x / baseMVA * baseMVA)."""
    np.testing.assert_allclose(model_values, file_values, rtol=1e-12, atol=1e-9)


def _angle_limit(deg: np.ndarray, sign: float) -> np.ndarray:
    """MATPOWER's rule: 0 or beyond +-360 degrees is no limit (-inf / +inf)."""
    out = np.deg2rad(deg)
    out[(deg == 0) | (np.abs(deg) >= 360)] = sign * np.inf
    return out


@pytest.mark.parametrize("path", ALL_PGLIB, ids=lambda p: p.stem)
def test_every_pglib_file_loads_with_its_limits(path):
    """Every bus, branch and generator of the file, element by element, in the model."""
    ppc = read_matpower(path)
    net = load_case(path)
    m = base_model(net)
    base = ppc["baseMVA"]
    bus, gen, branch, cost = ppc["bus"], ppc["gen"], ppc["branch"], ppc["gencost"]
    assert m.base_mva == base
    # buses: one per file row, in file order, named by the file's number
    assert m.bus_names == [f"bus:{int(b)}" for b in bus[:, 0]]
    _close(m.vmin, bus[:, 12])
    _close(m.vmax, bus[:, 11])
    _close(m.pd * base, bus[:, 2])
    _close(m.qd * base, bus[:, 3])
    assert np.array_equal(m.is_ref, bus[:, 1] == 3)
    # branches: each file row is one element; its rating and angle limits
    lookup = net._from_ppc_lookups["branch"]
    names = [f"{t}:{int(e)}" for t, e in zip(lookup.element_type, lookup.element, strict=True)]
    assert sorted(names) == sorted(m.branch_names)
    k = np.array([m.branch_names.index(n) for n in names])
    rate = np.where(branch[:, 5] > 0, branch[:, 5], np.inf)
    _close(m.rate[k] * base, rate)
    lo, hi = _angle_limit(branch[:, 11], -1), _angle_limit(branch[:, 12], 1)
    # a transformer whose tap sits on its lower-voltage bus is written from the other end
    flipped = np.array([n.startswith("trafo:") and net.trafo.at[int(n[6:]), "hv_bus"] != f
                        for n, f in zip(names, branch[:, 0], strict=True)])
    _close(m.angmin[k], np.where(flipped, -hi, lo))
    _close(m.angmax[k], np.where(flipped, -lo, hi))
    # generators: each file row is one unit at its bus, with its limits and its cost
    lookup = net._from_ppc_lookups["gen"]
    names = [f"{t}:{int(e)}" for t, e in zip(lookup.element_type, lookup.element, strict=True)]
    assert sorted(names) == sorted(m.gen_names) and len(names) == len(gen)
    g = np.array([m.gen_names.index(n) for n in names])
    assert [m.bus_names[b] for b in m.gen_bus[g]] == [f"bus:{int(b)}" for b in gen[:, 0]]
    assert np.array_equal(m.gen_on[g], gen[:, 7] > 0)
    for col, arr in ((8, m.pmax), (9, m.pmin), (3, m.qmax), (4, m.qmin)):
        _close(arr[g] * base, gen[:, col])
    assert np.all(cost[:, 3] == 3)  # quadratic: c2, c1, c0 in columns 5-7
    _close(m.c2[g], cost[:, 4])
    _close(m.c1[g], cost[:, 5])
    _close(m.c0[g], cost[:, 6])


def test_builtin_names_include_pandapower_and_pglib():
    names = {c["name"] for c in builtin_cases()}
    assert {"case14", "case118", "case9241pegase", "pglib_opf_case14_ieee"} <= names
    net = load_case("case14")
    assert len(net.bus) == 14 and len(net.line) == 15


def test_load_case_returns_independent_copies():
    a = load_case("case14")
    a.line.loc[0, "in_service"] = False
    b = load_case("case14")
    assert bool(b.line.at[0, "in_service"])


def test_json_round_trip(tmp_path):
    """Saved as pandapower JSON and opened again, every table holds the same values (bus
    columns may come back as int64 where pandapower wrote uint32: the same numbers)."""
    net = load_case("case9")
    path = tmp_path / "grid.json"
    pp.to_json(net, str(path))
    back = load_case(path)
    tables = sorted(k for k, v in net.items() if isinstance(v, pd.DataFrame)
                    and not k.startswith("_"))
    assert tables == sorted(k for k, v in back.items() if isinstance(v, pd.DataFrame)
                            and not k.startswith("_"))
    assert {"bus", "load", "gen", "ext_grid", "line", "poly_cost"} <= {
        t for t in tables if len(net[t])}
    for t in tables:
        pd.testing.assert_frame_equal(back[t], net[t], check_dtype=False, check_exact=True,
                                      obj=f"net.{t}")
    assert (back.name, back.f_hz, back.sn_mva) == (net.name, net.f_hz, net.sn_mva) == (
        "case9", 60, 100)
    assert back.std_types == net.std_types


@pytest.mark.parametrize("content,needle", [
    ("this is not a case", "not a MATPOWER case"),
    ("function mpc = x\nmpc.baseMVA = 100;\nmpc.bus = [1 3 0 0 0 0 1 1 0 1 1 1.1 0.9];\n",
     "mpc.gen"),
    (("mpc.baseMVA = 100;\nmpc.bus = [1 3 0 0 0 0 1 1 0 1 1 1.1 0.9;];\n"
      "mpc.gen = [7 0 0 1 -1 1 100 1 10 0;];\nmpc.branch = [1 1 0 0.1 0 0 0 0 0 0 1 -360 360;];\n"),
     "unknown bus 7"),
    ("mpc.baseMVA = 100;\nmpc.bus = [1 3 zero];\n", "non-numeric"),
])
def test_broken_matpower_files_give_clear_errors(tmp_path, content, needle):
    path = tmp_path / "broken.m"
    path.write_text(content)
    with pytest.raises(CaseError, match=needle):
        load_case(path)


def test_broken_json_and_unknown_names(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(CaseError, match="bad.json"):
        load_case(bad)
    with pytest.raises(CaseError, match="unknown case"):
        load_case("case_does_not_exist")
    with pytest.raises(CaseError, match="no such file"):
        load_case(tmp_path / "missing.m")


def test_variant_never_mutates_base_and_validates_names():
    net = load_case("case14")
    v = Variant(net, ["line:3"])
    assert not v.net.line.at[3, "in_service"] and net.line.at[3, "in_service"]
    assert not v.model.branch_on[v.model.branch_names.index("line:3")]
    assert base_model(net).branch_on.all()
    with pytest.raises(ElementError, match="no such element"):
        Variant(net, ["line:99"])
    with pytest.raises(ElementError, match="malformed"):
        Variant(net, ["line3"])
    with pytest.raises(ElementError, match="unknown element table"):
        Variant(net, ["cable:1"])


def test_islanding_detected_and_reported():
    net = load_case(PGLIB / "pglib_opf_case14_ieee.m")
    # PGLib buses keep their MATPOWER numbers; bus 8 hangs on the single branch 7-8
    m = base_model(net)
    k = next(i for i, n in enumerate(m.branch_names)
             if {m.bus_names[m.f[i]], m.bus_names[m.t[i]]} == {"bus:7", "bus:8"})
    v = Variant(net, [m.branch_names[k]])
    rep = v.islands
    assert rep.n_islands == 2
    # bus 8 carries a synchronous condenser (gen:3) and no load: the topology alone leaves an
    # island with a generator but no reference...
    raw = island_report(m.with_outages([m.branch_names[k]]))
    assert raw.islands_without_ref == 1 and raw.cut_buses == []
    # ...and the variant trips the condenser with the outage (issue 17): bus 8 is cut off
    assert rep.tripped == ["gen:3"] and rep.cut_buses == ["bus:8"]
    # as when bus 8's generator is taken out by hand (then nothing is left to trip)
    gen_at_8 = [g for g, b in zip(m.gen_names, m.gen_bus, strict=True)
                if m.bus_names[b] == "bus:8"]
    assert gen_at_8 == ["gen:3"]
    v2 = Variant(net, [m.branch_names[k], *gen_at_8])
    assert v2.islands.cut_buses == ["bus:8"] and v2.islands.tripped == []


def test_bus_outage_takes_attached_elements_out():
    net = load_case("case14")
    v = Variant(net, ["bus:13"])
    m = v.model
    attached = [n for i, n in enumerate(m.branch_names) if 13 in (m.f[i], m.t[i])]
    assert attached and not any(m.branch_on[m.branch_names.index(n)] for n in attached)
    assert "load:" in " ".join(v.islands.lost_loads) or not any(net.load.bus == 13)


def test_base_case_with_elements_out_of_service_opens():
    # case33bw ships 5 lines out of service (tie switches): the model must name every branch
    net = load_case("case33bw")
    m = base_model(net)
    off = sorted(n for n, on in zip(m.branch_names, m.branch_on, strict=True) if not on)
    assert off == sorted(f"line:{i}" for i in net.line.index[~net.line.in_service])
    assert len(m.branch_names) == len(net.line) + len(net.trafo)


def test_out_of_service_in_base_equals_the_same_outage_as_a_variant():
    net = load_case("case14")
    edited = load_case("case14")
    edited.line.loc[3, "in_service"] = False
    edited.gen.loc[0, "in_service"] = False
    a, b = base_model(edited), Variant(net, ["line:3", "gen:0"]).model
    assert (a.branch_on == b.branch_on).all() and (a.gen_on == b.gen_on).all()
    assert np.allclose(a.pd, b.pd)
