"""Tensor indexing as ops: ``getitem`` (``x[index]``) and ``setitem`` (``x[index] = value``).

A Python index is normalized into a hashable attribute, a tuple whose entries are
``int``, ``None``, ``Ellipsis``, ``("slice", start, stop, step)`` or ``("tensor", k)``; the k-th
tensor input (counting from 1 after the indexed tensor, and the value for setitem) is an integer or
bool index tensor. Lists, numpy arrays and Python bools in an index become such tensors. Semantics
are numpy's (basic and advanced indexing, including where advanced dims land when separated).

``getitem`` returns a new tensor that shares nothing with its input. ``setitem`` is functional: it
returns the updated copy; ``Tensor.__setitem__`` then rebinds the tensor's buffer to it, so no buffer
another tensor may share is ever written.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._errors import OpError
from mycelia._tensor import Tensor
from mycelia._types import Dim, Shape, Symbol, TensorType
from mycelia.ops import _dispatch
from mycelia.ops._define import ALL, random_array
from mycelia.ops._registry import OpDef, Sample, register_op
from mycelia.ops._shape_helpers import (
    OpIndexError,
    as_int,
    check_index_range,
    describe,
    require_tensor,
    shape_text,
)
from mycelia.ops._shape_ops import cast

__all__ = ["decode_index", "getitem", "normalize_index", "setitem"]

_FULL = ("slice", None, None, None)


# -- normalization ----------------------------------------------------------------------------------
def _index_tensor(op: str, value: Any, like: Tensor) -> Tensor:
    array = np.asarray(value)
    if array.dtype == np.bool_:
        dtype = dt.bool_
    elif array.dtype.kind in "iu" or array.size == 0:
        dtype, array = dt.int64, array.astype(np.int64)
    else:
        raise OpIndexError(op, f"only integers, slices, ellipsis, None and integer or bool arrays are valid "
                               f"indices, got {describe(value)}")
    return Tensor._make(like._backend.from_numpy(np.array(array)), dtype, like._backend)


def _slice_part(op: str, value: Any) -> int | None:
    return None if value is None else as_int(op, value, "a slice bound")


def normalize_index(op: str, x: Tensor, index: Any) -> tuple[tuple[Any, ...], list[Tensor]]:
    """The hashable index attribute and the index tensors it refers to."""
    items = index if isinstance(index, tuple) else (index,)
    entries: list[Any] = []
    tensors: list[Tensor] = []
    for item in items:
        if item is None or item is Ellipsis:
            entries.append(item)
            continue
        if isinstance(item, (bool, np.bool_)):
            item = _index_tensor(op, bool(item), x)
        elif isinstance(item, (int, np.integer)):
            entries.append(int(item))
            continue
        elif isinstance(item, builtins.slice):
            entries.append(("slice", _slice_part(op, item.start), _slice_part(op, item.stop),
                            _slice_part(op, item.step)))
            continue
        elif isinstance(item, (list, tuple, np.ndarray)):
            item = _index_tensor(op, item, x)
        elif not isinstance(item, Tensor):
            raise OpIndexError(op, f"only integers, slices, ellipsis, None and integer or bool tensors/arrays are "
                                   f"valid indices, got {describe(item)}")
        tensors.append(item)
        entries.append(("tensor", len(tensors)))
    return tuple(entries), tensors


def decode_index(index: tuple[Any, ...], arrays: tuple[Any, ...]) -> tuple[Any, ...]:
    """The Python index for an array library: slices rebuilt, tensor entries replaced by ``arrays``."""
    decoded: list[Any] = []
    for entry in index:
        if type(entry) is tuple:
            decoded.append(builtins.slice(entry[1], entry[2], entry[3]) if entry[0] == "slice"
                           else arrays[entry[1] - 1])
        else:
            decoded.append(entry)
    return tuple(decoded)


# -- shape rules (numpy's) --------------------------------------------------------------------------
def _slice_length(op: str, dim: Dim, entry: tuple[Any, ...]) -> Dim:
    start, stop, step = entry[1:]
    if step == 0:
        raise OpError(op, "slice step cannot be zero")
    if isinstance(dim, Symbol):
        return dim if (start, stop, step) == (None, None, None) else Symbol("sliced")
    return len(range(*builtins.slice(start, stop, step).indices(dim)))


def _broadcast(op: str, shapes: list[Shape]) -> Shape:
    rank = max((len(s) for s in shapes), default=0)
    result: list[Dim] = []
    for axis in range(rank):
        dims = [s[len(s) - rank + axis] for s in shapes if len(s) - rank + axis >= 0]
        sizes = {d for d in dims if not isinstance(d, Symbol) and d != 1}
        if len(sizes) > 1:
            shown = " ".join(shape_text(s) for s in shapes)
            raise OpIndexError(op, f"shape mismatch: indexing tensors could not be broadcast together with "
                                   f"shapes {shown}")
        symbols = [d for d in dims if isinstance(d, Symbol)]
        result.append(sizes.pop() if sizes else (symbols[0] if symbols else 1))
    return tuple(result)


def index_plan(op: str, shape: Shape, index: tuple[Any, ...], types: tuple[TensorType, ...]
               ) -> tuple[Shape, dict[int, int]]:
    """The indexed shape, and for each integer index tensor (by position k) the axis it indexes."""
    rank = len(shape)
    if sum(1 for e in index if e is Ellipsis) > 1:
        raise OpIndexError(op, "an index can only have a single ellipsis ('...')")
    used = 0
    for entry in index:
        if type(entry) is tuple and entry[0] == "tensor":
            item = types[entry[1] - 1]
            used += item.rank if item.dtype is dt.bool_ else 1
        elif entry is not None and entry is not Ellipsis:
            used += 1
    if used > rank:
        raise OpIndexError(op, f"too many indices for a tensor of rank {rank}: {used} dims are indexed")
    expanded: list[Any] = []
    for entry in index:
        expanded.extend([_FULL] * (rank - used) if entry is Ellipsis else [entry])
    if Ellipsis not in index:
        expanded.extend([_FULL] * (rank - used))
    has_tensor = any(type(e) is tuple and e[0] == "tensor" for e in expanded)
    pieces: list[tuple[int, Shape]] = []
    advanced: list[Shape] = []
    positions: list[int] = []
    axes: dict[int, int] = {}
    axis = 0
    for place, entry in enumerate(expanded):
        if entry is None:
            pieces.append((place, (1,)))
        elif type(entry) is int:
            size = shape[axis]
            if not isinstance(size, Symbol) and not -size <= entry < size:
                raise OpIndexError(op, f"index {entry} is out of bounds for axis {axis} with size {size}")
            if has_tensor:
                advanced.append(())
                positions.append(place)
            axis += 1
        elif entry[0] == "slice":
            pieces.append((place, (_slice_length(op, shape[axis], entry),)))
            axis += 1
        else:
            item = types[entry[1] - 1]
            if item.dtype is dt.bool_:
                covered = shape[axis:axis + item.rank]
                if any(a != b and not isinstance(a, Symbol) and not isinstance(b, Symbol)
                       for a, b in zip(item.shape, covered)):
                    raise OpIndexError(op, f"boolean index of shape {shape_text(item.shape)} does not match the "
                                           f"indexed dims {shape_text(covered)} starting at axis {axis}")
                advanced.append((Symbol("mask_count"),))
                axis += item.rank
            elif item.dtype.is_integer:
                axes[entry[1]] = axis
                advanced.append(item.shape)
                axis += 1
            else:
                raise OpIndexError(op, f"tensors used as indices must be integer or bool, got {item.dtype}")
            positions.append(place)
    if not positions:
        return tuple(d for _, dims in pieces for d in dims), axes
    joint = _broadcast(op, advanced)
    if positions != list(range(positions[0], positions[-1] + 1)):
        return (*joint, *(d for _, dims in pieces for d in dims)), axes
    before = tuple(d for place, dims in pieces if place < positions[0] for d in dims)
    after = tuple(d for place, dims in pieces if place > positions[0] for d in dims)
    return (*before, *joint, *after), axes


_axes_cache: dict[Any, dict[int, int]] = {}


def _check_tensor_values(op: str, x: Tensor, index: tuple[Any, ...], tensors: list[Tensor]) -> None:
    """Integer index tensors must address existing positions (checked on the host, before the kernel)."""
    if not any(t._dtype.is_integer for t in tensors):
        return
    types = tuple(TensorType(t._dtype, tuple(t._data.shape)) for t in tensors)
    key = (tuple(x._data.shape), index, types)
    axes = _axes_cache.get(key)
    if axes is None:
        axes = index_plan(op, key[0], index, types)[1]
        if len(_axes_cache) >= 4096:
            _axes_cache.clear()
        _axes_cache[key] = axes
    for position, axis in axes.items():
        check_index_range(op, tensors[position - 1], x._data.shape[axis], axis)


# -- getitem ---------------------------------------------------------------------------------------
def _getitem_infer(x: TensorType, *index_types: TensorType, index: tuple[Any, ...]) -> TensorType:
    return TensorType(x.dtype, index_plan("getitem", x.shape, index, index_types)[0])


def _getitem_reference(x: np.ndarray, *arrays: np.ndarray, index: tuple[Any, ...]) -> np.ndarray:
    return np.array(x[decode_index(index, arrays)])


def _call_getitem(x: Tensor, *tensors: Tensor, index: tuple[Any, ...]) -> Any:
    return x[decode_index(index, tensors)]  # type: ignore[index]  # Tensor.__getitem__ is attached at import


def _index_cases(dtype: dt.DType) -> list[tuple[tuple[int, ...], tuple[Any, ...], list[np.ndarray]]]:
    rng = np.random.default_rng(17)
    mask = rng.random((3, 4)) < 0.5
    return [
        ((3, 4), (1,), []),
        ((3, 4), (-1, ("slice", None, None, -2)), []),
        ((3, 4), (Ellipsis, None, ("slice", 1, 3, None)), []),
        ((3, 4), (("slice", 5, -5, -1), ("slice", -3, None, 2)), []),
        ((3, 4), (("tensor", 1),), [np.array([[0, 2], [1, -1]])]),
        ((3, 4), (("tensor", 1),), [mask]),
        ((3, 4), (("slice", None, None, None), ("tensor", 1)), [np.array([2, 0, 2])]),
        ((2, 3, 4), (("tensor", 1), ("slice", 1, None, None), ("tensor", 2)), [np.array([1, 0]), np.array([3, 1])]),
        ((2, 3, 4), (0, ("slice", None, None, None), ("tensor", 1)), [np.array([1, 2])]),
        ((2, 3, 4), (Ellipsis, ("tensor", 1), 0), [np.array([[2], [0]])]),
        ((2, 3, 4), (1, ("tensor", 1)), [mask]),
        ((), (None,), []),
        ((), (Ellipsis,), []),
        ((0, 3), (("slice", None, None, None), 1), []),
        ((0, 3), (("tensor", 1),), [np.zeros(0, np.int64)]),
        ((2, 1, 3, 1, 2), (1, Ellipsis, None, ("slice", None, None, -1)), []),
    ]


def _getitem_samples(dtype: dt.DType) -> list[Sample]:
    return [Sample((random_array(shape, dtype, np.random.default_rng(i)), *arrays), {"index": index},
                   call=_call_getitem, note=f"index {index}")
            for i, (shape, index, arrays) in enumerate(_index_cases(dtype))]


_GETITEM = register_op(OpDef(
    name="getitem", group="indexing", inputs=("input", "*indices"), infer=_getitem_infer,
    reference=_getitem_reference, attrs=(("index", ()),), dtypes=ALL, samples=_getitem_samples,
    doc="``input[index]`` as an op: ints, slices (any step), Ellipsis, None, bool masks and integer tensors "
        "with numpy's rules; always a new tensor (never a view of ``input``)."))


# Basic indices (ints, slices, None, Ellipsis) seen before on a tensor of the same dtype, shape and
# backend: apply already validated them (infer is a function of exactly these), so repeat calls
# such as ``x[i]`` or ``x[i] = 0.5`` in a loop go straight to the kernel. Bounded: cleared when large.
_basic_cache: dict[Any, Any] = {}
_BASIC_CACHE_LIMIT = 4096


def _basic_entries(index: Any) -> tuple[Any, ...] | None:
    """The index attribute for a basic index, or None when the index holds anything else."""
    entries: list[Any] = []
    for item in index if type(index) is tuple else (index,):
        kind = type(item)
        if kind is int or item is None or item is Ellipsis:
            entries.append(item)
        elif kind is builtins.slice:
            start, stop, step = item.start, item.stop, item.step
            if not ((start is None or type(start) is int) and (stop is None or type(stop) is int)
                    and (step is None or type(step) is int)):
                return None
            entries.append(("slice", start, stop, step))
        else:
            return None
    return tuple(entries)


def getitem(input: Any, index: Any) -> Any:
    """``input[index]``: a new tensor holding the indexed values."""
    basic = _basic_entries(index) if isinstance(input, Tensor) and input._autograd is None else None
    if basic is not None:
        backend = input._backend
        key = (basic, input._dtype, input._data.shape, backend)
        kernel = _basic_cache.get(key)
        if kernel is not None:
            return Tensor._make(backend.conform(kernel(input._data, index=basic), input._dtype), input._dtype,
                                backend)
        result = _dispatch.apply(_GETITEM, (input,), {"index": basic})
        if len(_basic_cache) >= _BASIC_CACHE_LIMIT:
            _basic_cache.clear()
        _basic_cache[key] = _dispatch.kernel_for(_GETITEM, backend)
        return result
    x = require_tensor("getitem", input, "input")
    entries, tensors = normalize_index("getitem", x, index)
    if tensors:
        _check_tensor_values("getitem", x, entries, tensors)
    return _dispatch.apply(_GETITEM, (x, *tensors), {"index": entries})


# -- setitem ---------------------------------------------------------------------------------------
def _setitem_infer(x: TensorType, value: TensorType, *index_types: TensorType, index: tuple[Any, ...]
                   ) -> TensorType:
    target = index_plan("setitem", x.shape, index, index_types)[0]
    source = list(value.shape)
    while len(source) > len(target) and source[0] == 1:  # numpy drops leading 1s of the value
        source.pop(0)
    fits = len(source) <= len(target) and all(
        s == 1 or s == t or isinstance(s, Symbol) or isinstance(t, Symbol)
        for s, t in zip(reversed(source), reversed(target)))
    if not fits:
        raise OpError("setitem", f"cannot assign a value of shape {shape_text(value.shape)} to the indexed "
                                 f"shape {shape_text(target)}")
    return x


def _setitem_reference(x: np.ndarray, value: np.ndarray, *arrays: np.ndarray, index: tuple[Any, ...]) -> np.ndarray:
    out: np.ndarray = x.copy()
    out[decode_index(index, arrays)] = value
    return out


def _call_setitem(x: Tensor, value: Tensor, *tensors: Tensor, index: tuple[Any, ...]) -> Any:
    return setitem(x, decode_index(index, tensors), value)


def _setitem_samples(dtype: dt.DType) -> list[Sample]:
    samples = []
    for i, (shape, index, arrays) in enumerate(_index_cases(dtype)):
        rng = np.random.default_rng(i)
        x = random_array(shape, dtype, rng)
        target = np.asarray(x[decode_index(index, tuple(arrays))]).shape
        for value_shape in dict.fromkeys((target, target[-1:], ())):
            samples.append(Sample((x, random_array(value_shape, dtype, rng), *arrays), {"index": index},
                                  call=_call_setitem, note=f"index {index} value {value_shape}"))
    return samples


_SETITEM = register_op(OpDef(
    name="setitem", group="indexing", inputs=("input", "value", "*indices"), infer=_setitem_infer,
    reference=_setitem_reference, attrs=(("index", ()),), dtypes=ALL, samples=_setitem_samples,
    doc="Functional ``input[index] = value``: a new tensor equal to input with the indexed positions set to "
        "value (broadcast, converted to input's dtype); input is not modified."))


def setitem(input: Any, index: Any, value: Any) -> Any:
    """A copy of ``input`` with ``input[index] = value`` applied (``Tensor.__setitem__`` rebinds to it)."""
    kind = type(value)
    if (kind is float or kind is int or kind is bool) and isinstance(input, Tensor) and input._autograd is None:
        basic = _basic_entries(index)
        if basic is not None:  # a number into a basic index: the cached kernel, as for getitem
            dtype, backend = input._dtype, input._backend
            key = ("setitem", basic, dtype, input._data.shape, backend)
            kernel = _basic_cache.get(key)
            fill = Tensor._make(backend.from_numpy(np.asarray(value).astype(dtype.numpy)), dtype, backend)
            if kernel is not None:
                return Tensor._make(backend.conform(kernel(input._data, fill._data, index=basic), dtype), dtype,
                                    backend)
            result = _dispatch.apply(_SETITEM, (input, fill), {"index": basic})
            if len(_basic_cache) >= _BASIC_CACHE_LIMIT:
                _basic_cache.clear()
            _basic_cache[key] = _dispatch.kernel_for(_SETITEM, backend)
            return result
    x = require_tensor("setitem", input, "input")
    entries, tensors = normalize_index("setitem", x, index)
    if tensors:
        _check_tensor_values("setitem", x, entries, tensors)
    if isinstance(value, Tensor):
        if value._dtype is not x._dtype:
            value = cast(value, x._dtype)
    else:
        array = np.asarray(value)
        if array.dtype.kind not in "biuf" and array.dtype != dt.bfloat16.numpy:
            raise OpError("setitem", f"value must be a number, a Tensor or array-like numbers, got {describe(value)}")
        value = Tensor._make(x._backend.from_numpy(array.astype(x._dtype.numpy)), x._dtype, x._backend)
    return _dispatch.apply(_SETITEM, (x, value, *tensors), {"index": entries})
