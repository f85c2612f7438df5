"""The names of the built-in cases, listed without opening (or importing) anything heavy.

`n1studio cases` and the app's case menu only need names; importing pandapower for them
costs about two seconds. `grid.cases` opens the cases; this module only lists them.
`tests/grid/test_catalog.py` checks the static list against `pandapower.networks`.
"""

from __future__ import annotations

from pathlib import Path

from n1studio.resources import resource

# pandapower's built-in transmission cases with OPF data (name -> constructor name).
PANDAPOWER_CASES = [
    "case4gs", "case5", "case6ww", "case9", "case14", "case24_ieee_rts", "case30",
    "case_ieee30", "case33bw", "case39", "case57", "case89pegase", "case118", "case145",
    "case_illinois200", "case300", "case1354pegase", "case1888rte", "case2848rte",
    "case2869pegase", "case3120sp", "case6470rte", "case6495rte", "case6515rte",
    "case9241pegase",
]


def pglib_cases() -> dict[str, Path]:
    """PGLib-OPF files shipped in resources/pglib, by file stem."""
    folder = resource("pglib")
    return {p.stem: p for p in sorted(folder.glob("*.m"))} if folder.is_dir() else {}


def builtin_cases() -> list[dict]:
    """Every case `load_case` accepts by name, with where it comes from."""
    out = [{"name": n, "source": "pandapower"} for n in PANDAPOWER_CASES]
    out += [{"name": n, "source": "pglib", "path": str(p)} for n, p in pglib_cases().items()]
    return out
