"""Element names `<table>:<index>` (SPEC.md): parsing, validation and listing."""

from __future__ import annotations

import re
from typing import NamedTuple

import pandapower as pp

from n1studio.errors import ElementError

# Tables an element name may refer to; the order is the drawing/listing order.
TABLES = ("bus", "line", "trafo", "trafo3w", "impedance", "gen", "sgen", "ext_grid", "load",
          "shunt", "storage")
OUTAGE_TABLES = ("bus", "line", "trafo", "trafo3w", "impedance", "gen", "sgen", "ext_grid", "load")
BRANCH_TABLES = ("line", "trafo", "impedance")
GEN_TABLES = ("ext_grid", "gen", "sgen")

# Strict: ASCII only, no spaces, no sign, no leading zeros ("line:01", "line: 1" and
# "line:\u0661" are not line:1), and at most 18 digits (pandapower indices are int64).
_NAME = re.compile(r"([a-z_0-9]+):(0|[1-9][0-9]{0,17})")
_MAX_NAME = 64


class Element(NamedTuple):
    table: str
    index: int

    def __str__(self) -> str:
        return f"{self.table}:{self.index}"


def parse_element(name: str) -> Element:
    """Parse `line:7` into Element('line', 7); malformed names raise ElementError."""
    text = str(name)
    m = _NAME.fullmatch(text) if len(text) <= _MAX_NAME else None
    if not m:
        shown = repr(text) if len(text) <= _MAX_NAME else \
            f"{text[:40]!r}... ({len(text)} characters)"
        raise ElementError(f"malformed element name {shown}: expected <table>:<index> "
                           "(ASCII digits, no spaces or leading zeros), e.g. line:3")
    table, index = m.group(1), int(m.group(2))
    if table not in TABLES:
        raise ElementError(f"unknown element table {table!r} in {name!r}: "
                           f"one of {', '.join(TABLES)}")
    return Element(table, index)


def resolve(net: pp.pandapowerNet, name: str | Element, outage: bool = False) -> Element:
    """Parse and check that the element exists in `net`."""
    el = name if isinstance(name, Element) else parse_element(name)
    if outage and el.table not in OUTAGE_TABLES:
        raise ElementError(f"{el}: elements of table {el.table!r} cannot be taken out of service")
    if el.table not in net or el.index not in net[el.table].index:
        size = len(net[el.table]) if el.table in net else 0
        raise ElementError(f"{el}: no such element (the grid has {size} {el.table} element(s))")
    return el


def elements_of(net: pp.pandapowerNet, table: str, in_service_only: bool = False) -> list[str]:
    if table not in net or len(net[table]) == 0:
        return []
    df = net[table]
    if in_service_only and "in_service" in df:
        df = df[df.in_service.astype(bool)]
    return [f"{table}:{i}" for i in df.index]


def sort_key(name: str) -> tuple[str, int]:
    """Order element names by table, then by index as a number (line:2 before line:10);
    a name that does not parse sorts as index 0 of the table before its colon."""
    try:
        el = parse_element(name)
    except ElementError:
        return (str(name).partition(":")[0], 0)
    return (el.table, el.index)
