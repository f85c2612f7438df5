"""Reference operating points for the checker tests, from real solvers.

`runopp_answer` solves the OPF of a pandapower net with pandapower's own solver (PIPS),
independent of our reference; `ac_reference` uses n1studio's reference AC OPF when it is
available (skips otherwise). Both return `n1studio.answer/1` documents.
"""

from __future__ import annotations

import functools
import logging
import warnings

import pandapower as pp
import pytest

from n1studio.grid.cases import load_case
from n1studio.grid.variant import Variant
from n1studio.schema import make_answer


def answer_from_results(net: pp.pandapowerNet, model, objective=None) -> dict:
    """The answer document of `net`'s results (res_bus, res_gen, ...) for `model`'s elements."""
    gens = []
    for name in model.gen_names:
        table, i = name.split(":")
        k = model.gen_names.index(name)
        if not model.gen_on[k]:
            continue
        row = net[f"res_{table}"].loc[int(i)]
        gens.append({"element": name, "p_mw": row.p_mw, "q_mvar": row.q_mvar})
    energised = model.energised()
    buses = [{"element": n, "vm_pu": net.res_bus.vm_pu[int(n[4:])],
              "va_degree": net.res_bus.va_degree[int(n[4:])]}
             for k, n in enumerate(model.bus_names) if n and energised[k]]
    return make_answer(gens, buses, objective)


@functools.lru_cache(maxsize=16)
def _runopp(case: str, outages: tuple[str, ...]) -> dict:
    variant = Variant(load_case(case), outages)
    net = variant.net
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lvl = logging.getLogger("pandapower").level
        logging.getLogger("pandapower").setLevel(logging.ERROR)
        try:
            pp.runopp(net, calculate_voltage_angles=True)
        finally:
            logging.getLogger("pandapower").setLevel(lvl)
    return answer_from_results(net, variant.model, float(net.res_cost))


def runopp_answer(case: str, outages=()) -> dict:
    """pandapower's OPF optimum of `case` with `outages`, as an answer (a fresh copy)."""
    import copy

    return copy.deepcopy(_runopp(case, tuple(outages)))


def ac_reference(case: str, outages=()):
    """n1studio's reference AC OPF result of the variant (skips when the solver is missing)."""
    variant = Variant(load_case(case), outages)
    try:
        from n1studio.solve.reference import reference
    except ImportError:
        try:
            from n1studio.solve.acopf import solve_acopf
        except ImportError:
            pytest.skip("n1studio's reference AC OPF is not available")
        return solve_acopf(variant.model)
    return reference(variant, kind="ac")


@functools.lru_cache(maxsize=16)
def model_of(case: str, outages: tuple[str, ...] = ()):
    """The GridModel of a variant (cached, so the checker's per-model cache is reused)."""
    return Variant(load_case(case), outages).model
