"""Eager dispatch (DESIGN §2.2): device, dtype promotion, inference, kernel, result tensor.

``apply`` is the general path. ``make_unary`` / ``make_binary`` build the functional API of
elementwise ops with a hot path for tensors of one dtype and shape: one dict lookup per call,
keyed by (dtype, backend), and no inference (an elementwise result has its input's shape; the
result dtype is cached per entry).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import reduce
from typing import Any

import numpy as np

from mycelia import _autograd
from mycelia import dtype as dt
from mycelia._context import current_backend
from mycelia._errors import OpError
from mycelia._tensor import Tensor
from mycelia._types import TensorType
from mycelia.backends import Backend, Kernel
from mycelia.ops._registry import OpDef

__all__ = ["apply", "kernel_for", "make_binary", "make_unary"]

_kernel_cache: dict[tuple[str, str], Kernel] = {}
_infer_cache: dict[Any, Any] = {}
_new = object.__new__


def kernel_for(op: OpDef, backend: Backend) -> Kernel:
    key = (op.name, backend.name)
    kernel = _kernel_cache.get(key)
    if kernel is None:
        found = backend.kernel(op.name)
        if found is None:
            raise OpError(op.name, f"the {backend.name} backend has no kernel for it "
                                   f"(see mycelia.ops.coverage())", backend.name)
        kernel = _kernel_cache[key] = found
    return kernel


def _backend_of(op: OpDef, tensors: list[Tensor]) -> Backend:
    backend = tensors[0]._backend if tensors else current_backend()
    for tensor in tensors:
        if tensor._backend is not backend:
            raise OpError(op.name, f"operands are on different backends ({backend.name} and "
                                   f"{tensor._backend.name}); move them with Tensor.to()")
    return backend


def _describe(value: Any) -> str:
    if isinstance(value, Tensor):
        return f"Tensor[{value._dtype}, shape={list(value._data.shape)}]"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_describe(v) for v in value) + "]"
    return type(value).__name__


def _infer(op: OpDef, types: tuple[Any, ...], attrs: dict[str, Any]) -> Any:
    try:
        key: Any = (op.name, types, tuple(attrs.items()))
        cached = _infer_cache.get(key)
    except TypeError:  # unhashable attribute (a list): infer every time
        key, cached = None, None
    if cached is None:
        cached = op.infer(*types, **attrs)
        if key is not None:
            _infer_cache[key] = cached
    return cached


def apply(op: OpDef, args: tuple[Any, ...], attrs: dict[str, Any]) -> Any:
    """Run ``op`` eagerly on ``args`` (Tensors, Python scalars, or a Tensor sequence when
    variadic) with keyword ``attrs``; returns a Tensor or a tuple of Tensors."""
    flat: list[Any] = list(args[0]) + list(args[1:]) if op.variadic else list(args)
    flat = [value.item() if isinstance(value, np.generic) else value for value in flat]
    if op.variadic:
        positions = list(range(len(args[0]))) if 0 in op.promote else []
    else:
        positions = [i for i in op.promote if i < len(flat)]
    tensors = [value for value in flat if isinstance(value, Tensor)]
    backend = _backend_of(op, tensors)
    for index, value in enumerate(flat):
        if not isinstance(value, Tensor) and (index not in positions or not isinstance(value, (bool, int, float))):
            accepted = "a Tensor or a Python scalar" if index in positions else "a Tensor"
            raise OpError(op.name, f"input {index} must be {accepted}, got {_describe(value)}")
    common: dt.DType | None = None
    promoted = [flat[i] for i in positions]
    tensor_dtypes = [value._dtype for value in promoted if isinstance(value, Tensor)]
    if tensor_dtypes:
        common = reduce(dt.promote_types, tensor_dtypes)
        for value in promoted:
            if not isinstance(value, Tensor):
                common = dt.result_type_with_scalar(common, value)
    elif positions:
        raise OpError(op.name, f"needs at least one Tensor operand, got {_describe(list(args))}")
    checked = common if common is not None else flat[0]._dtype
    if checked not in op.dtypes:
        accepted = ", ".join(d.name for d in dt.all_dtypes() if d in op.dtypes)
        raise OpError(op.name, f"dtype {checked} is not supported (inputs: {_describe(list(args))}); "
                               f"accepted: {accepted}", backend.name)
    arrays = []
    for index, value in enumerate(flat):
        if index in positions and common is not None:
            if isinstance(value, Tensor):
                data = value._data if value._dtype is common else backend.cast(value._data, common)
            else:
                data = backend.from_scalar(value, common)
            arrays.append(data)
        else:
            arrays.append(value._data)
    types = tuple((common if i in positions and common is not None else v._dtype, tuple(a.shape))
                  for i, (v, a) in enumerate(zip(flat, arrays)))
    tensor_types = tuple(TensorType(d, s) for d, s in types)
    if op.variadic:
        count = len(args[0])
        result = _infer(op, (tensor_types[:count], *tensor_types[count:]), attrs)
        call_args: list[Any] = [arrays[:count], *arrays[count:]]
    else:
        result = _infer(op, tensor_types, attrs)
        call_args = arrays
    try:
        out = kernel_for(op, backend)(*call_args, **attrs)
    except OpError:
        raise
    except (ValueError, TypeError, IndexError, OverflowError) as error:
        raise OpError(op.name, f"{type(error).__name__} from the kernel: {error} "
                               f"(inputs: {_describe(list(args))}, attributes: {attrs})", backend.name) from None
    if isinstance(result, tuple):
        outputs = tuple(_make_tensor(backend.conform(o, t.dtype), t.dtype, backend) for o, t in zip(out, result))
    else:
        outputs = (_make_tensor(backend.conform(out, result.dtype), result.dtype, backend),)
    if _autograd.state.depth and _autograd.state.enabled:
        _autograd.record(op, args, attrs, outputs)
    return outputs if isinstance(result, tuple) else outputs[0]


def _make_tensor(data: Any, dtype: dt.DType, backend: Backend) -> Tensor:
    tensor = _new(Tensor)
    tensor._data = data
    tensor._dtype = dtype
    tensor._backend = backend
    tensor._autograd = None
    return tensor


def _fast_entry(op: OpDef, cache: dict[Any, Any], dtype: dt.DType, backend: Backend,
                probe: Any) -> tuple[Kernel, dt.DType, bool] | None:
    """Build a hot-path entry once: kernel, result dtype, and whether results need conform."""
    if dtype not in op.dtypes:
        return None
    result = op.infer(*(TensorType(dtype, ()) for _ in op.inputs)).dtype
    kernel = kernel_for(op, backend)
    needs_conform = getattr(probe(kernel), "dtype", None) != result.numpy
    entry = cache[(dtype, backend)] = (kernel, result, needs_conform)
    return entry


def make_unary(op: OpDef) -> Callable[[Any], Any]:
    """The functional API of an elementwise unary op: one dict lookup on the hot path."""
    cache: dict[tuple[dt.DType, Backend], tuple[Kernel, dt.DType, bool]] = {}

    def function(input: Any) -> Any:
        if type(input) is Tensor and input._autograd is None:
            backend = input._backend
            data = input._data
            entry = cache.get((input._dtype, backend))
            if entry is None:
                entry = _fast_entry(op, cache, input._dtype, backend, lambda kernel: kernel(data))
            if entry is not None:
                out = entry[0](data)
                tensor = _new(Tensor)
                tensor._data = backend.conform(out, entry[1]) if entry[2] else out
                tensor._dtype = entry[1]
                tensor._backend = backend
                tensor._autograd = None
                return tensor
        return apply(op, (input,), {})

    return function


def make_binary(op: OpDef) -> Callable[[Any, Any], Any]:
    """The functional API of an elementwise binary op; the hot path covers two tensors of one
    dtype, backend and shape (anything else takes :func:`apply`)."""
    cache: dict[tuple[dt.DType, Backend], tuple[Kernel, dt.DType, bool]] = {}

    def function(input: Any, other: Any) -> Any:
        if type(input) is Tensor and type(other) is Tensor:
            dtype = input._dtype
            backend = input._backend
            x = input._data
            y = other._data
            if (other._dtype is dtype and other._backend is backend and x.shape == y.shape
                    and input._autograd is None and other._autograd is None):
                entry = cache.get((dtype, backend))
                if entry is None:
                    entry = _fast_entry(op, cache, dtype, backend, lambda kernel: kernel(x, y))
                if entry is not None:
                    out = entry[0](x, y)
                    tensor = _new(Tensor)
                    tensor._data = backend.conform(out, entry[1]) if entry[2] else out
                    tensor._dtype = entry[1]
                    tensor._backend = backend
                    tensor._autograd = None
                    return tensor
        return apply(op, (input, other), {})

    return function
