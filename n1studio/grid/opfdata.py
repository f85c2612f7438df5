"""OPFData examples (DeepMind's solved AC OPF data set, read by PyTorch Geometric's
`OPFDataset`) as grids, and grids as OPFData examples.

One example is one JSON object (``group_G/example_I.json``)::

    {"grid": {"nodes": {"bus":       [[base_kv, bus_type, vmin, vmax], ...],
                        "generator": [[mbase, pg, pmin, pmax, qg, qmin, qmax, vg,
                                       c2, c1, c0], ...],
                        "load":      [[pd, qd], ...],
                        "shunt":     [[bs, gs], ...]},
              "edges": {"ac_line":     {"senders": [...], "receivers": [...],
                                       "features": [[angmin, angmax, b_fr, b_to, br_r, br_x,
                                                     rate_a, rate_b, rate_c], ...]},
                        "transformer": {"senders": ..., "receivers": ...,
                                        "features": [[angmin, angmax, br_r, br_x, rate_a,
                                                      rate_b, rate_c, tap, shift, b_fr,
                                                      b_to], ...]},
                        "generator_link": {"senders": [gen rows], "receivers": [bus rows]},
                        "load_link": ..., "shunt_link": ...},
              "context": [[[baseMVA]]]},
     "solution": {"nodes": {"bus": [[va, vm], ...], "generator": [[pg, qg], ...]},
                  "edges": {"ac_line": {"senders", "receivers", "features": [[pt, qt, pf, qf]]},
                            "transformer": {...}}},
     "metadata": {"objective": 8081.5}}

`context` nests baseMVA three deep, exactly as the release's files do (readers written for
them index ``context[0][0][0]``; PyTorch Geometric flattens it); examples written by earlier
N-1 Studio versions hold ``[[baseMVA]]`` and are read too.

Everything is per unit of baseMVA and in radians; cost coefficients are per unit too
(c2 in $/h per pu², c1 in $/h per pu: MATPOWER's c2·baseMVA², c1·baseMVA), so the objective
is Σ c2·pg² + c1·pg + c0 with pg in pu, in $/h. Bus rows are numbered from 0 in the edges;
a grid read here numbers its buses from 1 (``bus:1`` is row 0, as in PGLib's files).

The N-1 release drops the removed row (a line, transformer or generator) from its table
rather than flagging it; `grid_part(model, net)` writes a variant the same way, and
`match_rows` finds which rows of a known grid an example lacks.

Only what the format holds survives: a branch's shunt conductance and asymmetric
charging, rate_b / rate_c (written as rate_a) and generator set-points beyond pg, qg, vg
are not carried.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from n1studio.errors import CaseError
from n1studio.grid.opfdata_write import grid_part, solution_part
from n1studio.grid.ppcnet import net_from_ppc
from n1studio.grid.validate import validate_net
from n1studio.schema import make_answer

GEN_FEATURES = ("mbase", "pg", "pmin", "pmax", "qg", "qmin", "qmax", "vg", "c2", "c1", "c0")
BUS_FEATURES = ("base_kv", "bus_type", "vmin", "vmax")
LINE_FEATURES = ("angmin", "angmax", "b_fr", "b_to", "br_r", "br_x", "rate_a", "rate_b",
                 "rate_c")
TRAFO_FEATURES = ("angmin", "angmax", "br_r", "br_x", "rate_a", "rate_b", "rate_c", "tap",
                  "shift", "b_fr", "b_to")
FLOW_FEATURES = ("pt", "qt", "pf", "qf")
# written by grid/opfdata_write.py, part of this module's API (dataset export uses them)
__all__ = ["answer_of", "base_mva", "check_example", "example_net", "example_ppc",
           "example_row_names", "grid_part", "is_opfdata", "looks_like_opfdata", "match_rows",
           "parse_grid", "read_example", "solution_part"]


def is_opfdata(doc) -> bool:
    """Whether a parsed JSON document is an OPFData example (by its keys)."""
    if not isinstance(doc, dict):
        return False
    grid = doc.get("grid")
    return (isinstance(grid, dict) and isinstance(grid.get("nodes"), dict)
            and isinstance(grid.get("edges"), dict) and "context" in grid)


def looks_like_opfdata(path: str | Path) -> bool:
    """Whether a .json file is an OPFData example (a cheap look at its first bytes, then
    its keys): pandapower JSON files start with {"_module": ...}."""
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    if b'"grid"' not in head and b'"solution"' not in head and b'"metadata"' not in head:
        return False
    try:
        return is_opfdata(json.loads(p.read_text(encoding="utf-8")))
    except (OSError, ValueError, UnicodeDecodeError):
        return False


def read_example(path: str | Path) -> dict:
    """Read and check one example file (one CaseError line when it is not one)."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CaseError(f"no such file: {p}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CaseError(f"{p.name}: cannot be read ({exc})") from None
    except ValueError as exc:
        raise CaseError(f"{p.name}: not JSON ({exc})") from None
    check_example(doc, p.name)
    return doc


def _table(doc: dict, where: str, key: str, width: int, name: str) -> np.ndarray:
    rows = doc.get(key, [])
    try:
        a = np.asarray(rows, dtype=float)
    except (TypeError, ValueError):
        raise CaseError(f"{name}: {where}.{key} is not a table of numbers") from None
    if a.size == 0:
        return np.zeros((0, width))
    if a.ndim != 2 or a.shape[1] != width:
        raise CaseError(f"{name}: {where}.{key} must have {width} numbers per row, "
                        f"not shape {list(a.shape)}")
    if not np.all(np.isfinite(a)):
        r = int(np.argwhere(~np.isfinite(a))[0][0])
        raise CaseError(f"{name}: {where}.{key} row {r} holds a non-finite number")
    return a


def _edges(doc: dict, key: str, width: int | None, n_from: int, n_to: int, name: str):
    e = doc.get(key) or {}
    if not isinstance(e, dict):
        raise CaseError(f"{name}: grid.edges.{key} is not an object")
    try:
        s = np.asarray(e.get("senders", []), dtype=float)
        r = np.asarray(e.get("receivers", []), dtype=float)
    except (TypeError, ValueError):
        raise CaseError(f"{name}: grid.edges.{key} senders/receivers are not numbers") from None
    if s.shape != r.shape or s.ndim != 1:
        raise CaseError(f"{name}: grid.edges.{key} has {s.size} senders and {r.size} receivers")
    if s.size and (np.any(s != np.floor(s)) or s.min() < 0 or s.max() >= n_from
                   or r.min() < 0 or r.max() >= n_to or np.any(r != np.floor(r))):
        raise CaseError(f"{name}: grid.edges.{key} refers to rows that do not exist")
    f = _table(e, f"grid.edges.{key}", "features", width, name) if width else None
    if f is not None and len(f) != s.size:
        raise CaseError(f"{name}: grid.edges.{key} has {s.size} edges and {len(f)} feature rows")
    return s.astype(int), r.astype(int), f


def check_example(doc, name: str = "example") -> None:
    """Refuse a document that is not a readable OPFData example (one CaseError)."""
    if not is_opfdata(doc):
        raise CaseError(f"{name}: not an OPFData example (no grid with nodes, edges, context)")
    parse_grid(doc, name)


def parse_grid(doc: dict, name: str = "example") -> dict:
    """The example's grid as arrays (checked): bus, generator, load, shunt tables, the
    edges as (senders, receivers, features), base_mva."""
    g = doc["grid"]
    nodes = g["nodes"]
    bus = _table(nodes, "grid.nodes", "bus", 4, name)
    if len(bus) == 0:
        raise CaseError(f"{name}: the example has no buses")
    gen = _table(nodes, "grid.nodes", "generator", 11, name)
    load = _table(nodes, "grid.nodes", "load", 2, name)
    shunt = _table(nodes, "grid.nodes", "shunt", 2, name)
    edges = g["edges"]
    nb = len(bus)
    out = {"bus": bus, "generator": gen, "load": load, "shunt": shunt,
           "ac_line": _edges(edges, "ac_line", 9, nb, nb, name),
           "transformer": _edges(edges, "transformer", 11, nb, nb, name),
           "generator_link": _edges(edges, "generator_link", None, len(gen), nb, name),
           "load_link": _edges(edges, "load_link", None, len(load), nb, name),
           "shunt_link": _edges(edges, "shunt_link", None, len(shunt), nb, name)}
    for key, n in (("generator_link", len(gen)), ("load_link", len(load)),
                   ("shunt_link", len(shunt))):
        s = out[key][0]
        if sorted(s.tolist()) != list(range(n)):
            raise CaseError(f"{name}: grid.edges.{key} must link each of the {n} rows once")
    out["base_mva"] = base_mva(g, name)
    return out


def base_mva(grid: dict, name: str = "example") -> float:
    """baseMVA from ``grid.context``: ``[[[b]]]`` as the release writes it, or the
    ``[[b]]`` of earlier N-1 Studio exports; anything else is one CaseError line."""
    try:
        a = np.asarray(grid["context"])
    except (TypeError, ValueError, KeyError):
        raise CaseError(f"{name}: grid.context must hold baseMVA as [[[baseMVA]]]") from None
    if a.dtype.kind not in "iuf" or a.size != 1 or a.ndim > 3:
        raise CaseError(f"{name}: grid.context must hold baseMVA as [[[baseMVA]]], not an "
                        f"array of shape {list(a.shape)}")
    base = float(a.reshape(-1)[0])
    if not (math.isfinite(base) and base > 0):
        raise CaseError(f"{name}: baseMVA must be a positive number, not {base!r}")
    return base


def _link_of(arrs: dict, key: str) -> np.ndarray:
    s, r, _ = arrs[key]
    bus = np.zeros(len(s), dtype=int)
    bus[s] = r
    return bus


# ---- example -> pandapower net ------------------------------------------------------------

def example_ppc(doc: dict, name: str = "example") -> dict:
    """The PYPOWER case of an example (bus ids 1..n in row order)."""
    a = parse_grid(doc, name)
    base = a["base_mva"]
    bus = a["bus"]
    nb = len(bus)
    pd_ = np.zeros(nb)
    qd = np.zeros(nb)
    gs = np.zeros(nb)
    bs = np.zeros(nb)
    np.add.at(pd_, _link_of(a, "load_link"), a["load"][:, 0] * base)
    np.add.at(qd, _link_of(a, "load_link"), a["load"][:, 1] * base)
    np.add.at(bs, _link_of(a, "shunt_link"), a["shunt"][:, 0] * base)
    np.add.at(gs, _link_of(a, "shunt_link"), a["shunt"][:, 1] * base)
    ids = np.arange(1, nb + 1, dtype=float)
    ppc_bus = np.column_stack([ids, bus[:, 1], pd_, qd, gs, bs, np.ones(nb), np.ones(nb),
                               np.zeros(nb), bus[:, 0], np.ones(nb), bus[:, 3], bus[:, 2]])
    gen = a["generator"]
    gbus = _link_of(a, "generator_link")
    ng = len(gen)
    ppc_gen = np.zeros((ng, 21))
    if ng:
        ppc_gen[:, 0] = gbus + 1
        ppc_gen[:, 1] = gen[:, 1] * base
        ppc_gen[:, 2] = gen[:, 4] * base
        ppc_gen[:, 3] = gen[:, 6] * base
        ppc_gen[:, 4] = gen[:, 5] * base
        ppc_gen[:, 5] = gen[:, 7]
        ppc_gen[:, 6] = gen[:, 0]
        ppc_gen[:, 7] = 1
        ppc_gen[:, 8] = gen[:, 3] * base
        ppc_gen[:, 9] = gen[:, 2] * base
    gencost = np.column_stack([np.full(ng, 2.0), np.zeros(ng), np.zeros(ng), np.full(ng, 3.0),
                               gen[:, 8] / base ** 2, gen[:, 9] / base, gen[:, 10]])
    rows = []
    s, r, f = a["ac_line"]
    for k in range(len(s)):
        ang0, ang1, bfr, bto, br_r, br_x, ra, rb, rc = f[k]
        rows.append([s[k] + 1, r[k] + 1, br_r, br_x, bfr + bto, ra * base, rb * base,
                     rc * base, 0.0, 0.0, 1, math.degrees(ang0), math.degrees(ang1)])
    s, r, f = a["transformer"]
    for k in range(len(s)):
        ang0, ang1, br_r, br_x, ra, rb, rc, tap, shift, bfr, bto = f[k]
        rows.append([s[k] + 1, r[k] + 1, br_r, br_x, bfr + bto, ra * base, rb * base,
                     rc * base, tap, math.degrees(shift), 1, math.degrees(ang0),
                     math.degrees(ang1)])
    branch = np.array(rows, dtype=float).reshape(-1, 13)
    return {"version": "2", "baseMVA": base, "bus": ppc_bus, "gen": ppc_gen, "branch": branch,
            "gencost": gencost}


def example_net(doc: dict, name: str = "opfdata"):
    """A pandapower net of the example's grid (validated like any case file)."""
    net = net_from_ppc(example_ppc(doc, name), name)
    validate_net(net, name)
    return net


def example_row_names(net, doc: dict) -> dict[str, list[str]]:
    """The element names of the example's rows in a net built by `example_net`:
    buses, generators, ac_line and transformer rows (ac lines first, as in the ppc)."""
    nb = len(doc["grid"]["nodes"]["bus"])
    gl = net._from_ppc_lookups["gen"]
    gens = [f"{et}:{int(el)}" for et, el in zip(gl.element_type.values, gl.element.values,
                                                           strict=True)]
    bl = net._from_ppc_lookups["branch"]
    branches = [f"{et}:{int(el)}" for et, el in zip(bl.element_type.values, bl.element.values,
                                                               strict=True)]
    n_line = len(doc["grid"]["edges"].get("ac_line", {}).get("senders", []))
    return {"bus": [f"bus:{k + 1}" for k in range(nb)], "generator": gens,
            "ac_line": branches[:n_line], "transformer": branches[n_line:]}


def answer_of(doc: dict, names: dict[str, list[str]]) -> dict | None:
    """The `n1studio.answer/1` of an example's solution, in the grid's element names
    (None when the example has no solution)."""
    sol = doc.get("solution")
    if not isinstance(sol, dict) or not isinstance(sol.get("nodes"), dict):
        return None
    base = base_mva(doc["grid"])
    bus = np.asarray(sol["nodes"].get("bus", []), dtype=float).reshape(-1, 2)
    gen = np.asarray(sol["nodes"].get("generator", []), dtype=float).reshape(-1, 2)
    if len(bus) != len(names["bus"]) or len(gen) != len(names["generator"]):
        raise CaseError("the example's solution does not have a row per bus and generator")
    vm = {nm: bus[k, 1] for k, nm in enumerate(names["bus"])}
    gens = [{"element": nm, "p_mw": gen[k, 0] * base, "q_mvar": gen[k, 1] * base}
            for k, nm in enumerate(names["generator"])]
    buses = [{"element": nm, "vm_pu": bus[k, 1], "va_degree": math.degrees(bus[k, 0])}
             for k, nm in enumerate(names["bus"]) if vm[nm] > 0]
    obj = (doc.get("metadata") or {}).get("objective")
    obj = float(obj) if isinstance(obj, (int, float)) and math.isfinite(obj) else None
    return make_answer(gens, buses, obj)


# ---- which rows of a known grid an example lacks -------------------------------------------

def _rows(arrs: dict, key: str) -> np.ndarray:
    if key in ("bus", "load", "shunt"):
        t = arrs[key]
        if key != "bus":
            t = np.column_stack([t, _link_of(arrs, key + "_link")]) if len(t) else t
        return t
    if key == "generator":
        t = arrs[key]
        return np.column_stack([t, _link_of(arrs, "generator_link")]) if len(t) else t
    s, r, f = arrs[key]
    return np.column_stack([s, r, f]) if len(s) else np.zeros((0, 2 + f.shape[1]))


def match_rows(example: dict, known: dict, tol: float = 1e-9) -> dict[str, list[int]] | None:
    """Which rows of `known` (a `grid_part` object) `example` lacks, per table
    (generator, ac_line, transformer), or None when it is not that grid less some rows.
    Buses, loads, shunts and baseMVA must be equal (within `tol`)."""
    try:
        a, b = parse_grid(example), parse_grid({"grid": known})
    except CaseError:
        return None
    if abs(a["base_mva"] - b["base_mva"]) > tol:
        return None
    for key in ("bus", "load", "shunt"):
        x, y = _rows(a, key), _rows(b, key)
        if x.shape != y.shape or not np.allclose(x, y, rtol=tol, atol=tol):
            return None
    missing = {}
    for key in ("generator", "ac_line", "transformer"):
        x, y = _rows(a, key), _rows(b, key)
        if len(x) > len(y):
            return None
        gone, i = [], 0
        for j in range(len(y)):
            if i < len(x) and np.allclose(x[i], y[j], rtol=tol, atol=tol):
                i += 1
            else:
                gone.append(j)
        if i != len(x):
            return None
        missing[key] = gone
    return missing
