"""Read MATPOWER `.m` case files (PGLib-OPF format) into a PYPOWER case dict.

A strict reader: grid/mlex.py tokenizes the file as MATLAB does (comments, strings,
continuations) and grid/mfile.py returns its literal `mpc.*` assignments (matrices, cell
arrays, numbers, strings); nothing is run.
The tables it reads are cross-checked against the file's own lines (`cross_check`), and a
file that is UTF-16, binary or cut short is refused as what it is (`decode`, mfile).
Then it checks the data the way MATPOWER's own conventions read it, and refuses what
would otherwise crash a solver or, worse, solve a different grid than the file's
(a NaN load dropped, a negative rating read as "unlimited", bus 5.5 read as bus 5).
Every refusal is one `CaseDataError` line naming the file, the table, the row (1-based,
as the k-th row of the matrix, with its line in the file) and the column (MATPOWER's
1-based number and name). What MATPOWER itself accepts is accepted; the unusual part of
it (ratings of 0 read as unlimited) is said in a warning. README.md lists the rules.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np

from n1studio.errors import CaseDataError, CaseError
from n1studio.grid.mfile import Assignment, read_assignments

log = logging.getLogger(__name__)

_REQUIRED = {"bus": 13, "gen": 10, "branch": 13}

# MATPOWER's column names (caseformat.m), 0-based positions here, 1-based in messages.
COLUMNS = {
    "bus": ("BUS_I", "BUS_TYPE", "PD", "QD", "GS", "BS", "BUS_AREA", "VM", "VA", "BASE_KV",
            "ZONE", "VMAX", "VMIN", "LAM_P", "LAM_Q", "MU_VMAX", "MU_VMIN"),
    "gen": ("GEN_BUS", "PG", "QG", "QMAX", "QMIN", "VG", "MBASE", "GEN_STATUS", "PMAX", "PMIN",
            "PC1", "PC2", "QC1MIN", "QC1MAX", "QC2MIN", "QC2MAX", "RAMP_AGC", "RAMP_10",
            "RAMP_30", "RAMP_Q", "APF", "MU_PMAX", "MU_PMIN", "MU_QMAX", "MU_QMIN"),
    "branch": ("F_BUS", "T_BUS", "BR_R", "BR_X", "BR_B", "RATE_A", "RATE_B", "RATE_C", "TAP",
               "SHIFT", "BR_STATUS", "ANGMIN", "ANGMAX", "PF", "QF", "PT", "QT", "MU_SF",
               "MU_ST", "MU_ANGMIN", "MU_ANGMAX"),
    "gencost": ("MODEL", "STARTUP", "SHUTDOWN", "NCOST"),
}
# Where an infinite value means "no limit" (MATPOWER's convention): +Inf at the upper
# bounds, -Inf at the lower ones. Any other Inf is refused.
_INF_OK = {
    ("gen", 3): 1, ("gen", 4): -1, ("gen", 8): 1, ("gen", 9): -1,
    ("branch", 5): 1, ("branch", 6): 1, ("branch", 7): 1,
    ("branch", 11): -1, ("branch", 12): 1,
}
# The largest bus number taken (MATPOWER uses them as array indices; 1e20 is a typo).
_MAX_BUS_ID = 2**31 - 1
# No power-system quantity (MW, MVAr, kV, $/h, per unit) comes near this: a larger finite
# value is a typo or an attack, and squared or multiplied in the OPF it overflows to Inf and
# NaN inside the solver. "No limit" is written Inf where MATPOWER allows it.
_MAX_MAGNITUDE = 1e12
# Below this, |r + jx| (per unit) is a zero impedance whose admittance overflows.
_MIN_IMPEDANCE = 1e-12
_MIN_TAP = 1e-6  # a tap ratio below it overflows 1/tap^2 the same way
_MIN_KV = 1e-3  # base voltages (kV) below it overflow pandapower's impedance conversion


def _col_name(table: str, c: int) -> str:
    names = COLUMNS.get(table, ())
    if c < len(names):
        return f"column {c + 1} ({names[c]})"
    if table == "gencost":
        return f"column {c + 1} (COST)"
    return f"column {c + 1}"


class _Table:
    """A parsed matrix with the file line of each row, for messages."""

    def __init__(self, name: str, data: np.ndarray, lines: list[int], path: Path):
        self.name, self.data, self.lines, self.path = name, data, lines, path

    def where(self, row: int, col: int | None = None) -> str:
        text = f"{self.path.name}: mpc.{self.name} row {row + 1} (line {self.lines[row]})"
        return text if col is None else f"{text}, {_col_name(self.name, col)}"

    def fail(self, row: int, col: int | None, what: str) -> CaseDataError:
        return CaseDataError(f"{self.where(row, col)}: {what}")


def read_matpower(path: str | Path) -> dict:
    """Parse and check a MATPOWER file; a PYPOWER-style dict (`baseMVA`, `bus`, `gen`, ...)."""
    path = Path(path)
    if path.is_dir():
        raise CaseError(f"{path} is a directory, not a MATPOWER .m case file")
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise CaseError(f"no such file: {path}") from exc
    except OSError as exc:
        raise CaseError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return parse_matpower(decode(raw, path.name), path)


def decode(raw: bytes, name: str) -> str:
    """The text of a case file: UTF-8 (a byte-order mark allowed) or ASCII; UTF-16/32 and
    binary files are refused as what they are. Bytes that are not UTF-8 survive as escapes:
    harmless in comments and strings, refused elsewhere by the tokenizer."""
    if not raw.strip():
        raise CaseError(f"{name}: the file is empty")
    for bom, what in ((b"\xff\xfe\x00\x00", "UTF-32 (little-endian)"),
                      (b"\x00\x00\xfe\xff", "UTF-32 (big-endian)"),
                      (b"\xff\xfe", "UTF-16 (little-endian)"),
                      (b"\xfe\xff", "UTF-16 (big-endian)")):
        if raw.startswith(bom):
            raise CaseError(f"{name}: the file is {what} text; N-1 Studio reads MATPOWER files "
                            "as UTF-8 or ASCII: save it as UTF-8")
    head = raw[:4096]
    if b"\x00" in head:
        half = max(len(head) // 2, 1)
        for zeros, what in ((head[1::2], "little"), (head[0::2], "big")):
            if zeros.count(0) > 0.9 * half:
                raise CaseError(f"{name}: the file is UTF-16 ({what}-endian) text without a "
                                "byte-order mark; N-1 Studio reads MATPOWER files as UTF-8 or "
                                "ASCII: save it as UTF-8")
        raise CaseError(f"{name}: the file holds NUL bytes: a binary file, not a MATPOWER "
                        "text file")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    return raw.decode("utf-8", errors="surrogateescape")


def parse_matpower(text: str, path: Path) -> dict:
    """The checked PYPOWER-style dict of a case file's text (see the module docstring)."""
    assigned = read_assignments(text, path.name)
    if not assigned:
        raise CaseError(f"{path.name}: not a MATPOWER case (no 'mpc' structure found)"
                        f"{_cut_hint(text)}")
    version = assigned.get("version")
    if version is not None and str(version.value).strip() not in ("2", "2.0"):
        raise CaseDataError(f"{path.name}: mpc.version is {version.value!r}; N-1 Studio reads "
                            "MATPOWER's version 2 case format")
    ppc: dict = {"version": "2", "baseMVA": _base_mva(assigned.get("baseMVA"), path, text)}
    tables: dict[str, _Table] = {}
    for name, a in assigned.items():
        if a.kind == "matrix" and name not in ("version", "baseMVA"):
            tables[name] = _table(a, path)
            ppc[name] = tables[name].data
    hint = _cut_hint(text, assigned)
    for name, width in _REQUIRED.items():
        if name not in ppc or ppc[name].size == 0:
            raise CaseDataError(f"{path.name}: mpc.{name} is missing or empty{hint}")
        if ppc[name].shape[1] < width:
            raise CaseDataError(f"{path.name}: mpc.{name} has {ppc[name].shape[1]} columns, "
                                f"expected at least {width}")
    lines = re.split(r"\r\n|\n|\r", text)  # as the tokenizer counts lines (not \f, \x85)
    for name in (*_REQUIRED, "gencost"):
        if name in assigned:
            cross_check(assigned[name], lines, path.name)
    check_tables(tables, path, hint)
    return ppc


def _cut_hint(text: str, assigned: dict[str, Assignment] | None = None) -> str:
    """Why a table may be missing: a file cut short. Said when the file ends without a
    final newline, or when it stops after some of the case's tables (a whole case states
    bus, gen, branch and gencost; a download cut between two tables leaves the first ones)."""
    end = text.count("\n") + (0 if text.endswith(("\n", "\r")) else 1)
    if not text.endswith(("\n", "\r")):
        return f" (the file ends at line {end} without a final newline: it looks truncated)"
    if assigned:
        have = [t for t in (*_REQUIRED, "gencost") if t in assigned]
        if have and len(have) < len(_REQUIRED) + 1:
            last = max((assigned[t] for t in have), key=lambda a: a.end_line)
            return (f" (the file ends at line {end}, after mpc.{last.field}: is it "
                    "truncated?)")
    return ""


def _base_mva(a: Assignment | None, path: Path, text: str) -> float:
    if a is None:
        raise CaseDataError(f"{path.name}: mpc.baseMVA is missing{_cut_hint(text)}")
    if a.kind != "number":
        raise CaseDataError(f"{path.name}: mpc.baseMVA (line {a.line}) is not a number")
    base = float(a.value)  # type: ignore[arg-type]
    if not (np.isfinite(base) and 0 < base <= _MAX_MAGNITUDE):
        raise CaseDataError(f"{path.name}: mpc.baseMVA is {base:g}; it must be a positive "
                            "number of MVA (usually 100)")
    return base


def _table(a: Assignment, path: Path) -> _Table:
    rows = a.value
    if not rows:
        return _Table(a.field, np.zeros((0, 0)), [], path)
    width = len(rows[0])  # type: ignore[index]
    for k, r in enumerate(rows):  # type: ignore[arg-type]
        if len(r) != width:
            raise CaseDataError(f"{path.name}: mpc.{a.field} row {k + 1} (line "
                                f"{a.row_lines[k]}) has {len(r)} numbers, row 1 has {width}")
    return _Table(a.field, np.array(rows, dtype=float), a.row_lines, path)


# A line that starts with a number (after blanks): what a row of a table looks like in the
# file, seen without the tokenizer.
_DATA_LINE = re.compile(r"[ \t]*[-+]?(?:\d|\.\d|Inf\b|inf\b|NaN\b|nan\b)")


def cross_check(a: Assignment, lines: list[str], name: str) -> None:
    """The rows read against the file's own line structure, looked at without the tokenizer:
    every line between the table's first and last line that starts with a number must have
    given the table values. A table the reader ended early, or rows it skipped (a block
    comment, a string left open), disagree here and are refused in one line."""
    if a.kind != "matrix" or a.end_line - a.line < 2:
        return
    taken = set(a.value_lines)
    looks = [n for n in range(a.line + 1, a.end_line) if _DATA_LINE.match(lines[n - 1])]
    missed = [n for n in looks if n not in taken]
    if missed:
        more = f" and {len(missed) - 1} more" if len(missed) > 1 else ""
        raise CaseDataError(f"{name}: mpc.{a.field} (lines {a.line}-{a.end_line}) has "
                            f"{len(looks)} lines that start with a number, but {len(rows_of(a))} "
                            f"rows were read: line {missed[0]}{more} looks like a row and is not "
                            "read (inside a block comment?)")


def rows_of(a: Assignment) -> list:
    return a.value if isinstance(a.value, list) else []


def check_tables(tables: dict[str, _Table], path: Path, hint: str = "") -> None:
    """Refuse data MATPOWER would fail on or N-1 Studio would silently misread (`hint`
    ends the message of a missing table: the file looks truncated)."""
    for name in ("bus", "gen", "branch"):
        _check_finite(tables[name])
    bus, gen, branch = tables["bus"], tables["gen"], tables["branch"]
    ids = _check_buses(bus, path)
    for t, cols in ((gen, (0,)), (branch, (0, 1))):
        for c in cols:
            _check_bus_refs(t, c, ids)
    _check_gens(gen)
    _check_branches(branch)
    if "gencost" not in tables or tables["gencost"].data.size == 0:
        raise CaseDataError(f"{path.name}: mpc.gencost is missing or empty: the OPF needs a "
                            f"cost for every generator{hint}")
    _check_finite(tables["gencost"])
    _check_gencost(tables["gencost"], len(gen.data), path)


def _check_finite(t: _Table) -> None:
    """NaN, an Inf where no limit may be missing, and finite values beyond any power-system
    quantity (they overflow to Inf and NaN inside the solver) are refused by row and column."""
    bad = ~np.isfinite(t.data)
    for r, c in zip(*np.nonzero(bad), strict=True):
        v = t.data[r, c]
        if np.isnan(v):
            raise t.fail(r, c, "is NaN; every entry must be a number")
        sign = _INF_OK.get((t.name, int(c)))
        if sign is None or np.sign(v) != sign:
            raise t.fail(r, c, f"is {v:g}; only an upper limit may be Inf (a lower one -Inf)")
    with np.errstate(invalid="ignore"):
        huge = ~bad & (np.abs(t.data) > _MAX_MAGNITUDE)
    if huge.any():
        r, c = (int(i[0]) for i in np.nonzero(huge))
        hint = "; write Inf for no limit" if (t.name, c) in _INF_OK else ""
        raise t.fail(r, c, f"is {t.data[r, c]:g}, beyond any power-system quantity "
                           f"(|value| <= {_MAX_MAGNITUDE:g}){hint}")


def _check_buses(bus: _Table, path: Path) -> np.ndarray:
    d = bus.data
    ids = d[:, 0]
    for r, v in enumerate(ids):
        if v != np.floor(v) or v < 1 or v > _MAX_BUS_ID:
            raise bus.fail(r, 0, f"is {v:g}; bus numbers are whole numbers from 1")
    seen: dict[int, int] = {}
    for r, v in enumerate(ids.astype(np.int64)):
        if int(v) in seen:
            raise bus.fail(r, 0, f"bus {int(v)} is already defined in row {seen[int(v)] + 1}")
        seen[int(v)] = r
    for r, v in enumerate(d[:, 1]):
        if v not in (1, 2, 3, 4):
            raise bus.fail(r, 1, f"is {v:g}; a bus type is 1 (PQ), 2 (PV), 3 (reference) or "
                                 "4 (isolated)")
    if not np.any(d[:, 1] == 3):
        raise CaseDataError(f"{path.name}: mpc.bus has no reference bus (no row with column 2 "
                            "(BUS_TYPE) = 3)")
    for r in range(len(d)):
        vmax, vmin = d[r, 11], d[r, 12]
        if vmin < 0:
            raise bus.fail(r, 12, f"is {vmin:g}; a voltage limit cannot be negative")
        if vmax <= 0:
            raise bus.fail(r, 11, f"is {vmax:g}; the voltage upper limit must be positive")
        if vmax < vmin:
            raise bus.fail(r, None, f"column 12 (VMAX) = {vmax:g} is below column 13 "
                                    f"(VMIN) = {vmin:g}")
        if d[r, 9] < _MIN_KV:
            raise bus.fail(r, 9, f"is {d[r, 9]:g}; N-1 Studio needs each bus's base voltage "
                                 f"in kV, from {_MIN_KV:g} (pandapower converts impedances "
                                 "through it)")
    return ids.astype(np.int64)


def _check_bus_refs(t: _Table, c: int, ids: np.ndarray) -> None:
    known = set(ids.tolist())
    for r, v in enumerate(t.data[:, c]):
        if v != np.floor(v):
            raise t.fail(r, c, f"is {v:g}; bus numbers are whole numbers")
        if int(v) not in known:
            raise t.fail(r, c, f"refers to unknown bus {v:g} (mpc.bus does not define it)")


def _check_gens(gen: _Table) -> None:
    d = gen.data
    for r in range(len(d)):
        if d[r, 8] < d[r, 9]:
            raise gen.fail(r, None, f"column 9 (PMAX) = {d[r, 8]:g} is below column 10 "
                                    f"(PMIN) = {d[r, 9]:g}")
        if d[r, 3] < d[r, 4]:
            raise gen.fail(r, None, f"column 4 (QMAX) = {d[r, 3]:g} is below column 5 "
                                    f"(QMIN) = {d[r, 4]:g}")
        if d[r, 6] < 0:
            raise gen.fail(r, 6, f"is {d[r, 6]:g}; a machine base cannot be negative")
        if d[r, 5] <= 0:
            raise gen.fail(r, 5, f"is {d[r, 5]:g}; a voltage setpoint is positive (per unit)")


def _check_branches(branch: _Table) -> None:
    d = branch.data
    unlimited = []
    for r in range(len(d)):
        if d[r, 0] == d[r, 1]:
            raise branch.fail(r, None, f"connects bus {d[r, 0]:g} to itself (columns 1 and 2, "
                                       "F_BUS and T_BUS, are equal)")
        if d[r, 2] == 0 and d[r, 3] == 0:
            raise branch.fail(r, None, "has zero impedance (columns 3 and 4, BR_R and BR_X, "
                                       "are both 0)")
        z = float(np.hypot(d[r, 2], d[r, 3]))
        if z < _MIN_IMPEDANCE:
            raise branch.fail(r, None, f"has an impedance of {z:g} per unit (columns 3 and 4, "
                                       f"BR_R and BR_X): below {_MIN_IMPEDANCE:g}, its "
                                       "admittance overflows")
        if d[r, 5] < 0:
            raise branch.fail(r, 5, f"is {d[r, 5]:g}; a rating cannot be negative (0 means "
                                    "unlimited)")
        if d[r, 5] == 0:
            unlimited.append(r)
        if d[r, 8] < 0 or 0 < d[r, 8] < _MIN_TAP:
            raise branch.fail(r, 8, f"is {d[r, 8]:g}; a tap ratio is positive, from "
                                    f"{_MIN_TAP:g} (0 means none)")
        if d[r, 11] > d[r, 12]:
            raise branch.fail(r, None, f"column 12 (ANGMIN) = {d[r, 11]:g} is above column 13 "
                                       f"(ANGMAX) = {d[r, 12]:g}")
    if unlimited:
        rows = ", ".join(str(r + 1) for r in unlimited[:8]) + (" ..." if len(unlimited) > 8
                                                               else "")
        log.warning("%s: %d branch(es) have column 6 (RATE_A) = 0 and are unlimited, as in "
                    "MATPOWER: mpc.branch row(s) %s", branch.path.name, len(unlimited), rows)


def _check_gencost(cost: _Table, n_gen: int, path: Path) -> None:
    d = cost.data
    if len(d) < n_gen:
        raise CaseDataError(f"{path.name}: mpc.gencost has {len(d)} rows, fewer than the "
                            f"{n_gen} of mpc.gen: every generator needs a cost row")
    if d.shape[1] < 5:
        raise CaseDataError(f"{path.name}: mpc.gencost has {d.shape[1]} columns, expected at "
                            "least 5 (MODEL, STARTUP, SHUTDOWN, NCOST, COST)")
    for r in range(len(d)):
        model, n = d[r, 0], d[r, 3]
        if model == 1:
            raise cost.fail(r, 0, "is 1 (piecewise linear); N-1 Studio reads polynomial costs "
                                  "(MODEL 2) only")
        if model != 2:
            raise cost.fail(r, 0, f"is {model:g}; a cost model is 2 (polynomial)")
        if n != np.floor(n) or n < 1:
            raise cost.fail(r, 3, f"is {n:g}; the number of coefficients is a whole number "
                                  "from 1")
        if 4 + n > d.shape[1]:
            raise cost.fail(r, 3, f"is {n:g} but the row has only {d.shape[1] - 4} "
                                  "coefficient column(s)")
        if n > 3 and np.any(d[r, 4:4 + int(n) - 3] != 0):
            raise cost.fail(r, 4, "is a cubic or higher coefficient; N-1 Studio's costs are "
                                  "quadratic at most")
