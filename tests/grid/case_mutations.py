"""Malformed case files made from real ones: PGLib .m text edits and pandapower JSON edits.

Shared by tests/grid/test_case_files.py (one named failure each), tests/grid/test_case_fuzz.py
(a seeded fuzz run) and bench/bench_fuzz_cases.py (the long run).
"""

from __future__ import annotations

import copy
import random
import re
import traceback
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pandas as pd

from n1studio.errors import N1Error
from n1studio.grid.cases import load_case
from n1studio.grid.quiet import quiet_pandapower
from n1studio.grid.variant import Variant
from n1studio.solve.acopf import solve_acopf

_MATRIX = re.compile(r"(mpc\.(\w+)\s*=\s*\[)(.*?)(\]\s*;)", re.DOTALL)

# MATPOWER columns (0-based) used by the named mutations
BUS_TYPE, PD, VMAX, VMIN = 1, 2, 11, 12
PMAX, PMIN = 8, 9
F_BUS, T_BUS, BR_R, BR_X, RATE_A = 0, 1, 2, 3, 5


def _rows(body: str) -> list[tuple[int, list[str]]]:
    """(line number in body, tokens) of each data row of a matrix body."""
    out = []
    for k, raw in enumerate(body.split("\n")):
        data = raw.split("%", 1)[0].strip().rstrip(";").strip()
        if data:
            out.append((k, data.split()))
    return out


def edit_table(text: str, table: str, fn: Callable[[list[list[str]]], list[list[str]]]) -> str:
    """Rewrite mpc.<table>'s rows (lists of number strings) through `fn`."""
    for m in _MATRIX.finditer(text):
        if m.group(2) != table:
            continue
        rows = [tokens for _, tokens in _rows(m.group(3))]
        rows = fn([list(r) for r in rows])
        body = "\n" + "".join("\t" + "\t".join(r) + ";\n" for r in rows)
        return text[:m.start(3)] + body + text[m.end(3):]
    raise KeyError(table)


def set_cell(text: str, table: str, row: int, col: int, value: str) -> str:
    """The .m text with mpc.<table>(row, col) (0-based) replaced by `value`."""

    def fn(rows):
        rows[row][col] = value
        return rows

    return edit_table(text, table, fn)


def get_cell(text: str, table: str, row: int, col: int) -> str:
    for m in _MATRIX.finditer(text):
        if m.group(2) == table:
            return _rows(m.group(3))[row][1][col]
    raise KeyError(table)


def n_rows(text: str, table: str) -> int:
    for m in _MATRIX.finditer(text):
        if m.group(2) == table:
            return len(_rows(m.group(3)))
    return 0


def set_base(text: str, value: str) -> str:
    return re.sub(r"mpc\.baseMVA\s*=\s*[^;]*;", f"mpc.baseMVA = {value};", text)


def drop_table(text: str, table: str) -> str:
    for m in _MATRIX.finditer(text):
        if m.group(2) == table:
            return text[:m.start()] + text[m.end():]
    return text


def empty_table(text: str, table: str) -> str:
    return edit_table(text, table, lambda rows: [])


# ---- the fuzz mutations -----------------------------------------------------------------
VALUES = ["NaN", "0", "-1", "-100", "1e20", "Inf", "-Inf", "5.5", "0.5", "abc", "1" + "0" * 400,
          "1e-300", "999", "-0"]
TABLES = ["bus", "gen", "branch", "gencost"]


def mutate_m(text: str, rng: random.Random) -> tuple[str, str]:
    """One random mutation of a .m file's text: (new text, what was done)."""
    kind = rng.choice(["cell", "cell", "cell", "cell", "swap_v", "swap_p", "base", "no_ref",
                       "del_row", "dup_row", "del_num", "dup_num", "truncate", "drop_table",
                       "self_loop", "zero_z", "bad_bus", "empty_table", "chars"])
    table = rng.choice(TABLES)
    n = n_rows(text, table)
    if kind == "cell":
        row = rng.randrange(n)
        col = rng.randrange(len(_first_row(text, table)))
        value = rng.choice(VALUES)
        return set_cell(text, table, row, col, value), f"{table}[{row},{col}]={value[:12]}"
    if kind == "swap_v":
        row = rng.randrange(n_rows(text, "bus"))
        return (set_cell(set_cell(text, "bus", row, VMAX, "0.9"), "bus", row, VMIN, "1.1"),
                f"bus[{row}] vmax<vmin")
    if kind == "swap_p":
        row = rng.randrange(n_rows(text, "gen"))
        return (set_cell(set_cell(text, "gen", row, PMAX, "10"), "gen", row, PMIN, "20"),
                f"gen[{row}] pmax<pmin")
    if kind == "base":
        value = rng.choice(["0", "-100", "NaN", "abc", "Inf", ""])
        return set_base(text, value), f"baseMVA={value}"
    if kind == "no_ref":
        return (edit_table(text, "bus", lambda rows: [[r[0], "1" if r[1] == "3" else r[1], *r[2:]]
                                                      for r in rows]), "no reference bus")
    if kind == "del_row":
        row = rng.randrange(n)
        return edit_table(text, table, lambda rows: rows[:row] + rows[row + 1:]), \
            f"del {table}[{row}]"
    if kind == "dup_row":
        row = rng.randrange(n)
        return edit_table(text, table, lambda rows: rows[:row + 1] + rows[row:]), \
            f"dup {table}[{row}]"
    if kind in ("del_num", "dup_num"):
        row = rng.randrange(n)

        def fn(rows):
            r = rows[row]
            k = rng.randrange(len(r))
            rows[row] = r[:k] + r[k + 1:] if kind == "del_num" else r[:k + 1] + r[k:]
            return rows

        return edit_table(text, table, fn), f"{kind} {table}[{row}]"
    if kind == "truncate":
        cut = rng.randrange(len(text))
        return text[:cut], f"truncate at {cut}"
    if kind == "drop_table":
        return drop_table(text, table), f"drop {table}"
    if kind == "empty_table":
        return empty_table(text, table), f"empty {table}"
    if kind == "self_loop":
        row = rng.randrange(n_rows(text, "branch"))
        f = get_cell(text, "branch", row, F_BUS)
        return set_cell(text, "branch", row, T_BUS, f), f"branch[{row}] self loop"
    if kind == "zero_z":
        row = rng.randrange(n_rows(text, "branch"))
        value = rng.choice(["0", "NaN"])
        return (set_cell(set_cell(text, "branch", row, BR_R, value), "branch", row, BR_X, value),
                f"branch[{row}] z={value}")
    if kind == "bad_bus":
        t = rng.choice(["gen", "branch"])
        row = rng.randrange(n_rows(text, t))
        return set_cell(text, t, row, 0, rng.choice(["999", "5.5", "0", "-3"])), f"{t}[{row}] bus"
    # random character deletions / duplications anywhere in the file
    chars = list(text)
    for _ in range(rng.randint(1, 5)):
        k = rng.randrange(len(chars))
        if rng.random() < 0.5:
            del chars[k]
        else:
            chars.insert(k, chars[k])
    return "".join(chars), "chars"


def _first_row(text: str, table: str) -> list[str]:
    for m in _MATRIX.finditer(text):
        if m.group(2) == table:
            return _rows(m.group(3))[0][1]
    raise KeyError(table)


def mutate_net(net, rng: random.Random) -> str:
    """One random mutation of a pandapower net, in place; says what was done."""
    kind = rng.choice(["cell", "cell", "cell", "no_ext_grid", "bad_ref", "self_loop", "no_cost",
                       "del_rows", "dup_row", "no_branches", "swap_v", "swap_p"])
    if kind == "cell":
        table = rng.choice(["bus", "load", "gen", "line", "trafo", "ext_grid", "poly_cost"])
        df = net[table]
        cols = [c for c in df.columns if df[c].dtype.kind in "fiu"]
        col = rng.choice(cols)
        idx = rng.choice(list(df.index))
        value = rng.choice([np.nan, 0.0, -1.0, 1e20, np.inf, -np.inf, 5.5, 999.0])
        df[col] = df[col].astype(float)
        df.at[idx, col] = value
        return f"{table}[{idx}].{col}={value}"
    if kind == "no_ext_grid":
        net.ext_grid.drop(net.ext_grid.index, inplace=True)
        return "no ext_grid"
    if kind == "bad_ref":
        table, col = rng.choice([("load", "bus"), ("gen", "bus"), ("line", "to_bus"),
                                 ("trafo", "hv_bus")])
        idx = rng.choice(list(net[table].index))
        net[table].at[idx, col] = 999
        return f"{table}[{idx}].{col}=999"
    if kind == "self_loop":
        idx = rng.choice(list(net.line.index))
        net.line.at[idx, "to_bus"] = net.line.at[idx, "from_bus"]
        return f"line[{idx}] self loop"
    if kind == "no_cost":
        net.poly_cost.drop(net.poly_cost.index, inplace=True)
        return "no poly_cost"
    if kind == "del_rows":
        table = rng.choice(["bus", "load", "gen", "line", "trafo", "poly_cost"])
        idx = rng.choice(list(net[table].index))
        net[table].drop(idx, inplace=True)
        return f"del {table}[{idx}]"
    if kind == "dup_row":
        table = rng.choice(["load", "gen", "line", "poly_cost"])
        idx = rng.choice(list(net[table].index))
        row = net[table].loc[[idx]].copy()
        row.index = [int(net[table].index.max()) + 1]
        net[table] = pd.concat([net[table], row])
        return f"dup {table}[{idx}]"
    if kind == "no_branches":
        net.line.drop(net.line.index, inplace=True)
        net.trafo.drop(net.trafo.index, inplace=True)
        return "no branches"
    if kind == "swap_v":
        idx = rng.choice(list(net.bus.index))
        net.bus.at[idx, "max_vm_pu"], net.bus.at[idx, "min_vm_pu"] = 0.9, 1.1
        return f"bus[{idx}] vmax<vmin"
    idx = rng.choice(list(net.gen.index))
    net.gen.at[idx, "max_p_mw"], net.gen.at[idx, "min_p_mw"] = 10.0, 20.0
    return f"gen[{idx}] pmax<pmin"


def mutate_json_text(text: str, rng: random.Random) -> tuple[str, str]:
    """Raw-text damage to a pandapower JSON file: truncation or a few characters."""
    if rng.random() < 0.5:
        cut = rng.randrange(len(text))
        return text[:cut], f"truncate at {cut}"
    chars = list(text)
    for _ in range(rng.randint(1, 3)):
        k = rng.randrange(len(chars))
        del chars[k]
    return "".join(chars), "chars"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# ---- what happens to a file ---------------------------------------------------------------
def outcome(path: Path, solve: bool = True, max_iter: int = 300) -> tuple[str, str]:
    """("ok", status) when the grid loads (and solves to any status), ("refused", the line)
    for an N1Error of one line, ("crash", the traceback) for anything else."""
    try:
        variant = Variant(load_case(path), [])
        variant.islands.describe()
        status = "loaded"
        if solve:
            status = solve_acopf(variant.model, max_iter=max_iter).status
        return "ok", status
    except N1Error as exc:
        msg = str(exc)
        if "\n" in msg or not msg:
            return "crash", f"N1Error of {msg.count(chr(10)) + 1} lines: {msg!r}"
        return "refused", msg
    except Exception:  # noqa: BLE001 - what the fuzz run looks for
        return "crash", traceback.format_exc()


def fuzz_files(folder: Path, pglib: Path, n: int, seed: int) -> list[tuple[Path, str]]:
    """`n` mutated case files in `folder`: (path, what was done). About 80 % are PGLib
    case14/case30 .m edits, 20 % pandapower case14 JSON edits (net or raw text); JSON is the
    smaller share because pandapower takes ~0.7 s to read one."""
    rng = random.Random(seed)
    sources = [(pglib / f"pglib_opf_{c}.m").read_text() for c in ("case14_ieee", "case30_ieee")]
    with quiet_pandapower():
        base_net = pn.case14()
    clean_json = folder / "clean_case14.json"
    pp.to_json(base_net, str(clean_json))
    json_text = clean_json.read_text()
    out = []
    for k in range(n):
        r = rng.random()
        if r < 0.8:
            text, what = sources[k % 2], ""
            for _ in range(rng.choice([1, 1, 1, 2, 3])):
                try:
                    text, step = mutate_m(text, rng)
                except (KeyError, IndexError, ValueError):
                    continue  # an earlier step removed what this one edits
                what += ("; " if what else "") + step
            path = write(folder / f"fuzz{k:04d}.m", text)
        elif r < 0.95:
            net = copy.deepcopy(base_net)
            what = mutate_net(net, rng)
            path = folder / f"fuzz{k:04d}.json"
            with quiet_pandapower():
                pp.to_json(net, str(path))
        else:
            text, what = mutate_json_text(json_text, rng)
            path = write(folder / f"fuzz{k:04d}.json", text)
        out.append((path, what))
    return out


def renumber_buses(text: str, first: int) -> str:
    """The .m text with bus k (in row order) numbered `first + k` everywhere it is named
    (mpc.bus, the generators' buses, the branches' ends): the same grid, other ids."""
    ids: dict[str, str] = {}

    def buses(rows):
        for k, r in enumerate(rows):
            ids[r[0]] = str(first + k)
            r[0] = ids[r[0]]
        return rows

    def refs(cols):
        def fn(rows):
            for r in rows:
                for c in cols:
                    r[c] = ids[r[c]]
            return rows
        return fn

    text = edit_table(text, "bus", buses)
    text = edit_table(text, "gen", refs((0,)))
    return edit_table(text, "branch", refs((F_BUS, T_BUS)))
