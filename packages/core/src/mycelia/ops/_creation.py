"""Creation ops: zeros, ones, full, *_like, arange, linspace, eye (MindSpore 2.x signatures and dtypes).

Ops without a tensor input run on the current backend (``set_context(device_target=...)``); the
``*_like`` ops run where their input lives. None is differentiable: the ``*_like`` results do not depend
on their input's values, so no gradient flows back through them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._context import current_backend
from mycelia._errors import OpError
from mycelia._tensor import Tensor
from mycelia._types import TensorType
from mycelia.ops import _dispatch
from mycelia.ops._define import ALL, FLOATS, NUMERIC, random_array
from mycelia.ops._registry import OpDef, Sample, register_op
from mycelia.ops._shape_helpers import OpTypeError, as_int, as_int_tuple, as_scalar, describe, no_gradient

__all__ = ["arange", "eye", "full", "full_like", "linspace", "ones", "ones_like", "zeros", "zeros_like"]

_SIZES: tuple[tuple[int, ...], ...] = ((2, 3), (), (0, 3), (4,), (2, 1, 3, 1, 2))


def _create(op: OpDef, attrs: dict[str, Any]) -> Tensor:
    """Run a creation op with no tensor input on the current backend."""
    result = _dispatch._infer(op, (), attrs)
    if result.dtype not in op.dtypes:
        accepted = ", ".join(d.name for d in dt.all_dtypes() if d in op.dtypes)
        raise OpError(op.name, f"dtype {result.dtype} is not supported; accepted: {accepted}")
    backend = current_backend()
    out = _dispatch.kernel_for(op, backend)(**attrs)
    return Tensor._make(backend.conform(out, result.dtype), result.dtype, backend)


def _dtype(op: str, value: Any, default: dt.DType) -> dt.DType:
    if value is None:
        return default
    if not isinstance(value, dt.DType):
        raise OpTypeError(op, f"dtype must be a mycelia dtype such as mycelia.float32, got {value!r}")
    return value


def _size(op: str, value: Any, name: str) -> tuple[int, ...]:
    shape = as_int_tuple(op, value, name)
    if any(d < 0 for d in shape):
        raise OpError(op, f"{name} {list(shape)} has a negative dim")
    return shape


def _scalar_dtype(value: bool | int | float) -> dt.DType:
    if isinstance(value, bool):
        return dt.bool_
    return dt.int64 if isinstance(value, int) else dt.float32


# -- zeros / ones / full -----------------------------------------------------------------------------
def _fill_infer(*, size: tuple[int, ...], dtype: dt.DType, **_: Any) -> TensorType:
    return TensorType(dtype, size)


def _zeros_reference(*, size: tuple[int, ...], dtype: dt.DType) -> np.ndarray:
    return np.zeros(size, dtype.numpy)


def _ones_reference(*, size: tuple[int, ...], dtype: dt.DType) -> np.ndarray:
    return np.ones(size, dtype.numpy)


def _full_reference(*, size: tuple[int, ...], fill_value: Any, dtype: dt.DType) -> np.ndarray:
    return np.full(size, np.asarray(fill_value).astype(dtype.numpy), dtype.numpy)


def _fill_samples(dtype: dt.DType) -> list[Sample]:
    return [Sample((), {"size": size, "dtype": dtype}) for size in _SIZES]


def _ones_samples(dtype: dt.DType) -> list[Sample]:
    return [Sample((), {"size": size, "dtype": dtype}, call=lambda *, size, dtype: ones(size, dtype))
            for size in _SIZES]


def _full_samples(dtype: dt.DType) -> list[Sample]:
    value = True if dtype is dt.bool_ else (7 if dtype.is_integer else 2.5)
    return [Sample((), {"size": size, "fill_value": value, "dtype": dtype}) for size in _SIZES]


_ZEROS = register_op(OpDef(
    name="zeros", group="creation", differentiable=False, inputs=(), infer=_fill_infer, reference=_zeros_reference,
    attrs=(("size", ()), ("dtype", dt.float32)), dtypes=ALL, samples=_fill_samples,
    doc="``zeros(size, dtype=None)``: a tensor of zeros (float32 by default)."))
_ONES = register_op(OpDef(
    name="ones", group="creation", differentiable=False, inputs=(), infer=_fill_infer, reference=_ones_reference,
    attrs=(("size", ()), ("dtype", dt.float32)), dtypes=ALL, samples=_ones_samples,
    doc="``ones(shape, dtype=None)``: a tensor of ones (float32 by default)."))
_FULL = register_op(OpDef(
    name="full", group="creation", differentiable=False, inputs=(), infer=_fill_infer, reference=_full_reference,
    attrs=(("size", ()), ("fill_value", 0), ("dtype", None)), dtypes=ALL, samples=_full_samples,
    doc="``full(size, fill_value, *, dtype=None)``: a tensor filled with fill_value; without dtype a bool "
        "gives bool, an int int64 and a float float32."))


def zeros(size: Any, dtype: Any = None) -> Tensor:
    return _create(_ZEROS, {"size": _size("zeros", size, "size"), "dtype": _dtype("zeros", dtype, dt.float32)})


def ones(shape: Any, dtype: Any = None) -> Tensor:
    return _create(_ONES, {"size": _size("ones", shape, "shape"), "dtype": _dtype("ones", dtype, dt.float32)})


def full(size: Any, fill_value: Any, *, dtype: Any = None) -> Tensor:
    value = as_scalar("full", fill_value, "fill_value")
    default = fill_value._dtype if isinstance(fill_value, Tensor) else _scalar_dtype(value)
    return _create(_FULL, {"size": _size("full", size, "size"), "fill_value": value,
                           "dtype": _dtype("full", dtype, default)})


# -- zeros_like / ones_like / full_like --------------------------------------------------------------
def _like_infer(x: TensorType, *, dtype: dt.DType | None, **_: Any) -> TensorType:
    return TensorType(dtype or x.dtype, x.shape)


def _zeros_like_reference(x: np.ndarray, *, dtype: dt.DType | None = None) -> np.ndarray:
    return np.zeros(x.shape, x.dtype if dtype is None else dtype.numpy)


def _ones_like_reference(x: np.ndarray, *, dtype: dt.DType | None = None) -> np.ndarray:
    return np.ones(x.shape, x.dtype if dtype is None else dtype.numpy)


def _full_like_reference(x: np.ndarray, *, fill_value: Any, dtype: dt.DType | None = None) -> np.ndarray:
    out_dtype = x.dtype if dtype is None else dtype.numpy
    return np.full(x.shape, np.asarray(fill_value).astype(out_dtype), out_dtype)


def _like_samples(dtype: dt.DType) -> list[Sample]:
    rng = np.random.default_rng(2)
    return [Sample((random_array(size, dtype, rng),), {"dtype": target})
            for size in _SIZES for target in (None, dt.float32, dt.int32)]


def _full_like_samples(dtype: dt.DType) -> list[Sample]:
    rng = np.random.default_rng(2)
    value = True if dtype is dt.bool_ else 3
    return [Sample((random_array(size, dtype, rng),), {"fill_value": value, "dtype": target},
                   call=lambda x, *, fill_value, dtype: full_like(x, fill_value, dtype=dtype))
            for size in _SIZES for target in (None, dt.float64, dt.int8)]


_ZEROS_LIKE = register_op(OpDef(
    name="zeros_like", group="creation", differentiable=False, vjp=no_gradient,
    inputs=("input",), infer=_like_infer, reference=_zeros_like_reference,
    attrs=(("dtype", None),), dtypes=ALL, samples=_like_samples,
    doc="``zeros_like(input, *, dtype=None)``: zeros with input's shape (and dtype unless given)."))
_ONES_LIKE = register_op(OpDef(
    name="ones_like", group="creation", differentiable=False, vjp=no_gradient,
    inputs=("input",), infer=_like_infer, reference=_ones_like_reference,
    attrs=(("dtype", None),), dtypes=ALL, samples=_like_samples,
    doc="``ones_like(input, *, dtype=None)``: ones with input's shape (and dtype unless given)."))
_FULL_LIKE = register_op(OpDef(
    name="full_like", group="creation", differentiable=False, vjp=no_gradient,
    inputs=("input",), infer=_like_infer, reference=_full_like_reference,
    attrs=(("fill_value", 0), ("dtype", None)), dtypes=ALL, samples=_full_like_samples,
    doc="``full_like(input, fill_value, *, dtype=None)``: fill_value with input's shape (and dtype unless given)."))


def zeros_like(input: Any, *, dtype: Any = None) -> Any:
    return _dispatch.apply(_ZEROS_LIKE, (input,), {"dtype": None if dtype is None else _dtype("zeros_like", dtype,
                                                                                              dt.float32)})


def ones_like(input: Any, *, dtype: Any = None) -> Any:
    return _dispatch.apply(_ONES_LIKE, (input,), {"dtype": None if dtype is None else _dtype("ones_like", dtype,
                                                                                            dt.float32)})


def full_like(input: Any, fill_value: Any, *, dtype: Any = None) -> Any:
    return _dispatch.apply(_FULL_LIKE, (input,), {
        "fill_value": as_scalar("full_like", fill_value, "fill_value"),
        "dtype": None if dtype is None else _dtype("full_like", dtype, dt.float32)})


# -- arange / linspace / eye ---------------------------------------------------------------------------
def _arange_length(start: float, end: float, step: float) -> int:
    return max(math.ceil((end - start) / step), 0)


def _arange_infer(*, start: int | float, end: int | float, step: int | float, dtype: dt.DType) -> TensorType:
    return TensorType(dtype, (_arange_length(start, end, step),))


def _arange_reference(*, start: int | float, end: int | float, step: int | float, dtype: dt.DType) -> np.ndarray:
    return np.arange(start, end, step).astype(dtype.numpy)


def _arange_samples(dtype: dt.DType) -> list[Sample]:
    if dtype is dt.uint8:
        cases: list[tuple[Any, Any, Any]] = [(0, 5, 1), (2, 11, 3), (9, 1, -2), (3, 3, 1)]
    elif dtype.is_integer:
        cases = [(0, 5, 1), (-3, 11, 3), (7, 1, -2), (3, 3, 1), (-5, 5, 4)]
    else:
        cases = [(0, 5, 1), (0.0, 3.0, 1.2), (7, 1, -2), (3, 3, 1), (-1.5, 1.0, 0.25)]
    return [Sample((), {"start": s, "end": e, "step": st, "dtype": dtype}) for s, e, st in cases]


_ARANGE = register_op(OpDef(
    name="arange", group="creation", differentiable=False, inputs=(), infer=_arange_infer, reference=_arange_reference,
    attrs=(("start", 0), ("end", None), ("step", 1), ("dtype", None)), dtypes=NUMERIC, samples=_arange_samples,
    doc="``arange(start=0, end=None, step=1, *, dtype=None)``: start, start+step, ... up to (excluding) end; "
        "int64 when all bounds are ints, float32 when any is a float."))


def arange(start: Any = 0, end: Any = None, step: Any = 1, *, dtype: Any = None) -> Tensor:
    if end is None:
        start, end = 0, start
    bounds = [as_scalar("arange", v, name) for v, name in ((start, "start"), (end, "end"), (step, "step"))]
    if any(isinstance(b, bool) for b in bounds):
        raise OpTypeError("arange", f"start, end and step must be numbers, got {describe(bounds)}")
    first, last, stride = bounds
    if stride == 0:
        raise OpError("arange", "step must not be 0")
    if (last - first) * stride < 0:
        raise OpError("arange", f"step {stride} goes away from end: start {first}, end {last}")
    default = dt.float32 if any(isinstance(b, float) for b in bounds) else dt.int64
    return _create(_ARANGE, {"start": first, "end": last, "step": stride, "dtype": _dtype("arange", dtype, default)})


def _linspace_infer(*, start: float, end: float, steps: int, dtype: dt.DType) -> TensorType:
    return TensorType(dtype, (steps,))


def _linspace_reference(*, start: float, end: float, steps: int, dtype: dt.DType = dt.float32) -> np.ndarray:
    if steps == 1:
        return np.array([start], dtype.numpy)
    delta = (end - start) / (steps - 1)
    return np.array([start + i * delta for i in range(steps - 1)] + [end], dtype=np.float64).astype(dtype.numpy)


def _linspace_samples(dtype: dt.DType) -> list[Sample]:
    cases = [(1.0, 10.0, 5), (0.0, 1.0, 1), (-2.0, 2.0, 8), (3.0, -1.0, 3), (0.5, 0.5, 4)]
    return [Sample((), {"start": s, "end": e, "steps": n, "dtype": dtype},
                   call=lambda *, start, end, steps, dtype: linspace(Tensor(start, dtype=dtype), end, steps))
            for s, e, n in cases]


_LINSPACE = register_op(OpDef(
    name="linspace", group="creation", differentiable=False, inputs=(), infer=_linspace_infer,
    reference=_linspace_reference,
    attrs=(("start", 0.0), ("end", 1.0), ("steps", 1), ("dtype", dt.float32)), dtypes=FLOATS,
    samples=_linspace_samples,
    doc="``linspace(start, end, steps)``: steps evenly spaced values from start to end inclusive; start's dtype "
        "when it is a float Tensor, else float32."))


def linspace(start: Any, end: Any, steps: Any) -> Tensor:
    count = as_int("linspace", steps, "steps")
    if count <= 0:
        raise OpError("linspace", f"steps must be positive, got {count}")
    dtype = start._dtype if isinstance(start, Tensor) and start._dtype.is_floating_point else dt.float32
    return _create(_LINSPACE, {"start": float(as_scalar("linspace", start, "start")),
                               "end": float(as_scalar("linspace", end, "end")), "steps": count, "dtype": dtype})


def _eye_infer(*, n: int, m: int, dtype: dt.DType) -> TensorType:
    return TensorType(dtype, (n, m))


def _eye_reference(*, n: int, m: int | None = None, dtype: dt.DType = dt.float32) -> np.ndarray:
    cols = n if m is None else m
    return np.array([[1 if i == j else 0 for j in range(cols)] for i in range(n)]).reshape(n, cols).astype(dtype.numpy)


def _eye_samples(dtype: dt.DType) -> list[Sample]:
    return [Sample((), {"n": n, "m": m, "dtype": dtype}) for n, m in ((3, None), (2, 4), (4, 2), (0, 3), (1, 1))]


_EYE = register_op(OpDef(
    name="eye", group="creation", differentiable=False, inputs=(), infer=_eye_infer, reference=_eye_reference,
    attrs=(("n", 1), ("m", None), ("dtype", dt.float32)), dtypes=ALL, samples=_eye_samples,
    doc="``eye(n, m=None, dtype=None)``: an n x m (n x n) matrix with ones on the diagonal, float32 by default."))


def eye(n: Any, m: Any = None, dtype: Any = None) -> Tensor:
    rows = as_int("eye", n, "n")
    cols = rows if m is None else as_int("eye", m, "m")
    if rows < 0 or cols < 0:
        raise OpError("eye", f"n and m must be >= 0, got n={rows}, m={cols}")
    return _create(_EYE, {"n": rows, "m": cols, "dtype": _dtype("eye", dtype, dt.float32)})
