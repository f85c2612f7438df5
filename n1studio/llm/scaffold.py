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


# ---- an answer written into the plan (what the constrained decoder writes) ---------------------
def number_text(x: float, frac_digits: int) -> str:
    """A number as the constrained decoder can write it: rounded to the slot's decimals,
    trailing zeros dropped, never "-0"."""
    s = f"{round(float(x), frac_digits) + 0.0:.{frac_digits}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def written_answer(prompt: Prompt, answer: dict) -> list[tuple[str, str]]:
    """`answer` (in the prompt's names) written exactly as a constrained answer to `prompt`:
    ("t", fixed text) and ("n", number text) pieces in order. The fixed pieces are
    tokenized alone, the numbers one character per token, as the worker does. KeyError
    names an element of the prompt the answer has no value for."""
    gens = {g.get("element"): g for g in answer.get("generators", []) if isinstance(g, dict)}
    buses = {b.get("element"): b for b in answer.get("buses", []) if isinstance(b, dict)}
    values = []
    for g in prompt.generators:
        item = gens[g]
        values += [item["p_mw"], item["q_mvar"]]
    for b in prompt.buses:
        item = buses[b]
        values += [item["vm_pu"], item["va_degree"]]
    plan = answer_plan(prompt, objective=answer.get("objective") is not None)
    if answer.get("objective") is not None:
        values.append(answer["objective"])
    it = iter(values)
    return [("t", seg[1]) if seg[0] == "t" else ("n", number_text(next(it), int(seg[3])))
            for seg in plan]
