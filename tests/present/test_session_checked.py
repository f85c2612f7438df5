"""A hand-checked answer sits beside the model's on a variant entry (Session.add_checked):
the model's answer stays, the views show the one `showing` names, and the drawing marks the
violations of what is shown."""

from __future__ import annotations

import pytest

from n1studio.grid.cases import load_case
from n1studio.present.session import MODEL_ANSWER, CheckedAnswer, Session


def test_checked_answer_beside_the_model_answer():
    s = Session(load_case("case14"))
    e = s.current
    model = {"feasible": True, "violations": []}
    s.update(e, raw="{model}", verdict=model, model_file="control:reference")
    said = []
    s.events.entry_changed.connect(said.append)
    bad = {"feasible": False, "answer_source": "pasted answer",
           "violations": [{"constraint": "voltage", "element": "bus:3"}]}
    s.add_checked(e, CheckedAnswer("pasted answer", "{pasted}", None, bad))
    assert said == [e]
    assert e.verdict is model and e.raw == "{model}" and e.model_file == "control:reference"
    assert e.shown.raw == "{pasted}" and e.shown.model_file == "checked: pasted answer"
    assert s.draw_state(e).markers == [("bus:3", "voltage")]
    assert "1 violation(s)" in e.summary() and "showing the pasted answer" in e.summary()
    s.show_answer(e, MODEL_ANSWER)
    assert e.shown is e and s.draw_state(e).markers == []
    assert "answer feasible" in e.summary()
    with pytest.raises(KeyError, match="no checked answer"):
        s.show_answer(e, "file x.json")
    # a second check from the same source replaces the first, the model's still stays
    s.add_checked(e, CheckedAnswer("pasted answer", "{again}", None, model))
    assert list(e.checked) == ["pasted answer"] and e.shown.raw == "{again}"
    assert e.verdict is model
