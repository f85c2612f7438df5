"""Opening grids: built-in names, PGLib MATPOWER files with their limits, JSON, bad input."""

from __future__ import annotations

import numpy as np
import pandapower as pp
import pytest

from n1studio.errors import CaseError, ElementError
from n1studio.grid.cases import builtin_cases, load_case
from n1studio.grid.matpower import read_matpower
from n1studio.grid.variant import Variant, base_model
from tests.conftest import PGLIB

ALL_PGLIB = sorted(PGLIB.glob("pglib_opf_*.m"))


@pytest.mark.parametrize("path", ALL_PGLIB, ids=lambda p: p.stem)
def test_every_pglib_file_loads_with_its_limits(path):
    ppc = read_matpower(path)
    net = load_case(path)
    m = base_model(net)
    assert m.n_bus == len(ppc["bus"])
    assert len(m.branch_names) == len(ppc["branch"])
    assert len(m.gen_names) == int((ppc["gen"][:, 7] > 0).sum()) or len(m.gen_names) == len(ppc["gen"])
    # rate_a as an MVA rating, in the same order as the file (ppc -> net keeps branch order per table)
    rates = np.sort(ppc["branch"][:, 5][ppc["branch"][:, 5] > 0])
    assert np.allclose(np.sort(m.rate[np.isfinite(m.rate)] * m.base_mva), rates)
    # angle-difference limits kept
    angmin = ppc["branch"][:, 11]
    finite = (angmin > -360) & (angmin != 0)
    assert np.isfinite(m.angmin).sum() == finite.sum()
    assert np.allclose(np.sort(np.rad2deg(m.angmin[np.isfinite(m.angmin)])), np.sort(angmin[finite]))
    # generator bounds and polynomial costs
    on = ppc["gen"][:, 7] > 0
    assert np.isclose(m.pmax.sum() * m.base_mva, ppc["gen"][on, 8].sum())
    assert np.isclose(m.qmin.sum() * m.base_mva, ppc["gen"][on, 4].sum())
    cost = ppc["gencost"][on]
    assert np.isclose(m.c1.sum(), cost[:, -2].sum())
    assert np.isclose(m.c0.sum(), cost[:, -1].sum())
    # total load
    assert np.isclose(m.pd.sum() * m.base_mva, ppc["bus"][:, 2].sum())


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
    net = load_case("case9")
    path = tmp_path / "grid.json"
    pp.to_json(net, str(path))
    back = load_case(path)
    assert len(back.bus) == 9 and back.name == "case9"


@pytest.mark.parametrize("content,needle", [
    ("this is not a case", "not a MATPOWER case"),
    ("function mpc = x\nmpc.baseMVA = 100;\nmpc.bus = [1 3 0 0 0 0 1 1 0 1 1 1.1 0.9];\n", "mpc.gen"),
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
    # bus 8 carries a synchronous condenser (gen), so it is an island with a generator but no ref
    assert rep.islands_without_ref == 1
    assert rep.cut_buses == []
    # taking bus 8's generator out as well cuts the bus off
    gen_at_8 = [g for g, b in zip(m.gen_names, m.gen_bus) if m.bus_names[b] == "bus:8"]
    assert gen_at_8 == ["gen:3"]
    v2 = Variant(net, [m.branch_names[k], *gen_at_8])
    assert v2.islands.cut_buses == ["bus:8"]


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
    off = sorted(n for n, on in zip(m.branch_names, m.branch_on) if not on)
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
