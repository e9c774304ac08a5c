"""A small reader and writer of the safetensors layout (https://github.com/huggingface/safetensors).

Layout: 8 bytes, a little-endian u64 N; N bytes of UTF-8 JSON, padded with spaces; then the data buffer.
The JSON maps each tensor name to ``{"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}`` (offsets
into the data buffer, which the tensors cover exactly, without gaps or overlap) plus an optional
``"__metadata__"`` map of strings. Tensor bytes are little-endian and C-ordered.

Written here (no dependency) rather than with the ``safetensors`` package so that every error names the
offending tensor and the whole file is checked before any array is built; the files are interchangeable with
that package's (tested both ways when it is installed). Reading parses JSON and copies bytes: it never
executes code.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Sequence
from typing import Any, BinaryIO

import ml_dtypes
import numpy as np

__all__ = ["CheckpointError", "read_safetensors", "write_safetensors"]

# safetensors dtype code <-> numpy dtype (the dtypes Mycelia has).
_CODES: dict[str, np.dtype[Any]] = {
    "BOOL": np.dtype(np.bool_), "U8": np.dtype(np.uint8), "I8": np.dtype(np.int8), "I16": np.dtype(np.int16),
    "I32": np.dtype(np.int32), "I64": np.dtype(np.int64), "F16": np.dtype(np.float16),
    "BF16": np.dtype(ml_dtypes.bfloat16), "F32": np.dtype(np.float32), "F64": np.dtype(np.float64),
}
_BY_NUMPY = {dtype: code for code, dtype in _CODES.items()}
_MAX_HEADER = 100 * 1024 * 1024  # the reference implementation's limit
_LITTLE = sys.byteorder == "little"


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read (truncated, corrupt, not a checkpoint) or does not fit a network."""


def _little_endian_bytes(array: np.ndarray) -> np.ndarray:
    """The array's bytes as a flat uint8 array in little-endian, C order."""
    flat = np.ascontiguousarray(array).reshape(-1)
    if not _LITTLE and flat.dtype.itemsize > 1:
        flat = flat.view(f"u{flat.dtype.itemsize}").byteswap()
    return flat.view(np.uint8)


def write_safetensors(path: str, tensors: Sequence[tuple[str, np.ndarray]],
                      metadata: dict[str, str] | None = None) -> None:
    """Write ``tensors`` (name, array) in order. The file is written beside ``path`` and renamed into place,
    so an interrupted save never leaves a truncated checkpoint under the final name."""
    header: dict[str, Any] = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    payloads = []
    offset = 0
    for name, array in tensors:
        code = _BY_NUMPY.get(array.dtype)
        if code is None:
            raise CheckpointError(f"save_checkpoint: {name!r} has dtype {array.dtype}, which a checkpoint cannot "
                                  f"hold; supported: {sorted(_CODES)}")
        data = _little_endian_bytes(array)
        header[name] = {"dtype": code, "shape": [int(d) for d in array.shape],
                        "data_offsets": [offset, offset + data.size]}
        payloads.append(data)
        offset += data.size
    encoded = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)
    temporary = f"{path}.{os.getpid()}-{uuid.uuid4().hex[:12]}.tmp"
    try:
        with open(temporary, "xb") as stream:
            stream.write(len(encoded).to_bytes(8, "little"))
            stream.write(encoded)
            for data in payloads:
                stream.write(data.data)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _fail(path: str, message: str) -> CheckpointError:
    return CheckpointError(f"checkpoint {path!r}: {message}")


def _parse_entry(path: str, name: str, entry: Any) -> tuple[np.dtype[Any], tuple[int, ...], int, int]:
    if not isinstance(entry, dict) or not {"dtype", "shape", "data_offsets"} <= set(entry):
        raise _fail(path, f"bad header: the entry of {name!r} must have dtype, shape and data_offsets")
    code, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if code not in _CODES:
        raise _fail(path, f"{name!r} has dtype {code!r}, which Mycelia does not support (supported: {sorted(_CODES)})")
    if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                                              for d in shape):
        raise _fail(path, f"bad header: the shape of {name!r} must be a list of non-negative ints, got {shape!r}")
    if (not isinstance(offsets, list) or len(offsets) != 2 or
            not all(isinstance(o, int) and not isinstance(o, bool) and o >= 0 for o in offsets)):
        raise _fail(path, f"bad header: data_offsets of {name!r} must be [begin, end], got {offsets!r}")
    dtype = _CODES[code]
    count = 1
    for dim in shape:
        count *= dim
    begin, end = offsets
    if end - begin != count * dtype.itemsize:
        raise _fail(path, f"{name!r}: data_offsets {offsets} span {end - begin} bytes, but {code} shape {shape} "
                          f"needs {count * dtype.itemsize}")
    return dtype, tuple(shape), begin, end


def _read_header(path: str, stream: BinaryIO, size: int) -> tuple[dict[str, Any], int]:
    if size < 8:
        raise _fail(path, f"truncated or not a checkpoint: {size} bytes, fewer than the 8-byte header length")
    length = int.from_bytes(stream.read(8), "little")
    if length > _MAX_HEADER:
        raise _fail(path, f"not a checkpoint: the header length {length} is implausible")
    if 8 + length > size:
        raise _fail(path, f"truncated or not a checkpoint: the header needs {length} bytes, {size - 8} follow")
    raw = stream.read(length)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _fail(path, f"bad header, not valid JSON ({error})") from None
    if not isinstance(header, dict):
        raise _fail(path, "bad header: the JSON must be an object")
    return header, 8 + length


def read_safetensors(path: str) -> tuple[list[tuple[str, np.ndarray]], dict[str, str]]:
    """The (name, array) pairs of a checkpoint in header order, and its metadata."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"checkpoint file {path!r} does not exist")
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint {path!r} is not a file")
    with open(path, "rb") as stream:
        size = os.fstat(stream.fileno()).st_size
        header, start = _read_header(path, stream, size)
        metadata = header.pop("__metadata__", None) or {}
        if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
            raise _fail(path, "bad header: __metadata__ must map strings to strings")
        entries = [(name, *_parse_entry(path, name, entry)) for name, entry in header.items()]
        expected = 0
        for name, _, _, begin, end in sorted(entries, key=lambda item: (item[3], item[4])):
            if begin != expected:
                raise _fail(path, f"bad header: {name!r} starts at byte {begin} of the data, expected {expected} "
                                  f"(tensors must cover the data without gaps or overlap)")
            expected = end
        available = size - start
        if expected > available:
            raise _fail(path, f"truncated: the tensors need {expected} bytes of data, the file has {available}")
        if expected < available:
            raise _fail(path, f"corrupt: {available - expected} bytes after the last tensor")
        arrays: list[tuple[str, np.ndarray]] = []
        for name, dtype, shape, begin, end in entries:
            buffer = np.empty(end - begin, np.uint8)
            stream.seek(start + begin)
            if stream.readinto(buffer.data) != buffer.size:
                raise _fail(path, f"truncated while reading {name!r}")
            if dtype == np.bool_ and buffer.size and buffer.max() > 1:
                raise _fail(path, f"{name!r} is BOOL but holds bytes other than 0 and 1")
            if not _LITTLE and dtype.itemsize > 1:
                buffer = buffer.view(f"<u{dtype.itemsize}").astype(f"=u{dtype.itemsize}").view(np.uint8)
            arrays.append((name, buffer.view(dtype).reshape(shape)))
    return arrays, {str(k): v for k, v in metadata.items()}
