"""Time to measure one answer's distance to feasibility (n1studio.solve.nearest).

Per case: the reference AC OPF (not counted), the one-off build of the nearest-point
solver on the AC OPF's compiled constraints, then the median time per answer for the
reference answer, the reference with noise (k = 0.03 and 0.3 of each quantity's scale)
and an answer of zeros, each with its distance, Ipopt iterations and whether the
repaired answer checks feasible, started from the answer and from the variant's reference
(what the pipeline passes); and an N-1 variant (its first line out) to show that a
variant reuses the compiled solver. Target: case118 at most 0.5 s per answer once
compiled. Run: .venv/bin/python bench/bench_nearest.py [CASE ...]
"""

from __future__ import annotations

import copy
import logging
import os
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


def timed(v: Variant, answer, start) -> tuple[float, float, object]:
    """Median wall-clock and CPU seconds of this process (CPU: what a busy machine's
    other users do not inflate)."""
    wall, cpu, r = [], [], None
    for _ in range(REPEAT):
        t, c = time.perf_counter(), time.process_time()
        r = nearest.nearest_feasible(v.model, answer, start=start)
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), statistics.median(cpu), r


def row(label: str, v: Variant, answer) -> float:
    """Median time from the answer and from the variant's reference (the pipeline's case)."""
    t_a, c_a, r_a = timed(v, answer, None)
    t_r, c_r, r = timed(v, answer, reference(v))
    ok = r.success and check_answer(v.model, r.repaired)["feasible"]
    d = "-" if r.distance is None else f"{r.distance:.3g}"
    print(f"  {label:<24}{t_a * 1000:>7.0f}{c_a * 1000:>6.0f}{r_a.iterations:>5}"
          f"{t_r * 1000:>8.0f}{c_r * 1000:>6.0f}{r.iterations:>5}{d:>11}  {r.status}"
          f"{'' if ok else '  (repaired NOT feasible)'}", flush=True)
    return t_r


def main(cases: list[str]) -> None:
    logging.getLogger("pandapower").setLevel(logging.ERROR)
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start")
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
        print(f"  {'answer':<24}{'from the answer':>18}{'from the reference':>19}"
              f"{'distance':>11}  status\n  {'':<24}{'wall':>7}{'cpu':>6}{'iter':>5}"
              f"{'wall':>8}{'cpu':>6}{'iter':>5}   (ms)")
        times = [row("reference", v, ref.answer), row("reference + 3 % noise", v, noisy(v, 0.03)),
                 row("reference + 30 % noise", v, noisy(v, 0.3)), row("zeros", v, zeros(v))]
        # the first line whose outage leaves a feasible variant
        for line in (n for n in v.model.branch_names if n.startswith("line:")):
            v1 = Variant(v.base, [line])
            if reference(v1).success:
                break
        build1 = nearest.prepare(v1.model)
        print(f"  N-1 {line}: extra build {build1:.2f} s (the grid's solver is reused)")
        times += [row(f"N-1 {line} zeros", v1, zeros(v1))]
        worst[case] = max(times)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    print("worst per-answer median wall time (from the reference): "
          + ", ".join(f"{c} {t:.3f} s" for c, t in worst.items()))


if __name__ == "__main__":
    main(sys.argv[1:] or CASES)
