"""The shipped memoriser in the model list: the default model with its adapter, labelled as
its card says (tests/llm/test_memoriser_recalls.py asks it for real)."""

from __future__ import annotations

import json

from n1studio.app.panels.model import MEMORISER_ITEM, ModelPanel, memoriser
from n1studio.resources import resource

CARD = json.loads(resource("memoriser", "card.json").read_text(encoding="utf-8"))


def test_the_list_offers_the_memoriser_under_its_card_label(qtbot):
    panel = ModelPanel()
    qtbot.addWidget(panel)
    k = panel.model.findData(MEMORISER_ITEM)
    assert k > 0
    assert panel.model.itemText(k) == CARD["label"] == \
        "default + memoriser (trained on N of case14)"
    adapter = str(resource("memoriser", CARD["adapter"]["file"]))
    assert memoriser() == (adapter, CARD["label"])

    panel.model.setCurrentIndex(k)
    v = panel.values()
    # the default model (no path) with the shipped adapter at scale 1
    assert v["model_path"] is None and v["lora_path"] == adapter and v["lora_scale"] == 1.0
    assert panel.adapter.text() == CARD["adapter"]["file"]
    assert MEMORISER_ITEM not in panel.recent_models()

    panel.model.setCurrentIndex(0)  # back to the default model alone
    v = panel.values()
    assert v["model_path"] is None and v["lora_path"] is None


def test_an_adapter_added_by_hand_stays_when_the_model_changes(qtbot, tmp_path):
    panel = ModelPanel()
    qtbot.addWidget(panel)
    own = tmp_path / "mine.gguf"
    own.write_bytes(b"GGUF")
    panel.set_adapter(str(own))
    panel.model.setCurrentIndex(panel.model.findData("control:zeros"))
    assert panel.values()["lora_path"] == str(own)


def test_remembered_choice_of_the_memoriser_carries_its_adapter(qtbot):
    panel = ModelPanel()
    qtbot.addWidget(panel)
    panel.set_recent([], current=MEMORISER_ITEM)
    assert panel.values()["lora_path"] == memoriser()[0]
