"""LoRA adapters on the local model: refused in one line unless they fit, part of the model's
identity, and really applied by llama.cpp (scale 0 is the base model, scale 1 is not)."""

from __future__ import annotations

import numpy as np
import pytest

from n1studio.cli import main
from n1studio.curate.study import settings_key
from n1studio.errors import ModelError
from n1studio.llm import statecache
from n1studio.llm.lora import check_adapter
from n1studio.llm.runtime import ModelSettings, validate_settings


def test_an_adapter_for_this_model_is_accepted_and_named_by_its_hash(tiny_lora, default_model):
    a = check_adapter(tiny_lora, default_model)
    assert (a.rank, a.n_weights, a.architecture) == (1, 3, "gemma3")
    s = validate_settings(ModelSettings(lora_path=str(tiny_lora), lora_scale=0.5))
    assert s.lora_sha256 == a.sha256 and len(a.sha256) == 64
    assert s.label.endswith(".gguf + tiny-lora.gguf ×0.5")


def _not_gguf(tmp, base, write):
    path = tmp / "x.gguf"
    path.write_bytes(b"not a gguf at all")
    return path


def _weight_of_another_model(tmp, base, write):
    # a weight of a bigger Gemma 3 (this one has 18 layers)
    return write(tmp / "other.gguf", base, ("blk.40.attn_q.weight",),
                 shapes_from="blk.0.attn_q.weight")


@pytest.mark.parametrize("make, says", [
    (lambda tmp, base, write: base, "is not a LoRA adapter ("),
    (_not_gguf, "not a GGUF"),
    (lambda tmp, base, write: write(tmp / "llama.gguf", base, arch="llama"),
     "is a LoRA adapter for llama, but the model"),
    (lambda tmp, base, write: write(tmp / "model.gguf", base, general_type="model"),
     "is not a LoRA adapter (its general.type is 'model'"),
    (_weight_of_another_model, "adapts blk.40.attn_q.weight, which"),
])
def test_a_file_that_is_not_an_adapter_for_this_base_is_one_line_exit_2(
        tmp_path, default_model, make_lora, capsys, make, says):
    path = make(tmp_path, default_model, make_lora)
    with pytest.raises(ModelError) as err:
        validate_settings(ModelSettings(lora_path=str(path)))
    line = str(err.value)
    assert "\n" not in line and says in line
    code = main(["likelihood", "case14", "--out", "line:3", "--lora", str(path)])
    out = capsys.readouterr()
    assert code == 2 and out.out == ""
    assert out.err.count("\n") == 1 and out.err.startswith("n1studio: error: ")


def test_adapter_and_scale_are_part_of_the_model_identity(tiny_lora):
    plain = ModelSettings().resolved().to_dict()
    assert not any(k.startswith("lora") for k in plain)  # plain runs keep their old keys
    one = validate_settings(ModelSettings(lora_path=str(tiny_lora))).to_dict()
    half = validate_settings(ModelSettings(lora_path=str(tiny_lora), lora_scale=0.5)).to_dict()
    assert one["lora_sha256"] and one["lora_scale"] == 1.0
    assert len({settings_key(plain), settings_key(one), settings_key(half)}) == 3
    # the prompt state kept on disk never serves another adapter or scale
    keys = {statecache.model_key(d, "x") for d in (plain, one, half)}
    assert len(keys) == 3


def _first_logits(settings: ModelSettings, prompt: str, n: int = 6):
    from n1studio.llm.engine import Engine

    engine = Engine(settings.to_dict(), n_ctx=256)
    try:
        engine.prefill(engine.tokenize(prompt, bos=True), lambda: False, lambda ev: None)
        logits = np.array(engine.logits())
        tokens = []
        for _ in range(n):  # greedy continuation
            tok = int(np.argmax(engine.logits()))
            tokens.append(tok)
            engine.llama.eval([tok])
        return logits, tokens
    finally:
        engine.llama.close()


def test_scale_0_is_the_base_model_and_scale_1_changes_the_logits(tiny_lora):
    prompt = "The optimal power flow of a grid with 14 buses gives"
    base = validate_settings(ModelSettings(n_threads=1))
    lg0, tok0 = _first_logits(base, prompt)
    lg_off, tok_off = _first_logits(validate_settings(
        ModelSettings(n_threads=1, lora_path=str(tiny_lora), lora_scale=0.0)), prompt)
    lg_on, _ = _first_logits(validate_settings(
        ModelSettings(n_threads=1, lora_path=str(tiny_lora), lora_scale=1.0)), prompt)
    assert tok_off == tok0
    assert np.max(np.abs(lg_off - lg0)) < 1e-3
    assert np.max(np.abs(lg_on - lg0)) > 0.05


def test_eval_with_an_adapter_is_a_model_of_its_own_with_its_likelihood(tiny_lora, tmp_path,
                                                                          capsys):
    import json

    from n1studio.curate.study import Study

    st = tmp_path / "s.n1study"
    assert main(["dataset", "build", "case9", "--study", str(st), "--sample", "1", "--seed",
                 "1", "--no-islanding", "--name", "tiny"]) == 0
    assert main(["eval", "--study", str(st), "--lora", str(tiny_lora), "--lora-scale", "0.5",
                 "--likelihood", "--limit", "1"]) == 0
    capsys.readouterr()
    with Study.open(st) as study:
        runs = study.runs()
    assert len(runs) == 1
    run = runs[0]
    assert run["model"].endswith(".gguf + tiny-lora.gguf ×0.5")
    assert "+lora:" in run["model_sha256"] and run["model_sha256"].endswith("@0.5")
    stats = run["stats"] if isinstance(run["stats"], dict) else json.loads(run["stats"])
    lk = stats["likelihood"]
    assert lk["n_tokens_n"] > 50 and lk["ll_n"] < 0
    assert lk["delta_ll"] == 0.0  # the N case: its own answer is the N answer


def test_the_model_panel_adds_an_adapter_to_the_local_model(qtbot, tiny_lora):
    from n1studio.app.panels.model import ModelPanel

    panel = ModelPanel()
    qtbot.addWidget(panel)
    assert panel.values()["lora_path"] is None and not panel.lora_scale.isEnabled()
    panel.set_adapter(str(tiny_lora))
    panel.lora_scale.setValue(0.5)
    assert panel.adapter.text() == "tiny-lora.gguf"
    s = validate_settings(ModelSettings.from_values(panel.values()))
    assert s.lora_scale == 0.5 and s.lora_sha256 == check_adapter(tiny_lora, s.model_path).sha256
    panel.set_adapter("")
    assert ModelSettings.from_values(panel.values()).lora_path is None
