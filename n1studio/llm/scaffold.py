"""Constrained answers: the fixed JSON structure written by us, only the numbers by the model.

A generic JSON-schema grammar makes the model sample every brace, quote and element name
(9 tokens/s here against 28 free, and a tiny model wanders off and never closes the
document). The structure of an answer for a given variant is fully known in advance: the
element names and their order come from the grid. So a *plan* alternates fixed text,
which the worker appends to the context in one batch, with number slots, where the
model samples only digits, a sign and a decimal point under a tiny JSON-number state
machine (`NumberSpec`). The result is a valid `n1studio.answer/1` by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

from n1studio.llm.prompt import Prompt
from n1studio.schema import ANSWER


@dataclass(frozen=True)
class NumberSpec:
    """A JSON number the model writes: optional minus, up to `int_digits` digits before the
    point (no leading zeros), up to `frac_digits` after it."""

    negative: bool
    int_digits: int
    frac_digits: int

    def as_segment(self) -> tuple:
        return ("n", self.negative, self.int_digits, self.frac_digits)


P_MW = NumberSpec(True, 5, 2)
Q_MVAR = NumberSpec(True, 5, 2)
VM_PU = NumberSpec(False, 1, 4)
VA_DEGREE = NumberSpec(True, 3, 2)
OBJECTIVE = NumberSpec(False, 7, 1)


def answer_plan(prompt: Prompt, objective: bool = True) -> list[tuple]:
    """The segments of a constrained answer for the prompt's elements, in order.

    Segments are ("t", text) for fixed text and ("n", negative, int_digits, frac_digits)
    for a number the model writes; adjacent text segments are merged.
    """
    segs: list[tuple] = []

    def text(s: str) -> None:
        if segs and segs[-1][0] == "t":
            segs[-1] = ("t", segs[-1][1] + s)
        else:
            segs.append(("t", s))

    # compact JSON (no spaces): about 20 % fewer tokens to evaluate than the spaced form
    text(f'{{"schema":"{ANSWER}","generators":[')
    for i, g in enumerate(prompt.generators):
        text(("" if i == 0 else ",") + f'{{"element":"{g}","p_mw":')
        segs.append(P_MW.as_segment())
        text(',"q_mvar":')
        segs.append(Q_MVAR.as_segment())
        text("}")
    text('],"buses":[')
    for i, b in enumerate(prompt.buses):
        text(("" if i == 0 else ",") + f'{{"element":"{b}","vm_pu":')
        segs.append(VM_PU.as_segment())
        text(',"va_degree":')
        segs.append(VA_DEGREE.as_segment())
        text("}")
    text("]")
    if objective:
        text(',"objective":')
        segs.append(OBJECTIVE.as_segment())
    text("}")
    return segs


def max_number_tokens(plan: list[tuple]) -> int:
    """Upper bound of the sampled tokens of a plan (one token per character)."""
    return sum(int(s[1]) + s[2] + 1 + s[3] for s in plan if s[0] == "n")


# ---- the number state machine (used by the worker) ----------------------------------------
DIGITS = "0123456789"


class NumberState:
    """Which characters may come next in a JSON number being written, and whether it may end.

    States: start, after '-', integer digits, after '.', fraction digits.
    """

    def __init__(self, negative: bool, int_digits: int, frac_digits: int):
        self.negative, self.int_max, self.frac_max = negative, int_digits, frac_digits
        self.text = ""
        self.n_int = self.n_frac = 0
        self.in_frac = False
        self.leading_zero = False

    def allowed(self) -> tuple[str, bool]:
        """(characters allowed next, whether ending the number is allowed now)."""
        if not self.text:
            return (DIGITS + ("-" if self.negative else ""), False)
        if self.text == "-":
            return (DIGITS, False)
        if self.in_frac:
            if self.n_frac == 0:
                return (DIGITS, False)
            return (DIGITS if self.n_frac < self.frac_max else "", True)
        chars = ""
        if not self.leading_zero and self.n_int < self.int_max:
            chars += DIGITS
        if self.frac_max > 0:
            chars += "."
        return (chars, True)

    def push(self, ch: str) -> None:
        if ch == "-":
            pass
        elif ch == ".":
            self.in_frac = True
        elif self.in_frac:
            self.n_frac += 1
        else:
            if self.n_int == 0 and ch == "0":
                self.leading_zero = True
            self.n_int += 1
        self.text += ch
