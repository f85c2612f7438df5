"""Every number of every bundled case's prompt, read back and compared with its source.

The prompt is what the model is told about the grid; a rounding bug there (a 160 MVA
rating written `16`) silently changes the question. This test renders the prompt of
every PGLib file in resources/pglib and of every pandapower built-in case up to 300
buses, parses its BUSES / BRANCHES / GENERATORS tables with a parser written here, and
compares every number with the source within the rounding resources/prompts/README.md
documents:

- PGLib: the MATPOWER file itself, read by the small parser below (not n1studio's). Bus
  numbers: the prompt names pandapower buses; pandapower's `from_ppc` creates one bus
  per row of `mpc.bus`, in row order (`grid/cases.py: _bus_positions` relies on the
  same), so MATPOWER bus k-th row <-> the net's k-th bus index. Branches are matched to
  MATPOWER rows by their pair of buses and their numbers; a transformer whose tap sits on
  the lower-voltage bus is written from its other end (`grid/cases.py:
  _fix_reversed_trafos`), as the exact equivalent: tap 1/t, r and x times t^2, b over
  t^2, shift and angle limits negated.
- pandapower built-ins: pandapower's own converter (`to_ppc`, the PYPOWER case of the
  net with every element in service) and the net's tables (element names, cost
  polynomials, rating placeholders).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from n1studio.grid.cases import load_case
from n1studio.grid.variant import Variant
from n1studio.llm.prompt import render_prompt

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
PGLIB_FILES = sorted((RESOURCES / "pglib").glob("*.m"))
# pandapower's built-in cases up to 300 buses (the names n1studio lists)
PANDAPOWER_SMALL = ["case4gs", "case5", "case6ww", "case9", "case14", "case24_ieee_rts",
                    "case30", "case_ieee30", "case33bw", "case39", "case57", "case89pegase",
                    "case118", "case145", "case_illinois200", "case300"]
SLOW_BUILTINS = {"case_illinois200", "case300", "case145", "case118"}

# ---- the documented rounding (resources/prompts/README.md), per column ----------------------
FIXED = {"vmin": 4, "vmax": 4, "pd": 2, "qd": 2, "gs": 2, "bs": 2, "rate": 2, "angmin": 2,
         "angmax": 2, "shift": 2, "pmin": 2, "pmax": 2, "qmin": 2, "qmax": 2}
SIGNIFICANT = {"r": 6, "x": 6, "b": 6, "tap": 6, "c2": 6, "c1": 6, "c0": 6}
MAX_DECIMALS = 12
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")  # positional only: no exponent, no stray signs


def within(col: str, written: float, true: float) -> bool:
    """Whether `written` is `true` rounded as the prompt documents for column `col`."""
    if math.isinf(true) or math.isinf(written):
        return math.isinf(true) and math.isinf(written)
    slack = 1e-9 * max(1.0, abs(true))  # floating-point noise of the pu conversions
    if col in FIXED:
        return abs(written - true) <= 0.5 * 10.0 ** -FIXED[col] + slack
    if true == 0:
        return abs(written) <= 0.5 * 10.0 ** -MAX_DECIMALS
    exp = math.floor(math.log10(abs(true)))
    step = 10.0 ** max(exp - SIGNIFICANT[col] + 1, -MAX_DECIMALS)
    return abs(written - true) <= 0.5 * step + slack


# ---- reading the prompt back -----------------------------------------------------------------
def _value(tok: str, col: str) -> float:
    if tok == "-":
        return -math.inf if col in ("angmin", "pmin", "qmin") else math.inf
    assert NUMBER.match(tok), f"{col}: {tok!r} is not a plain positional number"
    return float(tok)


def prompt_tables(text: str) -> dict[str, list[list[str]]]:
    """The rows (split on spaces) of the BUSES, BRANCHES and GENERATORS tables."""
    lines = text.splitlines()
    out = {}
    for title in ("BUSES", "BRANCHES", "GENERATORS"):
        start = next(i for i, ln in enumerate(lines) if ln.startswith(title + " ("))
        rows = []
        for ln in lines[start + 1:]:
            if not ln.strip():
                break
            rows.append(ln.split())
        out[title] = rows
    return out


def parse_buses(rows) -> dict[str, dict]:
    out = {}
    for r in rows:
        flags = {t for t in r[1:] if t in ("ref", "off")}
        nums = [t for t in r[1:] if t not in ("ref", "off")]
        assert len(nums) in (4, 6), r
        cols = ["vmin", "vmax", "pd", "qd", "gs", "bs"][:len(nums)]
        d = {c: _value(t, c) for c, t in zip(cols, nums, strict=True)}
        d.setdefault("gs", 0.0)
        d.setdefault("bs", 0.0)
        d["ref"], d["off"] = "ref" in flags, "off" in flags
        out[r[0]] = d
    return out


def parse_branches(rows) -> dict[str, dict]:
    out = {}
    for r in rows:
        keyed = dict(t.split("=", 1) for t in r if "=" in t)
        plain = [t for t in r[1:] if "=" not in t and t != "off"]
        assert len(plain) in (6, 8), r
        d = {"from": int(plain[0]), "to": int(plain[1])}
        # 4 or 6 numbers: the angle limits are written only where there are some
        for c, t in zip(["r", "x", "b", "rate", "angmin", "angmax"], plain[2:], strict=False):
            d[c] = _value(t, c)
        d.setdefault("angmin", -math.inf)
        d.setdefault("angmax", math.inf)
        d["tap"] = _value(keyed.get("tap", "1"), "tap")
        d["shift"] = _value(keyed.get("shift", "0"), "shift")
        d["off"] = "off" in r
        out[r[0]] = d
    return out


def parse_generators(rows) -> dict[str, dict]:
    out = {}
    for r in rows:
        plain = [t for t in r[1:] if t != "off"]
        assert len(plain) == 8, r
        d = {"bus": int(plain[0])}
        for c, t in zip(["pmin", "pmax", "qmin", "qmax", "c2", "c1", "c0"], plain[1:],
                        strict=True):
            d[c] = _value(t, c)
        d["off"] = "off" in r
        out[r[0]] = d
    return out


def read_prompt(net) -> tuple[dict, dict, dict]:
    t = prompt_tables(render_prompt(Variant(net)).text)
    return (parse_buses(t["BUSES"]), parse_branches(t["BRANCHES"]),
            parse_generators(t["GENERATORS"]))


# ---- comparing ---------------------------------------------------------------------------------
def mismatches(written: dict, true: dict, cols) -> list[str]:
    return [f"{c} {written[c]!r} vs {true[c]!r}" for c in cols
            if not within(c, written[c], true[c])]


BRANCH_COLS = ("r", "x", "b", "rate", "angmin", "angmax", "tap", "shift")
GEN_COLS = ("pmin", "pmax", "qmin", "qmax", "c2", "c1", "c0")
BUS_COLS = ("vmin", "vmax", "pd", "qd", "gs", "bs")


def flipped(br: dict) -> dict:
    """The same transformer written from its other end (ideal tap moved across)."""
    t = br["tap"]
    return {"from": br["to"], "to": br["from"], "r": br["r"] * t * t, "x": br["x"] * t * t,
            "b": br["b"] / (t * t), "rate": br["rate"], "tap": 1 / t, "shift": -br["shift"],
            "angmin": -br["angmax"], "angmax": -br["angmin"], "off": br["off"]}


def match_rows(kind: str, written: dict[str, dict], source: list[dict], key, cols,
               orientations=lambda s: [s]) -> None:
    """Pair every written row with exactly one source row of the same `key` and numbers."""
    assert len(written) == len(source), \
        f"{kind}: {len(written)} in the prompt, {len(source)} in the source"
    pool: dict = {}
    for s in source:
        for o in orientations(s):
            pool.setdefault(key(o), []).append((id(s), o))
    used: set[int] = set()
    for name, w in written.items():
        cands = [(i, o) for i, o in pool.get(key(w), []) if i not in used]
        good = [(i, o) for i, o in cands if not mismatches(w, o, cols) and o["off"] == w["off"]]
        if not good:
            near = "; ".join(", ".join(mismatches(w, o, cols)) or "in-service flag"
                             for _, o in cands[:3]) or "no source row at these buses"
            raise AssertionError(f"{kind} {name} {w}: no source row within the documented "
                                 f"rounding ({near})")
        used.add(good[0][0])


# ---- the MATPOWER source, read here ------------------------------------------------------------
def read_m(path: Path) -> dict[str, np.ndarray]:
    text = path.read_text()
    out = {"baseMVA": float(re.search(r"mpc\.baseMVA\s*=\s*([\d.]+)", text).group(1))}
    for name in ("bus", "gen", "branch", "gencost"):
        body = re.search(rf"mpc\.{name}\s*=\s*\[(.*?)\];", text, re.DOTALL).group(1)
        rows = [[float(v) for v in ln.split("%")[0].replace(";", " ").split()]
                for ln in body.splitlines()]
        out[name] = np.array([r for r in rows if r])
    return out


def _ang(v: float, lo: bool) -> float:
    # MATPOWER: angle limits at (or beyond) +-360 degrees mean "no limit"
    if lo:
        return -math.inf if v <= -360 else v
    return math.inf if v >= 360 else v


def pglib_source(path: Path, net):
    mpc = read_m(path)
    bus_of = dict(zip(mpc["bus"][:, 0].astype(int), (int(i) for i in net.bus.index),
                      strict=True))
    buses = {f"bus:{bus_of[int(b[0])]}": {
        "vmin": b[12], "vmax": b[11], "pd": b[2], "qd": b[3], "gs": b[4], "bs": b[5],
        "ref": b[1] == 3, "off": b[1] == 4} for b in mpc["bus"]}
    branches = [{
        "from": bus_of[int(r[0])], "to": bus_of[int(r[1])], "r": r[2], "x": r[3], "b": r[4],
        "rate": r[5] if r[5] > 0 else math.inf, "tap": r[8] if r[8] != 0 else 1.0,
        "shift": r[9], "angmin": _ang(r[11], True), "angmax": _ang(r[12], False),
        "off": r[10] == 0} for r in mpc["branch"]]
    gens = []
    for g, c in zip(mpc["gen"], mpc["gencost"], strict=True):
        assert c[0] == 2, "PGLib costs are polynomial"
        n = int(c[3])
        coef = [0.0] * (3 - n) + list(c[4:4 + n])
        gens.append({"bus": bus_of[int(g[0])], "pmin": g[9], "pmax": g[8], "qmin": g[4],
                     "qmax": g[3], "c2": coef[-3], "c1": coef[-2], "c0": coef[-1],
                     "off": g[7] <= 0})
    return buses, branches, gens


@pytest.mark.parametrize("path", PGLIB_FILES, ids=[p.stem for p in PGLIB_FILES])
def test_pglib_prompt_says_what_the_matpower_file_says(path):
    net = load_case(path.stem)
    buses, branches, gens = read_prompt(net)
    src_buses, src_branches, src_gens = pglib_source(path, net)
    assert buses.keys() == src_buses.keys()
    for name, w in buses.items():
        s = src_buses[name]
        assert not mismatches(w, s, BUS_COLS), (name, mismatches(w, s, BUS_COLS))
        assert (w["ref"], w["off"]) == (s["ref"], s["off"]), name
    match_rows("branch", branches, src_branches, lambda d: frozenset((d["from"], d["to"])),
               BRANCH_COLS, orientations=lambda s: [s, flipped(s)])
    match_rows("generator", gens, src_gens, lambda d: d["bus"], GEN_COLS)


# ---- pandapower built-ins: pandapower's converter and tables ----------------------------------
def pandapower_source(net):
    import copy

    from pandapower.converter.pypower.to_ppc import to_ppc

    work = copy.deepcopy(net)
    for table in ("line", "trafo", "gen", "ext_grid", "bus"):
        work[table]["in_service"] = True
    ppc = to_ppc(work, init="flat", mode="opf", check_connectivity=False, trafo_model="pi",
                 calculate_voltage_angles=True, take_slack_vm_limits=False)
    base = ppc["baseMVA"]
    lk = work._pd2ppc_lookups
    bus_row = np.asarray(lk["bus"])
    pp_bus = {}  # ppc bus row -> the pandapower bus the prompt names (first one if merged)
    for i in net.bus.index:
        pp_bus.setdefault(int(bus_row[i]), int(i))
    buses = {}
    for i in net.bus.index:
        b = ppc["bus"][bus_row[i]].real
        if pp_bus[int(bus_row[i])] != i:
            continue
        buses[f"bus:{i}"] = {"vmin": b[12], "vmax": b[11], "pd": b[2], "qd": b[3], "gs": b[4],
                             "bs": b[5], "ref": b[1] == 3, "off": not net.bus.in_service[i]}
    branches = {}
    for table, (start, _end) in lk["branch"].items():
        for pos, el in enumerate(net[table].index):
            r = ppc["branch"][start + pos].real
            if table == "line":
                placeholder = net.line.max_i_ka[el] >= 99999
            else:
                placeholder = np.isclose(net.trafo.sn_mva[el], (99.999, 99999.0), rtol=1e-7).any()
            branches[f"{table}:{el}"] = {
                "from": pp_bus[int(r[0])], "to": pp_bus[int(r[1])], "r": r[2], "x": r[3],
                "b": r[4], "rate": math.inf if (r[5] <= 0 or placeholder) else r[5],
                "tap": r[8] if r[8] != 0 else 1.0, "shift": r[9], "angmin": -math.inf,
                "angmax": math.inf, "off": not net[table].in_service[el]}
    cost = {(str(et), int(el)): (c2, c1, c0) for et, el, c2, c1, c0 in zip(
        net.poly_cost.et, net.poly_cost.element, net.poly_cost.cp2_eur_per_mw2,
        net.poly_cost.cp1_eur_per_mw, net.poly_cost.cp0_eur, strict=True)}
    gens = {}
    for table in ("ext_grid", "gen", "sgen"):
        df = net[table]
        if table == "sgen":  # only controllable static generators are dispatched
            if "controllable" not in df.columns:
                continue
            df = df[[v is True or v == 1 for v in df.controllable]]  # NaN is not controllable
        for el in df.index:
            lim = [df.at[el, c] if c in df.columns else np.nan
                   for c in ("min_p_mw", "max_p_mw", "min_q_mvar", "max_q_mvar")]
            lim = [(-math.inf if k % 2 == 0 else math.inf) if not np.isfinite(v) else float(v)
                   for k, v in enumerate(lim)]
            c2, c1, c0 = cost.get((table, int(el)), (0.0, 0.0, 0.0))
            gens[f"{table}:{el}"] = {"bus": int(df.at[el, "bus"]), "pmin": lim[0],
                                     "pmax": lim[1], "qmin": lim[2], "qmax": lim[3],
                                     "c2": c2, "c1": c1, "c0": c0,
                                     "off": not df.at[el, "in_service"]}
    assert base == net.sn_mva
    return buses, branches, gens


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_BUILTINS
                                  else n for n in PANDAPOWER_SMALL])
def test_pandapower_prompt_says_what_pandapower_says(name):
    net = load_case(name)
    buses, branches, gens = read_prompt(net)
    src_buses, src_branches, src_gens = pandapower_source(net)
    assert buses.keys() == src_buses.keys()
    for n, w in buses.items():
        s = src_buses[n]
        assert not mismatches(w, s, BUS_COLS), (n, mismatches(w, s, BUS_COLS))
        assert (w["ref"], w["off"]) == (s["ref"], s["off"]), n
    assert branches.keys() == src_branches.keys()
    for n, w in branches.items():
        s = src_branches[n]
        assert (w["from"], w["to"], w["off"]) == (s["from"], s["to"], s["off"]), n
        assert not mismatches(w, s, BRANCH_COLS), (n, mismatches(w, s, BRANCH_COLS))
    assert gens.keys() == src_gens.keys()
    for n, w in gens.items():
        s = src_gens[n]
        assert (w["bus"], w["off"]) == (s["bus"], s["off"]), n
        assert not mismatches(w, s, GEN_COLS), (n, mismatches(w, s, GEN_COLS))


# ---- the formatting rule itself -----------------------------------------------------------------
def test_round_numbers_keep_their_zeros_and_small_ones_their_digits(pglib):
    from n1studio.llm.prompt import fixed, sig

    assert [fixed(v, 2) for v in (160, 100, 9900, 1.5, -0.001, 0)] == \
        ["160", "100", "9900", "1.5", "0", "0"]
    assert [sig(v) for v in (0.00023, 0.000123456789, 1234567.0, 2.5e-7, 1e-17)] == \
        ["0.00023", "0.000123457", "1234567", "0.00000025", "0"]
    # the ratings the old renderer cut: pglib case14's branch 3-4 (160 MVA), case30's 6-7
    # (140 MVA) and 14-15 (20 MVA)
    for case, name, rate in (("case14_ieee", "line:5", 160), ("case30_ieee", "line:8", 140),
                             ("case30_ieee", "line:13", 20)):
        _, branches, _ = read_prompt(load_case(str(pglib(case))))
        assert branches[name]["rate"] == rate
