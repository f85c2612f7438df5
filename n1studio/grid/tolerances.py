"""How far a state may stray from a constraint before it counts as violated.

One set of numbers for every judge: the checker (n1studio.check) applies them to an
answer, the N-1 sweep (n1studio.solve.sweep) to each post-outage power flow, so a sweep's
"violations" and a verdict agree on what is violated. They live in the grid layer, the
lowest that needs them; `n1studio.check.tolerances` re-exports them.

Defaults (all overridable, e.g. `n1studio check ... --tol p_mw=0.5 --tol vm_pu=1e-3`):

============  ========  ==================================================================
key           default   meaning
============  ========  ==================================================================
p_mw          1.0       power balance: |P residual| per bus, MW
q_mvar        1.0       power balance: |Q residual| per bus, Mvar
digits_pu     1e-6      voltage precision an answer is expected to carry (the schema's 6
                        decimals of vm_pu); at a bus the power-balance tolerance is
                        max(p_mw, sum_j |Y_ij| * digits_pu * base_mva), so buses tied by
                        near-zero impedances (PEGASE) are not failed for rounding alone
vm_pu         1e-4      voltage: allowed excursion beyond [min_vm_pu, max_vm_pu], pu
gen_p_mw      0.1       gen_p: allowed excursion beyond [Pmin, Pmax], MW
gen_q_mvar    0.1       gen_q: allowed excursion beyond [Qmin, Qmax], Mvar
thermal_rel   0.002     thermal: |S| may exceed the rating by this fraction (0.2 %)
thermal_mva   0.01      thermal: ... plus this many MVA (keeps tiny ratings sane)
angle_deg     0.01      angle: allowed excursion beyond [angmin, angmax], degrees
gen_vm_pu     1e-3      a generator's optional vm_pu may differ from its bus's by this
                        much before a warning is written (never a violation)
============  ========  ==================================================================

Why these values: the power-balance tolerance of 1 MW / 1 Mvar (0.01 pu on a 100 MVA
base) is what an answer written with ~4 significant digits can reach, and it is far above
what rounding a solution to the answer schema's digits (6 decimals of vm_pu, 5 of
va_degree) costs on ordinary grids (under 0.3 MW on case1354pegase); on grids with
near-zero impedances the same rounding moves an injection by more (1.1 Mvar at one bus of
case9241pegase), which `digits_pu` accounts for bus by bus. Limit checks
get small absolute slacks so that a solution sitting exactly on its bound and rounded
for printing is not flagged.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from n1studio.errors import N1Error


@dataclass(frozen=True)
class Tolerances:
    p_mw: float = 1.0
    q_mvar: float = 1.0
    digits_pu: float = 1e-6
    vm_pu: float = 1e-4
    gen_p_mw: float = 0.1
    gen_q_mvar: float = 0.1
    thermal_rel: float = 0.002
    thermal_mva: float = 0.01
    angle_deg: float = 0.01
    gen_vm_pu: float = 1e-3

    def with_overrides(self, items: list[str] | dict[str, float]) -> Tolerances:
        """A copy with `KEY=VALUE` strings (or a dict) applied; bad keys/values raise N1Error."""
        known = {f.name for f in dataclasses.fields(self)}
        changes: dict[str, float] = {}
        pairs = items.items() if isinstance(items, dict) else (_split(s) for s in items)
        for key, value in pairs:
            key = str(key).strip()
            if key not in known:
                raise N1Error(f"unknown tolerance {key!r}: one of {', '.join(sorted(known))}")
            try:
                v = float(value)
            except (TypeError, ValueError):
                raise N1Error(f"tolerance {key}: {value!r} is not a number") from None
            if not v >= 0 or v == float("inf"):
                raise N1Error(f"tolerance {key}: must be a finite number >= 0, got {value!r}")
            changes[key] = v
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)


def _split(text: str) -> tuple[str, str]:
    key, sep, value = str(text).partition("=")
    if not sep:
        raise N1Error(f"tolerance {text!r}: expected KEY=VALUE, e.g. p_mw=0.5")
    return key, value
