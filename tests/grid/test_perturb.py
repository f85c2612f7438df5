"""Perturbation families: seeded, reproducible, each with its own correct reference."""

from __future__ import annotations

import numpy as np
import pandapower as pp
import pytest

from n1studio.grid.cases import load_case
from n1studio.grid.perturb import Perturbation, PerturbationError
from n1studio.grid.variant import Variant, base_model
from n1studio.solve.reference import reference

CASE = "pglib_opf_case14_ieee"


@pytest.fixture(scope="module")
def net():
    return load_case(CASE)


def test_labels_say_everything(net):
    p = Perturbation(load_noise=0.1, relabel=True, seed=7)
    v = Variant(net, ["line:3"], p)
    assert v.label == "N-1 line:3 · load ±10 % #7 · relabelled #7"
    assert Variant(net, [], Perturbation(load_scale=1.1)).label == "N · load ×1.1"
    assert Variant(net, [], Perturbation(cost_noise=0.2, seed=3)).label == "N · cost ±20 % #3"
    assert not Variant(net, [], Perturbation(load_scale=1.1)).is_base
    assert Variant(net).is_base


def test_load_perturbations_are_per_load_and_reproducible(net):
    p = Perturbation(load_noise=0.1, seed=7)
    m0 = base_model(net)
    a, b = Variant(net, [], p).model, Variant(net, [], p).model
    assert np.array_equal(a.load_p, b.load_p)  # the same seed, the same draw
    ratio = a.load_p / m0.load_p
    assert np.all((ratio >= 0.9) & (ratio <= 1.1)) and np.ptp(ratio) > 0.02
    # the bus totals follow the loads, and the net copy says the same as the model
    assert a.pd.sum() == pytest.approx(a.load_p.sum(), rel=1e-12)
    vnet = Variant(net, [], p).net
    assert np.allclose(vnet.load.p_mw.to_numpy() / m0.base_mva, a.load_p)
    other = Variant(net, [], Perturbation(load_noise=0.1, seed=8)).model
    assert not np.array_equal(other.load_p, a.load_p)


def test_load_scale_reference_matches_pandapower_on_the_scaled_net(net):
    """The perturbed reference is the OPF of the perturbed grid: an independent pandapower
    power flow at its set-points balances the scaled loads."""
    v = Variant(net, [], Perturbation(load_scale=1.1))
    r = reference(v)
    n = reference(Variant(net))
    assert r.success and n.success and r.objective > n.objective * 1.05
    # pandapower on the perturbed net copy, with the reference's dispatch and voltages
    pnet = v.net
    m = v.model
    for k, name in enumerate(m.gen_names):
        table, _, i = name.partition(":")
        i = int(i)
        if table == "gen":
            pnet.gen.at[i, "p_mw"] = r.pg[k]
            pnet.gen.at[i, "vm_pu"] = r.vm[m.gen_bus[k]]
        elif table == "ext_grid":
            pnet.ext_grid.at[i, "vm_pu"] = r.vm[m.gen_bus[k]]
    pp.runpp(pnet, calculate_voltage_angles=True, init="flat")
    slack = float(pnet.res_ext_grid.p_mw.sum())
    k0 = m.gen_names.index("ext_grid:0")
    assert slack == pytest.approx(r.pg[k0], abs=1e-2)


def test_cost_noise_moves_the_optimum_without_a_rebuild(net):
    v = Variant(net, [], Perturbation(cost_noise=0.3, seed=1))
    r = reference(v)
    n = reference(Variant(net))
    assert r.success and not np.isclose(r.objective, n.objective, rtol=1e-4)
    # the objective is the perturbed costs applied to the perturbed optimum's dispatch
    m = v.model
    on = m.gen_on
    cost = float(np.sum(m.c2[on] * r.pg[on] ** 2 + m.c1[on] * r.pg[on] + m.c0[on]))
    assert r.objective == pytest.approx(cost, rel=1e-6)


def test_relabel_keeps_the_physics(net):
    v = Variant(net, ["line:3"], Perturbation(relabel=True, seed=5))
    plain = Variant(net, ["line:3"])
    assert reference(v).objective == pytest.approx(reference(plain).objective, rel=1e-9)
    rl = v.relabelling
    # a permutation within each table: every name maps to a name of the same table
    assert sorted(rl.to_prompt) == sorted(rl.to_prompt.values())
    assert all(a.split(":")[0] == b.split(":")[0] for a, b in rl.to_prompt.items())
    assert sum(a != b for a, b in rl.to_prompt.items()) > len(rl.to_prompt) // 2
    # answers round-trip through the prompt's names
    ans = reference(plain).answer
    assert rl.answer_to_canonical(rl.answer_to_prompt(ans)) == ans


@pytest.mark.parametrize("kw", [{"load_scale": 0}, {"load_noise": 1.0}, {"cost_noise": -0.1},
                                {"load_scale": float("nan")}, {"seed": -1}])
def test_bad_perturbations_are_one_line(kw):
    with pytest.raises(PerturbationError):
        Perturbation(**kw)
