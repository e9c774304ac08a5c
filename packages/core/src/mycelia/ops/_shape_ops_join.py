"""Shape ops that join or cut tensors: concat/cat, stack, split, chunk, pad, meshgrid (MindSpore 2.x)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._errors import OpError
from mycelia._tensor import Tensor
from mycelia._types import Dim, Symbol, TensorType
from mycelia.ops import _dispatch
from mycelia.ops._define import ALL, random_array
from mycelia.ops._registry import OpDef, Sample, register_op
from mycelia.ops._shape_helpers import (
    OpTypeError,
    as_int,
    as_int_tuple,
    as_scalar,
    describe,
    index_tensor,
    normalize_axis,
    ops,
    shape_text,
    zeros_tensor,
)

__all__ = ["cat", "chunk", "concat", "meshgrid", "pad", "split", "stack"]


def _array(shape: tuple[int, ...], dtype: dt.DType, seed: int = 0) -> np.ndarray:
    return random_array(shape, dtype, np.random.default_rng(seed + 7 * len(shape)))


def _tensor_list(op: str, tensors: Any, name: str) -> list[Any]:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise OpTypeError(op, f"{name} must be a tuple or list of Tensors, got {describe(tensors)}")
    if not tensors:
        raise OpError(op, f"{name} must hold at least one Tensor, got an empty sequence")
    return list(tensors)


# -- concat / stack --------------------------------------------------------------------------------
def _concat_infer(types: tuple[TensorType, ...], *, axis: int) -> TensorType:
    first = types[0]
    if first.rank == 0:
        raise OpError("concat", "cannot concatenate 0-d tensors; use stack")
    position = normalize_axis("concat", axis, first.rank)
    total: Dim = 0
    for index, item in enumerate(types):
        if item.rank != first.rank:
            raise OpError("concat", f"tensor {index} has rank {item.rank} but tensor 0 has rank {first.rank} "
                                    f"(shapes {shape_text(item.shape)} and {shape_text(first.shape)})")
        for d, (a, b) in enumerate(zip(item.shape, first.shape)):
            if d != position and a != b and not isinstance(a, Symbol) and not isinstance(b, Symbol):
                raise OpError("concat", f"tensor {index} has shape {shape_text(item.shape)}, which differs from tensor "
                                        f"0's {shape_text(first.shape)} at dim {d} (only axis {axis} may differ)")
        dim = item.shape[position]
        total = Symbol("concat") if isinstance(dim, Symbol) or isinstance(total, Symbol) else total + dim
    return TensorType(first.dtype, (*first.shape[:position], total, *first.shape[position + 1:]))


def _concat_reference(tensors: Sequence[np.ndarray], *, axis: int = 0) -> np.ndarray:
    return np.concatenate(list(tensors), axis=axis)


def _concat_samples(dtype: dt.DType) -> list[Sample]:
    cases: list[tuple[list[tuple[int, ...]], int]] = [
        ([(2, 3), (1, 3)], 0), ([(2, 3), (2, 4), (2, 1)], -1), ([(3,)], 0), ([(0, 3), (2, 3)], 0),
        ([(2, 0), (2, 0)], 1), ([(2, 1, 3, 1, 2), (2, 1, 3, 1, 1)], 4)]
    return [Sample((tuple(_array(s, dtype, i) for i, s in enumerate(shapes)),), {"axis": axis})
            for shapes, axis in cases]


def _concat_vjp(ctx: Any, grad: Any) -> tuple[Any]:
    tensors, axis = ctx.inputs[0], ctx.attrs["axis"]
    sizes = tuple(int(t.shape[axis]) for t in tensors)
    return (list(split(grad, sizes, axis)),)


_CONCAT = register_op(OpDef(
    name="concat", group="movement", inputs=("tensors",), infer=_concat_infer, reference=_concat_reference,
    attrs=(("axis", 0),), dtypes=ALL, variadic=True, samples=_concat_samples, vjp=_concat_vjp,
    doc="``concat(tensors, axis=0)``: tensors joined along an existing axis (dtypes promoted together)."))


def concat(tensors: Any, axis: Any = 0) -> Any:
    items = _tensor_list("concat", tensors, "tensors")
    return _dispatch.apply(_CONCAT, (items,), {"axis": as_int("concat", axis, "axis")})


def cat(tensors: Any, axis: Any = 0) -> Any:
    """``cat(tensors, axis=0)``: MindSpore's other name for ``concat``."""
    items = _tensor_list("cat", tensors, "tensors")
    return _dispatch.apply(_CONCAT, (items,), {"axis": as_int("cat", axis, "axis")})


def _stack_infer(types: tuple[TensorType, ...], *, axis: int) -> TensorType:
    first = types[0]
    position = normalize_axis("stack", axis, first.rank + 1)
    for index, item in enumerate(types):
        if item.shape != first.shape:
            raise OpError("stack", f"all tensors must have the same shape; tensor {index} has "
                                   f"{shape_text(item.shape)}, tensor 0 has {shape_text(first.shape)}")
    return TensorType(first.dtype, (*first.shape[:position], len(types), *first.shape[position:]))


def _stack_reference(tensors: Sequence[np.ndarray], *, axis: int = 0) -> np.ndarray:
    return np.stack(list(tensors), axis=axis)


def _stack_samples(dtype: dt.DType) -> list[Sample]:
    cases = [((2, 3), 2, 0), ((2, 3), 3, -1), ((), 3, 0), ((0, 3), 2, 1), ((2, 1, 3, 1), 2, 4), ((4,), 1, 0)]
    return [Sample((tuple(_array(shape, dtype, i) for i in range(count)),), {"axis": axis})
            for shape, count, axis in cases]


def _stack_vjp(ctx: Any, grad: Any) -> tuple[Any]:
    axis = ctx.attrs["axis"]
    return ([ops().squeeze(piece, axis) for piece in split(grad, 1, axis)],)


_STACK = register_op(OpDef(
    name="stack", group="movement", inputs=("tensors",), infer=_stack_infer, reference=_stack_reference,
    attrs=(("axis", 0),), dtypes=ALL, variadic=True, samples=_stack_samples, vjp=_stack_vjp,
    doc="``stack(tensors, axis=0)``: same-shape tensors joined along a new axis."))


def stack(tensors: Any, axis: Any = 0) -> Any:
    items = _tensor_list("stack", tensors, "tensors")
    return _dispatch.apply(_STACK, (items,), {"axis": as_int("stack", axis, "axis")})


# -- split / chunk ---------------------------------------------------------------------------------
def split_sizes(op: str, dim: Dim, sizes: int | tuple[int, ...], axis: int) -> list[int]:
    """The sizes of the pieces ``split`` cuts an axis of ``dim`` elements into."""
    if isinstance(dim, Symbol):
        raise OpError(op, f"axis {axis} has a symbolic size {dim}; the number of pieces must be known")
    if isinstance(sizes, int):
        if sizes <= 0:
            raise OpError(op, f"split_size_or_sections must be positive, got {sizes}")
        pieces = [sizes] * (dim // sizes) + ([dim % sizes] if dim % sizes else [])
        return pieces or [0]
    if any(s < 0 for s in sizes) or sum(sizes) != dim:
        raise OpError(op, f"sections {list(sizes)} must be non-negative and add up to the size {dim} of axis {axis}")
    return list(sizes)


def _split_infer(x: TensorType, *, split_size_or_sections: int | tuple[int, ...], axis: int
                 ) -> tuple[TensorType, ...]:
    position = normalize_axis("split", axis, x.rank)
    pieces = split_sizes("split", x.shape[position], split_size_or_sections, axis)
    return tuple(TensorType(x.dtype, (*x.shape[:position], p, *x.shape[position + 1:])) for p in pieces)


def _split_reference(x: np.ndarray, *, split_size_or_sections: int | tuple[int, ...], axis: int = 0
                     ) -> list[np.ndarray]:
    dim = x.shape[axis]
    if isinstance(split_size_or_sections, int):
        starts = list(range(0, dim, split_size_or_sections)) or [0]
        ends = [min(s + split_size_or_sections, dim) for s in starts]
    else:
        ends = list(np.cumsum(split_size_or_sections))
        starts = [0, *ends[:-1]]
    return [np.take(x, np.arange(s, e), axis=axis) for s, e in zip(starts, ends)]


def _split_samples(dtype: dt.DType) -> list[Sample]:
    cases: list[tuple[tuple[int, ...], Any, int]] = [
        ((5, 2), 2, 0), ((2, 6), 3, 1), ((2, 6), (1, 0, 5), -1), ((4,), 4, 0), ((0, 3), 2, 0), ((3, 0), (0,), 1),
        ((2, 1, 5, 1, 2), (2, 3), 2)]
    return [Sample((_array(shape, dtype),), {"split_size_or_sections": s, "axis": a}) for shape, s, a in cases]


def _pieces_vjp(ctx: Any, grad: Any) -> tuple[Any]:
    """split/chunk: the pieces' gradients joined again (a piece nobody used contributes zeros)."""
    x, axis = ctx.inputs[0], ctx.attrs["axis"] % ctx.inputs[0].ndim
    grads = grad if isinstance(grad, tuple) else (grad,)
    if "chunks" in ctx.attrs:
        sizes = _chunk_sizes(x.shape[axis], ctx.attrs["chunks"], axis)
    else:
        sizes = split_sizes("split", x.shape[axis], ctx.attrs["split_size_or_sections"], axis)
    known = next(g for g in grads if g is not None)
    parts = [zeros_tensor((*x.shape[:axis], size, *x.shape[axis + 1:]), known.dtype, known) if g is None else g
             for g, size in zip(grads, sizes)]
    return (concat(parts, axis),)


_SPLIT = register_op(OpDef(
    name="split", group="movement", inputs=("tensor",), infer=_split_infer, reference=_split_reference,
    attrs=(("split_size_or_sections", 1), ("axis", 0)), dtypes=ALL, samples=_split_samples, method="split",
    vjp=_pieces_vjp,
    doc="``split(tensor, split_size_or_sections, axis=0)``: a tuple of pieces: equal pieces of the given size "
        "(the last may be smaller), or pieces with the listed sizes."))


def split(tensor: Any, split_size_or_sections: Any, axis: Any = 0) -> Any:
    if isinstance(split_size_or_sections, (int, np.integer)) and not isinstance(split_size_or_sections, bool):
        sizes: int | tuple[int, ...] = int(split_size_or_sections)
    else:
        sizes = as_int_tuple("split", split_size_or_sections, "split_size_or_sections", allow_int=False)
    return _dispatch.apply(_SPLIT, (tensor,), {"split_size_or_sections": sizes, "axis": as_int("split", axis, "axis")})


def _chunk_sizes(dim: Dim, chunks: int, axis: int) -> list[int]:
    if chunks <= 0:
        raise OpError("chunk", f"chunks must be positive, got {chunks}")
    if isinstance(dim, Symbol):
        raise OpError("chunk", f"axis {axis} has a symbolic size {dim}; the number of pieces must be known")
    return split_sizes("chunk", dim, max(-(-dim // chunks), 1), axis)


def _chunk_infer(x: TensorType, *, chunks: int, axis: int) -> tuple[TensorType, ...]:
    position = normalize_axis("chunk", axis, x.rank)
    pieces = _chunk_sizes(x.shape[position], chunks, axis)
    return tuple(TensorType(x.dtype, (*x.shape[:position], p, *x.shape[position + 1:])) for p in pieces)


def _chunk_reference(x: np.ndarray, *, chunks: int, axis: int = 0) -> list[np.ndarray]:
    dim = x.shape[axis]
    size = max((dim + chunks - 1) // chunks, 1)
    starts = list(range(0, dim, size)) or [0]
    return [np.take(x, np.arange(s, min(s + size, dim)), axis=axis) for s in starts]


def _chunk_samples(dtype: dt.DType) -> list[Sample]:
    cases = [((5, 2), 2, 0), ((2, 6), 3, 1), ((2, 6), 4, -1), ((3,), 5, 0), ((0, 3), 2, 0), ((2, 1, 5, 1, 2), 3, 2)]
    return [Sample((_array(shape, dtype),), {"chunks": c, "axis": a}) for shape, c, a in cases]


_CHUNK = register_op(OpDef(
    name="chunk", group="movement", inputs=("input",), infer=_chunk_infer, reference=_chunk_reference,
    attrs=(("chunks", 1), ("axis", 0)), dtypes=ALL, samples=_chunk_samples, method="chunk", vjp=_pieces_vjp,
    decomposition=lambda input, *, chunks, axis: split(input, _chunk_sizes(input.shape[axis], chunks, axis)[0], axis),
    doc="``chunk(input, chunks, axis=0)``: up to ``chunks`` pieces of ceil(size / chunks) elements."))


def chunk(input: Any, chunks: Any, axis: Any = 0) -> Any:
    return _dispatch.apply(_CHUNK, (input,), {"chunks": as_int("chunk", chunks, "chunks"),
                                              "axis": as_int("chunk", axis, "axis")})


# -- pad -----------------------------------------------------------------------------------------
_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _pad_infer(x: TensorType, *, padding: tuple[int, ...], mode: str, value: bool | int | float | None
               ) -> TensorType:
    if len(padding) % 2 or len(padding) // 2 > x.rank:
        raise OpError("pad", f"padding {list(padding)} must hold (left, right) pairs for at most the {x.rank} "
                             f"dims of the input")
    shape = list(x.shape)
    for pair in range(len(padding) // 2):
        axis = x.rank - 1 - pair
        left, right = padding[2 * pair], padding[2 * pair + 1]
        dim = shape[axis]
        if isinstance(dim, Symbol):
            shape[axis] = Symbol("pad")
            continue
        if mode != "constant":
            limit = dim if mode == "circular" else dim - 1
            if left < 0 or right < 0 or (mode != "replicate" and max(left, right) > limit) or (
                    mode == "replicate" and dim == 0 and left + right > 0):
                raise OpError("pad", f"{mode} padding ({left}, {right}) is not possible for dim {axis} of size {dim} "
                                     f"(pads must be >= 0 and {'<= size' if mode == 'circular' else '< size'})")
        if dim + left + right < 0:
            raise OpError("pad", f"padding ({left}, {right}) removes more than the {dim} elements of dim {axis}")
        shape[axis] = dim + left + right
    return TensorType(x.dtype, tuple(shape))


def _pad_reference(x: np.ndarray, *, padding: tuple[int, ...], mode: str = "constant",
                   value: bool | int | float | None = None) -> np.ndarray:
    if x.ndim == 0:
        return np.array(x)
    pairs = [[0, 0] for _ in range(x.ndim)]
    for pair in range(len(padding) // 2):
        pairs[x.ndim - 1 - pair] = [padding[2 * pair], padding[2 * pair + 1]]
    crop = tuple(np.arange(max(-lo, 0), x.shape[i] - max(-hi, 0)) for i, (lo, hi) in enumerate(pairs))
    cropped: np.ndarray = x[np.ix_(*crop)]
    grow = [(max(lo, 0), max(hi, 0)) for lo, hi in pairs]
    numpy_mode: Any = _PAD_MODES[mode]
    if mode == "constant":
        result: np.ndarray = np.pad(cropped, grow, mode=numpy_mode, constant_values=0 if value is None else value)
    else:
        result = np.pad(cropped, grow, mode=numpy_mode)
    return result


def _pad_samples(dtype: dt.DType) -> list[Sample]:
    fill = True if dtype is dt.bool_ else 3
    cases: list[tuple[tuple[int, ...], tuple[int, ...], str, Any]] = [
        ((2, 3), (1, 2), "constant", None), ((2, 3), (1, 0, 0, 2), "constant", fill),
        ((2, 3), (-1, 1), "constant", 0), ((2, 3), (2, 1), "reflect", None), ((2, 3, 4), (1, 1, 2, 0), "reflect", None),
        ((2, 3), (3, 1), "replicate", None), ((2, 3), (3, 1, 1, 0), "circular", None),
        ((0, 3), (1, 1), "constant", None), ((), (), "constant", None),
        ((2, 1, 3, 1, 2), (1, 0, 0, 1, 2, 0), "replicate", None)]
    return [Sample((_array(shape, dtype),), {"padding": p, "mode": m, "value": v}) for shape, p, m, v in cases]


def _pad_vjp(ctx: Any, grad: Any) -> tuple[Any]:
    """constant: the opposite pad (negative pads crop, so pad(grad, -padding) cuts the input's block out).
    reflect/replicate/circular: each padded axis picks input positions np.pad(arange(n)) would, so the
    gradient adds each output position back into the position it copied (getitem_backward accumulates)."""
    padding, mode = ctx.attrs["padding"], ctx.attrs["mode"]
    if mode == "constant":
        return (pad(grad, tuple(-p for p in padding)),)
    from mycelia.ops._indexing_tensor import scatter_add_index

    x = ctx.inputs[0]
    shape = list(grad.shape)
    for pair in range(len(padding) // 2):
        axis = x.ndim - 1 - pair
        left, right = padding[2 * pair], padding[2 * pair + 1]
        if left == right == 0:
            continue
        picks = np.pad(np.arange(x.shape[axis]), (left, right), mode=_PAD_MODES[mode])  # type: ignore[call-overload]
        shape[axis] = x.shape[axis]
        index = (("slice", None, None, None),) * axis + (("tensor", 1),)
        grad = scatter_add_index(grad, (index_tensor(picks, grad),), index, tuple(shape))
    return (grad,)


_PAD = register_op(OpDef(
    name="pad", group="movement", inputs=("input_x",), infer=_pad_infer, reference=_pad_reference,
    attrs=(("padding", ()), ("mode", "constant"), ("value", None)), dtypes=ALL, samples=_pad_samples,
    vjp=_pad_vjp,
    doc="``pad(input_x, padding, mode='constant', value=None)``: (left, right) pairs from the last dim backwards; "
        "modes constant (negative pads crop), reflect, replicate, circular."))


def pad(input_x: Any, padding: Any, mode: str = "constant", value: Any = None) -> Any:
    if mode not in _PAD_MODES:
        raise OpError("pad", f"mode must be one of {sorted(_PAD_MODES)}, got {mode!r}")
    if value is not None and mode != "constant":
        raise OpError("pad", f"value is only used with mode='constant', got mode={mode!r}")
    fill = None if value is None else as_scalar("pad", value, "value")
    return _dispatch.apply(_PAD, (input_x,), {"padding": as_int_tuple("pad", padding, "padding", allow_int=False),
                                              "mode": mode, "value": fill})


# -- meshgrid ------------------------------------------------------------------------------------
def _meshgrid_infer(types: tuple[TensorType, ...], *, indexing: str) -> tuple[TensorType, ...]:
    for index, item in enumerate(types):
        if item.rank > 1:
            raise OpError("meshgrid", f"inputs must be 0-d or 1-d; input {index} has shape {shape_text(item.shape)}")
    lengths: list[Dim] = [item.shape[0] if item.rank else 1 for item in types]
    if indexing == "xy" and len(lengths) >= 2:
        lengths[0], lengths[1] = lengths[1], lengths[0]
    return tuple(TensorType(types[0].dtype, tuple(lengths)) for _ in types)


def _meshgrid_reference(*arrays: np.ndarray, indexing: str = "xy") -> list[np.ndarray]:
    vectors = [a.reshape(-1) for a in arrays]
    shape = [len(v) for v in vectors]
    if indexing == "xy" and len(shape) >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    grids = []
    for index, vector in enumerate(vectors):
        axis = {0: 1, 1: 0}.get(index, index) if indexing == "xy" and len(vectors) >= 2 else index
        view = [1] * len(vectors)
        view[axis] = len(vector)
        grids.append(np.broadcast_to(vector.reshape(view), shape))
    return grids


def _meshgrid_samples(dtype: dt.DType) -> list[Sample]:
    cases: list[tuple[list[tuple[int, ...]], str]] = [
        ([(3,), (4,)], "xy"), ([(3,), (4,)], "ij"), ([(2,), (3,), (4,)], "xy"), ([(2,), (0,)], "ij"), ([(5,)], "xy"),
        ([(), (3,)], "xy"), ([(2,), (1,), (2,), (1,), (3,)], "ij")]
    return [Sample(tuple(_array(s, dtype, i) for i, s in enumerate(shapes)), {"indexing": indexing})
            for shapes, indexing in cases]


def _meshgrid_vjp(ctx: Any, grad: Any) -> tuple[Any]:
    """Grid i repeats input i along every axis but its own: its gradient sums those axes."""
    grads = grad if isinstance(grad, tuple) else (grad,)
    inputs, rank = ctx.inputs[0], len(ctx.inputs[0])
    result: list[Any] = []
    for index, (item, g) in enumerate(zip(inputs, grads)):
        if g is None:
            result.append(None)
            continue
        own = {0: 1, 1: 0}.get(index, index) if ctx.attrs["indexing"] == "xy" and rank >= 2 else index
        others = tuple(a for a in range(rank) if a != own)
        result.append(ops().reshape(ops().sum(g, others) if others else g, tuple(item.shape)))
    return (result,)


_MESHGRID = register_op(OpDef(
    name="meshgrid", group="movement", inputs=("inputs",), infer=_meshgrid_infer, reference=_meshgrid_reference,
    attrs=(("indexing", "xy"),), dtypes=ALL, variadic=True, samples=_meshgrid_samples, vjp=_meshgrid_vjp,
    doc="``meshgrid(*inputs, indexing='xy')``: coordinate grids from 0-d/1-d tensors ('xy' swaps the first two "
        "output axes, 'ij' keeps them)."))


def meshgrid(*inputs: Any, indexing: str = "xy") -> Any:
    items = list(inputs[0]) if len(inputs) == 1 and isinstance(inputs[0], (list, tuple)) else list(inputs)
    items = _tensor_list("meshgrid", items, "inputs")
    if indexing not in ("xy", "ij"):
        raise OpError("meshgrid", f"indexing must be 'xy' or 'ij', got {indexing!r}")
    return _dispatch.apply(_MESHGRID, (items,), {"indexing": indexing})
