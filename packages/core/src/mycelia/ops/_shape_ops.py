"""Shape and movement ops: cast, reshape, transpose, squeeze, flatten, tile, flip, tril ...

MindSpore 2.x names and signatures. Kernels may return views of their input (reshape, transpose,
squeeze, flip ...): no kernel ever writes into an input, and ``Tensor.__setitem__`` copies first.
The join/split family (concat, stack, split, chunk, pad, meshgrid) lives in ``_shape_ops_join``;
roll, flip, tril/triu and repeat_interleave in ``_shape_ops_reorder``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._errors import OpError
from mycelia._types import Dim, Shape, Symbol, TensorType
from mycelia.ops import _dispatch
from mycelia.ops._define import ALL, random_array
from mycelia.ops._registry import OpDef, Sample, register_op
from mycelia.ops._shape_helpers import (
    OpTypeError,
    as_int,
    as_int_tuple,
    known_size,
    normalize_axis,
    ops,
    shape_text,
)
from mycelia.ops._shape_ops_join import cat, chunk, concat, meshgrid, pad, split, stack
from mycelia.ops._shape_ops_reorder import flip, repeat_interleave, roll, tril, triu

__all__ = [
    "broadcast_to",
    "cast",
    "cat",
    "chunk",
    "concat",
    "expand_dims",
    "flatten",
    "flip",
    "meshgrid",
    "narrow",
    "pad",
    "permute",
    "repeat_interleave",
    "reshape",
    "roll",
    "slice",
    "split",
    "squeeze",
    "stack",
    "swapaxes",
    "tile",
    "transpose",
    "tril",
    "triu",
    "unsqueeze",
]

# Shapes every movement op is checked on: ordinary, 0-d, 0-size and rank 5.
_SHAPES: tuple[tuple[int, ...], ...] = ((2, 3), (), (0, 3), (2, 1, 3, 1, 2))


def _array(shape: tuple[int, ...], dtype: dt.DType, seed: int = 0, domain: tuple[float, float] | None = None
           ) -> np.ndarray:
    return random_array(shape, dtype, np.random.default_rng(seed + len(shape)), domain)


def _product(dims: Iterable[Dim]) -> Dim:
    size = known_size(tuple(dims))
    return Symbol("size") if size is None else size


# -- cast ---------------------------------------------------------------------------------------
def _cast_infer(x: TensorType, *, dtype: dt.DType) -> TensorType:
    return TensorType(dtype, x.shape)


def _cast_reference(x: np.ndarray, *, dtype: dt.DType) -> np.ndarray:
    return x.astype(dtype.numpy)


def _cast_samples(dtype: dt.DType) -> list[Sample]:
    domain = (0.0, 100.0) if dtype.is_floating_point else None  # float -> int casts of in-range values
    # float64 -> a narrower float is left out for float64 only: the gradient check differentiates every
    # float64 sample by finite differences, which a float32/16 result cannot resolve (other dtypes cover it).
    targets = [t for t in dt.all_dtypes() if dtype is not dt.float64 or not t.is_floating_point or t is dt.float64]
    return [Sample((_array(shape, dtype, 1, domain),), {"dtype": target}, note=f"to {target}")
            for target in targets for shape in ((2, 3), (), (0, 2))]


def _cast_vjp(ctx: Any, grad: Any) -> tuple[Any]:
    return (grad,)  # the engine casts it back to the input's dtype; int/bool results never receive one


_CAST = register_op(OpDef(
    name="cast", group="elementwise", inputs=("input",), infer=_cast_infer, reference=_cast_reference,
    attrs=(("dtype", None),), dtypes=ALL, samples=_cast_samples, vjp=_cast_vjp,
    doc="``cast(input, dtype)``: the values of ``input`` converted to ``dtype`` (floats to ints truncate)."))


def cast(input: Any, dtype: dt.DType) -> Any:
    if not isinstance(dtype, dt.DType):
        raise OpTypeError("cast", f"dtype must be a mycelia dtype such as mycelia.float32, got {dtype!r}")
    return _dispatch.apply(_CAST, (input,), {"dtype": dtype})


# -- reshape ------------------------------------------------------------------------------------
def resolve_shape(op: str, source: Shape, shape: tuple[int, ...]) -> Shape:
    """``shape`` with its (at most one) -1 resolved so that it holds as many elements as ``source``."""
    if sum(1 for d in shape if d == -1) > 1:
        raise OpError(op, f"shape {list(shape)} can have at most one -1")
    if any(d < -1 for d in shape):
        raise OpError(op, f"shape {list(shape)} has a negative dim; dims must be >= 0 (or one -1)")
    total = known_size(source)
    known = 1
    for d in shape:
        known *= d if d != -1 else 1
    if total is None:
        return tuple(Symbol("reshape") if d == -1 else d for d in shape)
    if -1 in shape:
        if known == 0 or total % known:
            raise OpError(op, f"cannot reshape a tensor of shape {shape_text(source)} ({total} elements) into "
                              f"shape {list(shape)}")
        return tuple(total // known if d == -1 else d for d in shape)
    if known != total:
        raise OpError(op, f"cannot reshape a tensor of shape {shape_text(source)} ({total} elements) into shape "
                          f"{list(shape)} ({known} elements)")
    return shape


def _reshape_infer(x: TensorType, *, shape: tuple[int, ...]) -> TensorType:
    return TensorType(x.dtype, resolve_shape("reshape", x.shape, shape))


def _reshape_reference(x: np.ndarray, *, shape: tuple[int, ...]) -> np.ndarray:
    return np.reshape(x, shape)


def _reshape_samples(dtype: dt.DType) -> list[Sample]:
    cases = [((2, 3), (3, 2)), ((2, 3), (-1,)), ((), (1, 1)), ((1,), ()), ((0, 3), (3, 0)),
             ((0, 3), (-1, 3)), ((2, 1, 3, 1, 2), (2, -1, 2)), ((12,), (1, 2, 1, 3, 2))]
    return [Sample((_array(source, dtype),), {"shape": target}) for source, target in cases]


def _reshape_vjp(ctx: Any, grad: Any) -> tuple[Any]:
    """The vjp of every op that only changes the shape (reshape, squeeze, expand_dims, flatten 'C')."""
    return (ops().reshape(grad, tuple(ctx.inputs[0].shape)),)


_RESHAPE = register_op(OpDef(
    name="reshape", group="movement", inputs=("input",), infer=_reshape_infer, reference=_reshape_reference,
    attrs=(("shape", ()),), dtypes=ALL, samples=_reshape_samples, vjp=_reshape_vjp,
    doc="``reshape(input, shape)``: the same values in a new shape; one dim may be -1."))


def reshape(input: Any, shape: Any) -> Any:
    return _dispatch.apply(_RESHAPE, (input,), {"shape": as_int_tuple("reshape", shape, "shape")})


# -- transpose / permute / swapaxes --------------------------------------------------------------
def _transpose_infer(x: TensorType, *, input_perm: tuple[int, ...]) -> TensorType:
    perm = input_perm
    if len(perm) != x.rank:
        raise OpError("transpose", f"input_perm {list(perm)} must have one entry per axis of the input "
                                   f"(rank {x.rank})")
    axes = [normalize_axis("transpose", p, x.rank, name="input_perm entry") for p in perm]
    if sorted(axes) != list(range(x.rank)):
        raise OpError("transpose", f"input_perm {list(perm)} is not a permutation of the axes 0..{x.rank - 1}")
    return TensorType(x.dtype, tuple(x.shape[a] for a in axes))


def _transpose_reference(x: np.ndarray, *, input_perm: tuple[int, ...]) -> np.ndarray:
    return np.transpose(x, input_perm)


def _transpose_samples(dtype: dt.DType) -> list[Sample]:
    cases = [((2, 3), (1, 0)), ((), ()), ((0, 3), (1, 0)), ((2, 1, 3, 1, 2), (4, 2, 0, 3, 1)),
             ((2, 3, 4), (-1, 0, -2))]
    return [Sample((_array(shape, dtype),), {"input_perm": perm}) for shape, perm in cases]


def _transpose_vjp(ctx: Any, grad: Any) -> tuple[Any]:
    perm = [p % len(ctx.attrs["input_perm"]) for p in ctx.attrs["input_perm"]]
    return (ops().transpose(grad, tuple(int(i) for i in np.argsort(perm))),)


_TRANSPOSE = register_op(OpDef(
    name="transpose", group="movement", inputs=("input",), infer=_transpose_infer,
    reference=_transpose_reference, attrs=(("input_perm", ()),), dtypes=ALL, samples=_transpose_samples,
    vjp=_transpose_vjp,
    doc="``transpose(input, input_perm)``: axes reordered; output axis i is input axis input_perm[i]."))


def transpose(input: Any, input_perm: Any) -> Any:
    return _dispatch.apply(_TRANSPOSE, (input,), {"input_perm": as_int_tuple("transpose", input_perm, "input_perm")})


def permute(input: Any, axis: Any) -> Any:
    """``permute(input, axis)``: MindSpore's other name for ``transpose``."""
    return _dispatch.apply(_TRANSPOSE, (input,), {"input_perm": as_int_tuple("permute", axis, "axis")})


def _swapaxes_infer(x: TensorType, *, axis0: int, axis1: int) -> TensorType:
    first = normalize_axis("swapaxes", axis0, x.rank, name="axis0")
    second = normalize_axis("swapaxes", axis1, x.rank, name="axis1")
    shape = list(x.shape)
    shape[first], shape[second] = shape[second], shape[first]
    return TensorType(x.dtype, tuple(shape))


def _swapaxes_reference(x: np.ndarray, *, axis0: int, axis1: int) -> np.ndarray:
    order = list(range(x.ndim))
    order[axis0], order[axis1] = order[axis1], order[axis0]
    return np.transpose(x, order)


def _swapaxes_samples(dtype: dt.DType) -> list[Sample]:
    cases = [((2, 3), 0, 1), ((0, 3), 1, 0), ((2, 1, 3, 1, 2), -1, 1), ((4,), 0, -1)]
    return [Sample((_array(shape, dtype),), {"axis0": a, "axis1": b}) for shape, a, b in cases]


def _swapaxes_decomposition(input: Any, *, axis0: int, axis1: int) -> Any:
    order = list(range(input.ndim))
    order[axis0], order[axis1] = order[axis1], order[axis0]
    return transpose(input, tuple(order))


_SWAPAXES = register_op(OpDef(
    name="swapaxes", group="movement", inputs=("input",), infer=_swapaxes_infer, reference=_swapaxes_reference,
    attrs=(("axis0", 0), ("axis1", 1)), dtypes=ALL, samples=_swapaxes_samples,
    decomposition=_swapaxes_decomposition, method="swapaxes",
    vjp=lambda ctx, grad: (swapaxes(grad, ctx.attrs["axis0"], ctx.attrs["axis1"]),),
    doc="``swapaxes(input, axis0, axis1)``: the two axes exchanged."))


def swapaxes(input: Any, axis0: Any, axis1: Any) -> Any:
    return _dispatch.apply(_SWAPAXES, (input,), {"axis0": as_int("swapaxes", axis0, "axis0"),
                                                 "axis1": as_int("swapaxes", axis1, "axis1")})


# -- squeeze / expand_dims / flatten ---------------------------------------------------------------
def _squeeze_infer(x: TensorType, *, axis: tuple[int, ...] | None) -> TensorType:
    if axis is None:
        return TensorType(x.dtype, tuple(d for d in x.shape if d != 1))
    axes = {normalize_axis("squeeze", a, x.rank, scalar_ok=True) for a in axis}
    if len(axes) != len(axis):
        raise OpError("squeeze", f"axis {list(axis)} names an axis twice")
    for a in sorted(axes):
        if x.rank and x.shape[a] != 1:
            raise OpError("squeeze", f"cannot squeeze axis {a} of a tensor of shape {shape_text(x.shape)}: its "
                                     f"size is {x.shape[a]}, not 1")
    return TensorType(x.dtype, tuple(d for i, d in enumerate(x.shape) if i not in axes))


def _squeeze_reference(x: np.ndarray, *, axis: tuple[int, ...] | None) -> np.ndarray:
    if axis is None:
        return x.reshape([d for d in x.shape if d != 1])
    drop = {a % x.ndim for a in axis} if x.ndim else set()
    return x.reshape([d for i, d in enumerate(x.shape) if i not in drop])


def _squeeze_samples(dtype: dt.DType) -> list[Sample]:
    cases: list[tuple[tuple[int, ...], Any]] = [((2, 1, 3, 1, 2), None), ((2, 1, 3, 1, 2), (1,)),
                                                ((2, 1, 3, 1, 2), (-2, 1)), ((), None), ((1, 0), (0,)), ((1, 1), None)]
    return [Sample((_array(shape, dtype),), {"axis": axis}) for shape, axis in cases]


_SQUEEZE = register_op(OpDef(
    name="squeeze", group="movement", inputs=("input",), infer=_squeeze_infer, reference=_squeeze_reference,
    attrs=(("axis", None),), dtypes=ALL, samples=_squeeze_samples, method="squeeze", vjp=_reshape_vjp,
    doc="``squeeze(input, axis=None)``: size-1 axes removed (all of them, or those named; each must be 1)."))


def squeeze(input: Any, axis: Any = None) -> Any:
    axes = None if axis is None else as_int_tuple("squeeze", axis, "axis")
    return _dispatch.apply(_SQUEEZE, (input,), {"axis": axes})


def _expand_dims_infer(x: TensorType, *, axis: int) -> TensorType:
    position = normalize_axis("expand_dims", axis, x.rank + 1)
    return TensorType(x.dtype, (*x.shape[:position], 1, *x.shape[position:]))


def _expand_dims_reference(x: np.ndarray, *, axis: int) -> np.ndarray:
    position = axis % (x.ndim + 1)
    return x.reshape((*x.shape[:position], 1, *x.shape[position:]))


def _expand_dims_samples(dtype: dt.DType) -> list[Sample]:
    cases = [((2, 3), 0), ((2, 3), 2), ((2, 3), -1), ((), 0), ((0, 3), 1), ((2, 1, 3, 1), -3)]
    return [Sample((_array(shape, dtype),), {"axis": axis}) for shape, axis in cases]


_EXPAND_DIMS = register_op(OpDef(
    name="expand_dims", group="movement", inputs=("input",), infer=_expand_dims_infer,
    reference=_expand_dims_reference, attrs=(("axis", 0),), dtypes=ALL, samples=_expand_dims_samples,
    method="expand_dims", vjp=_reshape_vjp, doc="``expand_dims(input_x, axis)``: a size-1 axis inserted at ``axis``."))


def expand_dims(input_x: Any, axis: Any) -> Any:
    return _dispatch.apply(_EXPAND_DIMS, (input_x,), {"axis": as_int("expand_dims", axis, "axis")})


def unsqueeze(input: Any, dim: Any) -> Any:
    """``unsqueeze(input, dim)``: MindSpore's other name for ``expand_dims``."""
    return _dispatch.apply(_EXPAND_DIMS, (input,), {"axis": as_int("unsqueeze", dim, "dim")})


def _flatten_range(rank: int, start_dim: int, end_dim: int) -> tuple[int, int] | None:
    """(first, last) axes merged, or None when the result is simply 1-d (rank 0 or 1)."""
    if rank <= 1 and (start_dim, end_dim) == (1, -1):  # MindSpore's default on a 0-d/1-d input
        return None
    first = normalize_axis("flatten", start_dim, rank, name="start_dim", scalar_ok=True)
    last = normalize_axis("flatten", end_dim, rank, name="end_dim", scalar_ok=True)
    if first > last:
        raise OpError("flatten", f"start_dim {start_dim} comes after end_dim {end_dim} (rank {rank})")
    return None if rank <= 1 else (first, last)


def _flatten_infer(x: TensorType, *, order: str, start_dim: int, end_dim: int) -> TensorType:
    span = _flatten_range(x.rank, start_dim, end_dim)
    if span is None:
        return TensorType(x.dtype, (_product(x.shape),))
    shape = x.shape[::-1] if order == "F" else x.shape
    first, last = span
    return TensorType(x.dtype, (*shape[:first], _product(shape[first:last + 1]), *shape[last + 1:]))


def _flatten_reference(x: np.ndarray, *, order: str, start_dim: int, end_dim: int) -> np.ndarray:
    if x.ndim <= 1:
        return x.reshape(x.size)
    if order == "F":
        x = x.T
    first, last = start_dim % x.ndim, end_dim % x.ndim
    merged = int(np.prod(x.shape[first:last + 1]))
    return x.reshape((*x.shape[:first], merged, *x.shape[last + 1:]))


def _flatten_samples(dtype: dt.DType) -> list[Sample]:
    cases = [((2, 3, 4), "C", 1, -1), ((2, 3, 4), "C", 0, -1), ((2, 3, 4), "F", 1, -1), ((2, 3, 4), "C", 0, 1),
             ((), "C", 1, -1), ((5,), "C", 1, -1), ((0, 3, 2), "C", -2, -1), ((2, 1, 3, 1, 2), "C", 1, 3),
             ((2, 3), "C", -1, -1)]
    return [Sample((_array(shape, dtype),), {"order": order, "start_dim": s, "end_dim": e})
            for shape, order, s, e in cases]


def _flatten_vjp(ctx: Any, grad: Any) -> tuple[Any]:
    shape = tuple(ctx.inputs[0].shape)
    if ctx.attrs["order"] == "F" and len(shape) > 1:  # the input was transposed (axes reversed) first
        reverse = tuple(range(len(shape)))[::-1]
        return (ops().transpose(ops().reshape(grad, shape[::-1]), reverse),)
    return (ops().reshape(grad, shape),)


_FLATTEN = register_op(OpDef(
    name="flatten", group="movement", inputs=("input",), infer=_flatten_infer, reference=_flatten_reference,
    attrs=(("order", "C"), ("start_dim", 1), ("end_dim", -1)), dtypes=ALL, samples=_flatten_samples,
    vjp=_flatten_vjp,
    doc="``flatten(input, order='C', *, start_dim=1, end_dim=-1)``: axes start_dim..end_dim merged into one "
        "('F' order reverses the axes first); a 0-d input gives a 1-d tensor."))


def flatten(input: Any, order: str = "C", *, start_dim: int = 1, end_dim: int = -1) -> Any:
    if order not in ("C", "F"):
        raise OpError("flatten", f"order must be 'C' or 'F', got {order!r}")
    return _dispatch.apply(_FLATTEN, (input,), {"order": order, "start_dim": as_int("flatten", start_dim, "start_dim"),
                                                "end_dim": as_int("flatten", end_dim, "end_dim")})


# -- broadcast_to / tile -----------------------------------------------------------------------------
def _broadcast_to_infer(x: TensorType, *, shape: tuple[int, ...]) -> TensorType:
    if len(shape) < x.rank:
        raise OpError("broadcast_to", f"cannot broadcast shape {shape_text(x.shape)} to {list(shape)}: the target "
                                      f"has fewer dims")
    lead = len(shape) - x.rank
    result: list[Dim] = []
    for i, target in enumerate(shape):
        source: Dim | None = x.shape[i - lead] if i >= lead else None
        if target == -1:
            if source is None:
                raise OpError("broadcast_to", f"-1 in shape {list(shape)} at a new leading dim {i}")
            result.append(source)
        elif target < 0:
            raise OpError("broadcast_to", f"shape {list(shape)} has a negative dim")
        elif source is None or source == 1 or source == target or isinstance(source, Symbol):
            result.append(target)
        else:
            raise OpError("broadcast_to", f"cannot broadcast shape {shape_text(x.shape)} to {list(shape)} "
                                          f"(dim {i}: {source} vs {target})")
    return TensorType(x.dtype, tuple(result))


def _broadcast_to_reference(x: np.ndarray, *, shape: tuple[int, ...]) -> np.ndarray:
    lead = len(shape) - x.ndim
    return np.broadcast_to(x, [x.shape[i - lead] if d == -1 else d for i, d in enumerate(shape)])


def _broadcast_to_samples(dtype: dt.DType) -> list[Sample]:
    cases = [((3,), (2, 3)), ((2, 1), (2, 4)), ((), (2, 2)), ((1, 3), (-1, 3)), ((0, 1), (2, 0, 4)),
             ((2, 1, 3, 1, 2), (2, 2, 3, 2, 2)), ((2, 1), (3, -1, 2))]
    return [Sample((_array(source, dtype),), {"shape": target}) for source, target in cases]


_BROADCAST_TO = register_op(OpDef(
    name="broadcast_to", group="movement", inputs=("input",), infer=_broadcast_to_infer,
    reference=_broadcast_to_reference, attrs=(("shape", ()),), dtypes=ALL, samples=_broadcast_to_samples,
    vjp=lambda ctx, grad: (grad,),  # the engine sums the gradient over the broadcast axes
    method="broadcast_to", doc="``broadcast_to(input, shape)``: input broadcast to ``shape`` (-1 keeps a dim)."))


def broadcast_to(input: Any, shape: Any) -> Any:
    return _dispatch.apply(_BROADCAST_TO, (input,), {"shape": as_int_tuple("broadcast_to", shape, "shape")})


def _tile_infer(x: TensorType, *, dims: tuple[int, ...]) -> TensorType:
    if any(d < 0 for d in dims):
        raise OpError("tile", f"dims {list(dims)} must be non-negative")
    rank = max(len(dims), x.rank)
    reps = (1,) * (rank - len(dims)) + dims
    shape = (1,) * (rank - x.rank) + x.shape
    result: list[Dim] = []
    for dim, count in zip(shape, reps):
        result.append((dim if count == 1 else Symbol("tile")) if isinstance(dim, Symbol) else dim * count)
    return TensorType(x.dtype, tuple(result))


def _tile_reference(x: np.ndarray, *, dims: tuple[int, ...]) -> np.ndarray:
    return np.tile(x, dims)


def _tile_samples(dtype: dt.DType) -> list[Sample]:
    cases = [((2, 3), (2, 1)), ((2, 3), (2,)), ((3,), (2, 2)), ((), (3,)), ((0, 2), (2, 2)), ((2, 3), (0, 1)),
             ((2, 1, 3, 1, 2), (1, 2, 1, 2, 1))]
    return [Sample((_array(shape, dtype),), {"dims": dims}) for shape, dims in cases]


def _tile_vjp(ctx: Any, grad: Any) -> tuple[Any]:
    """Each output block is a copy of the input: the gradient is the sum of the blocks."""
    x = ctx.inputs[0]
    dims = ctx.attrs["dims"]
    rank = max(len(dims), x.ndim)
    reps = (1,) * (rank - len(dims)) + tuple(dims)
    if all(r == 1 for r in reps):
        return (ops().reshape(grad, tuple(x.shape)),)
    shape = (1,) * (rank - x.ndim) + tuple(x.shape)
    blocks = tuple(d for pair in zip(reps, shape) for d in pair)  # (rep0, dim0, rep1, dim1, ...)
    summed = ops().sum(ops().reshape(grad, blocks), tuple(range(0, 2 * rank, 2)))
    return (ops().reshape(summed, tuple(x.shape)),)


_TILE = register_op(OpDef(
    name="tile", group="movement", inputs=("input",), infer=_tile_infer, reference=_tile_reference,
    attrs=(("dims", ()),), dtypes=ALL, samples=_tile_samples, method="tile", vjp=_tile_vjp,
    doc="``tile(input, dims)``: input repeated dims[i] times along axis i (shorter dims get leading 1s)."))


def tile(input: Any, dims: Any) -> Any:
    return _dispatch.apply(_TILE, (input,), {"dims": as_int_tuple("tile", dims, "dims")})


# -- narrow / slice ---------------------------------------------------------------------------------
def pad_back(grad: Any, shape: tuple[int, ...], begin: tuple[int, ...]) -> Any:
    """The gradient of a block cut from a tensor of ``shape`` at ``begin``: zeros around it (a constant pad)."""
    pairs = [(first, dim - first - size) for first, dim, size in zip(begin, shape, grad.shape)]
    while pairs and pairs[0] == (0, 0):  # pad takes (left, right) pairs from the last dim backwards
        pairs.pop(0)
    if not pairs:
        return grad
    from mycelia.ops._shape_ops_join import pad

    return pad(grad, tuple(p for pair in reversed(pairs) for p in pair))


def _narrow_vjp(ctx: Any, grad: Any) -> tuple[Any]:
    shape = tuple(ctx.inputs[0].shape)
    axis, start = ctx.attrs["axis"] % len(shape), ctx.attrs["start"]
    first = start + shape[axis] if start < 0 else start
    begin = tuple(first if d == axis else 0 for d in range(len(shape)))
    return (pad_back(grad, shape, begin),)


def _narrow_infer(x: TensorType, *, axis: int, start: int, length: int) -> TensorType:
    position = normalize_axis("narrow", axis, x.rank)
    size = x.shape[position]
    if isinstance(size, Symbol):
        return TensorType(x.dtype, (*x.shape[:position], length, *x.shape[position + 1:]))
    if not -size <= start <= size:
        raise OpError("narrow", f"start {start} is out of range for axis {axis} of size {size}")
    first = start % size if start < 0 else start
    if length < 0 or first + length > size:
        raise OpError("narrow", f"start {start} + length {length} exceeds axis {axis} of size {size}")
    return TensorType(x.dtype, (*x.shape[:position], length, *x.shape[position + 1:]))


def _narrow_reference(x: np.ndarray, *, axis: int, start: int, length: int) -> np.ndarray:
    first = start + x.shape[axis] if start < 0 else start
    return np.take(x, np.arange(first, first + length), axis=axis)


def _narrow_samples(dtype: dt.DType) -> list[Sample]:
    cases = [((4, 3), 0, 1, 2), ((4, 3), -1, 0, 3), ((4, 3), 1, -2, 2), ((0, 3), 1, 1, 1), ((4, 3), 0, 4, 0),
             ((2, 1, 3, 1, 2), 2, 1, 2)]
    return [Sample((_array(shape, dtype),), {"axis": a, "start": s, "length": n}) for shape, a, s, n in cases]


_NARROW = register_op(OpDef(
    name="narrow", group="movement", inputs=("input",), infer=_narrow_infer, reference=_narrow_reference,
    attrs=(("axis", 0), ("start", 0), ("length", 0)), dtypes=ALL, samples=_narrow_samples, method="narrow",
    vjp=_narrow_vjp,
    doc="``narrow(input, axis, start, length)``: positions start..start+length-1 of ``axis``."))


def narrow(input: Any, axis: Any, start: Any, length: Any) -> Any:
    return _dispatch.apply(_NARROW, (input,), {"axis": as_int("narrow", axis, "axis"),
                                               "start": as_int("narrow", start, "start"),
                                               "length": as_int("narrow", length, "length")})


def _slice_infer(x: TensorType, *, begin: tuple[int, ...], size: tuple[int, ...]) -> TensorType:
    if len(begin) != x.rank or len(size) != x.rank:
        raise OpError("slice", f"begin {list(begin)} and size {list(size)} need one entry per axis of the input "
                               f"(rank {x.rank})")
    shape: list[Dim] = []
    for axis, (first, count, dim) in enumerate(zip(begin, size, x.shape)):
        if isinstance(dim, Symbol):
            shape.append(Symbol("slice") if count == -1 else count)
            continue
        if not 0 <= first <= dim:
            raise OpError("slice", f"begin {first} is out of range for axis {axis} of size {dim}")
        if count == -1:
            count = dim - first
        if count < 0 or first + count > dim:
            raise OpError("slice", f"begin {first} + size {count} exceeds axis {axis} of size {dim}")
        shape.append(count)
    return TensorType(x.dtype, tuple(shape))


def _slice_reference(x: np.ndarray, *, begin: tuple[int, ...], size: tuple[int, ...]) -> np.ndarray:
    result = x
    for axis, (first, count) in enumerate(zip(begin, size)):
        stop = x.shape[axis] if count == -1 else first + count
        result = np.take(result, np.arange(first, stop), axis=axis)
    return result


def _slice_samples(dtype: dt.DType) -> list[Sample]:
    cases = [((4, 3), (1, 0), (2, 3)), ((4, 3), (1, 1), (-1, -1)), ((), (), ()), ((0, 3), (0, 1), (0, 2)),
             ((2, 1, 3, 1, 2), (1, 0, 1, 0, 0), (1, 1, 2, 1, -1))]
    return [Sample((_array(shape, dtype),), {"begin": b, "size": s}) for shape, b, s in cases]


_SLICE = register_op(OpDef(
    name="slice", group="movement", inputs=("input",), infer=_slice_infer, reference=_slice_reference,
    attrs=(("begin", ()), ("size", ())), dtypes=ALL, samples=_slice_samples,
    vjp=lambda ctx, grad: (pad_back(grad, tuple(ctx.inputs[0].shape), ctx.attrs["begin"]),),
    doc="``slice(input_x, begin, size)``: the block starting at ``begin`` with extent ``size`` (-1: to the end)."))


def slice(input_x: Any, begin: Any, size: Any) -> Any:
    return _dispatch.apply(_SLICE, (input_x,), {"begin": as_int_tuple("slice", begin, "begin"),
                                                "size": as_int_tuple("slice", size, "size")})
