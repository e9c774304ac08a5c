"""Shared rules of the reduction family: axis arguments, reduced shapes, result dtypes, samples."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._errors import OpError
from mycelia._tensor import Tensor
from mycelia._types import Shape
from mycelia.ops._define import random_array

__all__ = [
    "REDUCE_CASES",
    "amax_vjp",
    "axes_attr",
    "check_bool",
    "extreme_vjp",
    "float_result",
    "int_attr",
    "kept_shape",
    "logsumexp_vjp",
    "mean_vjp",
    "ops",
    "prod_vjp",
    "reduce_shape",
    "reduced_axes",
    "spread",
    "single_axis",
    "sum_result",
    "sum_vjp",
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


# -- gradient helpers (vjp rules are written in mycelia ops, so higher-order gradients work) ------------
def ops() -> Any:
    """The ``mycelia.ops`` namespace, looked up when a vjp runs (it imports this module)."""
    from mycelia import ops as namespace

    return namespace


def reduced_axes(rank: int, axis: tuple[int, ...] | None) -> tuple[int, ...]:
    """The normalized axes a reduction over ``axis`` (None: every axis) removes, ascending."""
    if axis is None:
        return tuple(range(rank))
    return tuple(sorted({a % rank for a in axis}))


def kept_shape(shape: Shape, axes: tuple[int, ...]) -> tuple[Any, ...]:
    """``shape`` with the reduced ``axes`` kept as size 1 (the keepdims shape)."""
    return tuple(1 if i in axes else d for i, d in enumerate(shape))


def spread(grad: Any, shape: Shape, axes: tuple[int, ...]) -> Any:
    """A reduction's upstream gradient (reduced shape, with or without keepdims) as the keepdims shape.

    Broadcasting it against the input happens in the caller (``broadcast_to`` or an elementwise op)."""
    target = kept_shape(shape, axes)
    return grad if tuple(grad.shape) == target else ops().reshape(grad, target)


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


# -- vjp rules of the reductions declared in ``_reduction`` --------------------------------------
# (Here rather than there: that module's ``sum``/``max``/``any``... shadow the builtins.)
def sum_vjp(ctx: Any, grad: Any) -> tuple[Any, ...]:
    x = ctx.inputs[0]
    axes = reduced_axes(x.ndim, ctx.attrs["axis"])
    return (ops().broadcast_to(spread(grad, x.shape, axes), x.shape),)


def mean_vjp(ctx: Any, grad: Any) -> tuple[Any, ...]:
    x = ctx.inputs[0]
    axes = reduced_axes(x.ndim, ctx.attrs["axis"])
    count = max(math.prod(x.shape[a] for a in axes), 1)
    return (ops().broadcast_to(spread(grad, x.shape, axes) / count, x.shape),)


def prod_vjp(ctx: Any, grad: Any) -> tuple[Any, ...]:
    """d prod / d x_i is the product of the other entries of x_i's slice, zeros included: without a
    zero it is ``prod / x_i``; with one zero, the product of the non-zero entries at the zero and 0
    elsewhere; with two or more, 0 everywhere."""
    o = ops()
    x = ctx.inputs[0]
    if not x.dtype.is_floating_point:
        return (None,)
    if x.dtype is not ctx.output.dtype:  # dtype= casts before reducing
        x = o.cast(x, ctx.output.dtype)
    axes = reduced_axes(x.ndim, ctx.attrs["axis"])
    zero = x == 0
    safe = o.where(zero, 1, x)
    others = o.prod(safe, axes, True)  # product of the non-zero entries
    zeros = o.sum(zero, axes, keepdim=True)
    # The value of the slice's zero (0), kept as a factor so that second derivatives see it.
    factor = o.where(zeros == 0, 1, o.sum(o.where(zero, x, 0), axes, keepdim=True))
    partial = o.where(zero, o.where(zeros == 1, others, 0), others / safe * factor)
    return (spread(grad, x.shape, axes) * partial,)


def logsumexp_vjp(ctx: Any, grad: Any) -> tuple[Any, ...]:
    o = ops()
    x = ctx.inputs[0]
    if not x.dtype.is_floating_point:
        return (None,)
    axes = reduced_axes(x.ndim, ctx.attrs["axis"])
    return (spread(grad, x.shape, axes) * o.exp(x - spread(ctx.output, x.shape, axes)),)


def _masked_choice(x: Any, chosen: Any, inputs: tuple[Any, ...]) -> Any:
    """``chosen`` restricted to where the op's ``where=`` mask (its second input, if any) is True."""
    return ops().logical_and(chosen, inputs[1]) if len(inputs) > 1 else chosen


def amax_vjp(ctx: Any, grad: Any) -> tuple[Any, ...]:
    """amax/amin: the gradient is split evenly between the entries equal to the result (as torch and
    MindSpore's ReduceMax); a result that comes from ``initial`` gets no gradient."""
    o = ops()
    x = ctx.inputs[0]
    axes = reduced_axes(x.ndim, ctx.attrs["axis"])
    chosen = _masked_choice(x, x == spread(ctx.output, x.shape, axes), ctx.inputs)
    count = o.cast(o.sum(chosen, axes, keepdim=True), grad.dtype)
    share = spread(grad, x.shape, axes) / o.maximum(count, 1)
    return (o.where(chosen, share, 0),) + (None,) * (len(ctx.inputs) - 1)


def extreme_vjp(name: str) -> Any:
    """max/min with indices: the gradient of the values goes to the entry the index names."""
    def vjp(ctx: Any, grad: Any) -> tuple[Any, ...]:
        rest = (None,) * (len(ctx.inputs) - 1)
        return (None, *rest) if grad[0] is None else (_picked_gradient(name, ctx, grad[0]), *rest)

    return vjp


def _picked_gradient(name: str, ctx: Any, upstream: Any) -> Any:
    from mycelia import _autograd
    from mycelia.ops import _dispatch

    o = ops()
    x = ctx.inputs[0]
    values, index = ctx.outputs
    if index is None:  # the caller dropped the indices: find them again
        with _autograd.no_grad():
            index = _dispatch.apply(o.get_op(name), tuple(ctx.inputs), dict(ctx.attrs))[1]
    axis = ctx.attrs["axis"]
    if axis is None:  # a flat index over the whole input
        positions = o.reshape(o.arange(0, x.size, dtype=index.dtype), x.shape)
        axes: tuple[int, ...] = tuple(range(x.ndim))
    else:
        axis %= x.ndim
        axes = (axis,)
        line = tuple(x.shape[axis] if i == axis else 1 for i in range(x.ndim))
        positions = o.reshape(o.arange(0, x.shape[axis], dtype=index.dtype), line)
    chosen = o.logical_and(positions == spread(index, x.shape, axes), x == spread(values, x.shape, axes))
    chosen = _masked_choice(x, chosen, ctx.inputs)
    return o.where(chosen, spread(upstream, x.shape, axes), 0)
