"""Indexing ops: gather, scatter, index_select, masked_fill/select, one_hot, nonzero, unique, sort, topk.

MindSpore 2.x names and signatures. Index values are checked on the host before the kernel runs, so
an out-of-range index is an IndexError naming the index, the axis and its size. ``Tensor`` indexing
(``x[...]``, ``x[...] = v``) is in ``_indexing_tensor``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._errors import OpError
from mycelia._tensor import Parameter, Tensor
from mycelia._types import Dim, Symbol, TensorType
from mycelia.ops import _dispatch
from mycelia.ops._define import ALL, INTEGERS, NUMERIC, random_array
from mycelia.ops._indexing_sort import argsort, sort, topk, unique
from mycelia.ops._indexing_tensor import along_axis_backward, getitem, getitem_backward, scatter_add_index, setitem
from mycelia.ops._registry import OpDef, Sample, register_op
from mycelia.ops._shape_helpers import (
    OpTypeError,
    as_int,
    as_scalar,
    check_index_range,
    index_tensor,
    no_gradient,
    normalize_axis,
    ops,
    require_tensor,
    scalar_tensor,
    shape_text,
    zeros_tensor,
)
from mycelia.ops._shape_ops import cast, pad_back
from mycelia.ops._shapes import broadcast_shapes

__all__ = [
    "argsort",
    "gather",
    "gather_elements",
    "getitem",
    "getitem_backward",
    "index_select",
    "masked_fill",
    "masked_select",
    "nonzero",
    "one_hot",
    "scatter",
    "scatter_add",
    "setitem",
    "sort",
    "topk",
    "unique",
]


def _array(shape: tuple[int, ...], dtype: dt.DType, seed: int = 0) -> np.ndarray:
    return random_array(shape, dtype, np.random.default_rng(seed + 11 * len(shape)))


def _indices(high: int, shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, max(high, 1), size=shape).astype(np.int64) if high else \
        np.zeros(shape, np.int64)


def _check_integer(op: str, item: TensorType, name: str) -> None:
    if not item.dtype.is_integer:
        raise OpTypeError(op, f"{name} must be an integer tensor, got {item.dtype}")


def _same_dtype(value: Tensor, dtype: dt.DType) -> Tensor:
    return value if value._dtype is dtype else cast(value, dtype)


# -- gather ----------------------------------------------------------------------------------------
def _gather_infer(params: TensorType, indices: TensorType, *, axis: int, batch_dims: int) -> TensorType:
    _check_integer("gather", indices, "input_indices")
    if not 0 <= batch_dims <= min(axis, indices.rank):
        raise OpError("gather", f"batch_dims {batch_dims} must be in 0..min(axis={axis}, rank of input_indices="
                                f"{indices.rank})")
    if params.shape[:batch_dims] != indices.shape[:batch_dims]:
        raise OpError("gather", f"the first {batch_dims} dims of input_params {shape_text(params.shape)} and "
                                f"input_indices {shape_text(indices.shape)} must be equal")
    return TensorType(params.dtype, (*params.shape[:axis], *indices.shape[batch_dims:], *params.shape[axis + 1:]))


def _gather_reference(params: np.ndarray, indices: np.ndarray, *, axis: int, batch_dims: int = 0) -> np.ndarray:
    axis %= params.ndim
    if batch_dims == 0:
        return np.take(params, indices, axis=axis)
    batch = params.shape[:batch_dims]
    out_shape = (*params.shape[:axis], *indices.shape[batch_dims:], *params.shape[axis + 1:])
    out = np.zeros(out_shape, params.dtype)
    for b in np.ndindex(*batch):
        out[b] = np.take(params[b], indices[b], axis=axis - batch_dims)
    return out


def _gather_samples(dtype: dt.DType) -> list[Sample]:
    cases = [((5, 3), (4,), 0, 0), ((5, 3), (2, 2), 1, 0), ((5, 3), (), -1, 0), ((0, 3), (2,), 1, 0),
             ((5, 3), (0,), 0, 0), ((2, 4, 3), (2, 5), 1, 1), ((2, 1, 3, 1, 2), (2, 1, 4), 2, 2)]
    samples: list[Sample] = []
    for shape, index_shape, axis, batch in cases:
        samples.append(Sample((_array(shape, dtype), _indices(shape[axis], index_shape, len(samples))),
                              {"axis": axis, "batch_dims": batch}))
    return samples


def _take_backward(grad: Any, indices: Any, axis: int, shape: tuple[int, ...]) -> Any:
    """The gradient of ``take(x, indices, axis)`` (x[:, ..., indices]): grad added back, repeats accumulating."""
    return scatter_add_index(grad, (indices,), (("slice", None, None, None),) * axis + (("tensor", 1),), shape)


def _gather_vjp(ctx: Any, grad: Any) -> tuple[Any, None]:
    """gather is x[:, ..., indices] (batch dims: x[b0, .., m.., indices] with aranges): its gradient adds
    grad back at those positions (repeats accumulate)."""
    params, indices = ctx.inputs
    axis, batch = ctx.attrs["axis"], ctx.attrs["batch_dims"]
    if batch == 0:
        return _take_backward(grad, indices, axis, tuple(params.shape)), None
    rank = axis + indices.ndim - batch  # every dim up to axis indexed by a broadcast arange
    aranges = []
    for d in range(axis):
        view = [1] * rank
        view[d] = params.shape[d]
        aranges.append(index_tensor(np.arange(params.shape[d]).reshape(view), grad))
    shaped = indices.reshape((*indices.shape[:batch], *(1,) * (axis - batch), *indices.shape[batch:]))
    index = tuple(("tensor", k + 1) for k in range(axis + 1))
    return scatter_add_index(grad, (*aranges, shaped), index, tuple(params.shape)), None


_GATHER = register_op(OpDef(
    name="gather", group="indexing", inputs=("input_params", "input_indices"), infer=_gather_infer,
    reference=_gather_reference, attrs=(("axis", 0), ("batch_dims", 0)), dtypes=ALL, samples=_gather_samples,
    vjp=_gather_vjp,
    method="gather", doc="``gather(input_params, input_indices, axis, batch_dims=0)``: slices of input_params "
                         "along ``axis`` picked by input_indices (the first batch_dims dims are batch dims)."))


def gather(input_params: Any, input_indices: Any, axis: Any, batch_dims: Any = 0) -> Any:
    params = require_tensor("gather", input_params, "input_params")
    indices = require_tensor("gather", input_indices, "input_indices")
    position = normalize_axis("gather", as_int("gather", axis, "axis"), params.ndim)
    batch = as_int("gather", batch_dims, "batch_dims")
    batch = batch + indices.ndim if batch < 0 else batch
    if indices._dtype.is_integer:
        check_index_range("gather", indices, params.shape[position], position)
    return _dispatch.apply(_GATHER, (params, indices), {"axis": position, "batch_dims": batch})


# -- gather_elements / index_select ------------------------------------------------------------------
def _gather_elements_infer(x: TensorType, index: TensorType, *, dim: int) -> TensorType:
    _check_integer("gather_elements", index, "index")
    if index.rank != x.rank:
        raise OpError("gather_elements", f"index must have the rank of input ({x.rank}), got shape "
                                         f"{shape_text(index.shape)}")
    for d, (a, b) in enumerate(zip(index.shape, x.shape)):
        if d != dim and not isinstance(a, Symbol) and not isinstance(b, Symbol) and a > b:
            raise OpError("gather_elements", f"index shape {shape_text(index.shape)} exceeds input shape "
                                             f"{shape_text(x.shape)} at dim {d}")
    return TensorType(x.dtype, index.shape)


def _gather_elements_reference(x: np.ndarray, index: np.ndarray, *, dim: int) -> np.ndarray:
    out = np.zeros(index.shape, x.dtype)
    for position in np.ndindex(*index.shape):
        source = list(position)
        source[dim] = index[position]
        out[position] = x[tuple(source)]
    return out


def _gather_elements_samples(dtype: dt.DType) -> list[Sample]:
    cases = [((3, 4), (3, 4), 1), ((3, 4), (2, 4), 0), ((3, 4), (3, 2), -1), ((3, 0), (3, 0), 1),
             ((2, 1, 3, 1, 2), (2, 1, 5, 1, 2), 2)]
    return [Sample((_array(shape, dtype), _indices(shape[dim], index_shape, i)), {"dim": dim % len(shape)},
                   call=lambda x, index, *, dim: gather_elements(x, dim, index))
            for i, (shape, index_shape, dim) in enumerate(cases)]


_GATHER_ELEMENTS = register_op(OpDef(
    name="gather_elements", group="indexing", inputs=("input", "index"), infer=_gather_elements_infer,
    reference=_gather_elements_reference, attrs=(("dim", 0),), dtypes=ALL, samples=_gather_elements_samples,
    vjp=lambda ctx, grad: (along_axis_backward(grad, ctx.inputs[1], ctx.attrs["dim"], tuple(ctx.inputs[0].shape)),
                           None),
    method="gather_elements",
    doc="``gather_elements(input, dim, index)``: out[i][j] = input[index[i][j]][j] for dim 0 (and so on)."))


def gather_elements(input: Any, dim: Any, index: Any) -> Any:
    x = require_tensor("gather_elements", input, "input")
    positions = require_tensor("gather_elements", index, "index")
    axis = normalize_axis("gather_elements", as_int("gather_elements", dim, "dim"), x.ndim, name="dim")
    if positions._dtype.is_integer and positions.ndim == x.ndim:
        check_index_range("gather_elements", positions, x.shape[axis], axis)
    return _dispatch.apply(_GATHER_ELEMENTS, (x, positions), {"dim": axis})


def _index_select_infer(x: TensorType, index: TensorType, *, axis: int) -> TensorType:
    _check_integer("index_select", index, "index")
    if index.rank != 1:
        raise OpError("index_select", f"index must be 1-d, got shape {shape_text(index.shape)}")
    return TensorType(x.dtype, (*x.shape[:axis], index.shape[0], *x.shape[axis + 1:]))


def _index_select_reference(x: np.ndarray, index: np.ndarray, *, axis: int) -> np.ndarray:
    return np.stack([np.take(x, i, axis=axis) for i in index], axis=axis) if len(index) else \
        np.take(x, index, axis=axis)


def _index_select_samples(dtype: dt.DType) -> list[Sample]:
    cases = [((4, 3), 0, 5), ((4, 3), 1, 2), ((4, 3), -1, 0), ((0, 3), 1, 2), ((2, 1, 3, 1, 2), 2, 4)]
    return [Sample((_array(shape, dtype), _indices(shape[axis], (count,), i)), {"axis": axis % len(shape)},
                   call=lambda x, index, *, axis: index_select(x, axis, index))
            for i, (shape, axis, count) in enumerate(cases)]


_INDEX_SELECT = register_op(OpDef(
    name="index_select", group="indexing", inputs=("input", "index"), infer=_index_select_infer,
    reference=_index_select_reference, attrs=(("axis", 0),), dtypes=ALL, samples=_index_select_samples,
    vjp=lambda ctx, grad: (_take_backward(grad, ctx.inputs[1], ctx.attrs["axis"], tuple(ctx.inputs[0].shape)), None),
    method="index_select", doc="``index_select(input, axis, index)``: the entries of ``axis`` listed in the 1-d "
                               "integer tensor ``index``."))


def index_select(input: Any, axis: Any, index: Any) -> Any:
    x = require_tensor("index_select", input, "input")
    positions = require_tensor("index_select", index, "index")
    position = normalize_axis("index_select", as_int("index_select", axis, "axis"), x.ndim)
    if positions._dtype.is_integer:
        check_index_range("index_select", positions, x.shape[position], position)
    return _dispatch.apply(_INDEX_SELECT, (x, positions), {"axis": position})


# -- scatter / scatter_add ---------------------------------------------------------------------------
def _scatter_infer(x: TensorType, index: TensorType, src: TensorType, *, axis: int) -> TensorType:
    _check_integer("scatter", index, "index")
    if not index.rank == src.rank == x.rank:
        raise OpError("scatter", f"input {shape_text(x.shape)}, index {shape_text(index.shape)} and src "
                                 f"{shape_text(src.shape)} must have the same rank")
    for d, (i, s, t) in enumerate(zip(index.shape, src.shape, x.shape)):
        if isinstance(i, Symbol) or isinstance(s, Symbol) or isinstance(t, Symbol):
            continue
        if i > s or (d != axis and i > t):
            raise OpError("scatter", f"index shape {shape_text(index.shape)} must not exceed src "
                                     f"{shape_text(src.shape)} (nor input {shape_text(x.shape)} off axis {axis})")
    return x


def _scatter_reference(x: np.ndarray, index: np.ndarray, src: np.ndarray, *, axis: int) -> np.ndarray:
    out: np.ndarray = x.copy()
    for position in np.ndindex(*index.shape):
        target = list(position)
        target[axis] = index[position]
        out[tuple(target)] = src[position]
    return out


def _unique_positions(size: int, shape: tuple[int, ...], axis: int, seed: int) -> np.ndarray:
    """Index values with no repeats along ``axis`` (scatter results are undefined for repeats)."""
    full = list(shape)
    full[axis] = size
    order = np.argsort(np.random.default_rng(seed).random(full), axis=axis)
    return np.take(order, np.arange(shape[axis]), axis=axis).astype(np.int64)


def _scatter_samples(dtype: dt.DType) -> list[Sample]:
    cases = [((4, 3), (2, 3), (3, 3), 0), ((4, 3), (4, 2), (4, 3), 1), ((4, 3), (0, 3), (1, 3), 0),
             ((2, 1, 4, 1, 2), (2, 1, 3, 1, 2), (2, 1, 3, 1, 2), 2)]
    return [Sample((_array(shape, dtype, i), _unique_positions(shape[axis], index_shape, axis, i),
                    _array(src_shape, dtype, i + 1)), {"axis": axis},
                   call=lambda x, index, src, *, axis: scatter(x, axis, index, src))
            for i, (shape, index_shape, src_shape, axis) in enumerate(cases)]


def _scatter_vjp(ctx: Any, grad: Any) -> tuple[Any, None, Any]:
    """Input: grad except where src was written. src: the grad at the positions it was written to
    (zeros for src entries beyond the index's shape, which scatter ignores)."""
    x, index, src = ctx.inputs
    axis = ctx.attrs["axis"]
    to_input = to_src = None
    if x._autograd is not None:
        to_input = _dispatch.apply(_SCATTER, (grad, index, zeros_tensor(src.shape, grad.dtype, grad)), {"axis": axis})
    if src._autograd is not None:
        taken = _dispatch.apply(_GATHER_ELEMENTS, (grad, index), {"dim": axis})
        to_src = pad_back(taken, tuple(src.shape), (0,) * src.ndim)
    return to_input, None, to_src


_SCATTER = register_op(OpDef(
    name="scatter", group="indexing", inputs=("input", "index", "src"), infer=_scatter_infer,
    reference=_scatter_reference, attrs=(("axis", 0),), dtypes=ALL, samples=_scatter_samples, method="scatter",
    vjp=_scatter_vjp,
    doc="``scatter(input, axis, index, src)``: a copy of input with out[index[i][j]][j] = src[i][j] for axis 0 "
        "(and so on); repeated indices leave one of the values."))


def scatter(input: Any, axis: Any, index: Any, src: Any) -> Any:
    x = require_tensor("scatter", input, "input")
    positions = require_tensor("scatter", index, "index")
    values = require_tensor("scatter", src, "src")
    position = normalize_axis("scatter", as_int("scatter", axis, "axis"), x.ndim)
    if positions._dtype.is_integer:
        check_index_range("scatter", positions, x.shape[position], position)
    return _dispatch.apply(_SCATTER, (x, positions, _same_dtype(values, x._dtype)), {"axis": position})


def _scatter_add_infer(x: TensorType, indices: TensorType, updates: TensorType) -> TensorType:
    _check_integer("scatter_add", indices, "indices")
    if x.rank == 0:
        raise OpError("scatter_add", "input_x must have at least 1 dim")
    expected = (*indices.shape, *x.shape[1:])
    if updates.shape != expected:
        raise OpError("scatter_add", f"updates must have shape indices.shape + input_x.shape[1:] = "
                                     f"{shape_text(expected)}, got {shape_text(updates.shape)}")
    return x


def _scatter_add_reference(x: np.ndarray, indices: np.ndarray, updates: np.ndarray) -> np.ndarray:
    out: np.ndarray = x.copy()
    for position in np.ndindex(*indices.shape):
        out[indices[position]] += updates[position]
    return out


def _scatter_add_samples(dtype: dt.DType) -> list[Sample]:
    cases = [((4, 3), (5,)), ((4, 3), (2, 2)), ((4,), (3,)), ((4, 3), (0,)), ((3, 1, 2, 1, 2), (2, 2))]
    return [Sample((_array(shape, dtype, i), _indices(shape[0], index_shape, i),
                    _array((*index_shape, *shape[1:]), dtype, i + 1))) for i, (shape, index_shape) in enumerate(cases)]


_SCATTER_ADD = register_op(OpDef(
    name="scatter_add", group="indexing", inputs=("input_x", "indices", "updates"), infer=_scatter_add_infer,
    reference=_scatter_add_reference, dtypes=NUMERIC, samples=_scatter_add_samples, method="scatter_add",
    vjp=lambda ctx, grad: (grad, None, gather(grad, ctx.inputs[1], 0)),
    doc="``scatter_add(input_x, indices, updates)``: input_x[indices[i]] += updates[i] along the first dim, "
        "repeats accumulating. A Parameter input is updated in place and returned, as in MindSpore."))


def scatter_add(input_x: Any, indices: Any, updates: Any) -> Any:
    x = require_tensor("scatter_add", input_x, "input_x")
    positions = require_tensor("scatter_add", indices, "indices")
    values = require_tensor("scatter_add", updates, "updates")
    if positions._dtype.is_integer and x.ndim:
        check_index_range("scatter_add", positions, x.shape[0], 0)
    result = _dispatch.apply(_SCATTER_ADD, (x, positions, _same_dtype(values, x._dtype)), {})
    if isinstance(x, Parameter):
        # MindSpore updates a Parameter in place (the old buffer is never written). The Parameter keeps its
        # place on the tape: a gradient with respect to it passes through unchanged (scatter_add's own rule
        # for input_x), and none reaches ``updates`` through it: a Parameter outlives the gradient call, so
        # it must not carry this call's tape.
        x._data = result._data
        return x
    return result


# -- masked_fill / masked_select ----------------------------------------------------------------------
_MASK_CASES = (((2, 3), (2, 3)), ((2, 3), (3,)), ((1, 3), (2, 1)), ((), ()), ((0, 3), (1, 3)),
               ((2, 1, 3, 1, 2), (3, 1, 1)))


def _check_mask(op: str, mask: TensorType) -> None:
    if mask.dtype is not dt.bool_:
        raise OpTypeError(op, f"mask must be a bool tensor, got {mask.dtype}")


def _masked_fill_infer(x: TensorType, mask: TensorType, value: TensorType) -> TensorType:
    _check_mask("masked_fill", mask)
    if value.rank != 0:
        raise OpError("masked_fill", f"value must be a number or a 0-d tensor, got shape {shape_text(value.shape)}")
    return TensorType(x.dtype, broadcast_shapes("masked_fill", x.shape, mask.shape))


def _masked_fill_reference(x: np.ndarray, mask: np.ndarray, value: np.ndarray) -> np.ndarray:
    shape = np.broadcast_shapes(x.shape, mask.shape)
    out = np.array(np.broadcast_to(x, shape))
    out[np.broadcast_to(mask, shape)] = value
    return out


def _masked_fill_samples(dtype: dt.DType) -> list[Sample]:
    value = np.asarray(True if dtype is dt.bool_ else 3, dtype=dtype.numpy)
    bool_ = dt.bool_
    cases = _MASK_CASES
    return [Sample((_array(shape, dtype, i), _array(mask_shape, bool_, i + 5), value))
            for i, (shape, mask_shape) in enumerate(cases)]


def _masked_fill_vjp(ctx: Any, grad: Any) -> tuple[Any, None, Any]:
    mask = ctx.inputs[1]
    kept = _dispatch.apply(_MASKED_FILL, (grad, mask, scalar_tensor(0, grad.dtype, grad)), {})
    return kept, None, ops().sum(grad - kept)  # the value receives the gradient of every filled position


_MASKED_FILL = register_op(OpDef(
    name="masked_fill", group="indexing", inputs=("input_x", "mask", "value"), infer=_masked_fill_infer,
    reference=_masked_fill_reference, dtypes=ALL, samples=_masked_fill_samples, method="masked_fill",
    vjp=_masked_fill_vjp,
    doc="``masked_fill(input_x, mask, value)``: input_x with ``value`` where the bool ``mask`` is True "
        "(shapes broadcast)."))


def masked_fill(input_x: Any, mask: Any, value: Any) -> Any:
    x = require_tensor("masked_fill", input_x, "input_x")
    if isinstance(value, Tensor):
        fill = _same_dtype(value, x._dtype)
    else:
        fill = scalar_tensor(np.asarray(as_scalar("masked_fill", value, "value")).astype(x._dtype.numpy).item(),
                             x._dtype, x)
    return _dispatch.apply(_MASKED_FILL, (x, require_tensor("masked_fill", mask, "mask"), fill), {})


def _masked_select_infer(x: TensorType, mask: TensorType) -> TensorType:
    _check_mask("masked_select", mask)
    broadcast_shapes("masked_select", x.shape, mask.shape)
    return TensorType(x.dtype, (Symbol("masked_count"),))


def _masked_select_reference(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    shape = np.broadcast_shapes(x.shape, mask.shape)
    values, flags = np.broadcast_to(x, shape).reshape(-1), np.broadcast_to(mask, shape).reshape(-1)
    return np.array([v for v, keep in zip(values, flags) if keep], dtype=x.dtype)


def _masked_select_samples(dtype: dt.DType) -> list[Sample]:
    cases = _MASK_CASES
    return [Sample((_array(shape, dtype, i), _array(mask_shape, dt.bool_, i + 5)))
            for i, (shape, mask_shape) in enumerate(cases)]


def _masked_select_vjp(ctx: Any, grad: Any) -> tuple[Any, None]:
    x, mask = ctx.inputs
    shape = tuple(np.broadcast_shapes(tuple(x.shape), tuple(mask.shape)))
    if tuple(mask.shape) != shape:
        mask = ops().broadcast_to(mask, shape)
    return scatter_add_index(grad, (mask,), (("tensor", 1),), shape), None  # the engine sums to x's shape


_MASKED_SELECT = register_op(OpDef(
    name="masked_select", group="indexing", inputs=("input", "mask"), infer=_masked_select_infer,
    reference=_masked_select_reference, dtypes=ALL, samples=_masked_select_samples, method="masked_select",
    vjp=_masked_select_vjp,
    doc="``masked_select(input, mask)``: a 1-d tensor of the elements where the bool ``mask`` is True."))


def masked_select(input: Any, mask: Any) -> Any:
    return _dispatch.apply(_MASKED_SELECT, (input, mask), {})


# -- one_hot / nonzero --------------------------------------------------------------------------------
def _one_hot_infer(indices: TensorType, *, depth: int, on_value: Any, off_value: Any, axis: int,
                   dtype: dt.DType) -> TensorType:
    if depth < 0:
        raise OpError("one_hot", f"depth must be >= 0, got {depth}")
    if not -1 <= axis <= indices.rank:
        raise OpError("one_hot", f"axis {axis} must be in [-1, {indices.rank}]")
    position = indices.rank if axis == -1 else axis
    return TensorType(dtype, (*indices.shape[:position], depth, *indices.shape[position:]))


def _one_hot_reference(indices: np.ndarray, *, depth: int, on_value: Any = 1, off_value: Any = 0, axis: int = -1,
                       dtype: dt.DType = dt.int64) -> np.ndarray:
    out = np.full((*indices.shape, depth), off_value, dtype=dtype.numpy)
    for position in np.ndindex(*indices.shape):
        if 0 <= indices[position] < depth:
            target = (*position, int(indices[position]))
            out[target] = on_value
    return np.moveaxis(out, -1, axis)


def _one_hot_samples(dtype: dt.DType) -> list[Sample]:
    cases: list[tuple[tuple[int, ...], int, Any, Any, int, dt.DType]] = [
        ((4,), 5, 1, 0, -1, dt.int64), ((2, 3), 4, 1.0, 0.0, -1, dt.float32), ((2, 3), 4, 5, -2, 0, dt.int64),
        ((2, 3), 3, 2.5, 0.5, 1, dt.float32), ((), 3, 1, 0, -1, dt.int64), ((0,), 2, 1, 0, -1, dt.int64),
        ((2, 1, 2, 1), 3, 1, 0, 2, dt.int64)]
    rng = np.random.default_rng(3)
    low = 0 if dtype is dt.uint8 else -1
    return [Sample((rng.integers(low, depth + 1, size=shape).astype(dtype.numpy),),
                   {"depth": depth, "on_value": on, "off_value": off, "axis": axis, "dtype": out},
                   call=_one_hot_call) for shape, depth, on, off, axis, out in cases]


def _one_hot_call(t: Any, *, depth: int, on_value: Any, off_value: Any, axis: int, dtype: dt.DType) -> Any:
    return one_hot(t, depth, on_value, off_value, axis)


_ONE_HOT = register_op(OpDef(
    name="one_hot", group="indexing", inputs=("indices",), infer=_one_hot_infer, reference=_one_hot_reference,
    attrs=(("depth", 0), ("on_value", 1), ("off_value", 0), ("axis", -1), ("dtype", dt.int64)), dtypes=INTEGERS,
    samples=_one_hot_samples, differentiable=False, vjp=no_gradient,
    doc="``one_hot(indices, depth, on_value=1, off_value=0, axis=-1)``: a new axis of size depth holding "
        "on_value at each index (indices outside [0, depth) give all off_value). Python ints give int64, "
        "floats float32, Tensors their dtype."))


def _one_hot_value(value: Any) -> tuple[bool | int | float, dt.DType | None]:
    if isinstance(value, Tensor):
        return as_scalar("one_hot", value, "on_value/off_value"), value._dtype
    return as_scalar("one_hot", value, "on_value/off_value"), None


def one_hot(indices: Any, depth: Any, on_value: Any = 1, off_value: Any = 0, axis: Any = -1) -> Any:
    on, on_dtype = _one_hot_value(on_value)
    off, off_dtype = _one_hot_value(off_value)
    dtype = on_dtype or off_dtype or (dt.float32 if isinstance(on, float) or isinstance(off, float) else dt.int64)
    return _dispatch.apply(_ONE_HOT, (indices,), {"depth": as_int("one_hot", depth, "depth"), "on_value": on,
                                                  "off_value": off, "axis": as_int("one_hot", axis, "axis"),
                                                  "dtype": dtype})


def _nonzero_infer(x: TensorType, *, as_tuple: bool) -> TensorType | tuple[TensorType, ...]:
    count: Dim = Symbol("nonzero_count")
    if as_tuple:
        return tuple(TensorType(dt.int64, (count,)) for _ in range(max(x.rank, 1)))
    return TensorType(dt.int64, (count, x.rank))


def _nonzero_reference(x: np.ndarray, *, as_tuple: bool = False) -> Any:
    positions = [p for p in np.ndindex(*x.shape) if x[p]]
    table = np.array(positions, dtype=np.int64).reshape(len(positions), x.ndim)
    if as_tuple:
        return [table[:, i] for i in range(x.ndim)] if x.ndim else [np.zeros(len(positions), np.int64)]
    return table


def _nonzero_samples(dtype: dt.DType) -> list[Sample]:
    shapes = [(2, 3), (5,), (), (0, 3), (2, 1, 3, 1, 2)]
    return [Sample((_array(shape, dtype, i),), {"as_tuple": flag}) for i, shape in enumerate(shapes)
            for flag in (False, True)]


_NONZERO = register_op(OpDef(
    name="nonzero", group="indexing", inputs=("input",), infer=_nonzero_infer, reference=_nonzero_reference,
    attrs=(("as_tuple", False),), dtypes=ALL, samples=_nonzero_samples, method="nonzero", differentiable=False,
    doc="``nonzero(input, *, as_tuple=False)``: int64 positions of the non-zero elements, one row each "
        "(or one 1-d tensor per dim with as_tuple=True)."))


def nonzero(input: Any, *, as_tuple: bool = False) -> Any:
    return _dispatch.apply(_NONZERO, (input,), {"as_tuple": bool(as_tuple)})
