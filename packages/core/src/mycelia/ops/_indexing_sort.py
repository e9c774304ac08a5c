"""Ordering ops: sort, argsort, topk, unique (MindSpore 2.x; int32 indices as MindSpore's ops return).

Sorting is always stable: equal elements keep their input order, in both directions, so ``topk``
prefers the lower index among ties as MindSpore documents.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._errors import OpError
from mycelia._types import Symbol, TensorType
from mycelia.ops import _dispatch
from mycelia.ops._define import ALL, random_array
from mycelia.ops._registry import OpDef, Sample, register_op
from mycelia.ops._shape_helpers import as_int, no_gradient, normalize_axis, require_tensor

__all__ = ["argsort", "sort", "topk", "unique"]

_SHAPES: tuple[tuple[tuple[int, ...], int], ...] = (((2, 5), -1), ((2, 5), 0), ((7,), 0), ((), -1), ((0, 3), 1),
                                                    ((2, 1, 3, 1, 4), 2))


def _array(shape: tuple[int, ...], dtype: dt.DType, seed: int = 0) -> np.ndarray:
    return random_array(shape, dtype, np.random.default_rng(seed + 13 * len(shape)))


def _stable_order(x: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """Reference ordering: a stable argsort of the values (negated, in float64, for descending)."""
    keys = x.astype(np.float64)
    return np.argsort(-keys if descending else keys, axis=axis, kind="stable")


# -- sort / argsort --------------------------------------------------------------------------------
def _ordered_vjp(axis_attr: str) -> Any:
    """sort/topk: the values are x taken along the axis at the sorting indices, so their gradient goes
    back to those positions (the indices output has none)."""
    def vjp(ctx: Any, grad: Any) -> tuple[Any]:
        values_grad = grad[0] if isinstance(grad, tuple) else grad
        x = ctx.inputs[0]
        if values_grad is None:
            return (None,)
        if x.ndim == 0:
            return (values_grad,)
        from mycelia.ops._indexing_tensor import along_axis_backward

        indices = ctx.outputs[1]
        if indices is None:  # nobody kept the indices output: the same (stable) order again
            indices = _dispatch.apply(_SORT if axis_attr == "axis" else _TOPK, (x,), ctx.attrs)[1]
        return (along_axis_backward(values_grad, indices, ctx.attrs[axis_attr] % x.ndim, tuple(x.shape)),)

    return vjp


def _sort_infer(x: TensorType, *, axis: int, descending: bool) -> tuple[TensorType, TensorType]:
    normalize_axis("sort", axis, x.rank, scalar_ok=True)
    return x, TensorType(dt.int32, x.shape)


def _sort_reference(x: np.ndarray, *, axis: int = -1, descending: bool = False) -> tuple[np.ndarray, np.ndarray]:
    if x.ndim == 0:
        return x.copy(), np.zeros((), np.int32)
    order = _stable_order(x, axis, descending)
    return np.take_along_axis(x, order, axis=axis), order


def _sort_samples(dtype: dt.DType) -> list[Sample]:
    return [Sample((_array(shape, dtype, i),), {"axis": axis, "descending": descending})
            for i, (shape, axis) in enumerate(_SHAPES) for descending in (False, True)]


_SORT = register_op(OpDef(
    name="sort", group="indexing", inputs=("input_x",), infer=_sort_infer, reference=_sort_reference,
    attrs=(("axis", -1), ("descending", False)), dtypes=ALL, samples=_sort_samples, method="sort",
    vjp=_ordered_vjp("axis"),
    doc="``sort(input_x, axis=-1, descending=False)``: (sorted values, int32 indices); stable, NaN last "
        "ascending."))


def sort(input_x: Any, axis: Any = -1, descending: bool = False) -> Any:
    return _dispatch.apply(_SORT, (input_x,), {"axis": as_int("sort", axis, "axis"), "descending": bool(descending)})


def _argsort_infer(x: TensorType, *, axis: int, descending: bool) -> TensorType:
    normalize_axis("argsort", axis, x.rank, scalar_ok=True)
    return TensorType(dt.int32, x.shape)


def _argsort_reference(x: np.ndarray, *, axis: int = -1, descending: bool = False) -> np.ndarray:
    return _sort_reference(x, axis=axis, descending=descending)[1]


_ARGSORT = register_op(OpDef(
    name="argsort", group="indexing", inputs=("input",), infer=_argsort_infer, reference=_argsort_reference,
    attrs=(("axis", -1), ("descending", False)), dtypes=ALL, samples=_sort_samples, method="argsort",
    differentiable=False,
    doc="``argsort(input, axis=-1, descending=False)``: int32 indices that sort ``input`` (stable)."))


def argsort(input: Any, axis: Any = -1, descending: bool = False) -> Any:
    return _dispatch.apply(_ARGSORT, (input,), {"axis": as_int("argsort", axis, "axis"),
                                                "descending": bool(descending)})


# -- topk ------------------------------------------------------------------------------------------
def _topk_infer(x: TensorType, *, k: int, dim: int, largest: bool, sorted: bool) -> tuple[TensorType, TensorType]:
    position = normalize_axis("topk", dim, x.rank, name="dim")
    size = x.shape[position]
    if k < 0 or (not isinstance(size, Symbol) and k > size):
        raise OpError("topk", f"k {k} is out of range for dim {dim} of size {size} (accepted: 0 to {size})")
    shape = (*x.shape[:position], k, *x.shape[position + 1:])
    return TensorType(x.dtype, shape), TensorType(dt.int32, shape)


def _topk_reference(x: np.ndarray, *, k: int, dim: int = -1, largest: bool = True, sorted: bool = True
                    ) -> tuple[np.ndarray, np.ndarray]:
    order = np.take(_stable_order(x, dim, largest), np.arange(k), axis=dim)
    return np.take_along_axis(x, order, axis=dim), order


def _topk_samples(dtype: dt.DType) -> list[Sample]:
    cases = [((2, 5), 2, -1), ((2, 5), 5, 1), ((2, 5), 1, 0), ((7,), 3, 0), ((0, 3), 2, 1), ((2, 4), 0, -1),
             ((2, 1, 6, 1, 2), 4, 2)]
    return [Sample((_array(shape, dtype, i),), {"k": k, "dim": dim, "largest": largest})
            for i, (shape, k, dim) in enumerate(cases) for largest in (True, False)]


_TOPK = register_op(OpDef(
    name="topk", group="indexing", inputs=("input",), infer=_topk_infer, reference=_topk_reference,
    attrs=(("k", 1), ("dim", -1), ("largest", True), ("sorted", True)), dtypes=ALL, samples=_topk_samples,
    method="topk", vjp=_ordered_vjp("dim"),
    doc="``topk(input, k, dim=None, largest=True, sorted=True)``: (values, int32 indices) of the "
                       "k largest (or smallest) entries along dim (the last by default); ties prefer the lower "
                       "index and results are always sorted."))


def topk(input: Any, k: Any, dim: Any = None, largest: bool = True, sorted: bool = True) -> Any:
    x = require_tensor("topk", input, "input")
    position = -1 if dim is None else as_int("topk", dim, "dim")
    return _dispatch.apply(_TOPK, (x,), {"k": as_int("topk", k, "k"), "dim": position, "largest": bool(largest),
                                         "sorted": bool(sorted)})


# -- unique ----------------------------------------------------------------------------------------
def _unique_infer(x: TensorType) -> tuple[TensorType, TensorType]:
    return TensorType(x.dtype, (Symbol("unique_count"),)), TensorType(dt.int32, x.shape)


def _unique_reference(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    values = sorted(set(x.reshape(-1).tolist()))
    lookup = {v: i for i, v in enumerate(values)}
    inverse = np.array([lookup[v] for v in x.reshape(-1).tolist()], dtype=np.int32).reshape(x.shape)
    return np.array(values, dtype=x.dtype).reshape(len(values)), inverse


def _unique_samples(dtype: dt.DType) -> list[Sample]:
    rng = np.random.default_rng(5)
    samples = [Sample((_array(shape, dtype, i),)) for i, (shape, _) in enumerate(_SHAPES)]
    repeats = rng.integers(0, 4, size=(3, 4)).astype(dtype.numpy)
    samples.append(Sample((repeats,), note="many repeats"))
    return samples


_UNIQUE = register_op(OpDef(
    name="unique", group="indexing", inputs=("input",), infer=_unique_infer, reference=_unique_reference,
    dtypes=ALL, samples=_unique_samples, differentiable=False, vjp=no_gradient,  # not differentiable in MindSpore
    doc="``unique(input)``: (the distinct elements in ascending order, int32 ``idx`` with input's shape such "
        "that output[idx] == input)."))


def unique(input: Any) -> Any:
    return _dispatch.apply(_UNIQUE, (input,), {})
