"""What a perturbed or relabelled variant's prompt says equals the variant's grid.

The tables are read back with a parser of their own, the relabelled names are mapped back
through the variant's relabelling, and every load, cost and bus number is compared with the
perturbed model; nothing in a relabelled prompt may give a canonical name away.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from n1studio.grid.cases import load_case
from n1studio.grid.perturb import Perturbation
from n1studio.grid.variant import Variant, base_model
from n1studio.llm.prompt import render_prompt


def _table(text: str, title: str) -> list[list[str]]:
    block = text.split(f"\n{title} (", 1)[1].split("\n", 1)[1]
    rows = []
    for line in block.split("\n"):
        if not line.strip():
            break
        rows.append(line.split())
    return rows


@pytest.fixture(scope="module")
def net():
    return load_case("pglib_opf_case30_ieee")


@pytest.mark.parametrize("pert", [Perturbation(load_noise=0.1, seed=3),
                                  Perturbation(cost_noise=0.2, seed=3),
                                  Perturbation(load_scale=1.2, relabel=True, seed=9)])
def test_tables_carry_the_perturbed_numbers_under_the_prompt_names(net, pert):
    _read_back(net, pert, ["line:5"])


BUNDLED = sorted(p.stem for p in (Path(__file__).resolve().parents[2] / "resources" / "pglib")
                 .glob("pglib_opf_*.m"))


@pytest.mark.parametrize("case", BUNDLED)
def test_every_bundled_case_reads_back_relabelled_and_perturbed(case):
    _read_back(load_case(case), Perturbation(load_noise=0.2, cost_noise=0.2, relabel=True,
                                             seed=5), ["line:1"])


def _read_back(net, pert, outages):
    v = Variant(net, outages, pert)
    text = render_prompt(v).text
    rl = v.relabelling
    back = (lambda n: rl.to_canonical[n]) if rl else (lambda n: n)
    m = pert.apply_to_model(base_model(net))  # the grid the tables describe
    bus_k = {n: k for k, n in enumerate(m.bus_names) if n}
    rows = _table(text, "BUSES")
    assert len(rows) == len(bus_k)
    for r in rows:
        k = bus_k[back(r[0])]
        assert float(r[3]) == pytest.approx(m.pd[k] * m.base_mva, abs=0.005)
        assert float(r[4]) == pytest.approx(m.qd[k] * m.base_mva, abs=0.005)
    gen_k = {n: k for k, n in enumerate(m.gen_names)}
    for r in _table(text, "GENERATORS"):
        k = gen_k[back(r[0])]
        assert back(f"bus:{r[1]}") == m.bus_names[m.gen_bus[k]]  # bus numbers relabelled too
        assert float(r[6]) == pytest.approx(m.c2[k], rel=1e-5, abs=1e-12)
        assert float(r[7]) == pytest.approx(m.c1[k], rel=1e-5)
    for r in _table(text, "BRANCHES"):
        name = back(r[0])
        k = m.branch_names.index(name)
        assert {back(f"bus:{r[1]}"), back(f"bus:{r[2]}")} == \
            {m.bus_names[m.f[k]], m.bus_names[m.t[k]]}


def test_a_relabelled_prompt_gives_no_canonical_name_away(net):
    pert = Perturbation(relabel=True, seed=9)
    v = Variant(net, ["line:5"], pert)
    p = render_prompt(v)
    tail = p.text[p.shared_chars:]
    out = v.relabelling.name("line:5")
    assert out != "line:5"
    assert f"Out of service: {out}" in tail and "relabel" not in p.text
    # the answer lists exactly the variant's elements, in the prompt's names and row order
    rows = [r[0] for r in _table(p.text, "BUSES")]
    assert p.buses == [n for n in rows if n in set(p.buses)]
    assert sorted(v.relabelling.to_canonical[n] for n in p.generators) == sorted(
        render_prompt(Variant(net, ["line:5"])).generators)
    # rows are shuffled: the bus table is not in numeric order
    numbers = [int(re.sub(r"\D", "", n)) for n in rows]
    assert numbers != sorted(numbers)


def test_variants_of_one_perturbation_share_the_prompt_prefix(net):
    pert = Perturbation(load_noise=0.1, seed=3)
    a = render_prompt(Variant(net, ["line:5"], pert))
    b = render_prompt(Variant(net, ["line:7"], pert))
    assert a.shared == b.shared  # the model's prefix cache serves every N-1 of the family
    assert a.shared != render_prompt(Variant(net, ["line:5"])).shared
    assert np.isclose(float(a.shared.split("total load ")[1].split(" MW")[0]),
                      float(pert.apply_to_model(base_model(net)).pd.sum()
                            * base_model(net).base_mva), atol=0.01)


def test_the_worked_example_is_the_solved_n_case_in_the_shared_part(net):
    """--example n: the N reference, read back from the prompt, equals the solver's N
    answer at the written precision, and every variant of the grid shares it."""
    import json

    from n1studio import pipeline
    from n1studio.solve.reference import reference

    a = pipeline.render(Variant(net, ["line:5"]), example=True)
    b = pipeline.render(Variant(net, ["line:7"]), example=True)
    assert a.shared == b.shared and "Worked example" in a.shared
    line = a.shared.split("Worked example")[1].split("\n")[1]
    shown = json.loads(line)
    n = reference(Variant(net)).answer
    assert [g["element"] for g in shown["generators"]] == [g["element"] for g in n["generators"]]
    for s, r in zip(shown["generators"], n["generators"], strict=True):
        assert s["p_mw"] == pytest.approx(r["p_mw"], abs=0.005)
        assert s["q_mvar"] == pytest.approx(r["q_mvar"], abs=0.005)
    for s, r in zip(shown["buses"], n["buses"], strict=True):
        assert s["vm_pu"] == pytest.approx(r["vm_pu"], abs=5e-5)
        assert s["va_degree"] == pytest.approx(r["va_degree"], abs=0.005)
    assert "Worked example" not in pipeline.render(Variant(net, ["line:5"])).text
