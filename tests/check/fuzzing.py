"""Seeded mutations of a real answer: what a broken model, a broken pipe or an attacker sends.

`mutate(rng, doc)` returns `(kind, answer)`: the answer is a dict, a str or bytes, built
from `doc` (a reference answer, `solve --json` output) by one mutation of the kinds that
broke the checker (issue 10): integers beyond float range, wrong types, deep nesting,
NaN/Infinity, a byte-order mark, duplicate elements, unknown and odd element names,
truncation, random bytes, fences and prose, oversized texts. Used by
tests/check/test_fuzz_answers.py (a few hundred) and bench/bench_fuzz_answers.py (10,000).
"""

from __future__ import annotations

import copy
import json
import random

BIG = "__BIG_NUMBER__"

ODD_NAMES = ["line: 1", "bus:01", "bus:\u0661", "bus: 1", " bus:1", "bus:1 ", "bus:1\n",
             "BUS:1", "bus::1", "bus:", ":1", "", "bus:-1", "bus:1e3", "bus:0x1", "bus:+1",
             "bus:1.0", "bus:99999", "bus:" + "9" * 5000, "bus:" + "1" * 19,
             "gen:" + "7" * 4400, "sgen:7", "line:2", "load:0", "cable:1", "ext_grid:0",
             "gen:0", "bus:\ud800", "bus:\x00", "b\u00fcs:1", "bus:\uff11", "\ufeffbus:1"]
WRONG = [5, True, False, 1e308, -1e308, "x", "1.02", None, {}, [], [[1]], {"a": 1}, 0,
         "NaN", [1.0, 2.0]]
PROSE = ["Sure! Here is the optimal dispatch:\n", "I think it's this {maybe}:\n",
         "The answer is\n\n", "```python\nprint('hi')\n```\n", "{not json} ",
         "Note: c2*P^2 {in $/h}\n"]


def _text(doc) -> str:
    return json.dumps(doc, allow_nan=True)


def _num_paths(doc: dict) -> list[tuple[str, int, str]]:
    return [(key, i, f) for key in ("buses", "generators")
            for i, item in enumerate(doc.get(key) or [])
            for f in item if f != "element"]


def _set_big(rng: random.Random, doc: dict) -> str:
    d = copy.deepcopy(doc)
    key, i, f = rng.choice(_num_paths(d))
    d[key][i][f] = BIG
    digits = rng.choice([310, 400, 1000, 4299, 4301, 5000, 20000])
    number = rng.choice(["", "-"]) + "1" + "0" * (digits - 1)
    return _text(d).replace(json.dumps(BIG), number)


def _wrong_type(rng: random.Random, doc: dict):
    d = copy.deepcopy(doc)
    where = rng.randrange(6)
    value = copy.deepcopy(rng.choice(WRONG))
    if where == 0:
        d[rng.choice(["generators", "buses"])] = value
    elif where == 1:
        key = rng.choice(["generators", "buses"])
        d[key][rng.randrange(len(d[key]))] = value
    elif where == 2:
        key, i, f = rng.choice(_num_paths(d))
        d[key][i][f] = value
    elif where == 3:
        key = rng.choice(["generators", "buses"])
        d[key][rng.randrange(len(d[key]))]["element"] = value
    elif where == 4:
        d[rng.choice(["schema", "objective"])] = value
    else:
        return rng.choice([json.dumps(value), value])
    return d if rng.random() < 0.5 else _text(d)


def _deep(rng: random.Random, doc: dict) -> str:
    depth = rng.choice([50, 500, 990, 1100, 5000, 100_000])
    opener, closer = rng.choice([("[", "]"), ('{"a":', "}")])
    nest = opener * depth + "1" + closer * depth
    d = copy.deepcopy(doc)
    where = rng.randrange(3)
    if where == 0:
        key, i, f = rng.choice(_num_paths(d))
        d[key][i][f] = BIG
        return _text(d).replace(json.dumps(BIG), nest)
    if where == 1:
        d["extra"] = BIG
        return _text(d).replace(json.dumps(BIG), nest)
    return nest


def _nonfinite(rng: random.Random, doc: dict):
    d = copy.deepcopy(doc)
    for _ in range(rng.randint(1, 5)):
        key, i, f = rng.choice(_num_paths(d))
        d[key][i][f] = rng.choice([float("nan"), float("inf"), float("-inf")])
    text = _text(d)  # NaN / Infinity literals, as a sloppy model writes them
    return text.replace("Infinity", "1e400") if rng.random() < 0.3 else text


def _bom(rng: random.Random, doc: dict):
    text = _text(doc)
    if rng.random() < 0.5:
        return b"\xef\xbb\xbf" + text.encode()
    return "\ufeff" + text


def _duplicates(rng: random.Random, doc: dict):
    d = copy.deepcopy(doc)
    key = rng.choice(["buses", "generators"])
    src = d[key][rng.randrange(len(d[key]))]
    copies = rng.choice([1, 2, 10, 1000, 20_000])
    extra = [dict(src) for _ in range(copies)]
    if rng.random() < 0.5:
        for e in extra:
            for f in e:
                if f != "element":
                    e[f] = rng.uniform(-2, 2)
    d[key] += extra
    return d if rng.random() < 0.3 else _text(d)


def _odd_name(rng: random.Random, doc: dict):
    d = copy.deepcopy(doc)
    for _ in range(rng.randint(1, 3)):
        key = rng.choice(["buses", "generators"])
        if rng.random() < 0.5:
            d[key][rng.randrange(len(d[key]))]["element"] = rng.choice(ODD_NAMES)
        else:
            item = dict(d[key][0], element=rng.choice(ODD_NAMES))
            d[key].insert(rng.randrange(len(d[key]) + 1), item)
    return d if rng.random() < 0.5 else _text(d)


def _truncate(rng: random.Random, doc: dict) -> str:
    text = _text(doc)
    return text[:rng.randrange(len(text))]


def _random_bytes(rng: random.Random, doc: dict) -> bytes:
    if rng.random() < 0.5:
        return rng.randbytes(rng.choice([0, 1, 10, 1000, 100_000]))
    data = bytearray(_text(doc).encode())
    for _ in range(rng.choice([1, 5, 50])):
        data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def _fence_prose(rng: random.Random, doc: dict) -> str:
    text = _text(doc)
    style = rng.randrange(6)
    if style == 0:
        return "```json\n" + text + "\n```"
    if style == 1:
        return rng.choice(PROSE) + "```json\n" + text + "\n```\n" + rng.choice(PROSE)
    if style == 2:
        return rng.choice(PROSE) + text + rng.choice(PROSE)
    if style == 3:  # the input that made the fence regex quadratic
        return "```json\n" + text + "\n" + " \n" * rng.choice([10, 50_000]) + "x"
    if style == 4:
        return "```" * rng.choice([2, 3, 1000]) + text
    return "{" * rng.choice([10, 8000]) + text


def _oversized(rng: random.Random, doc: dict):
    text = _text(doc)
    pad = rng.choice([4 * 1024 * 1024, 6 * 1024 * 1024])
    return text + " " * pad if rng.random() < 0.5 else (text + " " * pad).encode()


def _structure(rng: random.Random, doc: dict):
    d = copy.deepcopy(doc)
    what = rng.randrange(5)
    if what == 0:
        d.pop(rng.choice(["schema", "generators", "buses", "objective"]), None)
    elif what == 1:
        key = rng.choice(["buses", "generators"])
        d[key] = d[key][: rng.randrange(len(d[key]))]
    elif what == 2:
        for item in d["buses"]:
            item["vm_pu"], item["va_degree"] = item["va_degree"], item["vm_pu"]
    elif what == 3:
        key, i, f = rng.choice(_num_paths(d))
        del d[key][i][f]
    else:
        key, i, f = rng.choice(_num_paths(d))
        d[key][i][f] = str(d[key][i][f])
    return d if rng.random() < 0.5 else _text(d)


MUTATIONS = {
    "huge_int": _set_big, "wrong_type": _wrong_type, "deep_nesting": _deep,
    "nan_inf": _nonfinite, "bom": _bom, "duplicates": _duplicates, "odd_name": _odd_name,
    "truncation": _truncate, "random_bytes": _random_bytes, "fence_prose": _fence_prose,
    "oversized": _oversized, "structure": _structure,
}
# oversized inputs are cheap to refuse but costly to build: fewer of them
WEIGHTS = {k: (1 if k == "oversized" else 8) for k in MUTATIONS}


def mutate(rng: random.Random, doc: dict) -> tuple[str, object]:
    """One random mutation of `doc`: (its kind, the answer as dict, str or bytes)."""
    kinds = list(MUTATIONS)
    kind = rng.choices(kinds, weights=[WEIGHTS[k] for k in kinds])[0]
    return kind, MUTATIONS[kind](rng, doc)


def describe(answer) -> str:
    """A short, printable description of an answer for reports."""
    if isinstance(answer, dict):
        head = repr(answer)[:80]
        return f"dict {head}"
    size = len(answer)
    head = answer[:80]
    return f"{type(answer).__name__} of {size:,}: {head!r}"
