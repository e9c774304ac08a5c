"""W3 MLP forward, W4 MLP training step, W6 MLP forward over batch sizes 1..32 (compile count)."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from benchmarks.frameworks import Env
from benchmarks.workloads._base import Builder, Case, Workload, jax_cache_size, normal, torch_graph_counter
from benchmarks.workloads._build import jit_graph_counter, ops_of, standard, traced_graph
from benchmarks.workloads._ops import ALIASES, Ops, Unsupported, jax_ops, require_module_ops, torch_ops

SIZES = (784, 512, 512, 10)
BATCH = 64
LR = 0.01
MLP_NEEDS = ("matmul", "add", "relu")


def mlp_params() -> list[np.ndarray]:
    """w1, b1, w2, b2, w3, b3 (He-initialised weights, small biases)."""
    params: list[np.ndarray] = []
    for i, (fan_in, fan_out) in enumerate(itertools.pairwise(SIZES)):
        params.append(normal((fan_in, fan_out), 300 + 2 * i, math.sqrt(2.0 / fan_in)))
        params.append(normal((fan_out,), 301 + 2 * i, 0.01))
    return params


def mlp(o: Ops, x: Any, w1: Any, b1: Any, w2: Any, b2: Any, w3: Any, b3: Any) -> Any:
    h = o.relu(o.add(o.matmul(x, w1), b1))
    h = o.relu(o.add(o.matmul(h, w2), b2))
    return o.add(o.matmul(h, w3), b3)


def _w3_inputs() -> list[np.ndarray]:
    return [normal((BATCH, SIZES[0]), 30), *mlp_params()]


def _labels() -> np.ndarray:
    return np.random.default_rng(40).integers(0, SIZES[-1], BATCH)


# --- W4: one SGD step on mean cross-entropy ------------------------------------------------------------------------
def _w4_numpy(env: Env) -> Case:
    """Backpropagation written by hand."""
    x, y = normal((BATCH, SIZES[0]), 30), _labels()
    params = mlp_params()
    w1, b1, w2, b2, w3, b3 = params
    rows = np.arange(BATCH)

    def step() -> Any:
        z1 = x @ w1 + b1
        h1 = np.maximum(z1, 0)
        z2 = h1 @ w2 + b2
        h2 = np.maximum(z2, 0)
        logits = h2 @ w3 + b3
        m = logits.max(axis=1, keepdims=True)
        e = np.exp(logits - m)
        s = e.sum(axis=1, keepdims=True)
        loss = np.mean(np.log(s[:, 0]) + m[:, 0] - logits[rows, y])
        d = e / s
        d[rows, y] -= 1
        d /= BATCH
        grads = [h2.T @ d, d.sum(axis=0)]
        dh = d @ w3.T
        dh *= z2 > 0
        grads[:0] = [h1.T @ dh, dh.sum(axis=0)]
        dh = dh @ w2.T
        dh *= z1 > 0
        grads[:0] = [x.T @ dh, dh.sum(axis=0)]
        for p, g in zip(params, grads):
            p -= LR * g
        return loss

    return Case(step, note="backprop by hand")


def _w4_torch(env: Env) -> Case:
    torch = env.module("torch")
    o = torch_ops(torch)
    x, y = torch.tensor(normal((BATCH, SIZES[0]), 30)), torch.tensor(_labels())
    params = [torch.tensor(p, requires_grad=True) for p in mlp_params()]
    cross_entropy = torch.nn.functional.cross_entropy

    def step() -> Any:
        loss = cross_entropy(mlp(o, x, *params), y)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p.sub_(g, alpha=LR)
        return loss.detach()

    return Case(step, note="autograd")


def _w4_jax(env: Env) -> Case:
    jax = env.module("jax")
    jnp = jax.numpy
    o = jax_ops(jax)
    x, y = jnp.asarray(normal((BATCH, SIZES[0]), 30)), jnp.asarray(_labels().astype(np.int32))

    def loss_fn(params: list[Any], xx: Any, yy: Any) -> Any:
        logp = jax.nn.log_softmax(mlp(o, xx, *params), axis=-1)
        return -jnp.mean(jnp.take_along_axis(logp, yy[:, None], axis=1))

    def _train(params: list[Any], xx: Any, yy: Any) -> tuple[list[Any], Any]:
        loss, grads = jax.value_and_grad(loss_fn)(params, xx, yy)
        return [p - LR * g for p, g in zip(params, grads)], loss

    train = jax.jit(_train)
    state = [[jnp.asarray(p) for p in mlp_params()]]

    def step() -> Any:
        params, loss = train(state[0], x, y)
        state[0] = params
        return jax.block_until_ready((params, loss))[1]

    return Case(step, note="value_and_grad, whole step jitted")


def _w4_ms(framework: str) -> Builder:
    """mycelia or MindSpore: ``value_and_grad`` over Parameters, update with ``ops.assign`` (or ``set_data``)."""

    def build(env: Env) -> Case:
        mod = env.module(framework)
        if not hasattr(mod, "value_and_grad"):
            raise Unsupported("autograd not implemented yet")
        o = ops_of(env, framework)
        o.require(*MLP_NEEDS)
        require_module_ops(mod, ALIASES[framework], "cross_entropy")
        ops = mod.ops
        if hasattr(ops, "assign"):
            assign = ops.assign
        elif hasattr(mod.Parameter, "set_data"):
            assign = lambda p, value: p.set_data(value)  # noqa: E731
        else:
            raise Unsupported(f"missing op {ALIASES[framework]}.ops.assign (and no Parameter.set_data)")
        x, y = o.tensor(normal((BATCH, SIZES[0]), 30)), mod.Tensor(_labels().astype(np.int32))
        params = [mod.Parameter(mod.Tensor(p), name=f"w4_p{i}") for i, p in enumerate(mlp_params())]

        def loss_fn(xx: Any, yy: Any) -> Any:
            return ops.cross_entropy(mlp(o, xx, *params), yy)

        grad_fn = mod.value_and_grad(loss_fn, None, params)

        def step() -> Any:
            loss, grads = grad_fn(x, y)
            for p, g in zip(params, grads):
                assign(p, p - LR * g)
            return loss

        return Case(step, note="value_and_grad")

    return build


def _w4_jit(env: Env) -> Case:
    """``mycelia.jit`` of the functional step: value_and_grad and the SGD update in one function."""
    mod = env.module("mycelia")
    if not hasattr(mod, "jit"):
        raise Unsupported("jit not implemented yet")
    ops = mod.ops
    o = ops_of(env, "mycelia")
    o.require(*MLP_NEEDS)
    positions = tuple(range(2, 2 + 2 * (len(SIZES) - 1)))

    def loss_fn(xx: Any, yy: Any, *params: Any) -> Any:
        return ops.cross_entropy(mlp(o, xx, *params), yy)

    def step_function(xx: Any, yy: Any, *params: Any) -> Any:
        loss, grads = mod.value_and_grad(loss_fn, positions)(xx, yy, *params)
        return (loss, *(p - LR * g for p, g in zip(params, grads)))

    train = mod.jit(step_function)
    inputs = [mod.Tensor(normal((BATCH, SIZES[0]), 30)), mod.Tensor(_labels().astype(np.int32))]
    state = [[mod.Tensor(p) for p in mlp_params()]]

    def step() -> Any:
        loss, *params = train(*inputs, *state[0])
        state[0] = params
        return loss

    return Case(step, note="mycelia.jit of value_and_grad + update", count=jit_graph_counter(mod, train))


def _w4_graph(env: Env) -> Case:
    """The whole step (value_and_grad + SGD update) traced into one IR graph and compiled."""
    mod = env.module("mycelia")
    ops = mod.ops
    o = ops_of(env, "mycelia")
    o.require(*MLP_NEEDS)
    x, y = normal((BATCH, SIZES[0]), 30), _labels().astype(np.int32)
    positions = tuple(range(2, 2 + 2 * (len(SIZES) - 1)))

    def loss_fn(xx: Any, yy: Any, *params: Any) -> Any:
        return ops.cross_entropy(mlp(o, xx, *params), yy)

    def train(xx: Any, yy: Any, *params: Any) -> Any:
        loss, grads = mod.value_and_grad(loss_fn, positions)(xx, yy, *params)
        return (loss, *(p - LR * g for p, g in zip(params, grads)))

    compiled = traced_graph(env, train, [x, y, *mlp_params()], "w4_step")
    inputs = [mod.Tensor(x), mod.Tensor(y)]
    state = [[mod.Tensor(p) for p in mlp_params()]]

    def step() -> Any:
        loss, *params = compiled(*inputs, *state[0])
        state[0] = params
        return loss

    return Case(step, note="IR graph of value_and_grad + update")


# --- W6: W3 for batch sizes 1..32, each twice: total time and compiles -------------------------------------------
W6_MAX_BATCH = 32


def _w6_batches() -> list[np.ndarray]:
    x = normal((W6_MAX_BATCH, SIZES[0]), 60)
    return [x[:b] for b in range(1, W6_MAX_BATCH + 1)]


def _w6_eager(framework: str) -> Builder:
    def build(env: Env) -> Case:
        o = ops_of(env, framework)
        o.require(*MLP_NEEDS)
        params = [o.tensor(p) for p in mlp_params()]
        xs = [o.tensor(x) for x in _w6_batches()]

        def run() -> Any:
            out = None
            for x in xs:
                out = mlp(o, x, *params)
                out = mlp(o, x, *params)
            return out

        return Case(run)

    return build


def _w6_torch_compile(env: Env) -> Case:
    torch = env.module("torch")
    o = torch_ops(torch)
    params = [o.tensor(p) for p in mlp_params()]
    xs = [o.tensor(x) for x in _w6_batches()]
    state: dict[str, Any] = {}

    def reset() -> None:
        torch._dynamo.reset()
        state["count"] = torch_graph_counter(torch)
        state["f"] = torch.compile(lambda x: mlp(o, x, *params))

    def run() -> Any:
        f, out = state["f"], None
        for x in xs:
            out = f(x)
            out = f(x)
        return out

    reset()
    return Case(run, reset=reset, count=lambda: state["count"](), max_reps=1, note="cold: dynamo reset per run")


def _w6_jax(env: Env) -> Case:
    jax = env.module("jax")
    o = jax_ops(jax)
    params = [o.tensor(p) for p in mlp_params()]
    xs = [o.tensor(x) for x in _w6_batches()]
    block = jax.block_until_ready
    state: dict[str, Any] = {}

    def reset() -> None:
        jax.clear_caches()
        state["f"] = jax.jit(lambda x, *p: mlp(o, x, *p))

    def run() -> Any:
        f, out = state["f"], None
        for x in xs:
            out = block(f(x, *params))
            out = block(f(x, *params))
        return out

    reset()
    return Case(run, reset=reset, count=lambda: jax_cache_size(state["f"]), note="cold: caches cleared per run")


def _w6_ms_jit(framework: str) -> Builder:
    def build(env: Env) -> Case:
        mod = env.module(framework)
        if not hasattr(mod, "jit"):
            raise Unsupported("jit not implemented yet")
        o = ops_of(env, framework)
        o.require(*MLP_NEEDS)
        params = [o.tensor(p) for p in mlp_params()]
        xs = [o.tensor(x) for x in _w6_batches()]
        state: dict[str, Any] = {}

        def reset() -> None:
            state["f"] = mod.jit(lambda x, *p: mlp(o, x, *p))

        def run() -> Any:
            f, out = state["f"], None
            for x in xs:
                out = f(x, *params)
                out = f(x, *params)
            return out

        reset()
        info = getattr(mod, "jit_info", None)
        count = (lambda: info(state["f"]).compile_count) if info is not None else None
        return Case(run, reset=reset, note=f"{framework}.jit, new function per run", count=count)

    return build


WORKLOADS = [
    Workload(
        "W3", "MLP forward", "µs", 1e6, "MLP 784-512-512-10 with ReLU, batch 64, float32; time per forward",
        builders=standard(mlp, _w3_inputs, MLP_NEEDS),
    ),
    Workload(
        "W4", "MLP training step", "ms", 1e3,
        "one SGD step (lr 0.01) of the W3 MLP on mean cross-entropy, batch 64: forward, gradients, update",
        builders={
            "mycelia": _w4_ms("mycelia"), "mycelia graph": _w4_graph, "mycelia.jit": _w4_jit, "numpy": _w4_numpy,
            "torch": _w4_torch, "jax.jit": _w4_jax,
            "mindspore": _w4_ms("mindspore"),
        },
    ),
    Workload(
        "W6", "MLP over batch sizes", "ms", 1e3,
        "W3 forward for batch sizes 1..32, each twice (64 calls), from cold; total time and compiles",
        builders={
            "mycelia": _w6_ms_jit("mycelia"), "numpy": _w6_eager("numpy"), "torch": _w6_eager("torch"),
            "torch.compile": _w6_torch_compile, "jax.jit": _w6_jax, "mindspore": _w6_ms_jit("mindspore"),
        },
        fresh=True, count_label="compiles",
    ),
]
