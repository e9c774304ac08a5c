"""Graph autodiff: interpret(value_and_grad_graph(trace(f))) equals eager value_and_grad(f), and finite
differences; positions are validated."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pytest

import mycelia as ms
from mycelia import dtype as dt
from mycelia import ir, ops
from mycelia._testing import numeric_gradients
from mycelia.ir import IRError, TensorType

RNG = np.random.default_rng(3)


def _f32(*shape: int) -> TensorType:
    return TensorType(dt.float32, shape)


def _sample(types: Sequence[TensorType]) -> list[np.ndarray]:
    return [RNG.standard_normal(t.shape).astype(t.dtype.numpy) for t in types]


def _compare(fn: Callable, types: Sequence[TensorType], positions: int | tuple[int, ...],
             arrays: list[np.ndarray] | None = None, has_aux: bool = False) -> ir.Graph:
    """Trace ``fn``, differentiate the graph, interpret it and compare with eager value_and_grad."""
    arrays = _sample(types) if arrays is None else arrays
    graph = ir.verify(ir.trace(fn, types, "f"))
    grad_graph = ir.verify(ir.value_and_grad_graph(graph, positions))
    assert ir.print_graph(ir.parse(str(grad_graph))) == str(grad_graph)
    results = ir.interpret(grad_graph, *arrays)
    value, grads = ms.value_and_grad(fn, positions, has_aux=has_aux)(*[ms.Tensor(a) for a in arrays])
    values = list(value) if has_aux else [value]
    grads = list(grads) if isinstance(positions, tuple) else [grads]
    count = len(positions) if isinstance(positions, tuple) else 1
    assert len(results) == len(graph.outputs) + count == len(values) + len(grads)
    for got, want in zip(results, [*values, *grads]):
        assert got.shape == want.shape and got.dtype is want.dtype
        np.testing.assert_allclose(got.asnumpy(), want.asnumpy(), rtol=1e-5, atol=1e-5)
    index = (positions,) if isinstance(positions, int) else positions
    for grad, position in zip(results[len(graph.outputs):], index):
        assert grad.shape == arrays[position].shape
    return grad_graph


def _mlp_loss(x, w1, b1, w2, b2, labels):
    hidden = ops.relu(x @ w1 + b1)
    return ops.cross_entropy(hidden @ w2 + b2, labels)


MLP_TYPES = [_f32(4, 3), _f32(3, 5), _f32(5), _f32(5, 2), _f32(2), TensorType(dt.int64, (4,))]


def test_mlp_cross_entropy_gradients_of_all_weights() -> None:
    arrays = [*_sample(MLP_TYPES[:5]), np.array([0, 1, 1, 0], np.int64)]
    graph = _compare(_mlp_loss, MLP_TYPES, (0, 1, 2, 3, 4), arrays)
    assert [str(v.type) for v in graph.outputs] == ["f32[]", "f32[4,3]", "f32[3,5]", "f32[5]", "f32[5,2]", "f32[2]"]
    assert graph.inputs[5].dtype is dt.int64


@pytest.mark.parametrize("name, fn, types", [
    ("softmax", lambda x, w: (ops.softmax(x, -1) * w).sum(), [_f32(3, 4), _f32(3, 4)]),
    ("layer_norm", lambda x, g, b: (ops.layer_norm(x, (4,), g, b) * x).sum(), [_f32(2, 4), _f32(4), _f32(4)]),
    ("tanh_exp", lambda x: ops.exp(ops.tanh(ops.tanh(x) * 0.5)).mean(), [_f32(5)]),
    ("non_scalar", lambda x, y: ops.exp(x) * y, [_f32(2, 3), _f32(2, 3)]),
])
def test_gradients_match_eager(name: str, fn: Callable, types: list[TensorType]) -> None:
    _compare(fn, types, tuple(range(len(types))))


def test_broadcast_add_sums_the_bias_gradient() -> None:
    def fn(x, bias):
        return (ops.tanh(x + bias) * 3.0).sum()

    arrays = _sample([_f32(4, 3), _f32(3)])
    graph = _compare(fn, [_f32(4, 3), _f32(3)], (0, 1), arrays)
    _, grad_x, grad_bias = ir.interpret(graph, *arrays)
    assert grad_bias.shape == (3,)
    np.testing.assert_allclose(grad_bias.asnumpy(), grad_x.asnumpy().sum(axis=0), rtol=1e-5)


def test_multi_output_graph_passes_aux_outputs_through() -> None:
    def fn(x, w):
        y = x @ w
        return (y * y).sum(), ops.relu(y), y.shape[0] * ops.ones((2,), ms.float32)

    types = [_f32(2, 3), _f32(3, 2)]
    arrays = _sample(types)
    graph = _compare(fn, types, 1, arrays, has_aux=True)
    assert len(graph.outputs) == 4
    results = ir.interpret(graph, *arrays)
    np.testing.assert_allclose(results[1].asnumpy(), np.maximum(arrays[0] @ arrays[1], 0), rtol=1e-6)
    np.testing.assert_array_equal(results[2].asnumpy(), [2.0, 2.0])
    np.testing.assert_allclose(results[3].asnumpy(), 2 * arrays[0].T @ (arrays[0] @ arrays[1]), rtol=1e-5)


@pytest.mark.parametrize("positions", [0, 1, (1,), (1, 0), (0, 1)])
def test_grad_position_int_and_tuple(positions: int | tuple[int, ...]) -> None:
    types = [_f32(2, 3), _f32(3)]
    graph = _compare(lambda x, y: (ops.exp(x) * y).sum(), types, positions)
    order = (positions,) if isinstance(positions, int) else positions
    assert [v.type for v in graph.outputs[1:]] == [types[p] for p in order]


def test_gradients_match_finite_differences() -> None:
    types = [TensorType(dt.float64, (2, 3)), TensorType(dt.float64, (3,))]
    arrays = _sample(types)

    def fn(x, w):
        return (ops.tanh(x * w) + ops.exp(x) * 0.5).sum()

    graph = ir.value_and_grad_graph(ir.trace(fn, types), (0, 1))
    value, *grads = ir.interpret(graph, *arrays)

    def objective(x: np.ndarray, w: np.ndarray) -> float:
        return float(ir.interpret(ir.trace(fn, types), x, w)[0].asnumpy())

    numeric = numeric_gradients(objective, arrays, epsilon=1e-6)
    assert value.asnumpy() == pytest.approx(objective(*arrays))
    for got, want in zip(grads, numeric, strict=True):
        np.testing.assert_allclose(got.asnumpy(), want, rtol=1e-6, atol=1e-7)


def test_second_order_through_graphs() -> None:
    graph = ir.trace(lambda x: (x * x * x).sum(), [_f32(3)])
    first = ir.value_and_grad_graph(graph)
    gradient_only = ir.Graph("g", first.inputs, first.nodes, first.outputs[1:])
    summed = ir.trace(lambda x: ir.interpret(gradient_only, x)[0].sum(), [_f32(3)])
    second = ir.value_and_grad_graph(summed)
    x = np.array([1.0, -2.0, 0.5], np.float32)
    np.testing.assert_allclose(ir.interpret(second, x)[1].asnumpy(), 6 * x, rtol=1e-6)


@pytest.mark.parametrize("positions, fragment", [(5, "only floating-point"), (6, "out of range"),
                                                 (-1, "out of range"), ((0, 6), "out of range")])
def test_bad_positions(positions: int | tuple[int, ...], fragment: str) -> None:
    graph = ir.trace(_mlp_loss, MLP_TYPES, "mlp")
    with pytest.raises(IRError, match=fragment):
        ir.value_and_grad_graph(graph, positions)


def test_graph_without_outputs_cannot_be_differentiated() -> None:
    b = ir.GraphBuilder("empty")
    b.input("x", dt.float32, [2])
    with pytest.raises(IRError, match="no output"):
        ir.value_and_grad_graph(b.build())


def test_grad_graph_keeps_names_and_forward() -> None:
    graph = ir.trace(lambda x, y: (x * y).sum(), [_f32(2), _f32(2)], "prod", ["x", "y"])
    grad_graph = ir.value_and_grad_graph(graph, 0)
    assert grad_graph.name == "prod_grad" and [v.name for v in grad_graph.inputs] == ["x", "y"]
    assert ir.value_and_grad_graph(graph, 0, name="custom").name == "custom"
    x, y = np.array([1.0, 2.0], np.float32), np.array([3.0, -4.0], np.float32)
    value, grad = ir.interpret(grad_graph, x, y)
    assert value.asnumpy() == pytest.approx(-5.0)
    np.testing.assert_array_equal(grad.asnumpy(), y)
