"""Reading an answer out of what a model wrote in free mode.

Models wrap JSON in prose, in ``` fences, leave trailing commas, use single quotes or
Python literals, or stop mid-document when the token budget runs out. `extract_answer`
finds the first JSON object that looks like an answer (it has "generators" or "buses",
at the top level or one level down) and returns it as a dict, or None when nothing
readable is there; the checker turns None into a `format` verdict.

The work is linear in the text: a source that is one JSON document is parsed directly;
otherwise one scan pairs every `{` with its `}` (a stack, not a scan from every `{`;
nesting deeper than MAX_DEPTH is dropped), and the objects that hold "generators" or
"buses" go to the JSON parser outermost first until MAX_ATTEMPTS of them failed or a few
times the text's length was spent on them. Quotes count only inside braces, and a `'`
only where a JSON string could start (after `{ [ , :`), so the apostrophes of prose
("it's") do not swallow the answer that follows.
"""

from __future__ import annotations

import bisect
import json
import logging
import re

from n1studio.grid.answer_text import fence_bodies

log = logging.getLogger(__name__)

_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_PY_LITERALS = ((re.compile(r"\bTrue\b"), "true"), (re.compile(r"\bFalse\b"), "false"),
                (re.compile(r"\bNone\b"), "null"))
_KEYS = ("generators", "buses")
_KEY_WORDS = re.compile("generators|buses")
# Nesting deeper than this is junk to the scan: an answer is 3 deep, and JSON parsers
# refuse about 1,000 anyway.
MAX_DEPTH = 128
_STRUCT = re.compile(r"[{}\[\]\"']")  # what the scan stops at outside strings
_IN_DOUBLE = re.compile(r'[\\"]')
_IN_SINGLE = re.compile(r"[\\']")

# Candidate objects that may fail to parse, per text and phase; the answer is among the
# first few in anything a model writes, and this bounds the work on hostile text.
MAX_ATTEMPTS = 64
# Unclosed objects tried as truncated documents, per source (fence body or whole text).
MAX_TRUNCATED = 8


class _Budget:
    """What may still be spent on parsing attempts: a count and a number of characters."""

    def __init__(self, text_len: int):
        self.attempts = MAX_ATTEMPTS
        self.chars = 4 * text_len + 65536

    def take(self, n: int) -> bool:
        """Spend `n` characters on one attempt, if that is still within the budget."""
        if self.attempts <= 0 or self.chars < n:
            return False
        self.chars -= n
        return True

    def failed(self) -> None:
        """An attempt that parsed nothing: only these count (parsed spans never overlap)."""
        self.attempts -= 1


def extract_answer(text: str | None) -> dict | None:
    """The first answer-shaped JSON object in `text`, repaired where that is safe."""
    if not text:
        return None
    text = text.lstrip("\ufeff")
    sources = fence_bodies(text) + [text]
    for src in sources:  # the common case first: a source that is one JSON document
        body = src.strip()
        if body.startswith("{") and body.endswith("}"):
            try:
                ans = _answer_in(json.loads(body))
            except (ValueError, RecursionError):
                ans = None
            if ans is not None:
                return ans
    budget = _Budget(len(text))
    scans = [_scan(src) for src in sources]
    for src, (pairs, _) in zip(sources, scans, strict=True):
        for obj in _objects(src, pairs, budget):
            ans = _answer_in(obj)
            if ans is not None:
                return ans
    # a document cut short by the token budget: close it and keep what is complete
    budget = _Budget(len(text))
    for src, (_, unclosed) in zip(sources, scans, strict=True):
        for start in unclosed[:MAX_TRUNCATED]:
            closed = _close_truncated(src[start:])
            if closed is None or not budget.take(len(closed)):
                continue
            obj = _loads(closed)
            if obj is None:
                budget.failed()
            ans = _answer_in(obj) if obj is not None else None
            if ans is not None:
                return ans
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


def _quote_may_open(text: str, k: int) -> bool:
    """Whether a `'` at `k` can start a string: the previous non-space is { [ , or :."""
    j = k - 1
    while j >= 0 and text[j] in " \t\r\n":
        j -= 1
    return j >= 0 and text[j] in "{[,:"


def _string_end(text: str, i: int) -> int:
    """The index after the string that opens at `i` (a quote), or len(text) if unclosed."""
    pat = _IN_DOUBLE if text[i] == '"' else _IN_SINGLE
    j = i + 1
    while True:
        m = pat.search(text, j)
        if m is None:
            return len(text)
        if m.group() == "\\":
            j = m.end() + 1
            continue
        return m.end()


def _next(text: str, i: int) -> int:
    """The index of the next bracket or quote at or after `i` (len(text) if none)."""
    if i < len(text) and text[i] in "{}[]\"'":  # dense text: no regex call
        return i
    m = _STRUCT.search(text, i)
    return m.start() if m else len(text)


def _scan(text: str) -> tuple[list[tuple[int, int]], list[int]]:
    """One pass: the (start, end) of every balanced {...} in start order, and the starts
    of the `{` never closed (outermost first). Jumps from bracket to bracket (regex search),
    so plain text and strings cost C time, not a Python step per character. Nesting deeper
    than MAX_DEPTH is dropped as junk (the scan goes on at depth 0)."""
    pairs: list[tuple[int, int]] = []
    stack: list[int] = []
    n = len(text)
    i = text.find("{")
    while 0 <= i < n:
        ch = text[i]
        if ch == '"' or (ch == "'" and _quote_may_open(text, i)):
            i = _next(text, _string_end(text, i))
            continue
        if ch in "{[":
            stack.append(i)
            if len(stack) > MAX_DEPTH:  # junk that cannot parse: drop it, go on at depth 0
                stack.clear()
                i = text.find("{", i + 1)
                continue
        elif ch in "}]":
            start = stack.pop()
            if ch == "}" and text[start] == "{":
                pairs.append((start, i))
            if not stack:  # back in prose: jump to the next object
                i = text.find("{", i + 1)
                continue
        i = _next(text, i + 1)
    pairs.sort()
    return pairs, [k for k in stack if text[k] == "{"]


def _could_be_object(text: str, start: int) -> bool:
    """`{` followed (after white space) by a quote or `}`: anything else is not JSON."""
    j = start + 1
    while j < len(text) and text[j] in " \t\r\n":
        j += 1
    return j < len(text) and text[j] in "\"'}"


def _objects(text: str, pairs: list[tuple[int, int]], budget: _Budget):
    """Every balanced {...} span of `text` that parses (after repairs), outermost first.

    Only spans that hold one of the answer's keys are tried (found by bisection in the
    keys' positions): 50,000 `{}` or `{"a": 1}` cost no parsing at all."""
    keys = [m.start() for m in _KEY_WORDS.finditer(text)]
    after = 0
    for start, end in pairs:
        if start < after or not _could_be_object(text, start):
            continue
        k = bisect.bisect_left(keys, start)
        if k == len(keys) or keys[k] > end:
            continue
        if not budget.take(end + 1 - start):
            return
        obj = _loads(text[start:end + 1])
        if obj is None:
            budget.failed()
        else:
            yield obj
            after = end + 1


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
    stack: list[str] = []
    last_ok = None  # (position after a complete value, depth at that point)
    n = len(s)
    i = 0
    while i < n:
        ch = s[i]
        if ch == '"' or (ch == "'" and _quote_may_open(s, i)):
            i = _next(s, _string_end(s, i))
            continue
        if ch in "{[":
            stack.append("}" if ch == "{" else "]")
            if len(stack) > MAX_DEPTH:
                return None
        elif ch in "}]":
            if not stack:
                return None
            stack.pop()
            if not stack:
                return None  # balanced after all: not truncated
            last_ok = (i + 1, len(stack))
        i = _next(s, i + 1)
    if last_ok is None:
        return None
    pos, depth = last_ok
    return s[:pos].rstrip().rstrip(",") + "".join(reversed(stack[:depth]))
