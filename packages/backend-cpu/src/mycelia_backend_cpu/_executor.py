"""Compiled graphs on the CPU: a flat schedule, generated as straight-line Python, over buffers
planned once per input-shape set and reused across calls.

* Fused regions run in the C++ fused kernel (``_fused.FusedKernel``) in one pass over memory.
* Matmul and float add/sub/mul/div write into planned buffers (``out=``); BLAS does the gemms.
* Every other op calls its eager kernel, which allocates its result.
* Liveness (``mycelia.ir.plan_buffers``) lets values whose lifetimes do not overlap share a buffer.
  Kernels may return views of their inputs, so such a node extends its inputs' lifetimes to its
  outputs', and a buffer whose view reaches a graph output is never planned: results handed to the
  caller are never overwritten by a later call.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._tensor import Tensor
from mycelia._types import Symbol
from mycelia.ir import Graph, IRError, Node, Value, last_uses, plan_buffers, reduced_trailing_dims
from mycelia.ops import get_op
from mycelia.ops._dispatch import _make_tensor
from mycelia_backend_cpu._kernels import KERNELS

__all__ = ["CpuExecutable"]

_FLOAT_NUMPY = (np.dtype(np.float32), np.dtype(np.float64))
# Ops whose numpy form writes into ``out=`` with exactly the eager kernel's semantics (float32/64).
_OUT_UFUNCS: dict[str, Any] = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "matmul": np.matmul}
MAX_SCHEDULES = 64  # schedules (with their buffers) kept per compiled graph, one per input-shape set
_REDUCTION_KINDS = {"sum": "sum", "mean": "mean", "amax": "max", "amin": "min"}


def _concrete(shape: Sequence[Any], sizes: dict[Symbol, int]) -> tuple[int, ...] | None:
    result = []
    for dim in shape:
        if isinstance(dim, Symbol):
            if dim not in sizes:
                return None
            result.append(sizes[dim])
        else:
            result.append(dim)
    return tuple(result)


def _writes_out(node: Node) -> bool:
    """The node's kernel writes into a planned buffer (so its result never aliases an input)."""
    if node.op == "fused":
        return True
    if node.op not in _OUT_UFUNCS or len(node.outputs) != 1:
        return False
    dtype = node.outputs[0].dtype
    if dtype.numpy not in _FLOAT_NUMPY or any(v.dtype is not dtype for v in node.inputs):
        return False
    if node.op == "matmul":
        return all(len(v.shape) == 2 for v in node.inputs)
    return node.attribute("rounding_mode") is None


def _fused_program(region: Graph) -> tuple[list[tuple[Any, ...]], list[int], str, tuple[str, int] | None]:
    """A region as the fused kernel's register program: (instructions, output registers, compute, reduce)."""
    registers: dict[Value, int] = {value: index for index, value in enumerate(region.inputs)}
    instructions: list[tuple[Any, ...]] = []
    compute = "float32"
    reduce: tuple[str, int] | None = None
    for value in [*region.inputs, *(o for n in region.nodes for o in n.outputs)]:
        if value.dtype is dt.float64:
            compute = "float64"
    for node in region.nodes:
        if node.op == "constant":
            instruction: tuple[Any, ...] = ("const", (), {"value": float(node.attribute("value").array.reshape(-1)[0])})
        elif node.op in _REDUCTION_KINDS:
            count = reduced_trailing_dims(node)
            if count is None or node is not region.nodes[-1]:
                raise IRError(f"fused region @{region.name}: reduction {node.op} must reduce trailing dims, last")
            reduce = (_REDUCTION_KINDS[node.op], count)
            registers[node.outputs[0]] = registers[node.inputs[0]]
            continue
        else:
            defaults = dict(get_op(node.op).attrs)
            attrs = {name: (value.numpy.name if isinstance(value, dt.DType) else value) for name, value in node.attrs
                     if value != defaults.get(name) or name == "dtype"}
            instruction = (node.op, tuple(registers[v] for v in node.inputs), attrs) if attrs else \
                (node.op, tuple(registers[v] for v in node.inputs))
        registers[node.outputs[0]] = len(region.inputs) + len(instructions)
        instructions.append(instruction)
    return instructions, [registers[v] for v in region.outputs], compute, reduce


class _Runner:
    """The schedule for one set of input shapes: generated code plus its planned buffers."""

    def __init__(self, graph: Graph, sizes: dict[Symbol, int], fused: dict[int, Any]) -> None:
        concrete = {v: _concrete(v.shape, sizes) for n in graph.nodes for v in n.outputs}
        last, escaping = self._lifetimes(graph)
        planned = {v: int(np.prod(s, dtype=np.int64)) * v.dtype.itemsize for n in graph.nodes if _writes_out(n)
                   for v, s in ((o, concrete[o]) for o in n.outputs) if s is not None and v not in escaping}
        self.plan = plan_buffers(graph, planned, last)
        slots = [np.empty(size, np.uint8) for size in self.plan.slot_sizes]
        self.buffer_bytes = self.plan.planned_bytes

        def buffer(value: Value) -> np.ndarray | None:
            slot = self.plan.slot_of.get(value)
            shape = concrete.get(value)
            if slot is None or shape is None:
                return None
            nbytes = int(np.prod(shape, dtype=np.int64)) * value.dtype.itemsize
            return slots[slot][:nbytes].view(value.dtype.numpy).reshape(shape)

        namespace: dict[str, Any] = {}
        names: dict[Value, str] = {v: f"a{i}" for i, v in enumerate(graph.inputs)}
        lines = [f"def run({', '.join(names[v] for v in graph.inputs)}):"]
        for index, node in enumerate(graph.nodes):
            for position, output in enumerate(node.outputs):
                names[output] = f"v{index}_{position}"
            step = f"s{index}"
            namespace[step] = self._step(node, [buffer(o) for o in node.outputs],
                                         [concrete[o] for o in node.outputs], fused.get(index))
            single = node.op == "constant" or (_writes_out(node) and node.op != "fused")  # returns an array
            targets = ", ".join(names[o] for o in node.outputs) + ("," if len(node.outputs) == 1 and not single else "")
            if node.op == "constant":
                lines.append(f"    {targets} = {step}")
            else:
                lines.append(f"    {targets} = {step}({', '.join(names[v] for v in node.inputs)})")
        returned = ", ".join(names[v] for v in graph.outputs)
        lines.append(f"    return ({returned}{',' if len(graph.outputs) == 1 else ''})")
        self.source = "\n".join(lines)
        exec(compile(self.source, f"<mycelia graph @{graph.name}>", "exec"), namespace)
        self.run: Callable[..., tuple[Any, ...]] = namespace["run"]

    @staticmethod
    def _lifetimes(graph: Graph) -> tuple[dict[Value, int], set[Value]]:
        """Last uses extended through nodes that may return views, and the values a graph output may view."""
        last = last_uses(graph)
        escaping = set(graph.outputs)
        for index in range(len(graph.nodes) - 1, -1, -1):
            node = graph.nodes[index]
            if _writes_out(node) or node.op == "constant":
                continue
            end = max((last.get(o, index) for o in node.outputs), default=index)
            reaches_output = any(o in escaping for o in node.outputs)
            for value in node.inputs:
                last[value] = max(last.get(value, index), end)
                if reaches_output:
                    escaping.add(value)
        return last, escaping

    @staticmethod
    def _step(node: Node, buffers: list[np.ndarray | None], shapes: list[tuple[int, ...] | None],
              kernel: Any) -> Any:
        if node.op == "constant":
            return node.attribute("value").array.copy()
        if node.op == "fused":
            outputs = [(buf, shape, o.dtype.numpy) for buf, shape, o in zip(buffers, shapes, node.outputs)]
            kernel = kernel.bind([v.dtype.numpy for v in node.inputs], [o.dtype.numpy for o in node.outputs])
            if all(buf is not None for buf, _, _ in outputs):
                planned = [buf for buf, _, _ in outputs]
                result = tuple(planned)

                def run_planned(*inputs: Any) -> tuple[Any, ...]:
                    kernel(inputs, planned)
                    return result

                return run_planned

            def run_fresh(*inputs: Any) -> tuple[Any, ...]:
                arrays = [buf if buf is not None else np.empty(
                    shape if shape is not None else np.broadcast_shapes(*(i.shape for i in inputs)), dtype)
                    for buf, shape, dtype in outputs]
                kernel(inputs, arrays)
                return tuple(arrays)

            return run_fresh
        if _writes_out(node):
            ufunc = _OUT_UFUNCS[node.op]
            if buffers[0] is not None:
                return functools.partial(ufunc, out=buffers[0])
            return ufunc
        eager = KERNELS.get(node.op)
        if eager is None:
            raise IRError(f"{node.op}: the cpu backend has no kernel for it")
        attrs = node.attributes
        opdef = get_op(node.op)
        dtypes = [o.dtype.numpy for o in node.outputs]
        variadic = len(node.inputs) - (len(opdef.inputs) - 1) if opdef.variadic else -1

        def run_eager(*inputs: Any) -> tuple[Any, ...]:
            args = (list(inputs[:variadic]), *inputs[variadic:]) if variadic >= 0 else inputs
            out = eager(*args, **attrs)
            outs = out if isinstance(out, tuple) else (out,)
            return tuple(o if type(o) is np.ndarray and o.dtype == d else np.asarray(o).astype(d, copy=False)
                         for o, d in zip(outs, dtypes))

        return run_eager


class CpuExecutable:
    """``executable(*tensors_or_arrays) -> tuple of Tensors``; one schedule per input-shape set.
    Calls are serialised (the planned buffers are shared), so it is safe to call from threads."""

    def __init__(self, graph: Graph, backend: Any) -> None:
        from mycelia_backend_cpu._fused import FusedKernel

        self.graph = graph
        self.backend = backend
        self._dtypes = [np.dtype(v.dtype.numpy) for v in graph.inputs]
        self._output_dtypes = [v.dtype for v in graph.outputs]
        self._fused: dict[int, Any] = {}
        for index, node in enumerate(graph.nodes):
            if node.op == "fused":
                assert node.region is not None
                instructions, outputs, compute, reduce = _fused_program(node.region)
                self._fused[index] = FusedKernel(instructions, len(node.inputs), outputs, compute, reduce)
        self._runners: dict[tuple[tuple[int, ...], ...], _Runner] = {}
        self._lock = threading.Lock()

    def runner(self, shapes: tuple[tuple[int, ...], ...]) -> _Runner:
        runner = self._runners.get(shapes)
        if runner is None:
            sizes = self._symbol_sizes(shapes)
            if len(self._runners) >= MAX_SCHEDULES:  # a symbolic graph met many shapes: drop the oldest
                self._runners.pop(next(iter(self._runners)))
            runner = self._runners[shapes] = _Runner(self.graph, sizes, self._fused)
        return runner

    def run_arrays(self, *arrays: Any) -> tuple[Any, ...]:
        """Run on numpy arrays the caller has checked (the jit's guards): a schedule per shape set."""
        shapes = tuple(array.shape for array in arrays)
        runner = self._runners.get(shapes) or self.runner(shapes)
        with self._lock:
            return runner.run(*arrays)

    def _symbol_sizes(self, shapes: tuple[tuple[int, ...], ...]) -> dict[Symbol, int]:
        """The size of each symbolic dim, with the shapes checked against the graph's input types."""
        sizes: dict[Symbol, int] = {}
        for value, shape in zip(self.graph.inputs, shapes):
            problem = len(shape) != len(value.shape)
            for dim, size in zip(value.shape, shape):
                if isinstance(dim, Symbol):
                    problem = problem or sizes.setdefault(dim, size) != size
                else:
                    problem = problem or dim != size
            if problem:
                known = f" (symbols so far: {', '.join(f'{k}={v}' for k, v in sizes.items())})" if sizes else ""
                raise IRError(f"graph @{self.graph.name}: input %{value.name} is {value.type}, "
                              f"got shape {list(shape)}{known}")
        return sizes

    def __call__(self, *args: Any) -> tuple[Tensor, ...]:
        if len(args) != len(self._dtypes):
            raise IRError(f"graph @{self.graph.name} takes {len(self._dtypes)} inputs, got {len(args)}")
        arrays = [arg._data if isinstance(arg, Tensor) else np.asarray(arg) for arg in args]
        for index, (array, dtype) in enumerate(zip(arrays, self._dtypes)):
            if array.dtype != dtype:
                value = self.graph.inputs[index]
                raise IRError(f"graph @{self.graph.name}: input %{value.name} is {value.type}, got {array.dtype}")
        runner = self.runner(tuple(array.shape for array in arrays))
        with self._lock:
            results = runner.run(*arrays)
        backend = self.backend
        return tuple(_make_tensor(result, dtype, backend) for result, dtype in zip(results, self._output_dtypes))
