"""Helpers shared by the nn and loss op declarations: argument normalization, shape checks,
output-size arithmetic (with symbolic dims passed through) and sample data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._errors import OpError
from mycelia._tensor import Tensor
from mycelia._types import Dim, Symbol, TensorType

__all__ = [
    "REDUCTIONS",
    "ceil_div",
    "check_float",
    "check_reduction",
    "constant",
    "derived_dim",
    "expect_rank",
    "expect_vector",
    "int_tuple",
    "known",
    "needed",
    "require_tensor",
    "same_padding",
    "sample_array",
    "shape_text",
    "sum_except",
]

REDUCTIONS = ("none", "mean", "sum")


def shape_text(shape: Any) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def require_tensor(op: str, name: str, value: Any) -> Tensor:
    """``value`` must be a Tensor (front functions read shapes before dispatch)."""
    if not isinstance(value, Tensor):
        raise OpError(op, f"{name} must be a Tensor, got {type(value).__name__}")
    return value


def int_tuple(op: str, name: str, value: Any, length: int, *, minimum: int = 0,
              lengths: tuple[int, ...] = ()) -> tuple[int, ...]:
    """An int, or a tuple/list of ``length`` ints (or of 1 int, or of any of ``lengths``), as a tuple.

    Tuples whose length is in ``lengths`` (other than 1 and ``length``) are returned as given.
    """
    if isinstance(value, (bool, np.bool_)):
        raise OpError(op, f"{name} must be an int or a tuple of ints, got bool {value!r}")
    if isinstance(value, (int, np.integer)):
        items: tuple[Any, ...] = (int(value),) * length
    elif isinstance(value, (tuple, list)):
        items = tuple(value)
        if len(items) == 1:
            items = items * length
        elif len(items) != length and len(items) not in lengths:
            accepted = " or ".join(str(n) for n in sorted({1, length, *lengths}))
            raise OpError(op, f"{name} must be an int or a tuple of {accepted} ints, got {value!r}")
    else:
        raise OpError(op, f"{name} must be an int or a tuple of ints, got {type(value).__name__} {value!r}")
    for item in items:
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, (int, np.integer)):
            raise OpError(op, f"{name} must contain ints, got {value!r}")
        if item < minimum:
            raise OpError(op, f"{name} values must be >= {minimum}, got {value!r}")
    return tuple(int(item) for item in items)


def check_reduction(op: str, reduction: Any, allowed: tuple[str, ...] = REDUCTIONS) -> str:
    if not isinstance(reduction, str) or reduction not in allowed:
        raise OpError(op, f"reduction must be one of {', '.join(repr(r) for r in allowed)}, got {reduction!r}")
    return reduction


def check_float(op: str, name: str, value: Any, *, minimum: float | None = None,
                maximum: float | None = None, open_minimum: bool = False) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise OpError(op, f"{name} must be a float, got {type(value).__name__} {value!r}")
    number = float(value)
    if minimum is not None and (number < minimum or (open_minimum and number == minimum)):
        bound = ">" if open_minimum else ">="
        raise OpError(op, f"{name} must be {bound} {minimum}, got {value!r}")
    if maximum is not None and number > maximum:
        raise OpError(op, f"{name} must be <= {maximum}, got {value!r}")
    return number


def derived_dim(tag: str, dims: tuple[Dim, ...], rule: Callable[..., int]) -> Dim:
    """``rule(*dims)`` when every dim is concrete; else a symbol derived from the first symbolic one."""
    for dim in dims:
        if isinstance(dim, Symbol):
            return Symbol(f"{dim.name}_{tag}")
    return rule(*dims)


def known(*dims: Dim) -> bool:
    return all(isinstance(d, int) for d in dims)


def expect_rank(op: str, name: str, t: TensorType, ranks: tuple[int, ...], layout: str) -> None:
    if t.rank not in ranks:
        wanted = " or ".join(f"{r}-D" for r in ranks)
        raise OpError(op, f"{name} must be {wanted} {layout}, got shape {shape_text(t.shape)}")


def expect_vector(op: str, name: str, t: TensorType | None, length: Dim) -> None:
    if t is not None and known(length) and t.shape != (length,) and known(*t.shape):
        raise OpError(op, f"{name} must have shape [{length}], got {shape_text(t.shape)}")


def sample_array(shape: tuple[int, ...], dtype: dt.DType, rng: np.random.Generator,
                 low: float = -2.0, high: float = 2.0) -> np.ndarray:
    """Sample data of ``dtype``: uniform floats in [low, high) or small ints."""
    if dtype.is_integer:
        lo = 0 if dtype is dt.uint8 else -5
        return np.asarray(rng.integers(lo, 6, size=shape), dtype=dtype.numpy)
    return np.asarray(rng.uniform(low, high, size=shape), dtype=dtype.numpy)


def ceil_div(a: int, b: int) -> int:
    return -((-a) // b)


def same_padding(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """'same' padding (before, after): output ceil(size / stride), extra padding after."""
    out = ceil_div(size, stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def needed(value: Any) -> bool:
    """Whether a gradient for ``value`` is wanted (it is tracked by a gradient being taken): vjps skip the
    work for the others (the data of a first layer, a frozen weight, a target)."""
    return isinstance(value, Tensor) and value._autograd is not None


def constant(like: Tensor, array: Any, dtype: dt.DType | None = None) -> Tensor:
    """A constant (never differentiated) on ``like``'s backend, of ``like``'s dtype unless given."""
    dtype = like.dtype if dtype is None else dtype
    data = like._backend.from_numpy(np.array(array, dtype=dtype.numpy, order="C"))
    return Tensor._make(data, dtype, like._backend)


def sum_except(t: Tensor, axis: int) -> Any:
    """``t`` summed over every axis but ``axis`` (a per-channel gradient)."""
    from mycelia import ops

    return ops.sum(t, tuple(a for a in range(t.ndim) if a != axis))  # type: ignore[attr-defined]
