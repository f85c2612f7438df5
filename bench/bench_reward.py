"""Time per completion of n1studio.reward on PGLib case118 (target: at most 20 ms once
the grid is loaded and its references solved). Wall and CPU time are both printed: on a
loaded machine the wall time includes waiting for a core.

Warm-up (not counted): the first call loads the grid and solves the variant's reference
AC OPF (and the N case's). Then the median wall time per completion over batches of the
controls' answers (reference, noise 0.05, zeros) and garbage text, without the distance
component (the default) and with it (`distance=True`: one Ipopt solve per usable
completion). Run: .venv/bin/python bench/bench_reward.py [CASE] [OUTAGE]
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time

from n1studio.controls import control_answer
from n1studio.grid.cases import load_case
from n1studio.grid.variant import Variant
from n1studio.pipeline import references
from n1studio.reward import make_reward


def main() -> None:
    case = sys.argv[1] if len(sys.argv) > 1 else "pglib_opf_case118_ieee"
    outages = sys.argv[2:3] or ["line:10"]
    v = Variant(load_case(case), outages)
    refs = references(v)
    texts = [json.dumps(control_answer(c, v.model, refs.own_answer, refs.n_answer,
                                       label=v.label))
             for c in ("control:reference", "control:noise:0.05", "control:zeros")]
    texts.append("The dispatch is optimal, trust me.")
    print(f"{case} {outages}: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    for label, kw in (("without distance", {}), ("with distance", {"distance": True})):
        reward = make_reward(**kw)
        cols = {"case": [case], "outages": [outages], "perturbation": ["{}"]}
        t = time.perf_counter()
        reward(completions=texts[:1], **cols)
        print(f"  {label}: first call (grid load, references) {time.perf_counter() - t:.2f} s")
        for text, name in zip(texts, ("reference", "noise 0.05", "zeros", "garbage"), strict=True):
            times, cpu = [], []
            for _ in range(15 if not kw else 3):
                t, c = time.perf_counter(), time.process_time()
                s = reward(completions=[text], **cols)[0]
                times.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)
            print(f"    {name:<11} reward {s:.3f}  "
                  f"wall median {statistics.median(times) * 1e3:6.1f}"
                  f" ms, min {min(times) * 1e3:6.1f} ms; CPU median "
                  f"{statistics.median(cpu) * 1e3:6.1f} ms")


if __name__ == "__main__":
    main()
