"""W1 tiny op, W2 elementwise chain, W5 ``x + 1``, W7 ops around a ``print`` (graph breaks)."""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmarks.frameworks import Env
from benchmarks.workloads._base import Builder, Case, Workload, jax_blocking, uniform
from benchmarks.workloads._build import eager, jax_jitted, ms_jitted, ops_of, standard, torch_compiled
from benchmarks.workloads._ops import Ops

# --- W1: 1000 chained `x = x + y` on 4x4 float32, reported per add -------------------------------------------
W1_OPS = 1000


def _w1_inputs() -> list[np.ndarray]:
    return [uniform((4, 4), 11, 0.0, 1.0), uniform((4, 4), 12, 0.0, 1.0)]


def _w1_eager(framework: str) -> Builder:
    def build(env: Env) -> Case:
        o = ops_of(env, framework)
        x0, y = (o.tensor(a) for a in _w1_inputs())

        def chain() -> Any:
            x = x0
            for _ in range(W1_OPS):
                x = x + y
            return x

        return Case(chain, ops_per_call=W1_OPS)

    return build


def _w1_jax(env: Env) -> Case:
    jax = env.module("jax")
    x0, y = (jax.numpy.asarray(a) for a in _w1_inputs())
    add = jax.jit(lambda a, b: a + b)
    add(x0, y).block_until_ready()

    def chain() -> Any:
        x = x0
        for _ in range(W1_OPS):
            x = add(x, y)
        return x.block_until_ready()

    return Case(chain, ops_per_call=W1_OPS, note="each add is one jitted call")


# --- W2: mul, add, sin, mul, neg, exp, tanh, sub, cos, mul on 1,000,000 float32 ------------------------------
W2_SIZE = 1_000_000
W2_NEEDS = ("mul", "add", "sin", "neg", "exp", "tanh", "sub", "cos")


def w2_chain(o: Ops, x: Any, y: Any) -> Any:
    t = o.mul(x, y)
    t = o.add(t, x)
    t = o.sin(t)
    t = o.mul(t, y)
    t = o.neg(t)
    t = o.exp(t)
    t = o.tanh(t)
    t = o.sub(t, x)
    t = o.cos(t)
    return o.mul(t, y)


def _w2_inputs() -> list[np.ndarray]:
    return [uniform((W2_SIZE,), 21), uniform((W2_SIZE,), 22)]


def _w2_numpy_out(env: Env) -> Case:
    """The same chain with one preallocated buffer: no temporaries."""
    x, y = _w2_inputs()
    buf = np.empty_like(x)

    def chain() -> np.ndarray:
        np.multiply(x, y, out=buf)
        np.add(buf, x, out=buf)
        np.sin(buf, out=buf)
        np.multiply(buf, y, out=buf)
        np.negative(buf, out=buf)
        np.exp(buf, out=buf)
        np.tanh(buf, out=buf)
        np.subtract(buf, x, out=buf)
        np.cos(buf, out=buf)
        np.multiply(buf, y, out=buf)
        return buf

    return Case(chain, note="out= buffers")


# --- W5: f(x) = x + 1 on 4x4 ------------------------------------------------------------------------------------
def _w5_inputs() -> list[np.ndarray]:
    return [uniform((4, 4), 51)]


def _w5_eager(framework: str) -> Builder:
    def build(env: Env) -> Case:
        x = ops_of(env, framework).tensor(uniform((4, 4), 51))

        def f() -> Any:
            return x + 1

        return Case(f, note="eager" if framework == "mycelia" else None)

    return build


def _w5_torch_compile(env: Env) -> Case:
    torch = env.module("torch")
    x = torch.tensor(uniform((4, 4), 51))
    f = torch.compile(lambda a: a + 1)
    return Case(lambda: f(x))


def _w5_jax(env: Env) -> Case:
    jax = env.module("jax")
    x = jax.numpy.asarray(uniform((4, 4), 51))
    f = jax.jit(lambda a: a + 1)
    return Case(jax_blocking(jax, lambda: f(x)))


# --- W7: 5 elementwise ops, print, 5 more ops on 4x4 --------------------------------------------------------------
W7_NEEDS = ("mul", "add", "sin", "sub", "tanh", "cos", "neg", "exp")


def w7_body(o: Ops, x: Any) -> Any:
    t = o.mul(x, x)
    t = o.add(t, x)
    t = o.sin(t)
    t = o.sub(t, x)
    t = o.tanh(t)
    print("W7: halfway")  # a graph break for tracing jits; jax.jit prints at trace time only
    t = o.cos(t)
    t = o.mul(t, x)
    t = o.add(t, x)
    t = o.neg(t)
    return o.exp(t)


def _w7_inputs() -> list[np.ndarray]:
    return [uniform((4, 4), 71)]


WORKLOADS = [
    Workload(
        "W1", "tiny op", "µs/op", 1e6, "1000 chained `x = x + y` on 4x4 float32; time per add",
        builders={
            "mycelia": _w1_eager("mycelia"), "numpy": _w1_eager("numpy"), "torch": _w1_eager("torch"),
            "jax.jit": _w1_jax, "mindspore": _w1_eager("mindspore"),
        },
        rtol=1e-5,
    ),
    Workload(
        "W2", "elementwise chain", "ms", 1e3,
        "mul, add, sin, mul, neg, exp, tanh, sub, cos, mul on 1,000,000 float32 (x, y); time per chain",
        builders={
            **standard(w2_chain, _w2_inputs, W2_NEEDS),
            "numpy (no temporaries)": _w2_numpy_out,
        },
    ),
    Workload(
        "W5", "x + 1", "µs", 1e6, "`f(x) = x + 1` on 4x4 float32; time per call",
        builders={
            "mycelia": _w5_eager("mycelia"), "mycelia.jit": ms_jitted("mycelia", lambda o, x: x + 1, _w5_inputs),
            "numpy": _w5_eager("numpy"), "torch": _w5_eager("torch"), "torch.compile": _w5_torch_compile,
            "jax.jit": _w5_jax, "mindspore": _w5_eager("mindspore"),
        },
    ),
    Workload(
        "W7", "print between ops", "µs", 1e6,
        "5 elementwise ops, `print`, 5 more ops on 4x4 float32; time per call and graphs compiled",
        builders={
            "mycelia": eager("mycelia", w7_body, _w7_inputs, W7_NEEDS),
            "mycelia.jit": ms_jitted("mycelia", w7_body, _w7_inputs, W7_NEEDS),
            "numpy": eager("numpy", w7_body, _w7_inputs, W7_NEEDS),
            "torch": eager("torch", w7_body, _w7_inputs, W7_NEEDS),
            "torch.compile": torch_compiled(w7_body, _w7_inputs, count=True),
            "jax.jit": jax_jitted(w7_body, _w7_inputs),
            "mindspore": ms_jitted("mindspore", w7_body, _w7_inputs, W7_NEEDS),
        },
        count_label="graphs", quiet=True,
    ),
]
