"""CPU kernels: creation ops (fresh numpy buffers of the requested dtype)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mycelia.backends import Kernel

__all__ = ["KERNELS"]


def _fill(value: Any, dtype: np.dtype) -> Any:
    # np.asarray(...).astype wraps out-of-range ints as a cast does, instead of raising (NEP 50).
    return np.asarray(value).astype(dtype)


def zeros(*, size: tuple[int, ...], dtype: Any) -> np.ndarray:
    return np.zeros(size, dtype.numpy)


def ones(*, size: tuple[int, ...], dtype: Any) -> np.ndarray:
    return np.ones(size, dtype.numpy)


def full(*, size: tuple[int, ...], fill_value: Any, dtype: Any) -> np.ndarray:
    return np.full(size, _fill(fill_value, dtype.numpy), dtype.numpy)


def zeros_like(x: np.ndarray, *, dtype: Any) -> np.ndarray:
    return np.zeros(x.shape, x.dtype if dtype is None else dtype.numpy)


def ones_like(x: np.ndarray, *, dtype: Any) -> np.ndarray:
    return np.ones(x.shape, x.dtype if dtype is None else dtype.numpy)


def full_like(x: np.ndarray, *, fill_value: Any, dtype: Any) -> np.ndarray:
    out_dtype = x.dtype if dtype is None else dtype.numpy
    return np.full(x.shape, _fill(fill_value, out_dtype), out_dtype)


def arange(*, start: int | float, end: int | float, step: int | float, dtype: Any) -> np.ndarray:
    count = max(math.ceil((end - start) / step), 0)
    if all(isinstance(v, int) for v in (start, end, step)):
        values = start + step * np.arange(count, dtype=np.int64)
    else:
        values = start + step * np.arange(count, dtype=np.float64)
    return values.astype(dtype.numpy, copy=False)


def linspace(*, start: float, end: float, steps: int, dtype: Any) -> np.ndarray:
    return np.linspace(start, end, steps, dtype=np.float64).astype(dtype.numpy, copy=False)


def eye(*, n: int, m: int, dtype: Any) -> np.ndarray:
    return np.eye(n, m, dtype=dtype.numpy)


KERNELS: dict[str, Kernel] = {
    "arange": arange,
    "eye": eye,
    "full": full,
    "full_like": full_like,
    "linspace": linspace,
    "ones": ones,
    "ones_like": ones_like,
    "zeros": zeros,
    "zeros_like": zeros_like,
}
