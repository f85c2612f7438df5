"""Corrupt GGUF headers say what is wrong; a file cut short still says "truncated".

The inputs are real: the first megabyte of the default model (its header starts there),
with one header field overwritten as a damaged download or a bad disk would.
"""

from __future__ import annotations

import struct

import pytest

from n1studio.errors import ModelError
from n1studio.llm.gguf import inspect_gguf

FRAGMENT = 1 << 20


@pytest.fixture(scope="module")
def head(default_model) -> bytes:
    with open(default_model, "rb") as fh:
        return fh.read(FRAGMENT)


def _write(tmp_path, data: bytes, name: str = "broken.gguf"):
    p = tmp_path / name
    p.write_bytes(data)
    return p


def _patched(head: bytes, offset: int, fmt: str, value: int) -> bytes:
    b = bytearray(head)
    struct.pack_into("<" + fmt, b, offset, value)
    return bytes(b)


def test_fragment_of_a_real_model_is_truncated(head, tmp_path):
    with pytest.raises(ModelError, match=r"truncated GGUF file .* download or copy it again"):
        inspect_gguf(_write(tmp_path, head))


@pytest.mark.parametrize(("offset", "value", "says"), [
    (8, 10**12, ("the header claims 10^12 tensors (real models have a few thousand); "
                "not a valid GGUF file (its header is corrupt)")),
    (8, 2**40 + 236, "the header claims about 10^12 tensors"),
    (16, 500_000, ("the header claims 500,000 metadata keys (real models have a few dozen); "
                  "not a valid GGUF file")),
    (16, 2**63, "the header claims about 10^18 metadata keys"),
])
def test_absurd_counts_are_named(head, tmp_path, offset, value, says):
    with pytest.raises(ModelError) as err:
        inspect_gguf(_write(tmp_path, _patched(head, offset, "Q", value)))
    msg = str(err.value)
    assert says in msg
    assert "truncated" not in msg and "download" not in msg


def test_count_the_file_cannot_hold_says_both_possibilities(head, tmp_path):
    with pytest.raises(ModelError, match=r"claims 100,000 tensors, more than a 1,048,576-byte "
                                         r"file can describe: the header is corrupt or the file "
                                         r"was cut short"):
        inspect_gguf(_write(tmp_path, _patched(head, 8, "Q", 100_000)))


def test_absurd_string_length_is_named(head, tmp_path):
    # the first metadata key's name length (right after magic, version and the two counts)
    with pytest.raises(ModelError, match=r"a metadata key name at byte 24 claims about 10\^15 "
                                         r"bytes, more than the whole file .* not a valid GGUF"):
        inspect_gguf(_write(tmp_path, _patched(head, 24, "Q", 2**50)))


def test_unknown_value_type_is_named(head, tmp_path):
    n = struct.unpack_from("<Q", head, 24)[0]  # the first key: its name, then its value type
    key = head[32:32 + n].decode()
    with pytest.raises(ModelError, match=rf"metadata key '{key}' has unknown value type 77"):
        inspect_gguf(_write(tmp_path, _patched(head, 32 + n, "I", 77)))
