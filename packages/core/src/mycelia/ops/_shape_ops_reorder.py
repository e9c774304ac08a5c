"""Shape ops that reorder or repeat elements: roll, flip, tril, triu, repeat_interleave (MindSpore 2.x)."""

from __future__ import annotations

from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._errors import OpError
from mycelia._types import Dim, Shape, Symbol, TensorType
from mycelia.ops import _dispatch
from mycelia.ops._define import ALL, random_array
from mycelia.ops._registry import OpDef, Sample, register_op
from mycelia.ops._shape_helpers import (
    as_int,
    as_int_tuple,
    index_tensor,
    known_size,
    normalize_axis,
    ops,
    shape_text,
)

__all__ = ["flip", "repeat_interleave", "roll", "tril", "triu"]


def _array(shape: tuple[int, ...], dtype: dt.DType, seed: int = 0) -> np.ndarray:
    return random_array(shape, dtype, np.random.default_rng(seed + 3 * len(shape)))


def _product(shape: Shape) -> Dim:
    size = known_size(shape)
    return Symbol("size") if size is None else size


# -- roll / flip ---------------------------------------------------------------------------------
def _roll_infer(x: TensorType, *, shifts: tuple[int, ...], dims: tuple[int, ...] | None) -> TensorType:
    if dims is None:
        if len(shifts) != 1:
            raise OpError("roll", f"without dims, shifts must be one int, got {list(shifts)}")
    else:
        if len(shifts) != len(dims):
            raise OpError("roll", f"shifts {list(shifts)} and dims {list(dims)} must have the same length")
        for d in dims:
            normalize_axis("roll", d, x.rank, name="dims entry", scalar_ok=True)
    return x


def _roll_reference(x: np.ndarray, *, shifts: tuple[int, ...], dims: tuple[int, ...] | None) -> np.ndarray:
    if dims is None:
        flat = x.reshape(-1)
        count = flat.size
        return flat[[(i - shifts[0]) % count for i in range(count)]].reshape(x.shape) if count else x.copy()
    result = x
    for shift, axis in zip(shifts, dims):
        result = np.roll(result, shift, axis=axis)
    return result


def _roll_samples(dtype: dt.DType) -> list[Sample]:
    cases: list[tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...] | None]] = [
        ((2, 3), (1,), (1,)), ((2, 3), (-4,), (0,)), ((2, 3), (2,), None), ((2, 3), (1, 2), (0, -1)),
        ((0, 3), (1,), (1,)), ((), (1,), None), ((2, 1, 3, 1, 2), (5, 1), (2, 4))]
    return [Sample((_array(shape, dtype),), {"shifts": s, "dims": d}) for shape, s, d in cases]


_ROLL = register_op(OpDef(
    name="roll", group="movement", inputs=("input",), infer=_roll_infer, reference=_roll_reference,
    attrs=(("shifts", ()), ("dims", None)), dtypes=ALL, samples=_roll_samples, method="roll",
    vjp=lambda ctx, grad: (roll(grad, tuple(-s for s in ctx.attrs["shifts"]), ctx.attrs["dims"]),),
    doc="``roll(input, shifts, dims=None)``: elements shifted cyclically (over the flattened input without dims)."))


def roll(input: Any, shifts: Any, dims: Any = None) -> Any:
    return _dispatch.apply(_ROLL, (input,), {"shifts": as_int_tuple("roll", shifts, "shifts"),
                                             "dims": None if dims is None else as_int_tuple("roll", dims, "dims")})


def _flip_infer(x: TensorType, *, dims: tuple[int, ...]) -> TensorType:
    axes = [normalize_axis("flip", d, x.rank, name="dims entry") for d in dims]
    if len(set(axes)) != len(axes):
        raise OpError("flip", f"dims {list(dims)} names an axis twice")
    return x


def _flip_reference(x: np.ndarray, *, dims: tuple[int, ...]) -> np.ndarray:
    index = [slice(None)] * x.ndim
    for d in dims:
        index[d] = slice(None, None, -1)
    return x[tuple(index)]


def _flip_samples(dtype: dt.DType) -> list[Sample]:
    cases = [((2, 3), (0,)), ((2, 3), (0, 1)), ((2, 3), (-1,)), ((0, 3), (1,)), ((), ()),
             ((2, 1, 3, 1, 2), (0, 2, 4))]
    return [Sample((_array(shape, dtype),), {"dims": dims}) for shape, dims in cases]


_FLIP = register_op(OpDef(
    name="flip", group="movement", inputs=("input",), infer=_flip_infer, reference=_flip_reference,
    attrs=(("dims", ()),), dtypes=ALL, samples=_flip_samples, method="flip",
    vjp=lambda ctx, grad: (flip(grad, ctx.attrs["dims"]),),
    doc="``flip(input, dims)``: the order of elements reversed along each axis in ``dims``."))


def flip(input: Any, dims: Any) -> Any:
    return _dispatch.apply(_FLIP, (input,), {"dims": as_int_tuple("flip", dims, "dims")})


# -- tril / triu ---------------------------------------------------------------------------------
def _triangle_infer(name: str) -> Any:
    def infer(x: TensorType, *, diagonal: int) -> TensorType:
        if x.rank < 2:
            raise OpError(name, f"input must have at least 2 dims, got shape {shape_text(x.shape)}")
        return x

    return infer


def _triangle_reference(lower: bool) -> Any:
    def reference(x: np.ndarray, *, diagonal: int) -> np.ndarray:
        rows, cols = x.shape[-2:]
        offset = np.arange(cols)[None, :] - np.arange(rows)[:, None]
        keep = offset <= diagonal if lower else offset >= diagonal
        return np.where(keep, x, np.zeros((), x.dtype))

    return reference


def _triangle_samples(dtype: dt.DType) -> list[Sample]:
    cases = [((3, 4), 0), ((4, 3), 1), ((3, 3), -1), ((2, 3, 3), 0), ((0, 3), 0), ((3, 4), 10),
             ((2, 1, 3, 2, 2), -5)]
    return [Sample((_array(shape, dtype),), {"diagonal": k}) for shape, k in cases]


_TRIL = register_op(OpDef(
    name="tril", group="movement", inputs=("input",), infer=_triangle_infer("tril"),
    reference=_triangle_reference(True), attrs=(("diagonal", 0),), dtypes=ALL, samples=_triangle_samples,
    method="tril", vjp=lambda ctx, grad: (tril(grad, ctx.attrs["diagonal"]),),
    doc="``tril(input, diagonal=0)``: the lower triangle of the last two dims, the rest zeroed."))
_TRIU = register_op(OpDef(
    name="triu", group="movement", inputs=("input",), infer=_triangle_infer("triu"),
    reference=_triangle_reference(False), attrs=(("diagonal", 0),), dtypes=ALL, samples=_triangle_samples,
    method="triu", vjp=lambda ctx, grad: (triu(grad, ctx.attrs["diagonal"]),),
    doc="``triu(input, diagonal=0)``: the upper triangle of the last two dims, the rest zeroed."))


def tril(input: Any, diagonal: Any = 0) -> Any:
    return _dispatch.apply(_TRIL, (input,), {"diagonal": as_int("tril", diagonal, "diagonal")})


def triu(input: Any, diagonal: Any = 0) -> Any:
    return _dispatch.apply(_TRIU, (input,), {"diagonal": as_int("triu", diagonal, "diagonal")})


# -- repeat_interleave -----------------------------------------------------------------------------
def _repeat_infer(x: TensorType, *, repeats: int | tuple[int, ...], axis: int | None) -> TensorType:
    counts = repeats if isinstance(repeats, tuple) else (repeats,)
    if any(r < 0 for r in counts):
        raise OpError("repeat_interleave", f"repeats {list(counts)} must be non-negative")
    if axis is None:
        dim: Dim = _product(x.shape)
        shape: Shape = ()
        position = 0
    else:
        position = normalize_axis("repeat_interleave", axis, x.rank, scalar_ok=True)
        dim = x.shape[position] if x.rank else 1
        shape = x.shape
    if len(counts) not in (1, dim) and not isinstance(dim, Symbol):
        raise OpError("repeat_interleave", f"repeats has {len(counts)} entries but axis {axis} has size {dim}")
    if len(counts) == 1:
        size: Dim = Symbol("repeat") if isinstance(dim, Symbol) else dim * counts[0]
    else:
        size = sum(counts)
    if axis is None or not x.rank:
        return TensorType(x.dtype, (size,))
    return TensorType(x.dtype, (*shape[:position], size, *shape[position + 1:]))


def _repeat_reference(x: np.ndarray, *, repeats: int | tuple[int, ...], axis: int | None) -> np.ndarray:
    source = x.reshape(-1) if axis is None or x.ndim == 0 else x
    position = 0 if axis is None or x.ndim == 0 else axis % x.ndim
    counts = [repeats] * source.shape[position] if isinstance(repeats, int) else list(repeats)
    if len(counts) == 1:
        counts = counts * source.shape[position]
    picks = [i for i, count in enumerate(counts) for _ in range(count)]
    return np.take(source, np.asarray(picks, dtype=np.int64), axis=position)


def _repeat_samples(dtype: dt.DType) -> list[Sample]:
    cases: list[tuple[tuple[int, ...], Any, int | None]] = [
        ((2, 3), 2, None), ((2, 3), 2, 1), ((2, 3), (1, 0, 3), -1), ((2, 3), (2,), 0), ((), 3, None),
        ((0, 3), 2, 0), ((2, 1, 3, 1, 2), (1, 2, 0), 2)]
    return [Sample((_array(shape, dtype),), {"repeats": r, "axis": a}) for shape, r, a in cases]


def _repeat_vjp(ctx: Any, grad: Any) -> tuple[Any]:
    """Each output element copies one input element: the copies' gradients are added back."""
    x, repeats, axis = ctx.inputs[0], ctx.attrs["repeats"], ctx.attrs["axis"]
    source = (x.size,) if axis is None or x.ndim == 0 else tuple(x.shape)
    position = 0 if axis is None or x.ndim == 0 else axis % x.ndim
    counts = repeats if isinstance(repeats, tuple) else (repeats,)
    if len(counts) == 1:  # equal counts: the copies are adjacent, sum them in a new axis
        split = (*source[:position], source[position], counts[0], *source[position + 1:])
        summed = ops().sum(ops().reshape(grad, split), position + 1)
    else:
        from mycelia.ops._indexing_tensor import scatter_add_index

        picks = np.repeat(np.arange(len(counts)), counts)
        index = (("slice", None, None, None),) * position + (("tensor", 1),)
        summed = scatter_add_index(grad, (index_tensor(picks, grad),), index, source)
    return (ops().reshape(summed, tuple(x.shape)),)


_REPEAT_INTERLEAVE = register_op(OpDef(
    name="repeat_interleave", group="movement", inputs=("input",), infer=_repeat_infer, reference=_repeat_reference,
    attrs=(("repeats", 1), ("axis", None)), dtypes=ALL, samples=_repeat_samples, method="repeat_interleave",
    vjp=_repeat_vjp,
    doc="``repeat_interleave(input, repeats, axis=None)``: each element repeated (over the flattened input "
        "without axis); repeats is an int or one count per element of the axis."))


def repeat_interleave(input: Any, repeats: Any, axis: Any = None) -> Any:
    counts = as_int_tuple("repeat_interleave", repeats, "repeats")
    value: int | tuple[int, ...] = counts[0] if isinstance(repeats, (int, np.integer)) else counts
    return _dispatch.apply(_REPEAT_INTERLEAVE, (input,), {
        "repeats": value, "axis": None if axis is None else as_int("repeat_interleave", axis, "axis")})
