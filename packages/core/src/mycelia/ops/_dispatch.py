"""Eager dispatch (DESIGN §2.2): device, dtype promotion, inference, kernel, result tensor.

``apply`` is the general path. ``unary`` / ``binary`` are the hot paths for elementwise ops on
tensors of one dtype and shape: one dict lookup per call, keyed by (dtype, backend), and no
inference (an elementwise result has its input's shape; the dtype is cached per entry).
"""

from __future__ import annotations

from functools import reduce
from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._context import current_backend
from mycelia._errors import OpError
from mycelia._tensor import Tensor
from mycelia._types import TensorType
from mycelia.backends import Backend, Kernel
from mycelia.ops._registry import OpDef

__all__ = ["apply", "binary", "unary"]

_kernel_cache: dict[tuple[str, str], Kernel] = {}
_infer_cache: dict[Any, Any] = {}
# Hot-path entries: (op name, dtype, backend) -> (kernel, result dtype, result needs conform)
_fast_cache: dict[tuple[str, dt.DType, Backend], tuple[Kernel, dt.DType, bool]] = {}
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
        return tuple(_make_tensor(backend.conform(o, t.dtype), t.dtype, backend) for o, t in zip(out, result))
    return _make_tensor(backend.conform(out, result.dtype), result.dtype, backend)


def _make_tensor(data: Any, dtype: dt.DType, backend: Backend) -> Tensor:
    tensor = _new(Tensor)
    tensor._data = data
    tensor._dtype = dtype
    tensor._backend = backend
    tensor._autograd = None
    return tensor


def _fast_entry(op: OpDef, dtype: dt.DType, backend: Backend, probe: Any) -> tuple[Kernel, dt.DType, bool]:
    """Build the hot-path entry once: kernel, result dtype, and whether results need conform."""
    key = (op.name, dtype, backend)
    result = op.infer(*(TensorType(dtype, ()) for _ in op.inputs)).dtype
    kernel = kernel_for(op, backend)
    needs_conform = getattr(probe(kernel), "dtype", None) != result.numpy
    entry = _fast_cache[key] = (kernel, result, needs_conform)
    return entry


def unary(op: OpDef, x: Any, attrs: dict[str, Any] | None = None) -> Any:
    if type(x) is Tensor and not attrs:
        dtype = x._dtype
        entry = _fast_cache.get((op.name, dtype, x._backend))
        if entry is None and dtype in op.dtypes:
            entry = _fast_entry(op, dtype, x._backend, lambda kernel: kernel(x._data))
        if entry is not None:
            kernel, result, needs_conform = entry
            out = kernel(x._data)
            tensor = _new(Tensor)
            tensor._data = x._backend.conform(out, result) if needs_conform else out
            tensor._dtype = result
            tensor._backend = x._backend
            tensor._autograd = None
            return tensor
    return apply(op, (x,), attrs or {})


def binary(op: OpDef, x: Any, y: Any) -> Any:
    if type(x) is Tensor and type(y) is Tensor:
        dtype = x._dtype
        xd = x._data
        yd = y._data
        if y._dtype is dtype and x._backend is y._backend and xd.shape == yd.shape:
            entry = _fast_cache.get((op.name, dtype, x._backend))
            if entry is None and dtype in op.dtypes:
                entry = _fast_entry(op, dtype, x._backend, lambda kernel: kernel(xd, yd))
            if entry is not None:
                kernel, result, needs_conform = entry
                out = kernel(xd, yd)
                tensor = _new(Tensor)
                tensor._data = x._backend.conform(out, result) if needs_conform else out
                tensor._dtype = result
                tensor._backend = x._backend
                tensor._autograd = None
                return tensor
    return apply(op, (x, y), {})
