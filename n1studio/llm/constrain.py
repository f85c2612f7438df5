"""An answer plan (`llm.scaffold.answer_plan`) as the constraints a server understands.

- `plan_grammar`: a GBNF grammar (llama.cpp's `grammar` field) spelling the whole answer:
  fixed text as literals, numbers as rules.
- `number_rule` / `number_regex`: one number of the plan, for the scaffold's per-number
  requests and for checking what came back.
- `portable_plan_regex`: the whole answer as a regex in the subset every structured-output
  engine reads (vLLM's `structured_outputs: {"regex": ...}`).
- `plan_regex`: what a schema-true answer must match in full; every answer a server sends
  is checked against it, so a server that ignores the constraint is said, never stored.
"""

from __future__ import annotations

import re

from n1studio.llm.scaffold import max_number_tokens

SCAFFOLD, GRAMMAR, REGEX = "scaffold", "grammar", "regex"  # the ways a server is constrained


def gbnf_literal(text: str) -> str:
    """`text` as a GBNF string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def number_rule(negative: bool, int_digits: int, frac_digits: int) -> str:
    """GBNF for the numbers `scaffold.NumberState` allows (same sign, digits, no leading 0)."""
    ipart = "[0-9]" if int_digits <= 1 else f'("0" | [1-9] [0-9]{{0,{int_digits - 1}}})'
    rule = ('"-"? ' if negative else "") + ipart
    if frac_digits > 0:
        rule += f' ("." [0-9]{{1,{frac_digits}}})?'
    return rule


def plan_grammar(plan: list) -> str:
    """A GBNF grammar that accepts exactly the answers the plan allows."""
    rules: dict[tuple, str] = {}
    parts = []
    for seg in plan:
        if seg[0] == "t":
            parts.append(gbnf_literal(seg[1]))
        else:
            key = (bool(seg[1]), int(seg[2]), int(seg[3]))
            if key not in rules:
                rules[key] = f"num{len(rules)}"
            parts.append(rules[key])
    lines = ["root ::= " + " ".join(parts)]
    lines += [f"{name} ::= {number_rule(*key)}" for key, name in rules.items()]
    return "\n".join(lines) + "\n"


def number_grammar(negative: bool, int_digits: int, frac_digits: int, after: str) -> str:
    """GBNF for one number followed by the character `after` (the scaffold's request)."""
    return f"root ::= {number_rule(negative, int_digits, frac_digits)}" + (
        f" {gbnf_literal(after)}" if after else "") + "\n"


def number_regex(negative: bool, int_digits: int, frac_digits: int) -> re.Pattern:
    """The numbers `number_rule` accepts, as a Python regex."""
    ipart = "[0-9]" if int_digits <= 1 else f"(?:0|[1-9][0-9]{{0,{int_digits - 1}}})"
    frac = f"(?:\\.[0-9]{{1,{frac_digits}}})?" if frac_digits > 0 else ""
    return re.compile(("-?" if negative else "") + ipart + frac)


def plan_regex(plan: list) -> re.Pattern:
    """The plan as one regular expression: what a schema-true answer must match in full."""
    out = []
    for seg in plan:
        if seg[0] == "t":
            out.append(re.escape(seg[1]))
        else:
            out.append(number_regex(bool(seg[1]), int(seg[2]), int(seg[3])).pattern)
    return re.compile("".join(out), re.DOTALL)


_META = set("\\.^$*+?()[]{}|/")


def _portable_escape(text: str) -> str:
    return "".join("\\" + c if c in _META else ("\\n" if c == "\n" else c) for c in text)


def portable_plan_regex(plan: list) -> str:
    """The plan as a regex in the subset every structured-output engine reads (outlines,
    xgrammar, llguidance): literal text with only metacharacters escaped, numbers as
    `-?` + digit classes with counted repeats and plain groups. Accepts exactly what
    `plan_regex` accepts (tested)."""
    out = []
    for seg in plan:
        if seg[0] == "t":
            out.append(_portable_escape(seg[1]))
            continue
        neg, idig, fdig = bool(seg[1]), int(seg[2]), int(seg[3])
        ipart = "[0-9]" if idig <= 1 else f"(0|[1-9][0-9]{{0,{idig - 1}}})"
        frac = f"(\\.[0-9]{{1,{fdig}}})?" if fdig > 0 else ""
        out.append(("-?" if neg else "") + ipart + frac)
    return "".join(out)


def plan_token_budget(plan: list) -> int:
    """max_tokens for one request that samples the whole plan: the fixed text is sampled
    too (at most a token per character), the numbers at most their digits."""
    return sum(len(s[1]) for s in plan if s[0] == "t") + max_number_tokens(plan) + 8
