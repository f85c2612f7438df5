"""The likelihood probe in the window: the model panel's checkbox asks for it, the verdict
panel says which answer the model prefers and by how much."""

from __future__ import annotations

from n1studio import pipeline
from n1studio.app.panels.verdict import VerdictPanel
from n1studio.app.window.ask import ask_job
from n1studio.grid.cases import load_case
from n1studio.grid.variant import Variant
from n1studio.llm.ask import close_shared_client


def test_verdict_panel_says_which_answer_the_model_prefers(qtbot):
    panel = VerdictPanel()
    qtbot.addWidget(panel)
    verdict = {"feasible": False, "violations": [], "satisfaction": {},
               "overall_satisfaction": 0.5, "likelihood": {"delta_ll": 0.25}}
    panel.show_verdict(verdict)
    assert "the model prefers the N answer by 0.250 nats per token" in panel.cost.text()
    panel.show_verdict({**verdict, "likelihood": {"delta_ll": -0.1}})
    assert "prefers the variant's own answer by 0.100 nats per token" in panel.cost.text()


def test_ask_with_the_probe_puts_the_likelihood_in_the_verdict():
    v = Variant(load_case("case9"), ["line:3"])
    values = {"model_path": None, "mode": "constrained", "likelihood": True}
    try:
        asked = ask_job(v, values)
    finally:
        close_shared_client()
    lk = asked.verdict["likelihood"]
    assert lk["ll_n"] < 0 and lk["ll_own"] < 0 and lk["n_tokens_n"] > 50
    assert abs(lk["delta_ll"] - (lk["ll_n"] - lk["ll_own"])) < 1e-5
    assert pipeline.render(v).text == asked.prompt
