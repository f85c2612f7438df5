"""Perturbations beyond outages: load, cost and names, each seeded and reproducible.

A variant is the base grid plus outages plus one `Perturbation` (any combination of):

- `load_scale` F: every load's P and Q times F;
- `load_noise` S: each load times its own factor drawn uniformly in [1-S, 1+S] (the way
  OPFData perturbs loads), on top of F;
- `cost_noise` S: each generator's linear and quadratic cost coefficients (c1, c2) times
  its own factor in [1-S, 1+S] (c0 is kept: it does not move the optimum);
- `relabel`: the same physics under other names: bus, branch and generator numbers
  permuted within each table and the prompt's rows shuffled; the answer is written in
  those names and mapped back (`Relabelling`). Its reference objective equals the
  unperturbed one.

`seed` seeds all of them: each uses its own stream (`numpy.random.default_rng([seed, k])`),
so adding one perturbation never changes the draws of another. The label says everything
(`load ×1.1 · load ±10 % #7 · relabelled #7`), and `to_dict`/`from_dict` store the spec.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from n1studio.errors import N1Error
from n1studio.grid.convert import generator_names
from n1studio.grid.elements import parse_element

_LOAD_STREAM, _COST_STREAM, _NAME_STREAM, _ROW_STREAM = 1, 2, 3, 4


class PerturbationError(N1Error):
    """A perturbation that cannot be applied (a negative scale, a noise of 100 % or more)."""


@dataclass(frozen=True)
class Perturbation:
    load_scale: float = 1.0
    load_noise: float = 0.0
    cost_noise: float = 0.0
    relabel: bool = False
    seed: int = 0

    def __post_init__(self):
        for name, ok, span in (("load_scale", lambda v: 0 < v <= 100, "(0, 100]"),
                               ("load_noise", lambda v: 0 <= v < 1, "[0, 1)"),
                               ("cost_noise", lambda v: 0 <= v < 1, "[0, 1)")):
            v = getattr(self, name)
            flag = "--" + name.replace("_", "-")
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise PerturbationError(f"{flag} must be a finite number, not {v!r}")
            if not ok(v):
                raise PerturbationError(f"{flag} {v:g} is outside {span}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise PerturbationError(f"--perturb-seed must be a non-negative integer, "
                                    f"not {self.seed!r}")

    @property
    def is_identity(self) -> bool:
        return (self.load_scale == 1.0 and self.load_noise == 0.0 and self.cost_noise == 0.0
                and not self.relabel)

    @property
    def changes_physics(self) -> bool:
        """Whether the reference can differ from the unperturbed one (relabelling cannot)."""
        return self.load_scale != 1.0 or self.load_noise > 0 or self.cost_noise > 0

    def key(self) -> tuple:
        """What identifies the perturbed physics and names (for caches)."""
        return () if self.is_identity else (self.load_scale, self.load_noise, self.cost_noise,
                                             self.relabel, self.seed)

    @property
    def label(self) -> str:
        parts = []
        if self.load_scale != 1.0:
            parts.append(f"load ×{self.load_scale:g}")
        if self.load_noise:
            parts.append(f"load ±{self.load_noise * 100:g} % #{self.seed}")
        if self.cost_noise:
            parts.append(f"cost ±{self.cost_noise * 100:g} % #{self.seed}")
        if self.relabel:
            parts.append(f"relabelled #{self.seed}")
        return " · ".join(parts)

    def to_dict(self) -> dict:
        return {} if self.is_identity else dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict | None) -> Perturbation:
        d = d or {}
        unknown = set(d) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise PerturbationError(f"unknown perturbation keys: {', '.join(sorted(unknown))}")
        return cls(**d)

    # ---- what it does to the numbers ------------------------------------------------------
    def load_factors(self, n_loads: int) -> np.ndarray:
        f = np.full(n_loads, float(self.load_scale))
        if self.load_noise:
            rng = np.random.default_rng([self.seed, _LOAD_STREAM])
            f = f * rng.uniform(1 - self.load_noise, 1 + self.load_noise, n_loads)
        return f

    def cost_factors(self, n_gens: int) -> np.ndarray:
        if not self.cost_noise:
            return np.ones(n_gens)
        rng = np.random.default_rng([self.seed, _COST_STREAM])
        return rng.uniform(1 - self.cost_noise, 1 + self.cost_noise, n_gens)

    def apply_to_model(self, model):
        """A copy of a (masked) GridModel with loads and costs perturbed."""
        if not self.changes_physics:
            return model
        m = dataclasses.replace(model)
        m.pd, m.qd = model.pd.copy(), model.qd.copy()
        m.load_p, m.load_q = model.load_p.copy(), model.load_q.copy()
        f = self.load_factors(len(model.load_names))
        for k in range(len(model.load_names)):
            dp, dq = (f[k] - 1) * model.load_p[k], (f[k] - 1) * model.load_q[k]
            m.load_p[k] += dp
            m.load_q[k] += dq
            if model.load_on[k]:  # bus totals carry only loads in service
                m.pd[model.load_bus[k]] += dp
                m.qd[model.load_bus[k]] += dq
        c = self.cost_factors(len(model.gen_names))
        m.c1, m.c2 = model.c1 * c, model.c2 * c
        return m

    def apply_to_net(self, net) -> None:
        """Perturb a pandapower net in place (a copy the caller owns), in the same order
        as `apply_to_model`: loads by table row, costs by the model's generator order."""
        if not self.changes_physics:
            return
        f = self.load_factors(len(net.load))
        net.load["p_mw"] = net.load["p_mw"].to_numpy() * f
        net.load["q_mvar"] = net.load["q_mvar"].to_numpy() * f
        if self.cost_noise and len(net.poly_cost):
            order = {n: k for k, n in enumerate(generator_names(net))}  # the model's order
            c = self.cost_factors(len(order))
            pc = net.poly_cost
            for row in pc.index:
                k = order.get(f"{pc.at[row, 'et']}:{int(pc.at[row, 'element'])}")
                if k is not None:
                    pc.at[row, "cp1_eur_per_mw"] *= c[k]
                    pc.at[row, "cp2_eur_per_mw2"] *= c[k]


class Relabelling:
    """Canonical names <-> the names a relabelled prompt uses, and the prompt's row order.

    Within each table the indices in use are permuted among themselves (bus:4 may become
    bus:11, gen:0 may become gen:2), so a name still looks like a name of that grid.
    """

    def __init__(self, model, seed: int):
        rng = np.random.default_rng([seed, _NAME_STREAM])
        self.to_prompt: dict[str, str] = {}
        groups: dict[str, list[int]] = {}
        for name in [*model.bus_names, *model.branch_names, *model.gen_names,
                     *model.load_names]:
            if name and name not in self.to_prompt:
                el = parse_element(name)
                groups.setdefault(el.table, []).append(el.index)
                self.to_prompt[name] = name
        for table, idx in groups.items():
            idx = sorted(set(idx))
            perm = rng.permutation(len(idx))
            for a, b in zip(idx, (idx[p] for p in perm), strict=True):
                self.to_prompt[f"{table}:{a}"] = f"{table}:{b}"
        self.to_canonical = {v: k for k, v in self.to_prompt.items()}
        self.seed = seed

    def name(self, canonical: str) -> str:
        return self.to_prompt.get(canonical, canonical)

    def number(self, canonical: str) -> str:
        """The index part of the prompt name (bus numbers in the tables)."""
        return self.name(canonical).partition(":")[2]

    def row_order(self, n: int, table: str) -> np.ndarray:
        """The shuffled order of a table's n rows (stable per table and seed)."""
        salt = int.from_bytes(table.encode()[:8], "little")
        return np.random.default_rng([self.seed, _ROW_STREAM, salt]).permutation(n)

    def answer_to_canonical(self, answer):
        """An answer written in the prompt's names, with canonical names (other keys and
        unknown names untouched: the checker reports those)."""
        return self._map(answer, self.to_canonical)

    def answer_to_prompt(self, answer):
        return self._map(answer, self.to_prompt)

    @staticmethod
    def _map(answer, table: dict[str, str]):
        if not isinstance(answer, dict):
            return answer
        out = dict(answer)
        for key in ("generators", "buses"):
            items = answer.get(key)
            if isinstance(items, list):
                out[key] = [({**it, "element": table.get(it["element"], it["element"])}
                             if isinstance(it, dict) and isinstance(it.get("element"), str)
                             else it) for it in items]
        return out
