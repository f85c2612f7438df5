"""MATLAB's lexical rules for what a MATPOWER case file holds, as tokens (grid/mfile.py
reads the assignments from them).

Comments (`%` and Octave's `#` to the end of a line, `%{ ... %}` blocks) and `...`
continuations are dropped; strings in single or double quotes are one token (a `'` after
a value is a transpose, not a string); a `]` or `;` inside a comment or a string is text.
Inside `[...]` a run of lines that hold numbers only (the bulk of every case file) is read
in one match per line and checked by float(); any other line goes through the tokenizer.
A file that ends inside a string, a block comment or a continuation is refused as
truncated (one `CaseDataError` line).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from n1studio.errors import CaseDataError

_TOKEN = re.compile(r"""
    (?P<ws>[ \t\f\v]*)
    (?:
        (?P<nl>\r\n|\n|\r)
      | (?P<cont>\.\.\.[^\r\n]*)
      | (?P<comment>[%\#][^\r\n]*)
      | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
      | (?P<name>[A-Za-z_]\w*)
      | (?P<quote>['"])
      | (?P<punct>[=\[\]{}();,+\-*/\\^:.&|<>~@!])
      | (?P<eof>\Z)
      | (?P<bad>.)
    )""", re.VERBOSE | re.DOTALL)
# A whole line of a matrix holding numbers only (the bulk of every case file), found by one
# match of the characters numbers are made of and checked by float(): values separated by
# blanks or commas, an optional `;`, an optional comment. A line this does not read (several
# rows, strings, expressions, `1 - 2`) goes through the tokenizer.
_ROW_LINE = re.compile(r"[ \t]*(?P<vals>[0-9eE.+\-, \tIinfNa]*[0-9fnN.])[ \t]*,?[ \t]*;?[ \t]*"
                       r"(?:[%#][^\r\n]*)?(?=[\r\n]|\Z)")
_DOUBLE_COMMA = re.compile(r",[ \t]*,")
_STRING = {"'": re.compile(r"(?:[^'\r\n]|'')*'"), '"': re.compile(r'(?:[^"\r\n\\]|""|\\.)*"')}
_BLOCK_LINE = re.compile(r"[ \t]*%([{}])[ \t]*(?:\r\n|\n|\r|\Z)")
NUMBER_WORDS = {"Inf": float("inf"), "inf": float("inf"), "NaN": float("nan"),
                 "nan": float("nan")}
OPEN = {"[": "]", "{": "}", "(": ")"}
# tokens after which a quote is a transpose (MATLAB's rule), not the start of a string
_VALUE_END = ("num", "name", "str")


@dataclass
class Tok:
    kind: str  # num, name, str, p (punctuation), nl (newline), rows (lines of numbers)
    text: str  # for rows: [(line, [values]), ...]
    line: int
    space: bool  # whitespace (or a comment / continuation) just before it


def tokens(text: str, name: str):
    """Yield the tokens of `text` (comments and continuations removed)."""
    pos, line, n = 0, 1, len(text)
    prev_kind = ""  # kind of the previous value token, for the quote rule
    brackets: list[str] = []  # brackets open, for the quote rule and the fast row path
    at_line_start = True
    space = False
    match = _TOKEN.match
    while True:
        m = match(text, pos)
        kind = m.lastgroup
        space = space or bool(m.group("ws"))
        pos = m.end()
        if kind == "eof":
            return
        if kind == "nl":
            line += 1
            at_line_start = True
            prev_kind = ""
            yield Tok("nl", "\n", line - 1, space)
            space = False
            if brackets == ["["]:
                pos, line, block = _row_lines(text, pos, line)
                if block:
                    yield Tok("rows", block, block[0][0], True)  # type: ignore[arg-type]
            continue
        if kind == "comment":
            if at_line_start and m.group("comment").startswith("%{") and _is_block_start(text, m):
                pos, line = _skip_block(text, m.start("comment"), line, name)
                continue
            space = True
            continue
        if kind == "cont":
            nl = re.compile(r"\r\n|\n|\r").match(text, pos)
            if nl is None:
                raise CaseDataError(f"{name}: the file ends on a continuation '...' at line "
                                    f"{line}: it is truncated")
            pos = nl.end()
            line += 1
            space = True
            continue
        at_line_start = False
        if kind == "bad":
            ch = m.group("bad")
            what = ("a byte that is not UTF-8 text" if "\udc80" <= ch <= "\udcff"
                    else f"the character {ch!r}")
            raise CaseDataError(f"{name}: line {line} holds {what} outside a comment or string")
        if kind == "quote":
            q = m.group("quote")
            if q == "'" and prev_kind in _VALUE_END and not (brackets and space):
                yield Tok("p", "'", line, space)  # a transpose
                space = False
                continue
            s = _STRING[q].match(text, pos)
            if s is None:
                rest = text[pos:]
                if not re.search(r"[\r\n]", rest):
                    raise CaseDataError(f"{name}: the file ends inside a string opened at line "
                                        f"{line}: it is truncated")
                raise CaseDataError(f"{name}: line {line}: a string opened with {q} is not "
                                    "closed on its line")
            pos = s.end()
            body = text[m.end():pos - 1].replace(q + q, q)
            yield Tok("str", body, line, space)
            prev_kind, space = "str", False
            continue
        tok_text = m.group(kind)
        if kind == "num" and pos < n and (text[pos].isalnum() or text[pos] == "_"):
            tail = re.compile(r"\w*").match(text, pos).group()
            raise CaseDataError(f"{name}: line {line}: {tok_text + tail!r} is not a number")
        if kind == "punct":
            if tok_text in OPEN:
                brackets.append(tok_text)
            elif tok_text in ("]", "}", ")") and brackets:
                brackets.pop()
            # a quote after a closing bracket is a transpose, as after a name
            prev_kind = "name" if tok_text in ("]", "}", ")") else "p"
            yield Tok("p", tok_text, line, space)
        else:
            prev_kind = kind
            yield Tok(kind, tok_text, line, space)
        space = False


def _row_lines(text: str, pos: int, line: int) -> tuple[int, int, list]:
    """Consecutive lines that are one row of numbers each, from `pos` (a line start)."""
    block = []
    match = _ROW_LINE.match
    while True:
        r = match(text, pos)
        if r is None:
            break
        vals = _floats(r.group("vals"))
        if vals is None:
            break
        block.append((line, vals))
        pos = r.end()
        if text.startswith("\r\n", pos):
            pos += 2
        elif text.startswith(("\n", "\r"), pos):
            pos += 1
        else:
            break  # the end of the file
        line += 1
    return pos, line, block


def _floats(vals: str) -> list[float] | None:
    """The numbers of a row, or None when MATLAB would read it otherwise (`1 - 2`, `1,,2`)."""
    if "," in vals:
        if _DOUBLE_COMMA.search(vals):
            return None
        vals = vals.replace(",", " ")
    out = []
    for v in vals.split():
        try:
            x = float(v)
        except ValueError:
            return None
        if v[-1] in "fnN" and v.lstrip("+-") not in NUMBER_WORDS:
            return None  # Python reads "iNf" and "nAn"; MATLAB only Inf, inf, NaN, nan
        out.append(x)
    return out


def _is_block_start(text: str, m: re.Match) -> bool:
    b = _BLOCK_LINE.match(text, m.start("comment") - len(m.group("ws")))
    return b is not None and b.group(1) == "{"


def _skip_block(text: str, start: int, line: int, name: str) -> tuple[int, int]:
    """Skip a `%{ ... %}` block (nested blocks too); the position after it and its line."""
    depth, pos, first = 0, start, line
    lines = re.compile(r"[^\r\n]*(?:\r\n|\n|\r|\Z)")
    while pos < len(text):
        m = lines.match(text, pos)
        b = _BLOCK_LINE.fullmatch(m.group())
        if b is not None:
            depth += 1 if b.group(1) == "{" else -1
        pos = m.end()
        if m.group().endswith(("\n", "\r")):
            line += 1
        if depth == 0:
            return pos, line
        if m.end() == m.start():
            break
    raise CaseDataError(f"{name}: the block comment opened at line {first} is never closed "
                        "('%}'): the file is truncated")
