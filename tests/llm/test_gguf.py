"""GGUF files are checked before llama.cpp sees them: bad files give one clear line."""

from __future__ import annotations

import struct

import pytest

from n1studio.errors import ModelError
from n1studio.llm.gguf import inspect_gguf
from n1studio.llm.runtime import ModelSettings, validate_settings


def test_default_model_header(default_model):
    info = inspect_gguf(default_model)
    assert info.version == 3
    assert info.architecture == "gemma3"
    assert info.context_length == 32768
    assert info.data_end == info.file_size  # every tensor byte is there


def test_not_a_gguf_file(tmp_path):
    bad = tmp_path / "model.gguf"
    bad.write_text("this is a text file, not a model\n")
    with pytest.raises(ModelError, match="not a GGUF model file"):
        validate_settings(ModelSettings(model_path=str(bad)))


def test_missing_file(tmp_path):
    with pytest.raises(ModelError, match="model file not found"):
        validate_settings(ModelSettings(model_path=str(tmp_path / "nope.gguf")))


def test_unsupported_version(tmp_path):
    bad = tmp_path / "future.gguf"
    bad.write_bytes(b"GGUF" + struct.pack("<IQQ", 99, 0, 0))
    with pytest.raises(ModelError, match="GGUF version 99 is not supported"):
        inspect_gguf(bad)


@pytest.mark.parametrize("keep_bytes", [4096, 120_000_000])
def test_truncated_gguf(default_model, tmp_path, keep_bytes):
    """Cut in the header (4 kB) or in the tensor data (120 MB of 253 MB): refused, said why."""
    cut = tmp_path / "cut.gguf"
    with open(default_model, "rb") as src, open(cut, "wb") as dst:
        dst.write(src.read(keep_bytes))
    with pytest.raises(ModelError, match="truncated GGUF file") as exc:
        validate_settings(ModelSettings(model_path=str(cut)))
    assert "\n" not in str(exc.value)
