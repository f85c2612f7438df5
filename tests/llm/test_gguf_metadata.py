"""Hostile GGUF metadata (issue 19): arrays nested thousands deep and a `general.alignment`
that is a string, a NaN or not a power of two are refused in one line (exit 2), not a
RecursionError or ValueError (exit 3). The files are written here, byte by byte, in the
layout of the GGUF specification (v3: magic, version, tensor count, key count, keys)."""

from __future__ import annotations

import math
import struct

import pytest

from n1studio.cli import main
from n1studio.errors import ModelError
from n1studio.llm.gguf import MAX_NESTING, inspect_gguf

U32, I32, F32, STRING, ARRAY, F64 = 4, 5, 6, 8, 9, 12


def _str(text: str) -> bytes:
    b = text.encode()
    return struct.pack("<Q", len(b)) + b


def _kv(key: str, vtype: int, payload: bytes) -> bytes:
    return _str(key) + struct.pack("<I", vtype) + payload


def _gguf(*kvs: bytes, tensor: bool = False) -> bytes:
    """A GGUF v3 file with these metadata entries and, optionally, the description of one
    4x4 F32 tensor (its data is the caller's); without one, padded to the default 32 bytes."""
    head = b"GGUF" + struct.pack("<IQQ", 3, 1 if tensor else 0, 1 + len(kvs))
    body = _kv("general.architecture", STRING, _str("llama")) + b"".join(kvs)
    if not tensor:
        return head + body + bytes(-len(head + body) % 32)
    info = _str("w") + struct.pack("<I", 2) + struct.pack("<QQ", 4, 4) + struct.pack("<IQ", 0, 0)
    return head + body + info


def _nested(depth: int) -> bytes:
    """An array holding an array holding ... (depth levels) one uint32."""
    payload = struct.pack("<IQI", U32, 1, 7)
    for _ in range(depth - 1):
        payload = struct.pack("<IQ", ARRAY, 1) + payload
    return payload


def _refused(tmp_path, data: bytes) -> str:
    path = tmp_path / "hostile.gguf"
    path.write_bytes(data)
    with pytest.raises(ModelError) as err:
        inspect_gguf(path)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith("hostile.gguf: ")
    return msg


def test_arrays_nested_5000_deep_are_refused_not_a_recursion_error(tmp_path):
    msg = _refused(tmp_path, _gguf(_kv("tokenizer.deep", ARRAY, _nested(5000))))
    assert f"metadata key 'tokenizer.deep' nests arrays more than {MAX_NESTING} deep" in msg
    assert "header is corrupt" in msg


def test_arrays_nested_as_real_files_do_are_read(tmp_path):
    path = tmp_path / "fine.gguf"
    path.write_bytes(_gguf(_kv("tokenizer.pairs", ARRAY, _nested(3))))
    info = inspect_gguf(path)
    assert info.architecture == "llama" and info.n_tensors == 0


@pytest.mark.parametrize(("vtype", "payload", "shown"), [
    (STRING, _str("thirty-two"), "general.alignment is 'thirty-two', not a whole number"),
    (F32, struct.pack("<f", math.nan), "general.alignment is nan, not a whole number"),
    (F64, struct.pack("<d", 32.0), "general.alignment is 32.0, not a whole number"),
    (U32, struct.pack("<I", 0), "general.alignment is 0; it must be a power of two"),
    (U32, struct.pack("<I", 24), "general.alignment is 24; it must be a power of two"),
    (I32, struct.pack("<i", -32), "general.alignment is -32; it must be a power of two"),
])
def test_alignment_that_cannot_place_the_data_is_refused(tmp_path, vtype, payload, shown):
    msg = _refused(tmp_path, _gguf(_kv("general.alignment", vtype, payload)))
    assert shown in msg


def test_a_valid_alignment_places_the_tensor_data(tmp_path):
    data = _gguf(_kv("general.alignment", U32, struct.pack("<I", 64)), tensor=True)
    start = -(-len(data) // 64) * 64
    path = tmp_path / "aligned.gguf"
    path.write_bytes(data + bytes(start - len(data)) + bytes(4 * 4 * 4))
    info = inspect_gguf(path)
    assert info.data_start == start and info.data_start % 64 == 0
    assert info.data_end == start + 64 == info.file_size


def test_a_damaged_context_length_is_no_context_length(tmp_path):
    path = tmp_path / "ctx.gguf"
    path.write_bytes(_gguf(_kv("llama.context_length", STRING, _str("4k"))))
    assert inspect_gguf(path).context_length is None


@pytest.mark.parametrize("data", [
    _gguf(_kv("tokenizer.deep", ARRAY, _nested(5000))),
    _gguf(_kv("general.alignment", STRING, _str("32"))),
    _gguf(_kv("general.alignment", F32, struct.pack("<f", math.nan))),
], ids=["nested-5000", "alignment-string", "alignment-nan"])
def test_ask_refuses_the_model_in_one_line_with_exit_2(tmp_path, capsys, data):
    path = tmp_path / "hostile.gguf"
    path.write_bytes(data)
    code = main(["ask", "case14", "--model", str(path), "--json"])
    cap = capsys.readouterr()
    assert code == 2 and cap.out == ""
    assert cap.err.strip().count("\n") == 0 and "hostile.gguf" in cap.err
    assert "Traceback" not in cap.err and "internal error" not in cap.err
