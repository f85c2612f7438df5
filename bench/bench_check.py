"""Time to check one answer: case118, case1354pegase, case9241pegase.

The answer is the case's AC power flow (pandapower Newton-Raphson) written as an
`n1studio.answer/1` JSON text, which is what the checker gets from a model. Printed per case:
the first check of a model (builds and caches the Ybus, the star-point elimination and the
constraint sets), then the median of repeated checks of the text, and of an already
parsed dict. Run: .venv/bin/python bench/bench_check.py [CASE ...]
"""

from __future__ import annotations

import json
import logging
import statistics
import sys
import time
import warnings

import pandapower as pp

from n1studio.check import check_answer
from n1studio.grid.cases import load_case
from n1studio.grid.variant import Variant
from n1studio.schema import make_answer

CASES = ["case118", "case1354pegase", "case9241pegase"]


def power_flow_answer(net, model) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, calculate_voltage_angles=True, init="dc")
    gens = []
    for name in model.gen_names:
        table, i = name.split(":")
        row = net[f"res_{table}"].loc[int(i)]
        gens.append({"element": name, "p_mw": row.p_mw, "q_mvar": row.q_mvar})
    buses = [{"element": n, "vm_pu": net.res_bus.vm_pu[int(n[4:])],
              "va_degree": net.res_bus.va_degree[int(n[4:])]} for n in model.bus_names if n]
    return make_answer(gens, buses)


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(cases: list[str]) -> None:
    logging.getLogger("pandapower").setLevel(logging.ERROR)
    print(f"{'case':<16}{'buses':>7}{'viol.':>7}{'first (ms)':>12}{'text (ms)':>11}"
          f"{'dict (ms)':>11}")
    for case in cases:
        net = load_case(case)
        variant = Variant(net)
        model = variant.model
        answer = power_flow_answer(variant.net, model)
        text = json.dumps(answer)
        t = time.perf_counter()
        verdict = check_answer(model, text)
        first = time.perf_counter() - t
        repeat = 50 if model.n_bus < 2000 else 10
        t_text = timed(lambda m=model, a=text: check_answer(m, a), repeat)
        t_dict = timed(lambda m=model, a=answer: check_answer(m, a), repeat)
        print(f"{case:<16}{model.n_bus:>7}{len(verdict['violations']):>7}{first * 1e3:>12.1f}"
              f"{t_text * 1e3:>11.2f}{t_dict * 1e3:>11.2f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or CASES)
