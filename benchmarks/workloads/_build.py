"""Builders shared by the workloads: eager, torch.compile, jax.jit and mycelia/MindSpore jit forms of one body."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.frameworks import Env
from benchmarks.workloads._base import Builder, Case, jax_blocking, jax_cache_size, torch_graph_counter
from benchmarks.workloads._ops import Ops, Unsupported, jax_ops, ops_for, torch_ops

Body = Callable[..., Any]  # body(o: Ops, *tensors) -> result
Inputs = Callable[[], list[np.ndarray]]


def ops_of(env: Env, framework: str) -> Ops:
    return ops_for(framework, np if framework == "numpy" else env.module(framework))


def eager(framework: str, body: Body, inputs: Inputs, needs: tuple[str, ...] = (), note: str | None = None) -> Builder:
    def build(env: Env) -> Case:
        o = ops_of(env, framework)
        o.require(*needs)
        args = [o.tensor(a) for a in inputs()]
        return Case(lambda: body(o, *args), note=note)

    return build


def torch_compiled(body: Body, inputs: Inputs, count: bool = False) -> Builder:
    def build(env: Env) -> Case:
        torch = env.module("torch")
        o = torch_ops(torch)
        args = [o.tensor(a) for a in inputs()]
        counter = torch_graph_counter(torch) if count else None
        f = torch.compile(lambda *a: body(o, *a))
        return Case(lambda: f(*args), count=counter, note="inductor, default mode")

    return build


def jax_jitted(body: Body, inputs: Inputs) -> Builder:
    def build(env: Env) -> Case:
        jax = env.module("jax")
        o = jax_ops(jax)
        args = [o.tensor(a) for a in inputs()]
        f = jax.jit(lambda *a: body(o, *a))
        return Case(jax_blocking(jax, lambda: f(*args)), count=lambda: jax_cache_size(f))

    return build


def ms_jitted(framework: str, body: Body, inputs: Inputs, needs: tuple[str, ...] = ()) -> Builder:
    """mycelia or MindSpore under ``<module>.jit``; mycelia reports n/a until it has a jit."""

    def build(env: Env) -> Case:
        mod = env.module(framework)
        if not hasattr(mod, "jit"):
            raise Unsupported("jit not implemented yet")
        o = ops_of(env, framework)
        o.require(*needs)
        args = [o.tensor(a) for a in inputs()]
        f = mod.jit(lambda *a: body(o, *a))
        return Case(lambda: f(*args), note=f"{framework}.jit", count=jit_graph_counter(mod, f))

    return build


def traced_graph(env: Env, function: Callable[..., Any], arrays: list[np.ndarray], name: str) -> Any:
    """``function(*tensors)`` traced into a mycelia IR graph and compiled for the cpu backend (the
    stand-in for ``mycelia.jit`` until the capture package lands)."""
    mod = env.module("mycelia")
    try:
        ir = importlib.import_module("mycelia.ir")
    except ImportError:
        raise Unsupported("graph compiler not implemented yet") from None
    types = [ir.TensorType(mod.dtype.from_numpy(a.dtype), a.shape) for a in arrays]
    return ir.compile_graph(ir.trace(function, types, name))


def mycelia_graph(body: Body, inputs: Inputs, needs: tuple[str, ...] = ()) -> Builder:
    """The body traced once into an IR graph, optimised and compiled for the cpu backend."""

    def build(env: Env) -> Case:
        o = ops_of(env, "mycelia")
        o.require(*needs)
        arrays = inputs()
        compiled = traced_graph(env, lambda *t: body(o, *t), arrays, "workload")
        tensors = [o.tensor(a) for a in arrays]
        return Case(lambda: compiled(*tensors)[0], note="IR graph (ir.trace + compile_graph)")

    return build


def jit_graph_counter(mod: Any, jitted: Any) -> Callable[[], int | None] | None:
    """Graphs compiled so far by a mycelia-style ``jit`` (None for frameworks without ``jit_info``)."""
    info = getattr(mod, "jit_info", None)
    if info is None:
        return None
    return lambda: info(jitted).compile_count  # type: ignore[no-any-return]


def standard(body: Body, inputs: Inputs, needs: tuple[str, ...], compiled: bool = True) -> dict[str, Builder]:
    """The usual columns: eager mycelia/numpy/torch/MindSpore, torch.compile and jax.jit."""
    builders: dict[str, Builder] = {
        "mycelia": eager("mycelia", body, inputs, needs),
        "mycelia graph": mycelia_graph(body, inputs, needs),
        "mycelia.jit": ms_jitted("mycelia", body, inputs, needs),
        "numpy": eager("numpy", body, inputs, needs),
        "torch": eager("torch", body, inputs, needs),
    }
    if compiled:
        builders["torch.compile"] = torch_compiled(body, inputs)
    builders["jax.jit"] = jax_jitted(body, inputs)
    builders["mindspore"] = eager("mindspore", body, inputs, needs)
    return builders
