"""Read an answer (dict, JSON text or nothing) into per-bus / per-generator arrays.

The one answer reader: the checker judges what it reads (`check.verdict`), the nearest
feasible point (`solve.nearest.answer_arrays`) starts from it; both sit above this module.

Never raises on bad input: every problem becomes a `format` (or `removed_element`) issue
and the value concerned is left as NaN ("missing"), so the evaluation can still judge
everything that does not depend on it.

Rules:
- the document must be a JSON object with `"schema": "n1studio.answer/1"`, a non-empty
  `buses` list and a `generators` list; numbers must be finite JSON numbers (not strings,
  not booleans, not NaN/Infinity);
- names are `<table>:<index>`; `buses` holds `bus:` names, `generators` holds `ext_grid:`,
  `gen:` or `sgen:` names of dispatchable units of the grid;
- required: every energised named bus and every in-service generator of the variant
  (`GridModel.energised()`, `GridModel.gen_on`) -- exactly what the reference solver emits;
- a name that exists in the grid but is not part of the variant's operating point (out of
  service, on a bus out of service, or cut off from every generator) is `removed_element`;
- a name the grid does not have, a duplicate, a missing required element, a missing or
  non-finite number (NaN, Infinity, an integer beyond float range) is `format`; the first
  entry of a duplicate is the one used, and a duplicated element is one record ("listed
  N times") however many copies there are;
- names are strict: ASCII digits, no spaces, no leading zeros (`bus:01`, `bus: 1` and
  `bus:` + an Arabic-Indic digit are malformed, not bus:1);
- bounded work: a text over MAX_ANSWER_BYTES (4 MiB; a case9241pegase answer is about
  1.3 MB) or a list over MAX_ENTRIES entries is one `format` record saying its size, unread;
  at most MAX_ENTRY_ISSUES distinct entry problems per list are listed, the rest counted
  in one record; a UTF-8 byte-order mark and one ``` fence around the text are skipped.
- A generator's optional `vm_pu` is not checked against limits (the bus's `vm_pu` is); a
  disagreement with its bus is reported as a warning only.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np

from n1studio.errors import ElementError
from n1studio.grid.answer_text import a_type, issue, load_document, short
from n1studio.grid.elements import GEN_TABLES, parse_element
from n1studio.schema import ANSWER

# More entries in `buses` or `generators` than this (case9241pegase has 9,241 buses) is a
# `format` verdict: the list is not read.
MAX_ENTRIES = 100_000
# Entry-level problems listed per list; beyond this they are counted in one more record.
MAX_ENTRY_ISSUES = 100


@dataclass
class ParsedAnswer:
    """What could be read from an answer; NaN marks a value that is missing or invalid."""

    usable: bool
    vm: np.ndarray  # per model bus, pu
    va_deg: np.ndarray  # per model bus, degrees
    p_mw: np.ndarray  # per model generator
    q_mvar: np.ndarray
    gen_vm: np.ndarray
    claimed_objective: float | None = None
    issues: list[dict] = field(default_factory=list)  # format / removed_element violations
    warnings: list[str] = field(default_factory=list)
    document: dict | None = None


def name_lookups(model, required_bus: np.ndarray,
                 required_gen: np.ndarray) -> tuple[dict[str, int], dict[str, int]]:
    """Exact name -> model row of the required buses and generators (the parser's fast path)."""
    buses = {model.bus_names[k]: int(k) for k in np.flatnonzero(required_bus)}
    gens = {model.gen_names[k]: int(k) for k in np.flatnonzero(required_gen)}
    return buses, gens


def parse_answer(model, answer, required_bus: np.ndarray, required_gen: np.ndarray,
                 gen_vm_tol: float = 1e-3, lookups=None) -> ParsedAnswer:
    """Read `answer` against `model`; `required_*` are the masks of what must be present."""
    bus_lookup, gen_lookup = lookups or name_lookups(model, required_bus, required_gen)
    nb, ng = model.n_bus, len(model.gen_names)
    nan = np.full
    out = ParsedAnswer(usable=False, vm=nan(nb, np.nan), va_deg=nan(nb, np.nan),
                       p_mw=nan(ng, np.nan), q_mvar=nan(ng, np.nan), gen_vm=nan(ng, np.nan))
    doc, problems = load_document(answer)
    out.issues += problems
    if doc is None:
        return out
    out.document = doc
    schema = doc.get("schema")
    if schema != ANSWER:
        what = "no schema id" if schema is None else f"schema is {short(schema)}"
        out.issues.append(issue("format", "answer", f"{what}, expected {ANSWER!r}"))
    if "objective" in doc and doc["objective"] is not None:
        obj, why = read_number(doc["objective"])
        if obj is None:
            out.issues.append(issue("format", "answer", f"objective: {why}"))
        else:
            out.claimed_objective = obj

    buses = doc.get("buses")
    buses_read = False
    if not isinstance(buses, list) or not buses:
        what = "missing" if buses is None else ("empty" if buses == [] else
                                                f"{a_type(buses)}, not a list")
        out.issues.append(issue("format", "answer", f"buses: {what}"))
    elif len(buses) > MAX_ENTRIES:
        out.issues.append(_too_many("buses", len(buses)))
    else:
        buses_read = True
        seen = _read_list(model, buses, "buses", out, required_bus, bus_lookup)
        for k in np.flatnonzero(required_bus):
            if k not in seen:
                out.issues.append(issue("format", model.bus_names[k], "missing from the answer"))

    gens = doc.get("generators")
    if not isinstance(gens, list):
        what = "missing" if gens is None else f"{a_type(gens)}, not a list"
        out.issues.append(issue("format", "answer", f"generators: {what}"))
    elif len(gens) > MAX_ENTRIES:
        out.issues.append(_too_many("generators", len(gens)))
    else:
        seen = _read_list(model, gens, "generators", out, required_gen, gen_lookup)
        for k in np.flatnonzero(required_gen):
            if k not in seen:
                out.issues.append(issue("format", model.gen_names[k], "missing from the answer"))
        _compare_gen_vm(model, out, gen_vm_tol)

    out.usable = bool(np.isfinite(out.vm[required_bus]).any()) if required_bus.any() else True
    if not out.usable and buses_read:
        out.issues.append(issue("format", "answer", "no usable bus voltage in the answer"))
    return out


_NUM = (float, int)


def _too_many(key: str, n: int) -> dict:
    return issue("format", "answer", f"{key}: {n:,} entries, more than the {MAX_ENTRIES:,} "
                                     "an answer may hold (not read)")


class _EntryIssues:
    """The problems of one list's entries, one record per distinct problem.

    A problem repeated over many entries (50,000 copies of bus:3, or of an unknown name)
    is one record that says how many; beyond MAX_ENTRY_ISSUES distinct records the rest
    are counted in one last record, so the verdict's size is bounded whatever the answer.
    """

    def __init__(self, key: str):
        self.key = key
        self.records: dict[tuple, list] = {}  # group -> [issue, count]
        self.dropped = 0

    def add(self, kind: str, element: str, message: str, group: tuple | None = None) -> None:
        group = group or (kind, element, message)
        rec = self.records.get(group)
        if rec is not None:
            rec[1] += 1
        elif len(self.records) < MAX_ENTRY_ISSUES:
            self.records[group] = [issue(kind, element, message), 1]
        else:
            self.dropped += 1

    def flush(self, out: ParsedAnswer) -> None:
        for group, (rec, n) in self.records.items():
            if group[0] == "duplicate":
                if n > 1:
                    rec["message"] = f"listed {n + 1} times (the first is used)"
            elif n > 1:
                rec["message"] += f" (and {n - 1:,} more like it)"
            out.issues.append(rec)
        if self.dropped:
            out.issues.append(issue("format", "answer", f"{self.key}: {self.dropped:,} more "
                                                        "entries with problems (not listed)"))


def _read_list(model, items: list, key: str, out: ParsedAnswer, required: np.ndarray,
               lookup: dict[str, int]) -> set[int]:
    is_bus = key == "buses"
    fields = ("vm_pu", "va_degree") if is_bus else ("p_mw", "q_mvar")
    f0, f1 = fields
    seen: set[int] = set()
    rows: list[int] = []
    col0: list[float] = []
    col1: list[float] = []
    slow: list[int] = []
    gvm: list[float] = []
    gvm_given: list[bool] = []
    slow_names: set = set()
    problems = _EntryIssues(key)
    # fast path: well-formed entries under their exact names (almost all of a real answer)
    for pos, item in enumerate(items):
        if type(item) is dict:
            raw = item.get("element")
            k = lookup.get(raw) if type(raw) is str else None
            if k is not None and k in seen:  # a copy of an entry already read
                problems.add("format", raw, "listed more than once (the first is used)",
                             ("duplicate", raw))
                continue
            if k is not None and raw not in slow_names:
                a, b = item.get(f0), item.get(f1)
                g = None if is_bus else item.get("vm_pu")
                if type(a) in _NUM and type(b) in _NUM and (g is None or type(g) in _NUM):
                    seen.add(k)
                    rows.append(k)
                    col0.append(a)
                    col1.append(b)
                    gvm.append(np.nan if g is None else g)
                    gvm_given.append(g is not None)
                    continue
            if type(raw) is str:
                slow_names.add(raw)
        slow.append(pos)
    try:
        v0 = np.array(col0, dtype=float)
        v1 = np.array(col1, dtype=float)
        g = np.array(gvm, dtype=float)
    except OverflowError:  # an integer beyond float range: let the careful path name it
        seen.clear()
        rows, slow = [], list(range(len(items)))
        problems = _EntryIssues(key)
    if rows:
        idx = np.array(rows, dtype=int)
        for j in np.flatnonzero(~(np.isfinite(v0) & np.isfinite(v1))):
            for f, v in ((f0, v0), (f1, v1)):
                if not np.isfinite(v[j]):
                    out.issues.append(issue("format", _name(model, is_bus, idx[j]),
                                            f"{f}: not a finite number ({v[j]})"))
        a_arr, b_arr = (out.vm, out.va_deg) if is_bus else (out.p_mw, out.q_mvar)
        a_arr[idx] = np.where(np.isfinite(v0), v0, np.nan)
        b_arr[idx] = np.where(np.isfinite(v1), v1, np.nan)
        if not is_bus:
            for j in np.flatnonzero(~np.isfinite(g) & np.array(gvm_given, dtype=bool)):
                out.issues.append(issue("format", model.gen_names[idx[j]],
                                        f"vm_pu: not a finite number ({g[j]})"))
            out.gen_vm[idx] = np.where(np.isfinite(g), g, np.nan)
    for pos in slow:
        _read_item(model, items[pos], pos, key, is_bus, fields, out, required, seen, problems,
                   lookup)
    problems.flush(out)
    return seen


def _name(model, is_bus: bool, k: int) -> str:
    return model.bus_names[k] if is_bus else model.gen_names[k]


def _read_item(model, item, pos: int, key: str, is_bus: bool, fields, out: ParsedAnswer,
               required: np.ndarray, seen: set[int], problems: _EntryIssues,
               lookup: dict[str, int]) -> None:
    """The careful path for one entry: every problem named."""
    if not isinstance(item, dict):
        what = a_type(item)
        problems.add("format", "answer", f"{key}[{pos}] is {what}, not an object",
                     ("format", "not an object", what))
        return
    raw = item.get("element")
    if not isinstance(raw, str):
        problems.add("format", "answer", f"{key}[{pos}] has no element name",
                     ("format", "no element name"))
        return
    k = lookup.get(raw)
    if k is not None and k in seen:  # a copy of a required element: the common duplicate
        problems.add("format", raw, "listed more than once (the first is used)",
                     ("duplicate", raw))
        return
    try:
        el = parse_element(raw)
    except ElementError:
        problems.add("format", short(raw, 40), "malformed element name")
        return
    name, table = str(el), el.table
    if is_bus and table != "bus":
        problems.add("format", name, "listed under buses but is not a bus")
        return
    if not is_bus and table not in GEN_TABLES:
        problems.add("format", name, "listed under generators but is not a "
                                     "generator (ext_grid, gen or sgen)")
        return
    try:
        kind, rows = model.index(name)
    except KeyError:
        kind, rows = None, []
    if kind != ("bus" if is_bus else "gen") or not rows:
        what = "bus" if is_bus else "dispatchable generator"
        problems.add("format", name, f"not a {what} of this grid")
        return
    k = rows[0]
    if k in seen:
        problems.add("format", name, "listed more than once (the first is used)",
                     ("duplicate", name))
        return
    seen.add(k)
    if not required[k]:
        out.issues.append(issue("removed_element", name, _why_removed(model, name, k, is_bus)))
        return
    vals = []
    for f in fields:
        v, why = read_number(item.get(f), missing=f not in item)
        if v is None:
            out.issues.append(issue("format", name, f"{f}: {why}"))
        vals.append(np.nan if v is None else v)
    if is_bus:
        out.vm[k], out.va_deg[k] = vals
    else:
        out.p_mw[k], out.q_mvar[k] = vals
        if item.get("vm_pu") is not None:
            v, why = read_number(item["vm_pu"])
            if v is None:
                out.issues.append(issue("format", name, f"vm_pu: {why}"))
            else:
                out.gen_vm[k] = v


def _why_removed(model, name: str, k: int, is_bus: bool) -> str:
    if name in model.outages:
        return "out of service in this variant"
    if is_bus:
        if not model.bus_on[k]:
            return "bus out of service"
        return "de-energised: cut off from every generator by the outages"
    b = model.gen_bus[k]
    if not model.bus_on[b]:
        return f"its bus {model.bus_names[b] or b} is out of service"
    return "out of service"


def _compare_gen_vm(model, out: ParsedAnswer, tol: float) -> None:
    ok = np.isfinite(out.gen_vm)
    if not ok.any():
        return
    bus_vm = out.vm[model.gen_bus]
    diff = np.abs(out.gen_vm - bus_vm)
    for k in np.flatnonzero(ok & np.isfinite(bus_vm) & (diff > tol)):
        out.warnings.append(f"{model.gen_names[k]}: vm_pu {out.gen_vm[k]:g} differs from its bus "
                            f"{model.bus_names[model.gen_bus[k]]} ({bus_vm[k]:g}); the bus value "
                            "is the one checked")


def read_number(x, missing: bool = False) -> tuple[float | None, str]:
    if missing:
        return None, "missing"
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
        return None, f"not a number ({short(x)})"
    try:
        v = float(x)
    except OverflowError:
        return None, "not a finite number (an integer beyond float range)"
    if not math.isfinite(v):
        return None, f"not a finite number ({v})"
    return v, ""
