"""Read MATPOWER `.m` case files (PGLib-OPF format) into a PYPOWER case dict.

A small, strict parser: it reads `mpc.baseMVA` and the numeric matrices
`mpc.bus`, `mpc.gen`, `mpc.branch`, `mpc.gencost` and nothing is evaluated.
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

log = logging.getLogger(__name__)

_MATRIX = re.compile(r"mpc\.(\w+)\s*=\s*\[(.*?)\]\s*;", re.DOTALL)
_SCALAR = re.compile(r"mpc\.baseMVA\s*=\s*([^;\n%]*)")
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


def _parse_matrix(name: str, body: str, first_line: int, path: Path) -> _Table:
    rows: list[list[float]] = []
    lines: list[int] = []
    for offset, raw in enumerate(body.splitlines()):
        line = raw.split("%", 1)[0].strip()
        for chunk in line.split(";"):
            chunk = chunk.strip()
            if not chunk:
                continue
            try:
                rows.append([float(x) for x in chunk.replace(",", " ").split()])
            except ValueError as exc:
                shown = chunk if len(chunk) <= 60 else chunk[:57] + "..."
                raise CaseDataError(f"{path.name}: mpc.{name} row {len(rows) + 1} "
                                    f"(line {first_line + offset}) has a non-numeric entry: "
                                    f"{shown!r}") from exc
            lines.append(first_line + offset)
    if not rows:
        return _Table(name, np.zeros((0, 0)), [], path)
    width = len(rows[0])
    for k, r in enumerate(rows):
        if len(r) != width:
            raise CaseDataError(f"{path.name}: mpc.{name} row {k + 1} (line {lines[k]}) has "
                                f"{len(r)} numbers, row 1 has {width}")
    return _Table(name, np.array(rows, dtype=float), lines, path)


def read_matpower(path: str | Path) -> dict:
    """Parse and check a MATPOWER file; a PYPOWER-style dict (`baseMVA`, `bus`, `gen`, ...)."""
    path = Path(path)
    if path.is_dir():
        raise CaseError(f"{path} is a directory, not a MATPOWER .m case file")
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError as exc:
        raise CaseError(f"no such file: {path}") from exc
    except OSError as exc:
        raise CaseError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if "mpc" not in text:
        raise CaseError(f"{path.name}: not a MATPOWER case (no 'mpc' structure found)")
    ppc: dict = {"version": "2"}
    m = _SCALAR.search(text)
    if not m:
        raise CaseDataError(f"{path.name}: mpc.baseMVA is missing")
    try:
        base = float(m.group(1).strip())
    except ValueError:
        raise CaseDataError(f"{path.name}: mpc.baseMVA is not a number: "
                            f"{m.group(1).strip()[:40]!r}") from None
    if not (np.isfinite(base) and base > 0):
        raise CaseDataError(f"{path.name}: mpc.baseMVA is {base:g}; it must be a positive "
                            "number of MVA (usually 100)")
    ppc["baseMVA"] = base
    tables: dict[str, _Table] = {}
    for mt in _MATRIX.finditer(text):
        name = mt.group(1)
        first_line = text.count("\n", 0, mt.start(2)) + 1
        tables[name] = _parse_matrix(name, mt.group(2), first_line, path)
        ppc[name] = tables[name].data
    for name, width in _REQUIRED.items():
        if name not in ppc or ppc[name].size == 0:
            raise CaseDataError(f"{path.name}: mpc.{name} is missing or empty")
        if ppc[name].shape[1] < width:
            raise CaseDataError(f"{path.name}: mpc.{name} has {ppc[name].shape[1]} columns, "
                                f"expected at least {width}")
    check_tables(tables, path)
    return ppc


def check_tables(tables: dict[str, _Table], path: Path) -> None:
    """Refuse data MATPOWER would fail on or N-1 Studio would silently misread."""
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
                            "cost for every generator")
    _check_finite(tables["gencost"])
    _check_gencost(tables["gencost"], len(gen.data), path)


def _check_finite(t: _Table) -> None:
    bad = ~np.isfinite(t.data)
    if not bad.any():
        return
    for r, c in zip(*np.nonzero(bad)):
        v = t.data[r, c]
        if np.isnan(v):
            raise t.fail(r, c, "is NaN; every entry must be a number")
        sign = _INF_OK.get((t.name, int(c)))
        if sign is None or np.sign(v) != sign:
            raise t.fail(r, c, f"is {v:g}; only an upper limit may be Inf (a lower one -Inf)")


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
        if d[r, 9] <= 0:
            raise bus.fail(r, 9, f"is {d[r, 9]:g}; N-1 Studio needs each bus's base voltage "
                                 "in kV (pandapower converts impedances through it)")
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
        if d[r, 5] < 0:
            raise branch.fail(r, 5, f"is {d[r, 5]:g}; a rating cannot be negative (0 means "
                                    "unlimited)")
        if d[r, 5] == 0:
            unlimited.append(r)
        if d[r, 8] < 0:
            raise branch.fail(r, 8, f"is {d[r, 8]:g}; a tap ratio is positive (0 means none)")
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
