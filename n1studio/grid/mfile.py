"""The assignments of a MATPOWER case file, read the way MATLAB reads them; nothing is run.

The tokens come from grid/mlex.py (MATLAB's lexical rules: comments, strings,
continuations; a `]` or `;` inside a comment or a string is text, never the end of a
table). Statements end at a newline, `;` or `,` outside brackets; inside `[...]` and
`{...}` a newline or `;` ends a row and a space or `,` separates values, as in MATLAB
(`[1 -2]` is two numbers, `[1 - 2]` an expression).

`read_assignments(text, name)` returns every top-level `mpc.FIELD = VALUE` whose value is
a literal (a matrix, a cell array, a number, a string), each with the lines it spans and
the line of each row. What a file computes instead of stating (`mpc.branch(:, 3) = ...`,
an expression, a second assignment to the same field) is refused in one `CaseDataError`
line, because reading it without running it would give another grid than MATLAB's.
A file that ends inside a table, a string or a continuation is refused as truncated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from n1studio.errors import CaseDataError
from n1studio.grid.mlex import NUMBER_WORDS, OPEN, Tok, tokens

_SKIP_WORDS = ("function", "end", "endfunction", "return")


@dataclass
class Assignment:
    """`mpc.FIELD = VALUE` with a literal value."""

    field: str
    kind: str  # matrix, cell, number, string
    value: object  # list of rows (lists of float / str), a float or a str
    line: int  # where the statement starts
    end_line: int  # where its value ends
    row_lines: list[int] = field(default_factory=list)  # the line of each row (matrix, cell)
    value_lines: set[int] = field(default_factory=set)  # every line that holds a value


def read_assignments(text: str, name: str) -> dict[str, Assignment]:
    """Every literal `mpc.FIELD = VALUE` of a case file (see the module docstring)."""
    out: dict[str, Assignment] = {}
    stmt: list[Tok] = []
    stack: list[Tok] = []
    for tok in tokens(text, name):
        if tok.kind == "p" and tok.text in OPEN:
            stack.append(tok)
        elif tok.kind == "p" and tok.text in ("]", "}", ")"):
            if not stack or OPEN[stack[-1].text] != tok.text:
                opened = f" (line {stack[-1].line} opened {stack[-1].text!r})" if stack else ""
                raise CaseDataError(f"{name}: line {tok.line}: {tok.text!r} closes no "
                                    f"bracket{opened}")
            stack.pop()
        if not stack and (tok.kind == "nl" or (tok.kind == "p" and tok.text in ";,")):
            _statement(stmt, out, name)
            stmt = []
            continue
        stmt.append(tok)
    if stack:
        what = _describe(stmt, stack[0])
        raise CaseDataError(f"{name}: the file ends inside {what} (opened at line "
                            f"{stack[0].line}): it is truncated")
    _statement(stmt, out, name)
    return out


def _describe(stmt: list[Tok], opener: Tok) -> str:
    lhs = _target(stmt)
    if lhs and lhs[0] == "mpc" and len(lhs) > 1:
        return f"mpc.{lhs[1]}"
    return f"a {opener.text!r} bracket"


def _target(stmt: list[Tok]) -> list[str]:
    """The dotted name a statement starts with (['mpc', 'bus'] for mpc.bus = ...)."""
    parts: list[str] = []
    k = 0
    while k < len(stmt) and stmt[k].kind == "name":
        parts.append(stmt[k].text)
        if k + 1 < len(stmt) and stmt[k + 1].kind == "p" and stmt[k + 1].text == ".":
            k += 2
            continue
        break
    return parts


def _statement(stmt: list[Tok], out: dict[str, Assignment], name: str) -> None:
    if not stmt:
        return
    first = stmt[0]
    if first.kind == "name" and first.text in _SKIP_WORDS:
        return
    eq = next((k for k, t in enumerate(stmt) if t.kind == "p" and t.text == "="), None)
    if eq is not None and eq + 1 < len(stmt) and stmt[eq + 1].text == "=" \
            and stmt[eq + 1].kind == "p":
        eq = None  # a comparison (==), not an assignment
    if eq is None:
        if first.kind in ("num", "str") or (first.kind == "p" and first.text in "+-.["):
            raise CaseDataError(f"{name}: line {first.line}: values outside any table (is a "
                                "table closed early, or a row left after its end?)")
        return  # a command such as define_constants: it cannot change mpc
    lhs = _target(stmt[:eq])
    if not lhs or lhs[0] != "mpc":
        return  # another variable: it matters only if assigned into mpc, refused below
    if len(lhs) == 1 or eq != 2 * len(lhs) - 1:
        target = "mpc" if len(lhs) == 1 else f"mpc.{lhs[1]}"
        raise CaseDataError(f"{name}: line {first.line} changes {target} with code "
                            f"({_shown(stmt[:eq])} = ...); N-1 Studio reads the tables a case "
                            "file states, it does not run code")
    fld = lhs[1]
    if len(lhs) > 2:
        raise CaseDataError(f"{name}: line {first.line} sets mpc.{'.'.join(lhs[1:])}; "
                            f"N-1 Studio reads mpc.{fld} as a table, not a structure")
    a = _value(fld, stmt[eq + 1:], first.line, name)
    if fld in out:
        raise CaseDataError(f"{name}: mpc.{fld} is assigned twice (lines {out[fld].line} and "
                            f"{first.line}); MATLAB would keep the second: remove the one "
                            "that is not meant")
    out[fld] = a


def _shown(toks: list[Tok]) -> str:
    text = "".join((" " if t.space else "") + t.text for t in toks).strip()
    return text if len(text) <= 40 else text[:37] + "..."


def _value(fld: str, rhs: list[Tok], line: int, name: str) -> Assignment:
    if not rhs:
        raise CaseDataError(f"{name}: line {line}: mpc.{fld} = has no value")
    end = rhs[-1].line
    if len(rhs) == 1 and rhs[0].kind == "str":
        return Assignment(fld, "string", rhs[0].text, line, end)
    if rhs[0].kind == "p" and rhs[0].text in "[{":
        close = OPEN[rhs[0].text]
        if rhs[-1].kind == "p" and rhs[-1].text == close and _matching(rhs) == len(rhs) - 1:
            rows, lines, held = _rows(fld, rhs[1:-1], name, cell=rhs[0].text == "{")
            kind = "cell" if rhs[0].text == "{" else "matrix"
            return Assignment(fld, kind, rows, line, end, lines, held)
    number = _scalar(rhs)
    if number is not None:
        return Assignment(fld, "number", number, line, end)
    raise CaseDataError(f"{name}: line {line}: mpc.{fld} is computed ({_shown(rhs)}); "
                        "N-1 Studio reads literal tables and numbers only")


def _matching(toks: list[Tok]) -> int:
    """Index of the bracket that closes toks[0]."""
    depth = 0
    for k, t in enumerate(toks):
        if t.kind == "p" and t.text in OPEN:
            depth += 1
        elif t.kind == "p" and t.text in ("]", "}", ")"):
            depth -= 1
            if depth == 0:
                return k
    return -1


def _scalar(toks: list[Tok]) -> float | None:
    sign = 1.0
    k = 0
    while k < len(toks) - 1 and toks[k].kind == "p" and toks[k].text in "+-":
        sign = -sign if toks[k].text == "-" else sign
        k += 1
    if k != len(toks) - 1:
        return None
    t = toks[k]
    if t.kind == "num":
        return sign * float(t.text)
    if t.kind == "name" and t.text in NUMBER_WORDS:
        return sign * NUMBER_WORDS[t.text]
    return None


def _rows(fld: str, body: list[Tok], name: str, cell: bool):
    """Rows of a matrix or cell body, with the line of each row (MATLAB's separators)."""
    rows: list[list] = []
    lines: list[int] = []
    held: set[int] = set()
    cur: list = []
    after_value = False  # the previous token ended a value (a separator is needed next)
    sign = 0.0  # a pending unary sign
    n = len(body)

    def bad(t: Tok, what: str) -> CaseDataError:
        return CaseDataError(f"{name}: mpc.{fld} row {len(rows) + 1} (line {t.line}) has "
                             f"{what}")

    k = 0
    while k < n:
        t = body[k]
        if t.kind == "rows":  # whole lines of numbers, one row each (from a line start)
            for ln, vals in t.text:
                lines.append(ln)
                rows.append(vals)
                held.add(ln)
            after_value = False
        elif t.kind == "nl" or (t.kind == "p" and t.text == ";"):
            if sign:
                raise bad(t, "a sign with no number after it")
            if cur:
                rows.append(cur)
                cur = []
            after_value = False
        elif t.kind == "p" and t.text == ",":
            if sign:
                raise bad(t, "a sign with no number after it")
            if not after_value:
                raise bad(t, "an empty entry (a ',' with no value before it)")
            after_value = False
        elif t.kind == "p" and t.text in "+-" and not sign:
            nxt = body[k + 1] if k + 1 < n else None
            unary = not after_value or (t.space and nxt is not None and not nxt.space)
            if not unary:
                raise bad(t, f"an expression, not a number: {_shown(body[max(k - 1, 0):k + 2])!r}")
            sign = -1.0 if t.text == "-" else 1.0
            after_value = False
        elif t.kind in ("num", "name") or (cell and t.kind == "str"):
            if after_value and not t.space:
                raise bad(t, f"a non-numeric entry: {_shown(body[k - 1:k + 1])!r}")
            if t.kind == "num":
                v: object = float(t.text)
            elif t.kind == "name" and t.text in NUMBER_WORDS:
                v = NUMBER_WORDS[t.text]
            elif t.kind == "str":
                v = t.text
            else:
                raise bad(t, f"a non-numeric entry: {t.text!r}")
            if sign:
                if not isinstance(v, float):
                    raise bad(t, f"a sign before text: {t.text!r}")
                v = sign * v
                sign = 0.0
            if not cur:
                lines.append(t.line)
            cur.append(v)
            held.add(t.line)
            after_value = True
        else:
            shown = t.text if t.kind != "str" else f"'{t.text}'"
            raise bad(t, f"a non-numeric entry: {shown[:40]!r}")
        k += 1
    if sign:
        raise CaseDataError(f"{name}: mpc.{fld} ends with a sign and no number")
    if cur:
        rows.append(cur)
    return rows, lines, held
