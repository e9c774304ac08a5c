"""The cpu backend's compiled graphs: fused chains, planned buffers, symbolic dims, peak memory."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import mycelia as ms
from mycelia import ir
from mycelia.backends import get_backend

CPU = get_backend("cpu")
FUSIBLE = sorted(CPU.capabilities().fusible_ops - {"cast", "where"})
UNARY = [name for name in FUSIBLE if len(ms.ops.get_op(name).inputs) == 1]
BINARY = [name for name in FUSIBLE if len(ms.ops.get_op(name).inputs) == 2]
# Domains where the op is defined and well conditioned (libmvec is within 4 ulp of numpy there).
DOMAIN = {"acosh": (1.1, 3.0), "log": (0.1, 3.0), "log1p": (0.1, 3.0), "log2": (0.1, 3.0), "sqrt": (0.1, 3.0),
          "rsqrt": (0.1, 3.0), "reciprocal": (0.5, 3.0), "acos": (-0.9, 0.9), "asin": (-0.9, 0.9),
          "atanh": (-0.9, 0.9), "tan": (-1.2, 1.2), "pow": (0.1, 2.0), "div": (0.5, 2.0)}


def _inputs(name: str, dtype: np.dtype, shape: tuple[int, ...] = (37, 129)) -> tuple[np.ndarray, np.ndarray]:
    low, high = DOMAIN.get(name, (-2.0, 2.0))
    rng = np.random.default_rng(len(name))
    return (rng.uniform(low, high, shape).astype(dtype), rng.uniform(low, high, shape[-1:]).astype(dtype))


def _compile_and_compare(function: object, arrays: list[np.ndarray], rtol: float, fused: bool = True) -> ir.Graph:
    types = [ir.TensorType(ms.dtype.from_numpy(a.dtype), a.shape) for a in arrays]
    graph = ir.trace(function, types, "chain")  # type: ignore[arg-type]
    compiled = ir.compile_graph(graph, CPU)
    if fused:
        assert any(node.op == "fused" for node in compiled.graph.nodes), str(compiled.graph)
    got = [t.asnumpy() for t in compiled(*arrays)]
    expected = [t.asnumpy() for t in ir.interpret(graph, *arrays)]
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g.astype(np.float64), e.astype(np.float64), rtol=rtol, atol=rtol, equal_nan=True)
    return compiled.graph


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", UNARY)
def test_fused_unary_op_matches_the_interpreter(name: str, dtype: type) -> None:
    op = getattr(ms.ops, name)
    x, bias = _inputs(name, np.dtype(dtype))
    rtol = 1e-4 if dtype is np.float32 else 1e-9
    _compile_and_compare(lambda a, b: op(a * 0.5 + b * 0.5) * 1.0 + 0.25, [x, bias], rtol)


@pytest.mark.parametrize("name", BINARY)
def test_fused_binary_op_broadcasts_like_eager(name: str) -> None:
    op = getattr(ms.ops, name)
    x, bias = _inputs(name, np.dtype(np.float32))
    _compile_and_compare(lambda a, b: op(a * 1.0 + 0.0 * b, b) * 1.0 + 0.5, [x, bias], 1e-4)


def test_float16_chain_computes_in_float32_and_rounds_once() -> None:
    x, y = _inputs("add", np.dtype(np.float16))
    _compile_and_compare(lambda a, b: ms.ops.tanh(a * b + a) - b, [x, y], 2e-3)


def test_chain_with_trailing_reduction_is_one_fused_node() -> None:
    x, y = _inputs("exp", np.dtype(np.float32), (64, 10))
    graph = _compile_and_compare(lambda a, b: ms.ops.amax(ms.ops.exp(a - b) * 2.0, axis=-1), [x, y], 1e-5)
    assert [node.op for node in graph.nodes] == ["fused"]
    assert graph.nodes[0].attribute("kind") == "elementwise_reduction"


def _w2(x: ms.Tensor, y: ms.Tensor) -> ms.Tensor:
    o = ms.ops
    return o.mul(o.cos(o.sub(o.tanh(o.exp(o.neg(o.mul(o.sin(o.add(o.mul(x, y), x)), y)))), x)), y)


def test_w2_chain_is_a_single_kernel_and_matches_eager() -> None:
    rng = np.random.default_rng(0)
    x, y = (rng.uniform(-1, 1, 100_003).astype(np.float32) for _ in range(2))
    graph = _compile_and_compare(_w2, [x, y], 1e-5)
    assert [node.op for node in graph.nodes] == ["fused"]
    eager = _w2(ms.Tensor(x), ms.Tensor(y)).asnumpy()
    compiled = ir.compile_graph(graph, CPU, optimize=False)(x, y)[0].asnumpy()
    np.testing.assert_allclose(compiled, eager, rtol=1e-5, atol=1e-6)


def _mlp(x: ms.Tensor, w1: ms.Tensor, b1: ms.Tensor, w2: ms.Tensor, b2: ms.Tensor) -> ms.Tensor:
    o = ms.ops
    hidden = o.relu(o.add(o.matmul(x, w1), b1))
    return o.sum(o.tanh(o.add(o.matmul(hidden, w2), b2)) * 2.0)


def _mlp_arrays(batch: int) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    shapes = [(batch, 64), (64, 256), (256,), (256, 256), (256,)]
    return [rng.standard_normal(s).astype(np.float32) * 0.1 for s in shapes]


def test_buffers_are_planned_once_and_shared() -> None:
    arrays = _mlp_arrays(32)
    types = [ir.TensorType(ms.float32, a.shape) for a in arrays]
    compiled = ir.compile_graph(ir.value_and_grad_graph(ir.trace(_mlp, types, "mlp"), (1, 3)), CPU)
    runner = compiled.executable.runner(tuple(a.shape for a in arrays))
    assert runner.plan.planned_bytes < runner.plan.naive_bytes, (runner.plan.planned_bytes, runner.plan.naive_bytes)
    first = [t.asnumpy().copy() for t in compiled(*arrays)]
    kept = compiled(*arrays)
    compiled(*[a * 2 for a in arrays])  # a later call must not overwrite results already returned
    for before, tensor in zip(first, kept):
        np.testing.assert_array_equal(before, tensor.asnumpy())


def test_symbolic_batch_compiles_one_schedule_per_batch_size() -> None:
    builder = ir.GraphBuilder("mlp")
    x = builder.input("x", ms.float32, ("B", 64))
    w = builder.input("w", ms.float32, (64, 8))
    b = builder.input("b", ms.float32, (8,))
    out = builder.op("relu", builder.op("add", builder.op("matmul", x, w), b))
    compiled = ir.compile_graph(builder.build(builder.op("mul", out, 3.0)), CPU)
    for batch in (3, 5, 3):
        arrays = [np.ones((batch, 64), np.float32), np.full((64, 8), 0.01, np.float32), np.ones(8, np.float32)]
        result = compiled(*arrays)[0].asnumpy()
        np.testing.assert_allclose(result, np.full((batch, 8), 3 * 1.64, np.float32), rtol=1e-6)
    assert len(compiled.executable._runners) == 2
    with pytest.raises(ir.IRError, match="input %w"):
        compiled(np.ones((2, 64), np.float32), np.ones((63, 8), np.float32), np.ones(8, np.float32))
    with pytest.raises(ir.IRError, match="float64"):
        compiled(np.ones((2, 64)), np.ones((64, 8), np.float32), np.ones(8, np.float32))


def _peak(function: object, arrays: list[object]) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    function(*arrays)  # type: ignore[operator]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_compiled_peak_memory_is_at_most_the_eager_peak() -> None:
    arrays = _mlp_arrays(512)
    types = [ir.TensorType(ms.float32, a.shape) for a in arrays]
    step = ir.value_and_grad_graph(ir.trace(_mlp, types, "mlp"), (1, 3))
    compiled = ir.compile_graph(step, CPU)
    tensors = [ms.Tensor(a) for a in arrays]
    eager = ms.value_and_grad(_mlp, (1, 3))
    eager(*tensors)
    eager_peak = _peak(eager, tensors)
    compiled_peak = _peak(compiled, arrays)  # first call: includes allocating the planned buffers
    assert compiled_peak <= eager_peak, (compiled_peak, eager_peak)
