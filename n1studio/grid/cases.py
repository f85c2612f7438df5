"""Open grids: pandapower's built-in cases, PGLib-OPF files bundled in resources/, pandapower
JSON files, MATPOWER `.m` files (grid/matpower.py) and OPFData examples (grid/opfdata.py).
Every loader returns a `pandapowerNet` with OPF limits, checked by grid/validate.py; a
MATPOWER case becomes a net through grid/ppcnet.py.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
from pathlib import Path

import pandapower as pp
import pandapower.networks as pn

from n1studio.errors import CaseError

# the names are listed in grid/catalog.py, which `n1studio cases` reads without pandapower
from n1studio.grid.catalog import PANDAPOWER_CASES, builtin_cases, pglib_cases  # noqa: F401
from n1studio.grid.matpower import read_matpower
from n1studio.grid.opfdata import example_net, looks_like_opfdata, read_example
from n1studio.grid.ppcnet import net_from_ppc
from n1studio.grid.quiet import quiet_pandapower
from n1studio.grid.validate import validate_net

log = logging.getLogger(__name__)


def load_matpower(path: str | Path) -> pp.pandapowerNet:
    path = Path(path)
    net = net_from_ppc(read_matpower(path), path.stem)
    validate_net(net, path.name)
    return net


def _json_problem(path: Path) -> str:
    """What is wrong with a .json file that cannot be a pandapower network, in words ("" when
    it looks like one): read first, so the user never sees a decoder's exception."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if not data.strip():
        return "is empty"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return (f"is not a text file in UTF-8 (byte 0x{data[exc.start]:02x} at position "
                f"{exc.start}): not a pandapower JSON file")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        cut = " (the file may be cut short)" if exc.pos >= len(text.rstrip()) else ""
        return (f"is not valid JSON: {exc.msg.lower()} at line {exc.lineno}, column "
                f"{exc.colno}{cut}")
    if not isinstance(doc, dict):
        kind = {list: "a list", str: "a string", int: "a number", float: "a number",
                bool: "true or false"}.get(type(doc), "null")
        return (f"holds {kind}, not a pandapower network (a JSON object written by "
                "pandapower.to_json)")
    if "_module" not in doc and "bus" not in doc:
        keys = ", ".join(list(doc)[:5]) or "none"
        return f"is JSON but not a pandapower network: it has no bus table (its keys: {keys})"
    return ""


def load_json(path: str | Path) -> pp.pandapowerNet:
    path = Path(path)
    if not path.is_file():
        raise CaseError(f"no such file: {path}")
    problem = _json_problem(path)
    if problem:
        raise CaseError(f"{path.name}: {problem}")
    try:
        with quiet_pandapower():
            net = pp.from_json(str(path))
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise CaseError(f"{path.name}: pandapower cannot read this network: {first}") from exc
    if not isinstance(net, pp.pandapowerNet) or "bus" not in net:
        raise CaseError(f"{path.name}: JSON does not describe a pandapower network")
    validate_net(net, path.name)
    if not net.name:
        net.name = path.stem
    return net


@functools.lru_cache(maxsize=8)
def _cached_builtin(name: str) -> pp.pandapowerNet:
    if name in PANDAPOWER_CASES:
        with quiet_pandapower():
            net = getattr(pn, name)()
        net.name = name
        return net
    return load_matpower(pglib_cases()[name])


def load_case(spec: str | Path) -> pp.pandapowerNet:
    """Open a case by built-in name or path (.json, .m). Returns a fresh copy the caller owns."""
    text = str(spec)
    if text in PANDAPOWER_CASES or text in pglib_cases():
        return copy.deepcopy(_cached_builtin(text))
    path = Path(text).expanduser()
    suffix = path.suffix.lower()
    if path.is_dir():
        raise CaseError(f"{path} is a directory, not a case file (give a .m or .json file)")
    if suffix in (".m", ".json"):
        if not path.is_file():
            raise CaseError(f"no such file: {path}")
        if suffix == ".json" and looks_like_opfdata(path):  # an OPFData example (its keys)
            return example_net(read_example(path), path.stem)
        net = load_matpower(path) if suffix == ".m" else load_json(path)
        return net
    if path.exists():
        raise CaseError(f"{path.name}: unsupported case format (expected .json or .m)")
    known = ", ".join(PANDAPOWER_CASES[:6])
    raise CaseError(f"unknown case {text!r}: not a built-in name (e.g. {known}; "
                    "see `n1studio cases`) nor an existing .json or .m file")


def case_label(net: pp.pandapowerNet) -> str:
    return str(net.name) if getattr(net, "name", None) else "grid"
