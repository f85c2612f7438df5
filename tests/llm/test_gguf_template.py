"""A GGUF whose embedded chat template is broken Jinja still answers: N-1 Studio never uses
chat templates, so it never compiles them.

The input is real: a copy of the default model with a `tokenizer.chat_template` key added
to its header (the tensor data moved to the new aligned offset, byte for byte).
"""

from __future__ import annotations

import struct
from pathlib import Path

import jinja2
import pytest

from n1studio.llm.client import ModelClient
from n1studio.llm.gguf import inspect_gguf
from n1studio.llm.runtime import FREE, ModelSettings

pytestmark = pytest.mark.slow  # the real model on the CPU

BROKEN = "{% for message in messages %}{{ message['content'] }}{% endfor"  # unclosed tag
PROMPT = "The three largest cities of France are"


def with_metadata_string(src: Path, dst: Path, key: str, value: str) -> None:
    """Copy a GGUF file, adding one string key to its metadata."""
    info = inspect_gguf(src)
    align = int(info.metadata.get("general.alignment", 32) or 32)
    with open(src, "rb") as fh:
        head = fh.read(info.header_size)
        fh.seek(info.data_start)
        k, v = key.encode(), value.encode()
        kv = struct.pack("<Q", len(k)) + k + struct.pack("<IQ", 8, len(v)) + v
        n_tensors, n_kv = struct.unpack_from("<QQ", head, 8)
        new_head = head[:8] + struct.pack("<QQ", n_tensors, n_kv + 1) + kv + head[24:]
        pad = -len(new_head) % align
        with open(dst, "wb") as out:
            out.write(new_head + bytes(pad))
            while block := fh.read(1 << 22):
                out.write(block)


@pytest.fixture(scope="module")
def broken_template_model(default_model, tmp_path_factory) -> Path:
    dst = tmp_path_factory.mktemp("gguf") / "broken-template.gguf"
    with_metadata_string(Path(default_model), dst, "tokenizer.chat_template", BROKEN)
    return dst


def test_the_input_really_is_broken(broken_template_model):
    with pytest.raises(jinja2.TemplateSyntaxError):
        jinja2.Environment().from_string(BROKEN)
    # llama-cpp-python on its own compiles the template while loading, and fails
    from llama_cpp import Llama

    with pytest.raises(jinja2.TemplateSyntaxError):
        Llama(model_path=str(broken_template_model), vocab_only=True, verbose=False)
    info = inspect_gguf(broken_template_model)
    assert info.data_end == info.file_size  # a complete, valid GGUF apart from the template


def test_model_with_broken_template_answers_like_the_original(default_model,
                                                              broken_template_model):
    answers = []
    for path in (default_model, broken_template_model):
        with ModelClient(ModelSettings(model_path=str(path), mode=FREE)) as c:
            res = c.complete(PROMPT, max_tokens=8)
        assert not res.cancelled
        answers.append(res.raw)
    assert answers[0].strip()
    assert answers[1] == answers[0]  # same weights, greedy: the same words
