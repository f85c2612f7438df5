"""A variant's family: the one name of its split everywhere (datasets, `study info`,
`study runs`, the report, exports).

The name is built from what the variant is, never from where it was stored: its number of
outages and its perturbation (grid/perturb.py), parts joined by `+` in a fixed order:

    N            no outage, no perturbation (the canonical case, and only it)
    N-1, N-2     one, two outages
    scale:1.1    every load times 1.1          load:0.1   each load within ±10 %
    cost:0.3     each cost within ±30 %        relabel    buses renumbered, rows shuffled
    N-1+load:0.1 one outage under noisy load   (any combination, in this order)

The perturbation's seed is not part of the name: a family samples perturbations.
"""

from __future__ import annotations

from collections.abc import Iterable

N = "N"


def _number(x: float) -> str:
    return f"{float(x):g}"


def family_name(outages: Iterable[str] | int, perturbation: dict | None = None) -> str:
    """The family of a variant with these outages (or this many) and this perturbation
    (`Perturbation.to_dict()`; None or {} for none)."""
    k = outages if isinstance(outages, int) else len(set(outages or ()))
    p = perturbation or {}
    parts = [f"N-{k}"] if k else []
    scale = p.get("load_scale", 1.0)
    if scale not in (None, 1, 1.0):
        parts.append(f"scale:{_number(scale)}")
    if p.get("load_noise"):
        parts.append(f"load:{_number(p['load_noise'])}")
    if p.get("cost_noise"):
        parts.append(f"cost:{_number(p['cost_noise'])}")
    if p.get("relabel"):
        parts.append("relabel")
    return "+".join(parts) or N


def _outages_of(name: str) -> int:
    head = name.split("+", 1)[0]
    return int(head[2:]) if head.startswith("N-") and head[2:].isdigit() else 0


def family_order(names: Iterable[str]) -> list[str]:
    """Families in reading order: N, then outage families by size (N-1, N-2, ...), then
    perturbed families by their number of outages and name."""
    def key(f: str):
        if f == N:
            return (0, 0, "")
        if "+" not in f and _outages_of(f):
            return (1, _outages_of(f), "")
        return (2, _outages_of(f), f)

    return sorted(set(names), key=key)
