"""Tracing eager code into a graph: the *recording backend*.

A traced tensor is an ordinary :class:`~mycelia.Tensor` whose backend is :data:`RECORDING` and whose
array is a :class:`TracedArray` (an IR value plus its builder). Every op then runs through the normal
eager machinery — promotion, ``infer``, the hot paths, autograd's tape and ``vjp`` rules — and the
backend's "kernels" append nodes instead of computing. So graph autodiff is eager autodiff on traced
tensors, and frontends turn ``mycelia.ops`` calls into IR without a second implementation of any op.

Reading a traced value on the host (``asnumpy``, ``float(t)``, ``bool(t)``) raises
:class:`TracedValueError`: the frontend turns that into a graph break.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from mycelia import _context
from mycelia import dtype as dt
from mycelia._errors import TracedValueError
from mycelia._tensor import Tensor
from mycelia._types import TensorType
from mycelia.backends import Availability, Backend, Capabilities, Kernel
from mycelia.ir._builder import GraphBuilder, IRError
from mycelia.ir._graph import Graph, Value
from mycelia.ops._dispatch import _make_tensor
from mycelia.ops._registry import all_ops, get_op

__all__ = ["RECORDING", "TracedArray", "TracedValueError", "recording", "trace", "traced_tensor"]


class TracedArray:
    """The 'array' of a traced tensor: an IR value and the builder it belongs to; ``known`` holds the
    data when the value is a constant (so host reads of constants made inside the trace still work)."""

    __slots__ = ("builder", "known", "value")

    def __init__(self, value: Value, builder: GraphBuilder, known: np.ndarray | None = None) -> None:
        self.value = value
        self.builder = builder
        self.known = known

    @property
    def shape(self) -> tuple[Any, ...]:
        return self.value.shape

    @property
    def ndim(self) -> int:
        return len(self.value.shape)

    @property
    def dtype(self) -> Any:
        return np.dtype(self.value.dtype.numpy)

    @property
    def size(self) -> int:
        total = 1
        for dim in self.value.shape:
            if not isinstance(dim, int):
                raise TracedValueError(f"the size of a tensor of type {self.value.type} is symbolic")
            total *= dim
        return total

    def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        if self.known is not None:
            return self.known.copy()  # type: ignore[no-any-return]
        raise TracedValueError(f"the value of a traced tensor ({self.value.type}) is not known while its graph "
                               "is being built")

    # Host reads of a traced value (``t.item()``, ``float(t)``, ``bool(t)`` …) raise TracedValueError,
    # except for constants, whose value is known.
    def _host_read(name: str) -> Any:  # type: ignore[misc]
        def read(self: TracedArray, *args: Any) -> Any:
            if self.known is not None:
                return getattr(self.known, name)(*args)
            raise TracedValueError(f"the value of a traced tensor ({self.value.type}) is not known while its "
                                   "graph is being built")

        return read

    item = _host_read("item")
    tolist = _host_read("tolist")
    tobytes = _host_read("tobytes")
    __float__ = _host_read("__float__")
    __int__ = _host_read("__int__")
    __bool__ = _host_read("__bool__")
    __index__ = _host_read("__index__")
    __complex__ = _host_read("__complex__")
    del _host_read

    def __repr__(self) -> str:
        return f"TracedArray({self.value.type})"


class _State(threading.local):
    def __init__(self) -> None:
        self.builders: list[GraphBuilder] = []
        self.random_outside = False  # jit: random ops are not recorded (their draw must run per call)


_state = _State()


def _active_builder() -> GraphBuilder:
    if not _state.builders:
        raise IRError("no graph is being recorded (use mycelia.ir.trace or recording())")
    return _state.builders[-1]


def _operands(arrays: Sequence[Any]) -> list[Value]:
    values = []
    for array in arrays:
        if not isinstance(array, TracedArray):
            raise IRError(f"a recorded op got a {type(array).__name__}, not a traced value")
        values.append(array.value)
    return values


class RecordingBackend(Backend):
    """Kernels that append IR nodes to the graph being recorded (never selected automatically)."""

    name = "ir"
    priority = -1
    hot_path = False

    def __init__(self) -> None:
        self._kernels: dict[str, Kernel] = {}

    def is_available(self) -> Availability:
        return Availability(False, "the recording backend only exists while a graph is traced")

    def capabilities(self) -> Capabilities:
        return Capabilities()

    def kernel(self, op_name: str) -> Kernel | None:
        if _state.random_outside and op_name in _RANDOM_OPS:
            # Asked for before the call takes its (seed, offset): the stream is not advanced, and the
            # frontend breaks the graph so the draw runs for real, once per call, as in eager mode.
            error = TracedValueError(f"the random op {op_name} draws from the global random stream: it runs "
                                     "outside the graph")
            error.break_reason = True  # type: ignore[attr-defined]
            raise error
        kernel = self._kernels.get(op_name)
        if kernel is None:
            opdef = get_op(op_name)

            def kernel(*arrays: Any, **attrs: Any) -> Any:
                builder = _active_builder()
                if not arrays and opdef.group == "creation":
                    return _known_creation(opdef, builder, attrs)
                if opdef.variadic:
                    head, rest = arrays[0], arrays[1:]
                    result = builder.op(op_name, _operands(head), *_operands(rest), **attrs)
                else:
                    result = builder.op(op_name, *_operands(arrays), **attrs)
                if isinstance(result, tuple):
                    return tuple(TracedArray(value, builder) for value in result)
                return TracedArray(result, builder)

            self._kernels[op_name] = kernel
        return kernel

    def from_numpy(self, array: np.ndarray) -> Any:
        builder = _active_builder()
        array = np.array(array)
        return TracedArray(builder.constant(array, dt.from_numpy(array.dtype)), builder, array)

    def to_numpy(self, array: Any) -> np.ndarray:
        if array.known is not None:
            return array.known.copy()  # type: ignore[no-any-return]
        raise TracedValueError(f"the value of a traced tensor ({array.value.type}) is not known while its graph "
                               "is being built")

    def from_scalar(self, value: bool | int | float, dtype: dt.DType) -> Any:
        builder = _active_builder()
        return TracedArray(builder.constant(value, dtype), builder, np.array(value, dtype=dtype.numpy))

    def cast(self, array: Any, dtype: dt.DType) -> Any:
        builder = array.builder
        return TracedArray(builder.op("cast", array.value, dtype=dtype), builder)

    def conform(self, array: Any, dtype: dt.DType) -> Any:
        return array if array.value.dtype is dtype else self.cast(array, dtype)


# Creation ops (ones, arange …) up to this many elements are recorded as constants with known values;
# larger ones stay nodes, so graphs do not carry big literals.
KNOWN_CREATION_LIMIT = 4096


def _known_creation(opdef: Any, builder: GraphBuilder, attrs: dict[str, Any]) -> Any:
    value = builder.op(opdef.name, **attrs)
    size = 1
    for dim in value.shape:
        size = size * dim if isinstance(dim, int) else KNOWN_CREATION_LIMIT + 1
    if size > KNOWN_CREATION_LIMIT:
        return TracedArray(value, builder)
    array = np.asarray(opdef.reference(**attrs), dtype=value.dtype.numpy)
    return TracedArray(builder.constant(array, value.dtype), builder, array)


RECORDING = RecordingBackend()


def traced_tensor(value: Value, builder: GraphBuilder) -> Tensor:
    return _make_tensor(TracedArray(value, builder), value.dtype, RECORDING)


@contextmanager
def recording(builder: GraphBuilder, random_outside: bool = False) -> Iterator[None]:
    """Within the block new tensors (constants, ``ops.ones``) are recorded into ``builder``. With
    ``random_outside``, ops that draw from the random stream raise :class:`TracedValueError` before they
    draw (a frontend runs them for real); otherwise their (seed, offset) is recorded as attributes."""
    _state.builders.append(builder)
    saved, saved_random = _context._context.backend, _state.random_outside
    _context._context.backend = RECORDING
    _state.random_outside = random_outside
    try:
        yield
    finally:
        _context._context.backend = saved
        _state.random_outside = saved_random
        _state.builders.pop()


def _draws_random(name: str) -> bool:
    return {"seed", "offset"} <= {attr for attr, _ in get_op(name).attrs}


_RANDOM_OPS = frozenset(op.name for op in all_ops() if _draws_random(op.name))


def _flatten_outputs(result: Any) -> list[Tensor]:
    if isinstance(result, Tensor):
        return [result]
    if isinstance(result, (tuple, list)):
        return [tensor for item in result for tensor in _flatten_outputs(item)]
    raise IRError(f"a traced function must return Tensors (or nested tuples of them), got {type(result).__name__}")


def trace(fn: Callable[..., Any], input_types: Sequence[TensorType], name: str = "graph",
          input_names: Sequence[str] | None = None) -> Graph:
    """Record ``fn(*tensors)`` into a graph whose inputs have ``input_types``; the outputs are the
    returned tensors, flattened. Unused recorded nodes are dropped."""
    from mycelia.ir._dead_code import remove_unused

    builder = GraphBuilder(name)
    names = list(input_names) if input_names is not None else [f"arg{i}" for i in range(len(input_types))]
    tensors = [traced_tensor(builder.input(n, t.dtype, t.shape), builder) for n, t in zip(names, input_types)]
    with recording(builder):
        outputs = _flatten_outputs(fn(*tensors))
    values = []
    for tensor in outputs:
        data = tensor._data
        if not isinstance(data, TracedArray) or data.builder is not builder:
            # An output that did not come from the inputs: record it as a constant of the graph.
            with recording(builder):
                data = RECORDING.from_numpy(tensor.asnumpy())
        values.append(data.value)
    return remove_unused(builder.build(*values))
