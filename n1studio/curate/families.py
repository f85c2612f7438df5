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

`Family` is a family as `dataset build --family` writes it (`n-1+load:0.1`); `candidate_draws` gives
its seeded candidates, in the order a dataset tries them.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass

from n1studio.errors import N1Error

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


@dataclass(frozen=True)
class Family:
    """A family of variants: `k` outages (0 for the N case) plus a perturbation recipe.

    Written as parts joined by `+`: `n-K` (K outages; `n` or nothing: none), `load:S`
    (per-load noise S), `scale:F` (every load times F), `cost:S` (cost noise S),
    `relabel`. E.g. `n-1`, `n-2`, `load:0.1`, `cost:0.2`, `relabel`, `n-1+load:0.1`.
    Each variant of a family draws its own perturbation seed, so a family samples
    perturbations as well as outages.
    """

    text: str
    k: int
    load_scale: float = 1.0
    load_noise: float = 0.0
    cost_noise: float = 0.0
    relabel: bool = False

    @property
    def split(self) -> str:
        """The dataset split label: the family's name (families.family_name: `N-1`, `N-2`,
        `load:0.1`, `N-1+load:0.1`), the name its variants have everywhere."""
        return family_name(self.k, {"load_scale": self.load_scale, "load_noise": self.load_noise,
                                    "cost_noise": self.cost_noise, "relabel": self.relabel})

    @property
    def perturbed(self) -> bool:
        return (self.load_scale != 1.0 or self.load_noise > 0 or self.cost_noise > 0
                or self.relabel)

    def perturbation(self, seed: int):
        from n1studio.grid.perturb import Perturbation  # noqa: PLC0415 (pandapower: seconds)

        return Perturbation(load_scale=self.load_scale, load_noise=self.load_noise,
                            cost_noise=self.cost_noise, relabel=self.relabel, seed=seed)


def parse_family(text: str) -> Family:
    """`n-1+load:0.1` -> Family; a bad part is one line naming it."""
    raw = str(text).strip().lower()
    k, kw = 0, {}
    for part in filter(None, raw.split("+")):
        name, _, arg = part.partition(":")
        try:
            if name == "n" and not arg:
                k = 0
            elif name.startswith("n-") and name[2:].isdigit() and not arg:
                k = int(name[2:])
            elif name in ("load", "scale", "cost") and arg:
                kw[{"load": "load_noise", "scale": "load_scale", "cost": "cost_noise"}[name]] = \
                    float(arg)
            elif name == "relabel" and not arg:
                kw["relabel"] = True
            else:
                raise ValueError
        except ValueError:
            raise N1Error(f"--family {text!r}: cannot read {part!r} (families are n-K, load:S, "
                          "scale:F, cost:S, relabel, joined by +)") from None
    if not raw:
        raise N1Error("--family needs a value, e.g. n-1 or n-1+load:0.1")
    fam = Family(text=raw, k=k, **kw)
    fam.perturbation(0)  # a bad size (noise of 100 %, a negative scale) is one line now
    if fam.k == 0 and not fam.perturbed:
        raise N1Error(f"--family {text!r} is the N case itself, which every dataset has")
    return fam


def family_size(fam: Family, sample: int | None, n_candidates: int) -> int:
    """How many variants a dataset wants of `fam`: `sample`, else every single outage for
    plain N-1, else one."""
    if sample is not None:
        return sample
    return n_candidates if fam.k == 1 and not fam.perturbed else 1


def candidate_draws(fam: Family, candidates: list[str], sample: int | None, seed: int):
    """(outages, perturbation seed) candidates of a family, in the seeded order they are
    tried. N-1 takes the shuffled single outages (unshuffled without `sample`, as before),
    N-K random K-element sets, perturbation-only families no outage; each try has its own
    perturbation seed seed+1, seed+2, ..."""
    rng = random.Random(f"{seed}|{fam.text}")
    if fam.k == 0:
        return (((), seed + i) for i in itertools.count(1))
    if fam.k == 1:
        order = list(candidates)
        if sample is not None:
            random.Random(seed).shuffle(order)  # the same draw as datasets before families
        return (((el,), seed + i) for i, el in enumerate(order, 1))
    if len(candidates) < fam.k:
        return iter(())

    def sets():
        tried = set()
        limit = math.comb(len(candidates), fam.k)
        i = 0
        while len(tried) < limit:
            combo = tuple(sorted(rng.sample(candidates, fam.k)))
            if combo in tried:
                continue
            tried.add(combo)
            i += 1
            yield combo, seed + i
    return sets()
