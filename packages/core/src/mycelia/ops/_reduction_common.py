"""Shared rules of the reduction family: axis arguments, reduced shapes, result dtypes, samples."""

from __future__ import annotations

from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._errors import OpError
from mycelia._tensor import Tensor
from mycelia._types import Shape
from mycelia.ops._define import random_array

__all__ = [
    "REDUCE_CASES",
    "axes_attr",
    "check_bool",
    "float_result",
    "int_attr",
    "reduce_shape",
    "single_axis",
    "sum_result",
]


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def axes_attr(op: str, axis: Any, name: str = "axis") -> tuple[int, ...] | None:
    """An axis argument (None, int, tuple/list of ints, 1-D int Tensor) as a hashable attribute.

    ``None`` and ``()`` both mean every axis, as in MindSpore's reduce ops.
    """
    if axis is None:
        return None
    if isinstance(axis, Tensor):  # legacy MindSpore form, kept for compatibility
        axis = axis.tolist()
    if _is_int(axis):
        return (int(axis),)
    if isinstance(axis, (tuple, list)) and all(_is_int(a) for a in axis):
        return tuple(int(a) for a in axis) or None
    raise OpError(op, f"{name} must be None, an int or a tuple/list of ints, got {axis!r}")


def single_axis(op: str, axis: Any, name: str = "axis", allow_none: bool = True) -> int | None:
    """An axis argument that names one axis (or None when allowed)."""
    if axis is None and allow_none:
        return None
    if isinstance(axis, Tensor) and axis.size == 1 and not axis.dtype.is_floating_point:
        axis = axis.item()
    if _is_int(axis):
        return int(axis)
    accepted = "an int or None" if allow_none else "an int"
    raise OpError(op, f"{name} must be {accepted}, got {axis!r}")


def check_bool(op: str, name: str, value: Any) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise OpError(op, f"{name} must be a bool, got {value!r}")


def int_attr(op: str, name: str, value: Any) -> int:
    if isinstance(value, (bool, np.bool_)) or _is_int(value):
        return int(value)
    raise OpError(op, f"{name} must be an int or a bool, got {value!r}")


def normalize_axis(op: str, axis: int, shape: Shape) -> int:
    rank = len(shape)
    if not -rank <= axis < rank:
        accepted = f"[{-rank}, {rank})" if rank else "none (the input is a scalar; use axis=None)"
        raise OpError(op, f"axis {axis} is out of range for an input of shape {list(shape)}; accepted: {accepted}")
    return axis % rank


def reduce_shape(op: str, shape: Shape, axis: tuple[int, ...] | None, keepdims: bool,
                 nonempty: bool = False) -> Shape:
    """The shape after reducing ``axis`` (None: every axis); ``nonempty`` rejects reducing a 0-size axis."""
    if axis is None:
        axes = set(range(len(shape)))
    else:
        normalized = [normalize_axis(op, a, shape) for a in axis]
        axes = set(normalized)
        if len(axes) != len(normalized):
            raise OpError(op, f"axis {list(axis)} names an axis twice (input shape {list(shape)})")
    if nonempty and any(shape[a] == 0 for a in axes):
        raise OpError(op, f"cannot reduce a 0-size axis of an input of shape {list(shape)} (no identity "
                          f"for this reduction); give `initial`, or reduce a non-empty axis")
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def float_result(dtype: dt.DType) -> dt.DType:
    """Result dtype of an averaging reduction: integers and bool give float32."""
    return dtype if dtype.is_floating_point else dt.float32


def sum_result(dtype: dt.DType, requested: dt.DType | None) -> dt.DType:
    """Result dtype of sum/prod/cumsum: the requested dtype, else bool gives int64, else unchanged."""
    if requested is not None:
        return requested
    return dt.int64 if dtype is dt.bool_ else dtype


def check_dtype_attr(op: str, value: Any) -> dt.DType | None:
    if value is None or isinstance(value, dt.DType):
        return value
    raise OpError(op, f"dtype must be a mycelia dtype such as mycelia.float32 or None, got {value!r}")


# (shape, axis, keepdims) cases every axis reduction is checked on: all axes, one axis, negative
# axis, tuple of axes, keepdims, 0-size, rank 0 and rank 5.
REDUCE_CASES: tuple[tuple[tuple[int, ...], Any, bool], ...] = (
    ((2, 3), None, False),
    ((2, 3), 1, False),
    ((2, 3, 4), -1, True),
    ((2, 3, 4), (0, 2), False),
    ((2, 3, 4), [-3, 1], True),
    ((), None, False),
    ((7,), 0, False),
    ((2, 1, 3, 1, 2), (1, 4), False),
    ((0, 3), 1, False),
    ((3, 0), 1, True),
)


def reduce_samples(dtype: dt.DType, seed: int, *, nonempty: bool = False, names: tuple[str, str] = ("axis", "keepdims"),
                   domain: tuple[float, float] | None = None) -> list[tuple[np.ndarray, dict[str, Any]]]:
    """(array, attrs) pairs over REDUCE_CASES; ``nonempty`` skips cases that reduce a 0-size axis."""
    rng = np.random.default_rng(seed)
    cases = []
    for shape, axis, keepdims in REDUCE_CASES:
        if nonempty and 0 in shape:
            axes = range(len(shape)) if axis is None else [axis] if isinstance(axis, int) else axis
            if any(shape[a] == 0 for a in axes):
                continue
        cases.append((random_array(shape, dtype, rng, domain), {names[0]: axis, names[1]: keepdims}))
    return cases
