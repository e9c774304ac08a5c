"""Eager dispatch (DESIGN §2.2): device, dtype promotion, inference, kernel, result tensor.

``apply`` is the general path. ``make_unary`` / ``make_binary`` build the functional API of
elementwise ops with a hot path for tensors of one dtype and shape: one dict lookup per call,
keyed by (dtype, backend), and no inference (an elementwise result has its input's shape; the
result dtype is cached per entry).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mycelia import _autograd, _config
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
        kernel = found
        if backend.hot_path:  # the recording backend is asked every time (it may refuse random ops)
            _kernel_cache[key] = found
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


_INFER_CACHE_LIMIT = 100_000  # entries; cleared when reached (ops with per-call attributes)


def _attribute_key(attrs: dict[str, Any]) -> tuple[Any, ...]:
    """Attributes as a cache key; types included, since ``1 == 1.0 == True`` hash alike but an
    op may accept one and reject another."""
    return tuple((name, type(value), value) for name, value in attrs.items())


def _infer(op: OpDef, signature: tuple[Any, ...], attrs: dict[str, Any], variadic_count: int = -1) -> Any:
    """``op.infer`` memoised on (op, input dtypes and shapes, attributes): eager calls repeat."""
    key: Any = None
    if op.group != "random":  # seeds and offsets change every call: nothing to reuse
        try:
            key = (op.name, signature, _attribute_key(attrs))
            cached = _infer_cache.get(key)
        except TypeError:  # an unhashable attribute (a list): infer every time
            key = None
        else:
            if cached is not None:
                return cached
    types = tuple(TensorType(dtype, shape) for dtype, shape in signature)
    if variadic_count >= 0:
        result = op.infer(types[:variadic_count], *types[variadic_count:], **attrs)
    else:
        result = op.infer(*types, **attrs)
    if key is not None:
        if len(_infer_cache) >= _INFER_CACHE_LIMIT:
            _infer_cache.clear()
        _infer_cache[key] = result
    return result


def _bad_operand(op: OpDef, index: int, value: Any, scalar_allowed: bool) -> OpError:
    accepted = "a Tensor or a Python scalar" if scalar_allowed else "a Tensor"
    return OpError(op.name, f"input {index} must be {accepted}, got {_describe(value)}")


_plans: dict[Any, tuple[Kernel, Any]] = {}  # (op, input dtypes/shapes/backends, attrs) -> (kernel, result)


def _plan_key(op: OpDef, args: tuple[Any, ...], attrs: dict[str, Any]) -> Any:
    """Key of a call whose inputs are all plain Tensors (else None): equal keys mean the same
    promotion (none needed), the same inferred result and the same kernel. Ops without inputs (creation)
    get no plan: their backend is the current one, not an input's."""
    if not args:
        return None
    key: list[Any] = [op]
    for arg in args:
        if not isinstance(arg, Tensor):  # Parameters included
            return None
        key.append(arg._dtype)
        key.append(arg._data.shape)
        key.append(arg._backend)
    if attrs:
        key.append(_attribute_key(attrs))
    return tuple(key)


def apply(op: OpDef, args: tuple[Any, ...], attrs: dict[str, Any]) -> Any:
    """Run ``op`` eagerly on ``args`` (Tensors, Python scalars, or a Tensor sequence when
    variadic) with keyword ``attrs``; returns a Tensor or a tuple of Tensors."""
    key = None
    if not op.variadic and op.group != "random":
        try:
            key = _plan_key(op, args, attrs)
            plan = _plans.get(key) if key is not None else None
        except TypeError:  # an unhashable attribute
            key = plan = None
        if plan is not None:
            return _run_planned(op, args, attrs, plan)
    return _apply(op, args, attrs, key)


def _run_planned(op: OpDef, args: tuple[Any, ...], attrs: dict[str, Any], plan: tuple[Kernel, Any]) -> Any:
    kernel, result = plan
    backend = args[0]._backend
    return _run_kernel(op, args, attrs, kernel, [arg._data for arg in args], result, backend)


def _apply(op: OpDef, args: tuple[Any, ...], attrs: dict[str, Any], plan_key: Any) -> Any:
    """The full path; stores a plan under ``plan_key`` when the call needed no promotion."""
    if op.variadic:
        head = args[0]
        if not isinstance(head, (list, tuple)):
            raise OpError(op.name, f"expects a sequence of Tensors first, got {_describe(head)}")
        flat = [*head, *args[1:]]
        variadic_count = len(head)
        positions: Any = range(variadic_count) if 0 in op.promote else ()
    else:
        flat = list(args)
        variadic_count = -1
        positions = op.promote
    backend: Backend | None = None
    common: dt.DType | None = None
    needs_cast = False
    for index, value in enumerate(flat):
        if isinstance(value, Tensor):
            if backend is None:
                backend = value._backend
            elif value._backend is not backend:
                raise OpError(op.name, f"operands are on different backends ({backend.name} and "
                                       f"{value._backend.name}); move them with Tensor.to()")
            if index in positions:
                if common is None:
                    common = value._dtype
                elif value._dtype is not common:
                    common = dt.promote_types(common, value._dtype)
                    needs_cast = True
        elif isinstance(value, np.generic):
            flat[index] = value.item()
        elif not isinstance(value, (bool, int, float)) or index not in positions:
            raise _bad_operand(op, index, value, index in positions)
    if backend is None:
        backend = current_backend()
    if common is not None:
        for index in positions:
            if index >= len(flat):
                break
            value = flat[index]
            if not isinstance(value, Tensor):
                common = dt.result_type_with_scalar(common, value)
                needs_cast = True
    elif any(index < len(flat) for index in positions):
        raise OpError(op.name, f"needs at least one Tensor operand, got {_describe(list(args))}")
    checked = common if common is not None else (flat[0]._dtype if flat and isinstance(flat[0], Tensor) else None)
    if checked is not None and checked not in op.dtypes:
        accepted = ", ".join(d.name for d in dt.all_dtypes() if d in op.dtypes)
        raise OpError(op.name, f"dtype {checked} is not supported (inputs: {_describe(list(args))}); "
                               f"accepted: {accepted}", backend.name)
    arrays: list[Any] = []
    signature = []
    for index, value in enumerate(flat):
        if isinstance(value, Tensor):
            data = value._data
            dtype = value._dtype
            if needs_cast and dtype is not common and index in positions:
                assert common is not None
                data = backend.cast(data, common)
                dtype = common
        else:  # a Python scalar at a promoted position (checked above)
            assert common is not None
            try:
                data = backend.from_scalar(value, common)
            except OverflowError:
                raise OpError(op.name, f"the Python scalar {value!r} (input {index}) does not fit in "
                                       f"{common}", backend.name) from None
            dtype = common
        arrays.append(data)
        signature.append((dtype, tuple(data.shape)))
    result = _infer(op, tuple(signature), attrs, variadic_count)
    kernel = kernel_for(op, backend)
    if plan_key is not None and not needs_cast:
        if len(_plans) >= _INFER_CACHE_LIMIT:
            _plans.clear()
        _plans[plan_key] = (kernel, result)
    call_args = [arrays[:variadic_count], *arrays[variadic_count:]] if variadic_count >= 0 else arrays
    return _run_kernel(op, args, attrs, kernel, call_args, result, backend)


def _run_kernel(op: OpDef, args: tuple[Any, ...], attrs: dict[str, Any], kernel: Kernel, call_args: list[Any],
                result: Any, backend: Backend) -> Any:
    """Call the kernel, wrap its result(s) as tensors of the inferred types, record for autograd."""
    try:
        out = kernel(*call_args, **attrs)
    except OpError:
        raise
    except (ValueError, TypeError, IndexError, OverflowError) as error:
        raise OpError(op.name, f"{type(error).__name__} from the kernel: {error} "
                               f"(inputs: {_describe(list(args))}, attributes: {attrs})", backend.name) from None
    if type(result) is tuple:
        outputs = tuple(_make_tensor(backend.conform(o, t.dtype), t.dtype, backend) for o, t in zip(out, result))
    else:
        outputs = (_make_tensor(backend.conform(out, result.dtype), result.dtype, backend),)
    if _autograd.state.depth and _autograd.state.enabled:
        _autograd.record(op, args, attrs, outputs)
    return outputs if type(result) is tuple else outputs[0]


def _make_tensor(data: Any, dtype: dt.DType, backend: Backend) -> Tensor:
    tensor = _new(Tensor)
    tensor._data = data
    tensor._dtype = dtype
    tensor._backend = backend
    tensor._autograd = None
    return tensor


# (kernel, result dtype, needs conform, backend, array type[, converted scalar constants])
FastEntry = tuple[Any, ...]
_CONSTANTS_LIMIT = 64  # converted Python scalars kept per (op, dtype, scalar type, side)
_SCALAR_TYPES = (float, int, bool)
_OPERAND_TYPES = (Tensor, float, int, bool, np.generic)


def _fast_entry(op: OpDef, cache: dict[Any, Any], key: Any, dtype: dt.DType, backend: Backend,
                probe: Any, constants: bool = False) -> FastEntry | None:
    """Build a hot-path entry once: (kernel, result dtype, whether the kernel's results need a
    dtype conversion, backend, the backend's array type). None when the op rejects ``dtype``
    (``apply`` then raises the full error)."""
    if dtype not in op.dtypes or not backend.hot_path:
        return None
    result = op.infer(*(TensorType(dtype, ()) for _ in op.inputs)).dtype
    kernel = kernel_for(op, backend)
    sample = probe(kernel)
    needs_conform = getattr(sample, "dtype", None) != result.numpy
    entry: FastEntry = (kernel, result, needs_conform, backend, type(backend.conform(sample, result)))
    if constants:
        entry += ({},)
    cache[key] = entry
    return entry


def _finish(entry: FastEntry, out: Any) -> Tensor:
    """The kernel's result as a tensor; 0-d results (numpy scalars) become arrays via conform."""
    backend = entry[3]
    if entry[2] or type(out) is not entry[4]:
        out = backend.conform(out, entry[1])
    return _make_tensor(out, entry[1], backend)


def make_unary(op: OpDef) -> Callable[[Any], Any]:
    """The functional API of an elementwise unary op: one dict lookup on the hot path
    (in C++ when the native module is built, else in Python)."""
    cache: dict[Any, FastEntry] = {}

    def function(input: Any) -> Any:
        if _native_unary is not None:
            result = _native_unary(cache, input)
            if result is not None:
                return result
        if type(input) is Tensor and input._autograd is None:
            data = input._data
            entry = cache.get(input._dtype)
            if entry is None or entry[3] is not input._backend:
                entry = _fast_entry(op, cache, input._dtype, input._dtype, input._backend,
                                    lambda kernel: kernel(data))
            if entry is not None:
                return _finish(entry, entry[0](data))
        return apply(op, (input,), {})

    return function


def _with_scalar(op: OpDef, cache: dict[Any, FastEntry], tensor: Tensor, scalar: Any,
                 scalar_first: bool) -> Tensor | None:
    """Hot path for a tensor with a Python scalar that keeps the tensor's dtype; None: use apply."""
    dtype = tensor._dtype
    backend = tensor._backend
    key = (dtype, type(scalar), scalar_first)
    entry = cache.get(key)
    if entry is not None and entry[3] is not backend:
        entry = None
    if entry is None and not backend.hot_path:
        return None
    if entry is None and dt.result_type_with_scalar(dtype, scalar) is not dtype:
        return None
    constants = entry[5] if entry is not None else None
    operand = constants.get(scalar) if constants is not None else None
    if operand is None:
        try:
            operand = backend.from_scalar(scalar, dtype)
        except OverflowError:  # e.g. uint8 + 300: apply raises the full error
            return None
        if constants is not None and _cacheable_constant(scalar):
            if len(constants) >= _CONSTANTS_LIMIT:
                constants.clear()
            constants[scalar] = operand
    arguments = (operand, tensor._data) if scalar_first else (tensor._data, operand)
    if entry is None:
        entry = _fast_entry(op, cache, key, dtype, backend, lambda kernel: kernel(*arguments), constants=True)
        if entry is None:
            return None
    return _finish(entry, entry[0](*arguments))


def _cacheable_constant(scalar: Any) -> bool:
    """Ints, and floats other than zeros (0.0 == -0.0 would share a key) and NaN (never equal)."""
    return type(scalar) is int or (scalar == scalar and scalar != 0)


def make_binary(op: OpDef) -> Callable[[Any, Any], Any]:
    """The functional API of an elementwise binary op. Hot paths: two tensors of one dtype and
    backend (broadcasting left to the kernel, numpy semantics like ``infer``'s); a tensor with a
    Python scalar that does not change its dtype (``x * 0.5``).
    Anything else takes :func:`apply`."""
    cache: dict[Any, FastEntry] = {}

    def function(input: Any, other: Any) -> Any:
        if _native_binary is not None:
            result = _native_binary(cache, input, other)
            if result is not None:
                return result
        return python_path(input, other)

    def operator(input: Any, other: Any) -> Any:
        # The Python-operator form (x + y): an operand type we do not take is NotImplemented, so
        # Python tries the other operand and `x == None` is simply False.
        if _native_binary is not None:
            result = _native_binary(cache, input, other)
            if result is not None:
                return result
        if not isinstance(input, _OPERAND_TYPES) or not isinstance(other, _OPERAND_TYPES):
            return NotImplemented
        return python_path(input, other)

    def python_path(input: Any, other: Any) -> Any:
        if type(input) is Tensor and input._autograd is None:
            dtype = input._dtype
            backend = input._backend
            x = input._data
            if type(other) is Tensor:
                y = other._data
                if other._dtype is dtype and other._backend is backend and other._autograd is None:
                    entry = cache.get(dtype)
                    if entry is None or entry[3] is not backend:
                        if x.shape != y.shape:  # build entries from same-shape calls only
                            return apply(op, (input, other), {})
                        entry = _fast_entry(op, cache, dtype, dtype, backend, lambda kernel: kernel(x, y))
                    if entry is not None:
                        try:
                            out = entry[0](x, y)
                        except ValueError:  # shapes that do not broadcast: apply raises the full error
                            return apply(op, (input, other), {})
                        return _finish(entry, out)
            elif type(other) in _SCALAR_TYPES:
                result = _with_scalar(op, cache, input, other, scalar_first=False)
                if result is not None:
                    return result
        elif type(other) is Tensor and type(input) in _SCALAR_TYPES and other._autograd is None:
            result = _with_scalar(op, cache, other, input, scalar_first=True)
            if result is not None:
                return result
        return apply(op, (input, other), {})

    function.operator_form = operator  # type: ignore[attr-defined]
    return function


def _load_native() -> tuple[Any, Any]:
    """The C++ hot path, or (None, None) when the extension is not built (source checkouts)."""
    if _config.pure_python_dispatch():
        return None, None
    try:
        from mycelia import _native  # type: ignore[attr-defined]
    except ImportError:
        return None, None
    _native.configure_tensor_type(Tensor)
    return _native.unary_fast, _native.binary_fast


_native_unary, _native_binary = _load_native()
