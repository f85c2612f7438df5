"""Checks a GGUF file before llama.cpp sees it, so bad files give one clear line.

llama.cpp refuses a bad file with a generic "failed to load model"; reading the header
ourselves tells the user *what* is wrong: not a GGUF file, an unsupported version, or a
file cut short (an interrupted download or copy). The header layout is GGUF v2/v3:
magic "GGUF", version u32, tensor count u64, metadata count u64, the metadata
key/values, the tensor infos, then the tensor data aligned to `general.alignment`.
"""

from __future__ import annotations

import functools
import logging
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

from n1studio.errors import ModelError

log = logging.getLogger(__name__)

MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)

# GGUF metadata value types -> struct format of a scalar (strings and arrays are special)
_SCALAR = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q",
           12: "d"}
_STRING, _ARRAY = 8, 9

# ggml tensor types: (block size in elements, bytes per block). Unknown types are
# tolerated (the size check then only uses the tensor's offset).
_GGML_TYPE_SIZE = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
    9: (32, 36), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176),
    14: (256, 210), 15: (256, 292), 16: (256, 66), 17: (256, 74), 18: (256, 98),
    19: (256, 50), 20: (32, 18), 21: (256, 110), 22: (256, 82), 23: (256, 136), 24: (1, 1),
    25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8), 29: (256, 56), 30: (1, 2),
    34: (256, 54), 35: (256, 66), 39: (32, 17),
}

# What a real GGUF holds at most: the largest published models have a few thousand tensors
# and a few dozen metadata keys (a vocabulary is one array key). A header claiming more is
# corrupt, whatever the file's size, and is said so rather than read on until the file ends.
MAX_TENSORS = 1_000_000
MAX_KEYS = 100_000
MAX_DIMS = 8
MAX_ARRAY = 1 << 32  # values in one metadata array
MAX_TENSOR_ELEMENTS = 1 << 48
# Arrays of arrays nest this deep at most: real files nest one level (the tokenizer's
# merges, scores); 5,000 levels would exhaust Python's recursion before any other check.
MAX_NESTING = 16
# The fewest bytes one metadata key / one tensor description takes (length-prefixed name,
# type, smallest value; name, dimension count, type, offset).
_MIN_KV_BYTES, _MIN_TENSOR_BYTES = 8 + 4 + 1, 8 + 4 + 4 + 8

# Metadata keys worth keeping (the rest, e.g. the vocabulary, is skipped).
_KEEP = ("general.architecture", "general.name", "general.alignment", "general.file_type",
         "general.license", "general.size_label", "general.type", "adapter.type",
         "adapter.lora.alpha")


@dataclass
class GGUFInfo:
    """What the header says about a model file."""

    path: Path
    version: int
    n_tensors: int
    file_size: int
    data_end: int  # where the last tensor's data ends
    metadata: dict = field(default_factory=dict)
    header_size: int = 0  # bytes of magic, counts, metadata and tensor infos (before padding)
    data_start: int = 0  # where tensor data begins (header_size aligned up)
    shapes: dict = field(default_factory=dict)  # tensor name -> dimensions (GGUF order)

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", "?"))

    @property
    def context_length(self) -> int | None:
        v = self.metadata.get(f"{self.architecture}.context_length")
        # a damaged value (a string, a NaN, an array) is no context length
        return v if isinstance(v, int) and not isinstance(v, bool) and v > 0 else None

    @property
    def name(self) -> str:
        return str(self.metadata.get("general.name") or self.path.stem)


class _Reader:
    def __init__(self, fh, size: int, path: Path):
        self.fh, self.size, self.path = fh, size, path

    def read(self, n: int) -> bytes:
        b = self.fh.read(n)
        if len(b) != n:
            raise ModelError(f"{self.path.name}: truncated GGUF file (the header stops at byte "
                             f"{self.fh.tell()} of {self.size}); download or copy it again")
        return b

    def unpack(self, fmt: str):
        return struct.unpack("<" + fmt, self.read(struct.calcsize("<" + fmt)))[0]

    def corrupt(self, what: str) -> ModelError:
        return ModelError(f"{self.path.name}: {what}; not a valid GGUF file (its header is "
                          "corrupt)")

    def string(self, what: str = "a string") -> str:
        at = self.fh.tell()
        n = self.unpack("Q")
        if n > self.size:
            raise self.corrupt(f"{what} at byte {at:,} claims {_count(n)} bytes, more than the "
                               f"whole file ({self.size:,} bytes)")
        return self.read(n).decode("utf-8", errors="replace")

    def value(self, vtype: int, keep: bool, key: str = "?", depth: int = 0):
        if vtype in _SCALAR:
            return self.unpack(_SCALAR[vtype])
        if vtype == _STRING:
            return self.string(f"the value of {key!r}")
        if vtype == _ARRAY:
            if depth >= MAX_NESTING:
                raise self.corrupt(f"metadata key {key!r} nests arrays more than "
                                   f"{MAX_NESTING} deep")
            etype, n = self.unpack("I"), self.unpack("Q")
            if n > MAX_ARRAY:
                raise self.corrupt(f"metadata key {key!r} claims an array of {_count(n)} values")
            if etype not in _SCALAR and etype not in (_STRING, _ARRAY):
                raise self.corrupt(f"metadata key {key!r} is an array of unknown type {etype}")
            if etype in _SCALAR and not keep:  # skip big arrays (token scores) in one seek
                width = struct.calcsize("<" + _SCALAR[etype])
                if self.fh.tell() + n * width > self.size:
                    self.read(self.size)  # raises "truncated"
                self.fh.seek(n * width, os.SEEK_CUR)
                return None
            items = [self.value(etype, keep, key, depth + 1) for _ in range(n)]
            return items if keep else None
        raise self.corrupt(f"metadata key {key!r} has unknown value type {vtype}")


def _count(n: int) -> str:
    """A count as a reader takes it in: 1,234,567 or, when absurd, 10^12."""
    if n >= 10**9:
        exp = len(str(n)) - 1
        return f"10^{exp}" if n == 10**exp else f"about 10^{exp}"
    return f"{n:,}"


def inspect_gguf(path: str | Path) -> GGUFInfo:
    """Read and check the header of a GGUF file; ModelError with one clear line if bad.

    The result is cached per (path, size, modification time): reading a header with a
    large vocabulary takes a fraction of a second, and every request checks its model.
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise ModelError(f"model file not found: {p}")
    if not p.is_file():
        raise ModelError(f"{p}: not a file")
    st = p.stat()
    return _inspect(str(p.resolve()), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _inspect(path: str, size: int, mtime_ns: int) -> GGUFInfo:
    p = Path(path)
    try:
        fh = p.open("rb")
    except OSError as exc:
        raise ModelError(f"{p}: cannot be read ({exc.strerror})") from None
    with fh:
        head = fh.read(4)
        if head != MAGIC:
            raise ModelError(f"{p.name}: not a GGUF model file (it starts with {head!r}, "
                             "a GGUF file starts with b'GGUF')")
        r = _Reader(fh, size, p)
        version = r.unpack("I")
        if version not in SUPPORTED_VERSIONS:
            raise ModelError(f"{p.name}: GGUF version {version} is not supported "
                             f"(supported: {', '.join(map(str, SUPPORTED_VERSIONS))})")
        n_tensors, n_kv = r.unpack("Q"), r.unpack("Q")
        _check_counts(r, n_tensors, n_kv)
        meta = {}
        for _ in range(n_kv):
            key = r.string("a metadata key name")
            vtype = r.unpack("I")
            keep = key in _KEEP or key.endswith(".context_length")
            val = r.value(vtype, keep, key)
            if keep:
                meta[key] = val
        end = 0
        shapes = {}
        for k in range(n_tensors):
            name = r.string(f"the name of tensor {k}")
            n_dims = r.unpack("I")
            if n_dims > MAX_DIMS:
                raise r.corrupt(f"tensor {name!r} claims {_count(n_dims)} dimensions (at most "
                                f"{MAX_DIMS})")
            dims = tuple(r.unpack("Q") for _ in range(n_dims))
            n_el = 1
            for d in dims:
                n_el *= d
            shapes[name] = dims
            if n_el > MAX_TENSOR_ELEMENTS:
                raise r.corrupt(f"tensor {name!r} claims {_count(n_el)} elements")
            ttype, offset = r.unpack("I"), r.unpack("Q")
            if offset > MAX_TENSOR_ELEMENTS:
                raise r.corrupt(f"tensor {name!r} claims to start {_count(offset)} bytes into "
                                "the data")
            blk, nbytes = _GGML_TYPE_SIZE.get(ttype, (1, 0))
            end = max(end, offset + (n_el // blk) * nbytes)
        align = _alignment(r, meta)
        header_size = fh.tell()
        data_start = -(-header_size // align) * align
    info = GGUFInfo(path=p, version=version, n_tensors=n_tensors, file_size=size,
                    data_end=data_start + end, metadata=meta, header_size=header_size,
                    data_start=data_start, shapes=shapes)
    if info.data_end > size:
        raise ModelError(f"{p.name}: truncated GGUF file ({size:,} bytes, its tensors need "
                         f"{info.data_end:,}); download or copy it again")
    log.info("%s: GGUF v%d, %s, %d tensors", p.name, version, info.architecture, n_tensors)
    return info


def _alignment(r: _Reader, meta: dict) -> int:
    """`general.alignment`: a whole number of bytes, a power of two as llama.cpp requires
    (32 when absent). A string, a NaN, a float, zero or a negative number cannot place the
    tensor data: refused."""
    if "general.alignment" not in meta:
        return 32
    v = meta["general.alignment"]
    if isinstance(v, bool) or not isinstance(v, int):
        shown = repr(v)[:40]
        raise r.corrupt(f"general.alignment is {shown}, not a whole number of bytes")
    if v <= 0 or v & (v - 1) or v > 1 << 30:
        raise r.corrupt(f"general.alignment is {v}; it must be a power of two (32 is usual)")
    return v


def _check_counts(r: _Reader, n_tensors: int, n_kv: int) -> None:
    """Refuse tensor and key counts no real model has, or no file of this size can describe."""
    room = max(0, r.size - 24)
    for n, what, limit, usual, least, real in (
            (n_tensors, "tensors", MAX_TENSORS, 1 << 16, _MIN_TENSOR_BYTES, "a few thousand"),
            (n_kv, "metadata keys", MAX_KEYS, 1 << 10, _MIN_KV_BYTES, "a few dozen")):
        if n > limit:
            raise r.corrupt(f"the header claims {_count(n)} {what} (real models have {real})")
        # More than usual and more than the file can hold: a fragment of a real file keeps
        # its usual counts (a 4 kB piece of a model is only "truncated"), so say both causes.
        if n > usual and n * least > room:
            raise ModelError(f"{r.path.name}: the header claims {_count(n)} {what}, more than a "
                             f"{r.size:,}-byte file can describe: the header is corrupt or the "
                             "file was cut short; download or copy it again")
