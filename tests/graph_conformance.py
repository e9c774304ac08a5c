"""Conformance over graphs: each op's samples traced into a one-op graph, run by the reference
interpreter (and by each backend's compiled executor), compared with the eager call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import mycelia as ms
from mycelia import dtype as dt
from mycelia import ir
from mycelia.ops import OpDef, Sample

# Ops whose eager front function needs input *values* to build the call (data-dependent result shapes
# or host-side reads): they cannot be traced into a graph without a break, which the capture issue handles.
HOST_VALUE_OPS = {
    "masked_select": "result shape depends on the mask's values",
    "nonzero": "result shape depends on the input's values",
    "unique": "result shape depends on the input's values",
    "multinomial": "reads probabilities on the host",
}


def _arrays(args: Any) -> list[np.ndarray]:
    """The numpy arrays of a sample, flattened (lists of arrays for variadic ops)."""
    found: list[np.ndarray] = []
    for arg in args:
        if isinstance(arg, np.ndarray):
            found.append(arg)
        elif isinstance(arg, (list, tuple)):
            found.extend(_arrays(arg))
    return found


def _rebuild(args: Any, tensors: list[Any]) -> Any:
    """``args`` with each numpy array replaced, in order, by the next of ``tensors``."""
    iterator = iter(tensors)

    def replace(value: Any) -> Any:
        if isinstance(value, np.ndarray):
            return next(iterator)
        if isinstance(value, (list, tuple)):
            return type(value)(replace(v) for v in value)
        return value

    return replace(args)


def sample_function(op: OpDef, sample: Sample) -> Callable[..., Any]:
    """``f(*tensors)`` calling the op's functional API as the eager conformance test does."""
    function = getattr(ms.ops, op.name)

    def call(*tensors: Any) -> Any:
        args = _rebuild(sample.args, list(tensors))
        return sample.call(*args, **sample.attrs) if sample.call else function(*args, **sample.attrs)

    return call


def trace_sample(op: OpDef, sample: Sample) -> tuple[ir.Graph, list[np.ndarray]]:
    arrays = _arrays(sample.args)
    types = [ir.TensorType(dt.from_numpy(a.dtype), tuple(a.shape)) for a in arrays]
    graph = ir.trace(sample_function(op, sample), types, op.name)
    return ir.verify(graph), arrays


def as_list(result: Any) -> list[np.ndarray]:
    if isinstance(result, ms.Tensor):
        return [result.asnumpy()]
    return [array for item in result for array in as_list(item)]


def assert_same(got: list[np.ndarray], expected: list[np.ndarray], where: str) -> None:
    assert len(got) == len(expected), f"{where}: {len(got)} outputs, expected {len(expected)}"
    for index, (g, e) in enumerate(zip(got, expected)):
        assert g.shape == e.shape and g.dtype == e.dtype, \
            f"{where} output {index}: {g.dtype}{g.shape} vs {e.dtype}{e.shape}"
        if g.dtype.kind == "f" or g.dtype == np.dtype("bfloat16"):
            np.testing.assert_allclose(g.astype(np.float64), e.astype(np.float64), rtol=2e-5, atol=2e-6,
                                       equal_nan=True, err_msg=where)
        else:
            np.testing.assert_array_equal(g, e, err_msg=where)


def check_op_graphs(op_name: str, dtype: dt.DType, run: Callable[[ir.Graph, list[np.ndarray]], Any]) -> int:
    """Trace every sample of ``op_name`` for ``dtype``; ``run(graph, arrays)`` must equal the eager call."""
    op = ms.ops.get_op(op_name)
    assert op.samples is not None
    count = 0
    for sample in op.samples(dtype):
        graph, arrays = trace_sample(op, sample)
        expected = as_list(sample_function(op, sample)(*(ms.Tensor(a) for a in arrays)))
        got = as_list(run(graph, arrays))
        assert_same(got, expected, f"{op_name}[{dtype}] {sample.note}")
        count += 1
    return count
