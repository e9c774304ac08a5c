"""Argument checks shared by the shape, indexing and creation op families.

Front functions turn MindSpore-style arguments (ints, lists, tuples, 0-d/1-d Tensors) into hashable
attributes with these helpers; ``infer`` functions validate axes against ranks with them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._errors import OpError, TracedValueError
from mycelia._tensor import Tensor
from mycelia._types import Dim, Symbol

__all__ = [
    "OpIndexError",
    "OpTypeError",
    "as_int",
    "as_int_tuple",
    "as_scalar",
    "check_index_range",
    "describe",
    "host",
    "index_tensor",
    "known_size",
    "no_gradient",
    "normalize_axis",
    "ops",
    "require_tensor",
    "scalar_tensor",
    "shape_text",
    "zeros_tensor",
]


class OpIndexError(OpError, IndexError):
    """An out-of-range index: an IndexError (so ``for row in tensor`` stops) with OpError's message."""


class OpTypeError(OpError, TypeError):
    """An argument of the wrong kind (not a Tensor, not an int): a TypeError with OpError's message."""


def describe(value: Any) -> str:
    if isinstance(value, Tensor):
        return f"Tensor[{value._dtype}, shape={list(value._data.shape)}]"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(describe(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    if isinstance(value, (bool, int, float, str)) or value is None:
        return repr(value)
    return type(value).__name__


def shape_text(shape: Sequence[Dim]) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def known_size(shape: Sequence[Dim]) -> int | None:
    """Number of elements, or None when a dim is symbolic."""
    size = 1
    for dim in shape:
        if isinstance(dim, Symbol):
            return None
        size *= dim
    return size


def require_tensor(op: str, value: Any, name: str) -> Tensor:
    if not isinstance(value, Tensor):
        raise OpTypeError(op, f"{name} must be a Tensor, got {describe(value)}")
    return value


def host(tensor: Tensor) -> np.ndarray:
    """The tensor's values as a host array (no copy on the CPU backend)."""
    return np.asarray(tensor._backend.to_numpy(tensor._data))


def as_int(op: str, value: Any, name: str) -> int:
    """A Python int from an int, a numpy integer or a one-element integer Tensor (never a bool)."""
    if isinstance(value, Tensor):
        if value._dtype.is_integer and value.size == 1:
            return int(value.item())
    elif isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return int(value)
    raise OpTypeError(op, f"{name} must be an int, got {describe(value)}")


def as_int_tuple(op: str, value: Any, name: str, *, allow_int: bool = True) -> tuple[int, ...]:
    """A tuple of ints from an int, a list/tuple of ints, a numpy array or a 0-d/1-d integer Tensor."""
    if isinstance(value, Tensor):
        if not value._dtype.is_integer or value.ndim > 1:
            raise OpTypeError(op, f"{name} must be an int or a 1-d integer Tensor, got {describe(value)}")
        return tuple(int(v) for v in host(value).reshape(-1))
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "iu" or value.ndim > 1:
            raise OpTypeError(op, f"{name} must hold integers, got a numpy array of {value.dtype}")
        return tuple(int(v) for v in value.reshape(-1))
    if isinstance(value, (list, tuple)):
        return tuple(as_int(op, v, f"{name} entries") for v in value)
    if allow_int and isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return (int(value),)
    accepted = "an int, or a tuple/list of ints" if allow_int else "a tuple or list of ints"
    raise OpTypeError(op, f"{name} must be {accepted}, got {describe(value)}")


def as_scalar(op: str, value: Any, name: str) -> bool | int | float:
    """A Python scalar from a number or a one-element Tensor."""
    if isinstance(value, Tensor):
        if value.size != 1:
            raise OpError(op, f"{name} must be a number or a one-element Tensor, got {describe(value)}")
        return value.item()
    if isinstance(value, np.generic):
        return value.item()  # type: ignore[no-any-return]
    if isinstance(value, (bool, int, float)):
        return value
    raise OpTypeError(op, f"{name} must be a number, got {describe(value)}")


def normalize_axis(op: str, axis: Any, rank: int, *, name: str = "axis", scalar_ok: bool = False) -> int:
    """``axis`` in ``[-rank, rank)`` as a non-negative int. ``scalar_ok``: rank 0 accepts -1 and 0."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise OpTypeError(op, f"{name} must be an int, got {describe(axis)}")
    bound = max(rank, 1) if scalar_ok else rank
    if not -bound <= axis < bound:
        if bound == 0:
            raise OpError(op, f"{name} {axis} is out of range: the input is 0-d and has no axes")
        raise OpError(op, f"{name} {axis} is out of range for a tensor of rank {rank} "
                          f"(accepted: {-bound} to {bound - 1})")
    return int(axis) % bound


def scalar_tensor(value: bool | int | float, dtype: dt.DType, like: Tensor) -> Tensor:
    """A 0-d tensor of ``dtype`` on ``like``'s backend."""
    backend = like._backend
    return Tensor._make(backend.from_numpy(np.asarray(value, dtype=dtype.numpy)), dtype, backend)


def check_index_range(op: str, indices: Tensor, size: Dim, axis: int, *, negative: bool = True,
                      name: str = "index") -> None:
    """Every value of the integer tensor ``indices`` must address a position of an axis of ``size``."""
    if isinstance(size, Symbol) or indices.size == 0:
        return
    try:
        values = host(indices)
    except TracedValueError:  # inside a graph being built: the kernel checks at run time
        return
    low, high = int(values.min()), int(values.max())
    floor = -size if negative else 0
    for bad in (low, high):
        if not floor <= bad < size:
            raise OpIndexError(op, f"{name} {bad} is out of bounds for axis {axis} with size {size}")


def index_tensor(values: Any, like: Tensor) -> Tensor:
    """An int64 tensor (index constants a vjp builds) on ``like``'s backend; never tracked."""
    array = np.asarray(values, dtype=np.int64)
    return Tensor._make(like._backend.from_numpy(array), dt.int64, like._backend)


def zeros_tensor(shape: Sequence[int], dtype: dt.DType, like: Tensor) -> Tensor:
    """Zeros of ``shape`` and ``dtype`` on ``like``'s backend (a constant: never recorded on the tape)."""
    return Tensor._make(like._backend.from_numpy(np.zeros(tuple(shape), dtype=dtype.numpy)), dtype, like._backend)


# -- gradient helpers -----------------------------------------------------------------------------
def ops() -> Any:
    """The ``mycelia.ops`` namespace, looked up when a vjp runs (vjps are written in mycelia ops so that
    higher-order gradients record them)."""
    from mycelia import ops as namespace

    return namespace


def no_gradient(ctx: Any, grad: Any) -> tuple[None, ...]:
    """The vjp of an op declared ``differentiable=False`` whose float result may still meet a tracked input
    (``zeros_like``, ``unique``...): no gradient flows back, instead of backward failing on a missing rule."""
    return (None,) * len(ctx.inputs)
