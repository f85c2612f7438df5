"""Tolerances: documented defaults, overrides, and their effect on the verdict."""

from __future__ import annotations

import pytest

from n1studio.check import Tolerances, check_answer
from n1studio.errors import N1Error
from tests.check.conftest import model_of, runopp_answer


def test_overrides_from_cli_strings():
    tol = Tolerances().with_overrides(["p_mw=0.5", "vm_pu = 1e-3"])
    assert (tol.p_mw, tol.vm_pu, tol.q_mvar) == (0.5, 1e-3, Tolerances().q_mvar)


@pytest.mark.parametrize("bad", ["p_mw", "nope=1", "p_mw=abc", "p_mw=-1", "p_mw=inf", "p_mw=nan"])
def test_bad_overrides_are_user_errors(bad):
    with pytest.raises(N1Error):
        Tolerances().with_overrides([bad])


def test_every_default_is_documented_in_the_module():
    import dataclasses

    from n1studio.check import tolerances

    for f in dataclasses.fields(Tolerances):
        assert f"\n{f.name} " in tolerances.__doc__, f.name


def test_a_looser_voltage_tolerance_accepts_a_small_excursion():
    answer = runopp_answer("case14")
    bus = next(b for b in answer["buses"] if b["element"] == "bus:4")
    model = model_of("case14")
    bus["vm_pu"] = float(model.vmax[4]) + 0.005
    strict = check_answer(model, answer, tolerances=Tolerances(p_mw=1e4, q_mvar=1e4))
    loose = check_answer(model, answer, tolerances=Tolerances(p_mw=1e4, q_mvar=1e4, vm_pu=0.01))
    assert [v["element"] for v in strict["violations"]] == ["bus:4"]
    assert loose["feasible"] is True
    assert loose["tolerances"]["vm_pu"] == 0.01
