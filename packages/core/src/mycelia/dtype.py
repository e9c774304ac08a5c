"""Tensor element types, with MindSpore's names (``mycelia.float32`` prints as ``Float32``).

Promotion (documented in the package README, matching MindSpore where it defines a rule):

* tensor with tensor: bool < uint8/int8 < int16 < int32 < int64 < float16/bfloat16 < float32 <
  float64; uint8 with int8 gives int16; float16 with bfloat16 gives float32.
* tensor with Python scalar: the scalar never widens the tensor within its kind; a ``float``
  scalar with an integer or bool tensor gives float32; an ``int`` with a bool tensor gives int64.
"""

from __future__ import annotations

from typing import Any

import ml_dtypes
import numpy as np

__all__ = [
    "DType",
    "all_dtypes",
    "bfloat16",
    "bool_",
    "float16",
    "float32",
    "float64",
    "from_numpy",
    "int16",
    "int32",
    "int64",
    "int8",
    "promote_types",
    "result_type_with_scalar",
    "uint8",
    "float_",
    "int_",
    "half",
    "single",
    "double",
]


class DType:
    """One element type. Instances are unique: compare with ``is`` or ``==``."""

    __slots__ = ("itemsize", "kind", "name", "numpy", "rank", "short_name")

    def __init__(self, name: str, numpy_dtype: Any, kind: str, rank: int, short_name: str) -> None:
        self.name = name  # MindSpore's printed name, e.g. "Float32"
        self.numpy = np.dtype(numpy_dtype)
        self.kind = kind  # "bool", "int", "uint" or "float"
        self.rank = rank
        self.itemsize = self.numpy.itemsize
        self.short_name = short_name  # IR spelling, e.g. "f32"

    @property
    def is_floating_point(self) -> bool:
        return self.kind == "float"

    @property
    def is_integer(self) -> bool:
        return self.kind in ("int", "uint")

    def __repr__(self) -> str:
        return self.name

    __str__ = __repr__

    def __reduce__(self) -> tuple[Any, ...]:
        return (_by_name, (self.name,))


bool_ = DType("Bool", np.bool_, "bool", 0, "bool")
uint8 = DType("UInt8", np.uint8, "uint", 1, "u8")
int8 = DType("Int8", np.int8, "int", 1, "i8")
int16 = DType("Int16", np.int16, "int", 2, "i16")
int32 = DType("Int32", np.int32, "int", 3, "i32")
int64 = DType("Int64", np.int64, "int", 4, "i64")
float16 = DType("Float16", np.float16, "float", 5, "f16")
bfloat16 = DType("BFloat16", ml_dtypes.bfloat16, "float", 5, "bf16")
float32 = DType("Float32", np.float32, "float", 6, "f32")
float64 = DType("Float64", np.float64, "float", 7, "f64")

# MindSpore aliases.
float_ = float32
half = float16
single = float32
double = float64
int_ = int32

_ALL = (bool_, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64)
_BY_NUMPY = {dtype.numpy: dtype for dtype in _ALL}
_BY_NAME = {dtype.name: dtype for dtype in _ALL}


def _by_name(name: str) -> DType:
    return _BY_NAME[name]


def all_dtypes() -> tuple[DType, ...]:
    return _ALL


def from_numpy(numpy_dtype: Any) -> DType:
    """The DType for a numpy dtype; a clear error for ones Mycelia does not support."""
    try:
        return _BY_NUMPY[np.dtype(numpy_dtype)]
    except (KeyError, TypeError):
        supported = ", ".join(str(d.numpy) for d in _ALL)
        raise TypeError(f"numpy dtype {numpy_dtype!r} is not supported; supported: {supported}") from None


def promote_types(a: DType, b: DType) -> DType:
    """Result type of a tensor-tensor op (see module docstring)."""
    if a is b:
        return a
    if {a, b} == {uint8, int8}:
        return int16
    if {a, b} == {float16, bfloat16}:
        return float32
    return a if a.rank > b.rank else b


def result_type_with_scalar(tensor_dtype: DType, scalar: object) -> DType:
    """Result type of an op between a tensor and a Python scalar."""
    if isinstance(scalar, bool):
        return tensor_dtype
    if isinstance(scalar, int):
        return int64 if tensor_dtype is bool_ else tensor_dtype
    if isinstance(scalar, float):
        return tensor_dtype if tensor_dtype.is_floating_point else float32
    raise TypeError(f"expected a Python bool, int or float scalar, got {type(scalar).__name__}")
