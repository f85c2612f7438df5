"""What the app shows about prompts: the prompt tab holds exactly `n1studio prompt`'s text,
and the study panel says when a dataset's stored prompts are older than the renderer."""

from __future__ import annotations

import pytest

from n1studio.cli import main

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support")

CASE, OUTAGE = "pglib_opf_case14_ieee", "line:6"


def test_prompt_tab_shows_what_the_cli_prints(window, qtbot, open_case, capsys):
    assert main(["prompt", CASE, "--out", OUTAGE]) == 0
    cli = capsys.readouterr().out
    open_case(window, CASE)
    window.take_out(OUTAGE)
    assert window.session.current.outages == (OUTAGE,)
    tab = window.model_panel.prompt
    qtbot.waitUntil(lambda: tab.toPlainText().startswith("Task:")
                    and f"Out of service: {OUTAGE}" in tab.toPlainText(), timeout=60_000)
    assert tab.toPlainText() == cli


def test_study_panel_says_which_dataset_has_stale_prompts(qtbot, tmp_path):
    from n1studio.app.curate.study import StudyPanel
    from n1studio.curate.study import Study
    from n1studio.grid.cases import load_case
    from n1studio.grid.variant import Variant
    from n1studio.llm.prompt import render_prompt

    net = load_case(CASE)
    with Study.open(tmp_path / "s.n1study", create=True) as st:
        gid = st.add_grid(net, CASE)
        good = render_prompt(Variant(net, [OUTAGE])).text
        # as the old renderer wrote pglib case14's 160 MVA branch 3-4: `16`
        old = good.replace(" 0.0128 160 ", " 0.0128 16 ")
        assert old != good
        vid = st.add_variant(gid, [OUTAGE])
        st.create_dataset("fresh", {}, [{"variant_id": vid, "split": "N-1", "prompt": good}])
        st.create_dataset("old", {}, [{"variant_id": vid, "split": "N-1", "prompt": old}])
        info, runs = st.info(), st.runs()
    panel = StudyPanel()
    qtbot.addWidget(panel)
    panel.set_data(info, runs)
    assert not panel.stale.isHidden()
    lines = panel.stale.text().splitlines()
    assert len(lines) == 1 and "'old': 1 of 1 stored prompts differ" in lines[0]
    with Study.open(tmp_path / "s.n1study") as st:
        from n1studio.curate.dataset import reprompt_dataset

        reprompt_dataset(st, st.dataset_id("old"))
        info = st.info()
    panel.set_data(info, runs)
    assert panel.stale.isHidden() and panel.stale.text() == ""
