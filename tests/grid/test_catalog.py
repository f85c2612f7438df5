"""The built-in case names are listed without pandapower, and the list is pandapower's."""

from __future__ import annotations

import pandapower.networks as pn

from n1studio.grid.cases import load_case
from n1studio.grid.catalog import PANDAPOWER_CASES, builtin_cases, pglib_cases


def test_every_listed_pandapower_case_is_a_pandapower_network():
    missing = [n for n in PANDAPOWER_CASES if not callable(getattr(pn, n, None))]
    assert missing == []
    assert len(set(PANDAPOWER_CASES)) == len(PANDAPOWER_CASES)


def test_builtin_cases_are_pandapower_and_every_bundled_pglib_file():
    cases = builtin_cases()
    assert [c["name"] for c in cases if c["source"] == "pandapower"] == PANDAPOWER_CASES
    pglib = {c["name"] for c in cases if c["source"] == "pglib"}
    assert pglib == set(pglib_cases()) and "pglib_opf_case14_ieee" in pglib
    assert len(load_case("pglib_opf_case5_pjm").bus) == 5
