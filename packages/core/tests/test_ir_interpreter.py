"""The reference interpreter: input binding (symbols, dtypes, ranks), numpy and Tensor inputs,
constants, fused regions and multi-output nodes, compared with eager results."""

from __future__ import annotations

import numpy as np
import pytest
from test_ir_text import build_constants, build_fused_region, build_multi_output

import mycelia as ms
from mycelia import dtype as dt
from mycelia import ir, ops
from mycelia.ir import Graph, GraphBuilder, IRError, Node, TensorType, Value

RNG = np.random.default_rng(7)


def _mlp() -> Graph:
    b = GraphBuilder("mlp")
    x = b.input("x", dt.float32, ["B", 3])
    w = b.input("w", dt.float32, [3, 4])
    bias = b.input("b", dt.float32, [4])
    b.relation("at_least", "B", 1)
    return b.build(b.op("relu", b.op("add", b.op("matmul", x, w), bias)))


def _arrays(batch: int) -> list[np.ndarray]:
    return [RNG.standard_normal(shape).astype(np.float32) for shape in ((batch, 3), (3, 4), (4,))]


def _check_types(graph: Graph, results: tuple) -> None:
    """Every result has the dtype and rank its output value declares."""
    for value, tensor in zip(graph.outputs, results, strict=True):
        assert tensor.dtype is value.dtype and len(tensor.shape) == len(value.shape)
        assert all(d == s for d, s in zip(value.shape, tensor.shape) if isinstance(d, int))


@pytest.mark.parametrize("batch", [1, 5])
def test_symbolic_batch_matches_eager(batch: int) -> None:
    graph = _mlp()
    x, w, bias = _arrays(batch)
    (result,) = ir.interpret(graph, x, w, bias)
    expected = ops.relu(ms.Tensor(x) @ ms.Tensor(w) + ms.Tensor(bias))
    assert isinstance(result, ms.Tensor) and result.shape == (batch, 4)
    np.testing.assert_allclose(result.asnumpy(), expected.asnumpy(), rtol=1e-6)


def test_numpy_and_tensor_inputs_agree() -> None:
    graph = _mlp()
    arrays = _arrays(2)
    from_numpy = ir.interpret(graph, *arrays)[0].asnumpy()
    from_tensors = ir.interpret(graph, *[ms.Tensor(a) for a in arrays])[0].asnumpy()
    mixed = ir.interpret(graph, ms.Tensor(arrays[0]), arrays[1], ms.Tensor(arrays[2]))[0].asnumpy()
    np.testing.assert_array_equal(from_numpy, from_tensors)
    np.testing.assert_array_equal(from_numpy, mixed)


def test_same_symbol_with_two_sizes_is_rejected() -> None:
    b = GraphBuilder("pair")
    x = b.input("x", dt.float32, ["B", 2])
    y = b.input("y", dt.float32, ["B", 2])
    graph = b.build(b.op("add", x, y))
    with pytest.raises(IRError, match=r"symbol B is 3 .*but 4 in input %y"):
        ir.interpret(graph, np.zeros((3, 2), np.float32), np.zeros((4, 2), np.float32))
    assert ir.interpret(graph, np.ones((4, 2), np.float32), np.ones((4, 2), np.float32))[0].shape == (4, 2)


def test_same_symbol_twice_in_one_input() -> None:
    b = GraphBuilder("square")
    x = b.input("x", dt.float32, ["N", "N"])
    graph = b.build(b.op("relu", x))
    with pytest.raises(IRError, match="symbol N"):
        ir.interpret(graph, np.zeros((2, 3), np.float32))
    assert ir.interpret(graph, np.zeros((3, 3), np.float32))[0].shape == (3, 3)


@pytest.mark.parametrize("arg, fragment", [
    (np.zeros((2, 3), np.float64), "f64"),
    (np.zeros((2, 3), np.int32), "i32"),
    (np.zeros((2, 3, 1), np.float32), "f32[B,3]"),
    (np.zeros((3,), np.float32), "f32[B,3]"),
    (np.zeros((2, 4), np.float32), "shape [2, 4]"),
    (ms.Tensor(np.zeros((2, 3), np.float16)), "f16"),
    ([[0.0, 1.0, 2.0]], "%x"),
])
def test_wrong_dtype_rank_or_static_dim(arg: object, fragment: str) -> None:
    _, w, bias = _arrays(2)
    with pytest.raises(IRError, match="@mlp") as caught:
        ir.interpret(_mlp(), arg, w, bias)
    assert fragment in str(caught.value)


def test_wrong_number_of_inputs() -> None:
    with pytest.raises(IRError, match="takes 3 inputs, got 2"):
        ir.interpret(_mlp(), *_arrays(2)[:2])


def test_inputs_violating_a_relation_are_rejected() -> None:
    x, w, bias = _arrays(0)
    with pytest.raises(IRError, match="B >= 1"):
        ir.interpret(_mlp(), x, w, bias)


def test_multi_output_nodes() -> None:
    graph = build_multi_output()
    x = RNG.standard_normal((4, 8)).astype(np.float32)
    results = ir.interpret(graph, x)
    _check_types(graph, results)
    values, indices = ops.topk(ms.Tensor(x), 3)
    largest, where = ops.max(ms.Tensor(x), 1)
    for got, want in zip(results, (values, indices, largest, where)):
        assert got.dtype is want.dtype
        np.testing.assert_array_equal(got.asnumpy(), want.asnumpy())
    np.testing.assert_array_equal(results[3].asnumpy(), x.argmax(axis=1))


def test_node_with_wrong_output_count_is_rejected() -> None:
    x = Value(TensorType(dt.float32, (4, 8)), "x")
    only = Value(TensorType(dt.float32, (4, 1)))
    attrs = (("k", 1), ("dim", -1), ("largest", True), ("sorted", True))
    graph = Graph("short", (x,), (Node("topk", (x,), (only,), attrs),), (only,))
    with pytest.raises(IRError, match="topk produced 2 results for 1 outputs"):
        ir.interpret(graph, np.zeros((4, 8), np.float32))


def test_fused_region_is_executed() -> None:
    graph = build_fused_region()
    x = np.array([1.0, -2.0, 3.0], np.float32)
    y = np.array([2.0, 2.0, -1.0], np.float32)
    (result,) = ir.interpret(graph, x, y)
    np.testing.assert_array_equal(result.asnumpy(), np.maximum(x * y, 0) + 1)
    parsed = ir.parse(str(graph))
    np.testing.assert_array_equal(ir.interpret(parsed, x, y)[0].asnumpy(), result.asnumpy())


def test_fused_region_binds_its_own_inputs() -> None:
    graph = build_fused_region()
    with pytest.raises(IRError, match="symbol N"):
        ir.interpret(graph, np.zeros(3, np.float32), np.zeros(2, np.float32))


def test_constants_without_inputs() -> None:
    graph = build_constants()
    results = ir.interpret(graph)
    _check_types(graph, results)
    np.testing.assert_array_equal(results[0].asnumpy(), np.arange(40, dtype=np.float32).reshape(5, 8) * 2.5)
    assert np.isnan(results[1].asnumpy()[2]) and results[2].asnumpy()[1, 1] == 2**40
    results[2].asnumpy()[0, 0] = 99  # the graph's constant is not shared with the result
    assert ir.interpret(graph)[2].asnumpy()[0, 0] == -3


def test_interpreted_results_are_ordinary_eager_tensors() -> None:
    (result,) = ir.interpret(_mlp(), *_arrays(2))
    assert result._backend is not ir.RECORDING
    np.testing.assert_allclose((result * 2).asnumpy(), result.asnumpy() * 2)


def test_parsed_graph_interprets_like_the_built_one() -> None:
    graph = _mlp()
    arrays = _arrays(3)
    np.testing.assert_array_equal(ir.interpret(ir.parse(str(graph)), *arrays)[0].asnumpy(),
                                  ir.interpret(graph, *arrays)[0].asnumpy())
