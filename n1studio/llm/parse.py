"""Reading an answer out of what a model wrote in free mode.

Models wrap JSON in prose, in ``` fences, leave trailing commas, use single quotes or
Python literals, or stop mid-document when the token budget runs out. `extract_answer`
finds the first JSON object that looks like an answer (it has "generators" or "buses",
at the top level or one level down) and returns it as a dict, or None when nothing
readable is there; the checker turns None into a `format` verdict.
"""

from __future__ import annotations

import json
import logging
import re

log = logging.getLogger(__name__)

_FENCE = re.compile(r"```[a-zA-Z0-9_-]*\s*\n?(.*?)(?:```|$)", re.DOTALL)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_PY_LITERALS = ((re.compile(r"\bTrue\b"), "true"), (re.compile(r"\bFalse\b"), "false"),
                (re.compile(r"\bNone\b"), "null"))
_KEYS = ("generators", "buses")


def extract_answer(text: str | None) -> dict | None:
    """The first answer-shaped JSON object in `text`, repaired where that is safe."""
    if not text:
        return None
    sources = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    for src in sources:
        for obj in _objects(src):
            ans = _answer_in(obj)
            if ans is not None:
                return ans
    # a document cut short by the token budget: close it and keep what is complete
    for src in sources:
        start = src.find("{")
        while start >= 0:
            closed = _close_truncated(src[start:])
            if closed is not None:
                obj = _loads(closed)
                ans = _answer_in(obj) if obj is not None else None
                if ans is not None:
                    return ans
            start = src.find("{", start + 1)
    return None


def _answer_in(obj) -> dict | None:
    if not isinstance(obj, dict):
        return None
    if any(k in obj for k in _KEYS):
        return obj
    for v in obj.values():  # {"answer": {...}} and the like
        if isinstance(v, dict) and any(k in v for k in _KEYS):
            return v
    return None


def _objects(text: str):
    """Every balanced {...} span of `text` that parses (after repairs), outermost first."""
    i = text.find("{")
    while i >= 0:
        end = _balanced_end(text, i)
        if end is not None:
            obj = _loads(text[i:end + 1])
            if obj is not None:
                yield obj
                i = text.find("{", end + 1)
                continue
        i = text.find("{", i + 1)


def _balanced_end(text: str, start: int) -> int | None:
    depth, quote, esc = 0, None, False
    for k in range(start, len(text)):
        ch = text[k]
        if quote:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                return k if ch == "}" else None
    return None


def _loads(s: str):
    """json.loads, then with trailing commas, single quotes and Python literals repaired."""
    for candidate in _repairs(s):
        try:
            return json.loads(candidate)
        except (ValueError, RecursionError):
            continue
    return None


def _repairs(s: str):
    yield s
    t = _TRAILING_COMMA.sub(r"\1", s)
    yield t
    if "'" in t:
        yield _single_to_double(t)
    u = t
    for pat, rep in _PY_LITERALS:
        u = pat.sub(rep, u)
    if u != t:
        yield u
        if "'" in u:
            yield _single_to_double(u)


def _single_to_double(s: str) -> str:
    """Swap quote styles outside of double-quoted strings ({'a': 1} -> {"a": 1})."""
    out, quote = [], None
    for ch in s:
        if quote is None and ch in "\"'":
            quote = ch
            out.append('"')
        elif ch == quote:
            quote = None
            out.append('"')
        elif quote == "'" and ch == '"':
            out.append('\\"')
        else:
            out.append(ch)
    return "".join(out)


def _close_truncated(s: str) -> str | None:
    """Cut an unfinished JSON document after its last complete value and close it."""
    stack, quote, esc = [], None, False
    last_ok = None  # (position after a complete value, stack at that point)
    for k, ch in enumerate(s):
        if quote:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == quote:
                quote = None
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]":
            if not stack:
                return None
            stack.pop()
            if not stack:
                return None  # balanced after all: not truncated
            last_ok = (k + 1, list(stack))
    if last_ok is None:
        return None
    pos, st = last_ok
    return s[:pos].rstrip().rstrip(",") + "".join(reversed(st))
