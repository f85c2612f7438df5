"""Time to measure one answer's distance to feasibility (n1studio.solve.nearest).

Per case: the reference AC OPF (not counted), the one-off build of the nearest-point
solver on the AC OPF's compiled constraints, then the median time per answer for the
reference answer, the reference with noise (k = 0.03 and 0.3 of each quantity's scale)
and an answer of zeros, each with its distance, Ipopt iterations and whether the
repaired answer checks feasible; and an N-1 variant (its first line out) to show that a
variant reuses the compiled solver. Target: case118 at most 0.5 s per answer once
compiled. Run: .venv/bin/python bench/bench_nearest.py [CASE ...]
"""

from __future__ import annotations

import copy
import logging
import statistics
import sys
import time

import numpy as np

from n1studio.check import check_answer
from n1studio.grid.cases import load_case
from n1studio.grid.variant import Variant
from n1studio.solve import nearest
from n1studio.solve.reference import reference

CASES = ["pglib_opf_case30_ieee", "pglib_opf_case118_ieee", "pglib_opf_case300_ieee"]
REPEAT = 3


def noisy(v: Variant, k: float, seed: int = 7) -> dict:
    ref = reference(v)
    m = v.model
    s = nearest.scales(m)
    nb, ng, base = m.n_bus, len(m.gen_names), m.base_mva
    z = np.random.default_rng(seed).standard_normal(2 * nb + 2 * ng)
    return {"vm": ref.vm + k * s[nb:2 * nb] * z[nb:2 * nb], "va": ref.va + k * s[:nb] * z[:nb],
            "pg": ref.pg + k * s[2 * nb:2 * nb + ng] * base * z[2 * nb:2 * nb + ng],
            "qg": ref.qg + k * s[2 * nb + ng:] * base * z[2 * nb + ng:]}


def zeros(v: Variant) -> dict:
    doc = copy.deepcopy(reference(v).answer)
    for g in doc["generators"]:
        g.update(p_mw=0.0, q_mvar=0.0, vm_pu=0.0)
    for b in doc["buses"]:
        b.update(vm_pu=0.0, va_degree=0.0)
    return doc


def row(label: str, v: Variant, answer) -> float:
    times, r = [], None
    for _ in range(REPEAT):
        t = time.perf_counter()
        r = nearest.nearest_feasible(v.model, answer)
        times.append(time.perf_counter() - t)
    med = statistics.median(times)
    ok = r.success and check_answer(v.model, r.repaired)["feasible"]
    d = "-" if r.distance is None else f"{r.distance:.3g}"
    print(f"  {label:<22}{med * 1000:>9.0f}{r.iterations:>7}{d:>11}  {r.status}"
          f"{'' if ok else '  (repaired NOT feasible)'}", flush=True)
    return med


def main(cases: list[str]) -> None:
    logging.getLogger("pandapower").setLevel(logging.ERROR)
    worst = {}
    for case in cases:
        v = Variant(load_case(case))
        t = time.perf_counter()
        ref = reference(v)
        t_ref = time.perf_counter() - t
        nearest.clear_cache()
        build = nearest.prepare(v.model)
        print(f"{case}: {v.model.n_bus} buses; reference AC OPF {t_ref:.2f} s ({ref.status}); "
              f"nearest-point solver built in {build:.2f} s")
        print(f"  {'answer':<22}{'ms':>9}{'iter':>7}{'distance':>11}  status")
        times = [row("reference", v, ref.answer), row("reference + 3 % noise", v, noisy(v, 0.03)),
                 row("reference + 30 % noise", v, noisy(v, 0.3)), row("zeros", v, zeros(v))]
        line = next(n for n in v.model.branch_names if n.startswith("line:"))
        v1 = Variant(v.base, [line])
        reference(v1)
        build1 = nearest.prepare(v1.model)
        print(f"  N-1 {line}: extra build {build1:.2f} s (the grid's solver is reused)")
        times += [row(f"N-1 {line} zeros", v1, zeros(v1))]
        worst[case] = max(times)
    print("worst per-answer median: " + ", ".join(f"{c} {t:.3f} s" for c, t in worst.items()))


if __name__ == "__main__":
    main(sys.argv[1:] or CASES)
