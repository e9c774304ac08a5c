"""Tensor indexing as ops: ``getitem`` (``x[index]``) and ``setitem`` (``x[index] = value``).

A Python index is normalized into a hashable attribute, a tuple whose entries are
``int``, ``None``, ``Ellipsis``, ``("slice", start, stop, step)`` or ``("tensor", k)``; the k-th
tensor input (counting from 1 after the indexed tensor, and the value for setitem) is an integer or
bool index tensor. Lists, numpy arrays and Python bools in an index become such tensors. Semantics
are numpy's (basic and advanced indexing, including where advanced dims land when separated).

``getitem`` returns a new tensor that shares nothing with its input. ``setitem`` is functional: it
returns the updated copy; ``Tensor.__setitem__`` (:func:`assign`) then rebinds the tensor's buffer to
it, so no buffer another tensor may share is ever written.

Gradients: ``getitem``'s is ``getitem_backward`` (the upstream gradient added into zeros at the
indexed positions, repeats accumulating); ``setitem`` sends the upstream gradient to the input except
where it wrote, and to the value what was gathered at the positions it won. An in-place assignment
while a gradient is recorded becomes a new tape node on the same tensor object (see :func:`assign`).
"""

from __future__ import annotations

import builtins
import weakref
from typing import Any

import numpy as np

from mycelia import _autograd
from mycelia import dtype as dt
from mycelia._errors import OpError
from mycelia._tensor import Tensor
from mycelia._types import Dim, Shape, Symbol, TensorType
from mycelia.ops import _dispatch
from mycelia.ops._define import ALL, NUMERIC, random_array
from mycelia.ops._registry import OpDef, Sample, register_op
from mycelia.ops._shape_helpers import (
    OpIndexError,
    as_int,
    as_int_tuple,
    check_index_range,
    describe,
    index_tensor,
    ops,
    require_tensor,
    scalar_tensor,
    shape_text,
    zeros_tensor,
)
from mycelia.ops._shape_ops import cast

__all__ = ["alias_for_update", "along_axis_backward", "assign", "decode_index", "getitem", "getitem_backward",
           "normalize_index", "scatter_add_index", "setitem", "update_in_place"]

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


def _check_tensor_values(op: str, shape: tuple[int, ...], index: tuple[Any, ...], tensors: list[Tensor]) -> None:
    """Integer index tensors must address existing positions (checked on the host, before the kernel)."""
    if not any(t._dtype.is_integer for t in tensors):
        return
    types = tuple(TensorType(t._dtype, tuple(t._data.shape)) for t in tensors)
    key = (shape, index, types)
    axes = _axes_cache.get(key)
    if axes is None:
        axes = index_plan(op, key[0], index, types)[1]
        if len(_axes_cache) >= 4096:
            _axes_cache.clear()
        _axes_cache[key] = axes
    for position, axis in axes.items():
        check_index_range(op, tensors[position - 1], shape[axis], axis)


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


def _getitem_vjp(ctx: Any, grad: Any) -> tuple[Any, ...]:
    x, *tensors = ctx.inputs
    return (scatter_add_index(grad, tuple(tensors), ctx.attrs["index"], tuple(x.shape)), *[None] * len(tensors))


_GETITEM = register_op(OpDef(
    name="getitem", group="indexing", inputs=("input", "*indices"), infer=_getitem_infer,
    reference=_getitem_reference, attrs=(("index", ()),), dtypes=ALL, samples=_getitem_samples, vjp=_getitem_vjp,
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
        _check_tensor_values("getitem", tuple(x._data.shape), entries, tensors)
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


def _overwritten(grad: Tensor, tensors: tuple[Tensor, ...], index: tuple[Any, ...], shape: tuple[int, ...]) -> Any:
    """A bool tensor over the indexed shape: True where that entry's write was overwritten by a later one
    (repeated integer indices: the last write wins, as in numpy), or None when no index can repeat."""
    if not any(t._dtype.is_integer for t in tensors):
        return None  # basic indices and bool masks address every position at most once
    order = index_tensor(np.arange(int(np.prod(shape))).reshape(shape), grad)
    owner = _dispatch.apply(_SETITEM, (zeros_tensor(tuple(grad.shape), dt.int64, grad), order, *tensors),
                            {"index": index})
    kept = _dispatch.apply(_GETITEM, (owner, *tensors), {"index": index})
    return ops().not_equal(kept, order)


def _setitem_vjp(ctx: Any, grad: Any) -> tuple[Any, ...]:
    x, value, *tensors = ctx.inputs
    index = ctx.attrs["index"]
    zero = scalar_tensor(0, grad.dtype, grad)
    to_input = None if x._autograd is None else _dispatch.apply(_SETITEM, (grad, zero, *tensors), {"index": index})
    to_value = None
    if isinstance(value, Tensor) and value._autograd is not None:
        to_value = _dispatch.apply(_GETITEM, (grad, *tensors), {"index": index})
        lost = _overwritten(grad, tuple(tensors), index, tuple(to_value.shape))
        if lost is not None:
            to_value = ops().masked_fill(to_value, lost, zero)
        if value.ndim > to_value.ndim:  # numpy dropped the value's leading 1s; the engine sums the rest
            to_value = ops().reshape(to_value, (1,) * (value.ndim - to_value.ndim) + tuple(to_value.shape))
    return (to_input, to_value, *[None] * len(tensors))


_SETITEM = register_op(OpDef(
    name="setitem", group="indexing", inputs=("input", "value", "*indices"), infer=_setitem_infer,
    reference=_setitem_reference, attrs=(("index", ()),), dtypes=ALL, samples=_setitem_samples, vjp=_setitem_vjp,
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
        _check_tensor_values("setitem", tuple(x._data.shape), entries, tensors)
    if isinstance(value, Tensor):
        if value._dtype is not x._dtype:
            value = cast(value, x._dtype)
    else:
        array = np.asarray(value)
        if array.dtype.kind not in "biuf" and array.dtype != dt.bfloat16.numpy:
            raise OpError("setitem", f"value must be a number, a Tensor or array-like numbers, got {describe(value)}")
        value = Tensor._make(x._backend.from_numpy(array.astype(x._dtype.numpy)), x._dtype, x._backend)
    return _dispatch.apply(_SETITEM, (x, value, *tensors), {"index": entries})


# -- in-place assignment under autograd -------------------------------------------------------------
def update_in_place(tensor: Tensor, result: Tensor) -> None:
    """Make ``tensor`` hold ``result``, an op's functional update of ``alias_for_update(tensor)`` (as
    ``x[i] = v`` does). When the update was recorded on the tape, its node now produces ``tensor`` itself:
    later ops consume the updated tensor and backward reaches the old value through the node's input."""
    tensor._data = result._data
    meta = result._autograd
    if isinstance(meta, tuple):
        node = meta[0]
        node.outputs = (weakref.ref(tensor),)
        tensor._autograd = (node, 0)


def alias_for_update(tensor: Tensor, op: str) -> Tensor:
    """The tensor's current value and tape position as a separate object, the recorded input of an in-place
    update; a differentiation target itself cannot be updated in place (its gradient would be lost)."""
    meta = tensor._autograd
    if isinstance(meta, _autograd.Leaf) and _autograd.is_recording():
        raise OpError(op, "cannot update in place a tensor that a gradient is being taken with respect to (an "
                          "input of grad/value_and_grad or a Parameter in weights); update a copy (y = x * 1) "
                          "or use the functional form")
    alias = Tensor._make(tensor._data, tensor._dtype, tensor._backend)
    alias._autograd = meta
    if isinstance(meta, tuple) and meta[0].outputs is not None:  # its producer now outputs the alias
        outputs = list(meta[0].outputs)
        outputs[meta[1]] = weakref.ref(alias)
        meta[0].outputs = tuple(outputs)
    return alias


def assign(tensor: Any, index: Any, value: Any) -> None:
    """``tensor[index] = value`` (``Tensor.__setitem__``): the buffer is rebound to the updated copy.

    While a gradient is recorded and ``tensor`` or ``value`` is tracked, the assignment is recorded as a
    ``setitem`` node whose input is the old value, and ``tensor`` becomes that node's output: so after
    ``y = x * 1; y[0] = 5.0`` the gradient of ``sum(y)`` is 0 at index 0. Ops that computed ``value`` from
    ``tensor`` (``y[i] += v``, ``y[i] = y[i] * 2``) are redirected to the old value. Any other op that
    consumed ``y`` before the assignment still sees the tensor object, now holding the new value: as with
    in-place updates elsewhere, don't assign into a tensor whose earlier value a gradient still needs."""
    meta = tensor._autograd
    if isinstance(meta, tuple) and meta[0].inputs is None:
        tensor._autograd = None  # left by an earlier gradient whose backward has consumed that node
    tracked = tensor._autograd is not None or (isinstance(value, Tensor) and value._autograd is not None)
    if not tracked or not _autograd.is_recording():
        tensor._data = setitem(tensor, index, value)._data
        return
    old = alias_for_update(tensor, "setitem")
    if value is tensor:
        value = old
    elif tensor._autograd is not None and isinstance(value, Tensor):
        _redirect_consumers(value, tensor, old)
    update_in_place(tensor, setitem(old, index, value))


def _redirect_consumers(value: Tensor, tensor: Tensor, old: Tensor, limit: int = 32) -> None:
    """The recent nodes ``value`` was computed by that read ``tensor`` now read ``old`` (its value before the
    assignment); without this ``y[i] += v`` would make the tape a cycle. Bounded: a short walk up."""
    stack = [value._autograd[0]] if isinstance(value._autograd, tuple) else []
    seen: set[int] = set()
    while stack and len(seen) < limit:
        node = stack.pop()
        if id(node) in seen or node.inputs is None:
            continue
        seen.add(id(node))
        inputs = node.inputs
        if any(item is tensor for item in _autograd._flatten(inputs)):
            node.inputs = tuple([old if v is tensor else v for v in item] if isinstance(item, list)
                                else (old if item is tensor else item) for item in inputs)
        for item in _autograd._flatten(node.inputs):
            if item is not old and isinstance(item, Tensor) and isinstance(item._autograd, tuple):
                stack.append(item._autograd[0])


# -- getitem_backward: the gradient of x[index] -------------------------------------------------------
def _getitem_backward_infer(grad: TensorType, *index_types: TensorType, index: tuple[Any, ...],
                            shape: tuple[int, ...]) -> TensorType:
    if any(d < 0 for d in shape):
        raise OpError("getitem_backward", f"shape {list(shape)} has a negative dim")
    expected = index_plan("getitem_backward", shape, index, index_types)[0]
    if len(expected) != grad.rank or any(a != b for a, b in zip(expected, grad.shape)
                                         if not isinstance(a, Symbol) and not isinstance(b, Symbol)):
        raise OpError("getitem_backward", f"grad has shape {shape_text(grad.shape)} but indexing a tensor of shape "
                                          f"{list(shape)} with this index gives {shape_text(expected)}")
    return TensorType(grad.dtype, shape)


def _getitem_backward_reference(grad: np.ndarray, *arrays: np.ndarray, index: tuple[Any, ...],
                                shape: tuple[int, ...]) -> np.ndarray:
    out = np.zeros(int(np.prod(shape)), grad.dtype)
    positions = np.arange(out.size).reshape(shape)[decode_index(index, arrays)]
    for position, value in zip(np.asarray(positions).reshape(-1), grad.reshape(-1)):
        out[position] += value
    return out.reshape(shape)


def _call_getitem_backward(grad: Tensor, *tensors: Tensor, index: tuple[Any, ...], shape: tuple[int, ...]) -> Any:
    return getitem_backward(grad, decode_index(index, tensors), shape)


def _getitem_backward_samples(dtype: dt.DType) -> list[Sample]:
    samples = []
    for i, (shape, index, arrays) in enumerate(_index_cases(dtype)):
        target = np.zeros(shape)[decode_index(index, tuple(arrays))].shape
        samples.append(Sample((random_array(target, dtype, np.random.default_rng(i)), *arrays),
                              {"index": index, "shape": shape}, call=_call_getitem_backward,
                              note=f"index {index} (repeated integer indices accumulate)"))
    return samples


def _getitem_backward_vjp(ctx: Any, grad: Any) -> tuple[Any, ...]:
    _, *tensors = ctx.inputs
    return (_dispatch.apply(_GETITEM, (grad, *tensors), {"index": ctx.attrs["index"]}), *[None] * len(tensors))


_GETITEM_BACKWARD = register_op(OpDef(
    name="getitem_backward", group="indexing", inputs=("grad", "*indices"), infer=_getitem_backward_infer,
    reference=_getitem_backward_reference, attrs=(("index", ()), ("shape", ())), dtypes=NUMERIC,
    samples=_getitem_backward_samples, vjp=_getitem_backward_vjp,
    doc="``getitem_backward(grad, index, shape)``: zeros of ``shape`` with ``grad`` added at ``[index]``, "
        "repeated integer indices accumulating: the gradient of ``x[index]`` (also the scatter-add that the "
        "gather, index_select, pad and sort gradients use)."))


def getitem_backward(grad: Any, index: Any, shape: Any) -> Any:
    g = require_tensor("getitem_backward", grad, "grad")
    size = as_int_tuple("getitem_backward", shape, "shape")
    entries, tensors = normalize_index("getitem_backward", g, index)
    if tensors and all(d >= 0 for d in size):
        _check_tensor_values("getitem_backward", size, entries, tensors)
    return _dispatch.apply(_GETITEM_BACKWARD, (g, *tensors), {"index": entries, "shape": size})


def scatter_add_index(grad: Any, tensors: tuple[Any, ...], index: tuple[Any, ...], shape: tuple[int, ...]) -> Any:
    """``getitem_backward`` on an already normalized index (vjps: their indices were validated forward)."""
    return _dispatch.apply(_GETITEM_BACKWARD, (grad, *tensors), {"index": index, "shape": shape})


def along_axis_backward(grad: Any, index: Any, axis: int, shape: tuple[int, ...]) -> Any:
    """The gradient of ``take_along_axis(x, index, axis)`` over the leading block of ``x`` (gather_elements,
    sort, topk): ``grad`` added into zeros of ``shape`` at the positions ``index`` names along ``axis``."""
    rank = len(shape)
    tensors = []
    for d in range(rank):
        if d == axis:
            tensors.append(index)
        else:
            view = [1] * rank
            view[d] = index.shape[d]
            tensors.append(index_tensor(np.arange(index.shape[d]).reshape(view), grad))
    entries = tuple(("tensor", k + 1) for k in range(rank))
    return scatter_add_index(grad, tuple(tensors), entries, shape)
