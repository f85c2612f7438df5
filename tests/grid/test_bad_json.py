"""A .json file that is not a pandapower network says what is wrong with it in words: never
an exception's class name (AttributeError, UnicodeDecodeError) or a decoder's message."""

from __future__ import annotations

import pytest

from n1studio.errors import CaseError
from n1studio.grid.cases import load_case

CASES = [
    (b"\xff\xfe\x00garbage", "bin.json", "is not a text file in UTF-8 (byte 0xff at position 0)"),
    (b"[1, 2, 3]", "list.json", "holds a list, not a pandapower network"),
    (b'{"a": 1', "cut.json", "is not valid JSON: expecting ',' delimiter at line 1, column 8 "
                             "(the file may be cut short)"),
    (b'{"buses": [], "lines": []}', "other.json",
     "is JSON but not a pandapower network: it has no bus table (its keys: buses, lines)"),
    (b"  \n", "empty.json", "is empty"),
    (b'"case14"', "string.json", "holds a string, not a pandapower network"),
]


@pytest.mark.parametrize(("data", "name", "words"), CASES, ids=[c[1] for c in CASES])
def test_bad_json_says_what_is_wrong(tmp_path, data, name, words):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(CaseError) as info:
        load_case(path)
    msg = str(info.value)
    assert msg == f"{name}: {words}" or msg.startswith(f"{name}: {words}")
    assert "Error" not in msg and "\n" not in msg
