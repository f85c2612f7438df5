"""The prompt: every element with its real data, shared part first, variant last."""

from __future__ import annotations

import json
import random
import re

import numpy as np
import pytest

from n1studio.check.evaluate import prepare
from n1studio.errors import ModelError
from n1studio.grid.cases import load_case
from n1studio.grid.variant import Variant
from n1studio.llm.prompt import default_template, render_prompt
from n1studio.llm.scaffold import NumberState, answer_plan, max_number_tokens


def _row(text: str, name: str) -> list[str]:
    m = re.search(rf"^{re.escape(name)} (.*)$", text, re.MULTILINE)
    assert m, f"{name} not in the prompt"
    return m.group(1).split()


def test_pglib_case14_numbers_in_the_prompt(pglib):
    """Branch impedances, ratings, angle limits and costs as the MATPOWER file gives them."""
    net = load_case(str(pglib("case14_ieee")))
    text = render_prompt(Variant(net)).text
    # branch 1-2 of pglib case14: r 0.01938, x 0.05917, b 0.0528, rateA 472, angle +-30 deg
    _, _, r, x, b, rate, amin, amax = _row(text, "line:0")[:8]
    assert (float(r), float(x), float(b), float(rate)) == (0.01938, 0.05917, 0.0528, 472)
    assert (float(amin), float(amax)) == (-30, 30)
    # transformer 4-7: x 0.20912, tap 0.978
    row = _row(text, "trafo:0")
    assert float(row[3]) == pytest.approx(0.20912) and "tap=0.978" in row
    # generator 1: Pmax 340 MW, cost 7.920951 $/MWh linear
    g = _row(text, "ext_grid:0")
    assert float(g[2]) == 340 and float(g[6]) == pytest.approx(7.921, abs=1e-3)
    # bus 3 (index 2) load 94.2 MW, 19 MVAr
    assert _row(text, "bus:3")[2:4] == ["94.2", "19"]


def test_shared_prefix_and_variant_tail(case14):
    a = render_prompt(Variant(case14, ["line:3"]))
    b = render_prompt(Variant(case14, ["trafo:1"]))
    n = render_prompt(Variant(case14))
    assert a.shared == b.shared == n.shared and len(a.shared) > 0.9 * len(a.text)
    assert "Out of service: line:3" in a.text[a.shared_chars:]
    assert "Out of service: none" in n.text[n.shared_chars:]
    for name in ("bus:13", "line:14", "trafo:4", "gen:3", "ext_grid:0"):
        assert re.search(rf"^{name} ", a.shared, re.MULTILINE)


def test_answer_elements_match_the_checker(case14):
    """The constrained answer names exactly what the checker requires, in model order."""
    for outs in ([], ["line:3"], ["gen:1"], ["bus:7"], ["line:6", "trafo:2"]):
        v = Variant(case14, outs)
        p = render_prompt(v)
        prep = prepare(v.model)
        assert p.buses == [v.model.bus_names[k] for k in np.flatnonzero(prep.required_bus)]
        assert p.generators == [v.model.gen_names[k] for k in np.flatnonzero(prep.required_gen)]
    v = Variant(case14, ["bus:7"])  # gen:3 sits on bus 7: cut off
    p = render_prompt(v)
    assert "gen:3" not in p.generators and "bus:7" not in p.buses


def test_islanded_variant_is_said(case14):
    p = render_prompt(Variant(case14, ["trafo:3"]))  # bus 7 hangs on trafo 3 only
    tail = p.text[p.shared_chars:]
    # bus 7's condenser (gen:3) has no load on its island: it is tripped with the outage
    assert "Out of service: gen:3, trafo:3" in tail
    assert "bus:7" not in p.buses and "gen:3" not in p.generators
    assert "Topology: 2 islands" in tail


def test_bad_template_is_one_clear_line(case14):
    with pytest.raises(ModelError, match="prompt template, line 1"):
        render_prompt(Variant(case14), "{% for x in %}")
    with pytest.raises(ModelError, match="cannot be rendered"):
        render_prompt(Variant(case14), "{{ no_such_variable }}")


def test_template_is_sandboxed(case14):
    """A template cannot reach Python internals (untrusted templates are rendered sandboxed)."""
    with pytest.raises(ModelError):
        render_prompt(Variant(case14), "{{ ''.__class__.__mro__[1].__subclasses__() }}")


def test_default_template_documents_the_format():
    src = default_template()
    for word in ("BUSES", "BRANCHES", "GENERATORS", "<<<VARIANT>>>", "n1studio.answer/1"):
        assert word in src


def test_plan_filled_with_numbers_is_a_valid_answer(case14):
    v = Variant(case14, ["line:3"])
    p = render_prompt(v)
    plan = answer_plan(p)
    rnd = random.Random(1)
    parts = []
    for seg in plan:
        if seg[0] == "t":
            parts.append(seg[1])
            continue
        st = NumberState(*seg[1:])
        while True:
            chars, can_end = st.allowed()
            if can_end and (not chars or rnd.random() < 0.3):
                break
            st.push(rnd.choice(chars))
        parts.append(st.text)
    doc = json.loads("".join(parts))
    assert doc["schema"] == "n1studio.answer/1"
    assert [g["element"] for g in doc["generators"]] == p.generators
    assert [b["element"] for b in doc["buses"]] == p.buses
    assert max_number_tokens(plan) >= sum(len(str(x)) for x in [0])


def test_number_state_writes_only_json_numbers():
    rnd = random.Random(7)
    for _ in range(2000):
        st = NumberState(rnd.random() < 0.5, rnd.randint(1, 5), rnd.randint(0, 4))
        while True:
            chars, can_end = st.allowed()
            assert chars or can_end
            if can_end and (not chars or rnd.random() < 0.25):
                break
            st.push(rnd.choice(chars))
        assert isinstance(json.loads(st.text), (int, float)), st.text
        assert float(st.text) == json.loads(st.text)
