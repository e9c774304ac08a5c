"""CPU kernels: reductions and scans.

float16/bfloat16 inputs accumulate in float32 (ufunc ``dtype=`` casts buffer by buffer, so no
float32 copy of the input is made); results are cast back by the dispatcher's ``conform``.
Every kernel returns a fresh array, never a view of its input.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from mycelia.backends import Kernel

__all__ = ["KERNELS"]

_LOW = frozenset({np.dtype(np.float16), np.dtype("bfloat16")})
_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_ADD: Any = np.add  # ufuncs as Any: numpy's stubs reject a runtime bool keepdims
_MAXIMUM: Any = np.maximum


def _target(x: np.ndarray, dtype: Any) -> np.dtype:
    """Result dtype of sum/prod/cumsum/cumprod: the requested one, else bool -> int64, else the input's."""
    if dtype is not None:
        return dtype.numpy  # type: ignore[no-any-return]
    return np.dtype(np.int64) if x.dtype == np.bool_ else x.dtype


def _accumulator(x: np.ndarray, target: np.dtype) -> tuple[np.ndarray, np.dtype]:
    acc = _F32 if target in _LOW else target
    if x.dtype != acc and not np.can_cast(x.dtype, acc, "same_kind"):  # e.g. dtype=int32 of floats: cast first
        x = x.astype(acc)
    return x, acc


def _count(shape: tuple[int, ...], axis: tuple[int, ...] | None) -> int:
    return math.prod(shape) if axis is None else math.prod(shape[a] for a in axis)


def _accumulate(ufunc: Any) -> Kernel:
    def kernel(x: np.ndarray, *, axis: tuple[int, ...] | None, keepdims: bool, dtype: Any) -> Any:
        x, acc = _accumulator(x, _target(x, dtype))
        return ufunc.reduce(x, axis=axis, dtype=acc, keepdims=keepdims)

    return kernel


def _mean(x: np.ndarray, *, axis: tuple[int, ...] | None, keepdims: bool) -> Any:
    acc = _F32 if x.dtype in _LOW else (x.dtype if x.dtype.kind == "f" else _F64)
    total = _ADD.reduce(x, axis=axis, dtype=acc, keepdims=keepdims)
    count = _count(x.shape, axis)
    if count == 0:
        return np.full(np.shape(total), np.nan, dtype=acc)
    if isinstance(total, np.ndarray):
        return np.divide(total, count, out=total)
    return total / acc.type(count)


def _moment(root: bool) -> Kernel:
    def kernel(x: np.ndarray, *, axis: tuple[int, ...] | None, ddof: int, keepdims: bool) -> Any:
        acc = _F32 if x.dtype in _LOW else None  # numpy's var: float input keeps its dtype, integers use float64
        if _count(x.shape, axis) - ddof > 0:
            result = np.var(x, axis=axis, dtype=acc, ddof=ddof, keepdims=keepdims)
        else:  # N - ddof <= 0: NaN/inf as numpy gives, without its warnings
            with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
                warnings.simplefilter("ignore", RuntimeWarning)
                result = np.var(x, axis=axis, dtype=acc, ddof=ddof, keepdims=keepdims)
        if root:
            return np.sqrt(result, out=result) if isinstance(result, np.ndarray) else np.sqrt(result)
        return result

    return kernel


def _logsumexp(x: np.ndarray, *, axis: tuple[int, ...] | None, keepdims: bool) -> Any:
    if x.dtype != _F64:
        x = x.astype(_F32, copy=False)  # float16/bfloat16/integers compute in float32
    if x.ndim == 0:  # ufuncs return scalars for 0-d arrays; the result is 0-d whatever keepdims says
        x, axis, keepdims = x.reshape(1), None, False
    if x.size == 0 or _count(x.shape, axis) == 0:
        with np.errstate(divide="ignore"):
            return np.log(_ADD.reduce(x, axis=axis, keepdims=keepdims))  # log(0) = -inf for empty sums
    shift = _MAXIMUM.reduce(x, axis=axis, keepdims=True)
    shift[~np.isfinite(shift)] = 0  # all -inf (or an inf) in a slice: no shift
    shifted = np.subtract(x, shift)
    np.exp(shifted, out=shifted)
    total = _ADD.reduce(shifted, axis=axis, keepdims=keepdims)
    with np.errstate(divide="ignore"):
        result = np.log(total)
    return result + (shift if keepdims else np.squeeze(shift, axis=axis))


def _logical(function: Any) -> Kernel:
    def kernel(x: np.ndarray, *, axis: tuple[int, ...] | None, keepdims: bool) -> Any:
        return function(x, axis=axis, keepdims=keepdims)

    return kernel


def _bounded(ufunc: Any) -> Kernel:
    """amax/amin: numpy's ``initial``/``where`` reduce without a masked copy."""

    def kernel(x: np.ndarray, where: np.ndarray | None = None, *, axis: tuple[int, ...] | None, keepdims: bool,
               initial: Any) -> Any:
        extra: dict[str, Any] = {}
        if initial is not None:
            extra["initial"] = x.dtype.type(initial)
        if where is not None:
            extra["where"] = where
        return ufunc.reduce(x, axis=axis, keepdims=keepdims, **extra)

    return kernel


def _extreme(combine: Any, pick: Any) -> Kernel:
    """max/min: (values, int64 indices); with initial/where the input is first bounded and masked,
    as MindSpore does."""

    def kernel(x: np.ndarray, where: np.ndarray | None = None, *, axis: int | None, keepdims: bool,
               initial: Any) -> tuple[np.ndarray, np.ndarray]:
        if initial is not None:
            bound = x.dtype.type(initial)
            x = combine(x, bound)
            if where is not None:
                np.copyto(x, bound, where=~where)
        if axis is None:
            flat = x.reshape(-1)
            index = int(pick(flat))
            return np.array(flat[index]), np.array(index, dtype=np.int64)
        indices = pick(x, axis=axis, keepdims=True)
        values = np.take_along_axis(x, indices, axis=axis)
        if not keepdims:
            indices, values = np.squeeze(indices, axis=axis), np.squeeze(values, axis=axis)
        return values, indices

    return kernel


def _arg(pick: Any) -> Kernel:
    def kernel(x: np.ndarray, *, axis: int | None, keepdims: bool) -> Any:
        if axis is None:
            return np.array(pick(x), dtype=np.int64)
        return pick(x, axis=axis, keepdims=keepdims)

    return kernel


def _scan(ufunc: Any) -> Kernel:
    def kernel(x: np.ndarray, *, axis: int | None, dtype: Any) -> Any:
        x, acc = _accumulator(x, _target(x, dtype))
        if axis is None:
            x, axis = x.reshape(-1), 0
        return ufunc.accumulate(x, axis=axis, dtype=acc)

    return kernel


def _norm(A: np.ndarray, *, ord: Any, dim: tuple[int, ...] | None, keepdim: bool, dtype: Any) -> Any:
    if dtype is not None and A.dtype != dtype.numpy:
        A = A.astype(dtype.numpy)
    if A.dtype not in (_F32, _F64):
        A = A.astype(_F32)  # float16/bfloat16/integers compute in float32
    return np.linalg.norm(A, ord=ord, axis=dim, keepdims=keepdim)


KERNELS: dict[str, Kernel] = {
    "sum": _accumulate(np.add),
    "prod": _accumulate(np.multiply),
    "mean": _mean,
    "var": _moment(False),
    "std": _moment(True),
    "logsumexp": _logsumexp,
    "all": _logical(np.all),
    "any": _logical(np.any),
    "amax": _bounded(np.maximum),
    "amin": _bounded(np.minimum),
    "max": _extreme(np.maximum, np.argmax),
    "min": _extreme(np.minimum, np.argmin),
    "argmax": _arg(np.argmax),
    "argmin": _arg(np.argmin),
    "cumsum": _scan(np.add),
    "cumprod": _scan(np.multiply),
    "norm": _norm,
}
