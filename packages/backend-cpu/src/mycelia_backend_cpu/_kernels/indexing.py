"""CPU kernels: indexing ops (gather/scatter family, masks, one_hot, ordering, Tensor indexing).

Index values were range-checked by the op front functions; kernels that update (scatter,
scatter_add, setitem) always write into a fresh copy, never into an input.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mycelia.backends import Kernel

__all__ = ["KERNELS"]


def gather(params: np.ndarray, indices: np.ndarray, *, axis: int, batch_dims: int) -> np.ndarray:
    if batch_dims == 0:
        return np.take(params, indices, axis=axis)
    batch = params.shape[:batch_dims]
    shape = (*params.shape[:axis], *indices.shape[batch_dims:], *params.shape[axis + 1:])
    count = int(np.prod(batch))
    flat_params = params.reshape((count, *params.shape[batch_dims:]))
    flat_indices = indices.reshape((count, *indices.shape[batch_dims:]))
    out = np.empty((count, *shape[batch_dims:]), dtype=params.dtype)
    for b in range(count):
        np.take(flat_params[b], flat_indices[b], axis=axis - batch_dims, out=out[b])
    return out.reshape(shape)


def _within(x: np.ndarray, shape: tuple[int, ...], axis: int) -> np.ndarray:
    """The leading block of ``x`` with ``shape`` on every axis but ``axis`` (a view)."""
    return x[tuple(slice(None) if d == axis else slice(0, n) for d, n in enumerate(shape))]


def gather_elements(x: np.ndarray, index: np.ndarray, *, dim: int) -> np.ndarray:
    return np.take_along_axis(_within(x, index.shape, dim), index, axis=dim)


def index_select(x: np.ndarray, index: np.ndarray, *, axis: int) -> np.ndarray:
    return np.take(x, index, axis=axis)


def scatter(x: np.ndarray, index: np.ndarray, src: np.ndarray, *, axis: int) -> np.ndarray:
    out = x.copy()
    values = src[tuple(slice(0, n) for n in index.shape)]
    np.put_along_axis(_within(out, index.shape, axis), index, values, axis=axis)
    return out


def scatter_add(x: np.ndarray, indices: np.ndarray, updates: np.ndarray) -> np.ndarray:
    out = x.copy()
    np.add.at(out, indices, updates)
    return out


def masked_fill(x: np.ndarray, mask: np.ndarray, value: np.ndarray) -> np.ndarray:
    return np.where(mask, value.astype(x.dtype, copy=False), x)


def masked_select(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    if x.shape != mask.shape:
        x, mask = np.broadcast_arrays(x, mask)
    return x[mask]


def one_hot(indices: np.ndarray, *, depth: int, on_value: Any, off_value: Any, axis: int, dtype: Any) -> np.ndarray:
    position = indices.ndim if axis == -1 else axis
    classes = np.arange(depth).reshape((depth,) + (1,) * (indices.ndim - position))
    hit = np.expand_dims(indices, position) == classes
    return np.where(hit, np.asarray(on_value).astype(dtype.numpy), np.asarray(off_value).astype(dtype.numpy))


def nonzero(x: np.ndarray, *, as_tuple: bool) -> Any:
    if as_tuple:
        return tuple(np.nonzero(x.reshape(-1) if x.ndim == 0 else x))
    return np.argwhere(x)


def unique(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    values, inverse = np.unique(x.reshape(-1), return_inverse=True)
    return values, inverse.reshape(x.shape).astype(np.int32)


def _order(x: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """Stable argsort; descending keeps equal elements in input order too."""
    if not descending:
        return np.argsort(x, axis=axis, kind="stable")
    last = x.shape[axis] - 1
    return last - np.flip(np.argsort(np.flip(x, axis), axis=axis, kind="stable"), axis)


def sort(x: np.ndarray, *, axis: int, descending: bool) -> tuple[np.ndarray, np.ndarray]:
    if x.ndim == 0:
        return x.copy(), np.zeros((), np.int32)
    order = _order(x, axis, descending)
    return np.take_along_axis(x, order, axis=axis), order.astype(np.int32)


def argsort(x: np.ndarray, *, axis: int, descending: bool) -> np.ndarray:
    if x.ndim == 0:
        return np.zeros((), np.int32)
    return _order(x, axis, descending).astype(np.int32)


def topk(x: np.ndarray, *, k: int, dim: int, largest: bool, sorted: bool) -> tuple[np.ndarray, np.ndarray]:
    axis = dim % x.ndim
    order = _order(x, axis, largest)[(slice(None),) * axis + (slice(0, k),)]
    return np.take_along_axis(x, order, axis=axis), order.astype(np.int32)


def _decode(index: tuple[Any, ...], arrays: tuple[np.ndarray, ...]) -> tuple[Any, ...]:
    # The getitem/setitem index attribute: int, None, Ellipsis, ("slice", a, b, c) or ("tensor", k).
    decoded = []
    for entry in index:
        if type(entry) is tuple:
            entry = slice(entry[1], entry[2], entry[3]) if entry[0] == "slice" else arrays[entry[1] - 1]
        decoded.append(entry)
    return tuple(decoded)


def getitem(x: np.ndarray, *arrays: np.ndarray, index: tuple[Any, ...]) -> np.ndarray:
    result = x[_decode(index, arrays)]
    if not isinstance(result, np.ndarray):  # every index an int: a numpy scalar
        return np.asarray(result)
    # Without index arrays numpy returns a view of x (copied: results never alias inputs); with
    # them (advanced indexing) it has already made a new array.
    return result if arrays else result.copy()


def setitem(x: np.ndarray, value: np.ndarray, *arrays: np.ndarray, index: tuple[Any, ...]) -> np.ndarray:
    out = x.copy()
    out[_decode(index, arrays)] = value
    return out


def getitem_backward(grad: np.ndarray, *arrays: np.ndarray, index: tuple[Any, ...], shape: tuple[int, ...]
                     ) -> np.ndarray:
    """Zeros of ``shape`` with ``grad`` added at ``[index]``; repeated integer indices accumulate."""
    narrow = grad.dtype == np.float16 or grad.dtype.name == "bfloat16"
    work = np.float32 if narrow else grad.dtype  # accumulate float16/bfloat16 in float32
    out = np.zeros(shape, dtype=work)
    key = _decode(index, arrays)
    if any(a.dtype.kind in "iu" for a in arrays):
        np.add.at(out, key, grad)  # unbuffered: every repeat of an index adds
    else:
        out[key] = grad  # basic indices and bool masks address each position at most once
    return out if out.dtype == grad.dtype else out.astype(grad.dtype)


KERNELS: dict[str, Kernel] = {
    "argsort": argsort,
    "gather": gather,
    "gather_elements": gather_elements,
    "getitem": getitem,
    "getitem_backward": getitem_backward,
    "index_select": index_select,
    "masked_fill": masked_fill,
    "masked_select": masked_select,
    "nonzero": nonzero,
    "one_hot": one_hot,
    "scatter": scatter,
    "scatter_add": scatter_add,
    "setitem": setitem,
    "sort": sort,
    "topk": topk,
    "unique": unique,
}
