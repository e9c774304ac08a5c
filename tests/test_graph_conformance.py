"""Every op, traced into a graph, runs the same through the reference interpreter as eagerly."""

from __future__ import annotations

import pytest
from graph_conformance import HOST_VALUE_OPS, check_op_graphs

import mycelia as ms
from mycelia import dtype as dt
from mycelia import ir

OPS = [op.name for op in ms.ops.all_ops() if op.samples is not None and op.name not in HOST_VALUE_OPS]


def _dtype_for(op_name: str) -> dt.DType:
    op = ms.ops.get_op(op_name)
    for dtype in (dt.float32, dt.int64, dt.int32, dt.bool_):
        if dtype in op.dtypes:
            return dtype
    return next(d for d in dt.all_dtypes() if d in op.dtypes)


@pytest.mark.parametrize("op_name", OPS)
def test_interpreter_matches_eager(op_name: str) -> None:
    checked = check_op_graphs(op_name, _dtype_for(op_name), lambda graph, arrays: ir.interpret(graph, *arrays))
    assert checked > 0


@pytest.mark.parametrize("op_name", OPS)
def test_traced_graph_round_trips_through_text(op_name: str) -> None:
    def round_trip(graph: ir.Graph, arrays: list) -> tuple:
        text = str(graph)
        parsed = ir.verify(ir.parse(text))
        assert str(parsed) == text
        return ir.interpret(parsed, *arrays)

    assert check_op_graphs(op_name, _dtype_for(op_name), round_trip) > 0


@pytest.mark.parametrize("op_name", OPS)
def test_cpu_compiled_graph_matches_eager(op_name: str) -> None:
    """The cpu backend's compiled schedule (after the default pipeline) runs each op as eager does."""
    from mycelia.backends import get_backend

    cpu = get_backend("cpu")
    checked = check_op_graphs(op_name, _dtype_for(op_name), lambda graph, arrays: ir.compile_graph(graph, cpu)(*arrays))
    assert checked > 0
