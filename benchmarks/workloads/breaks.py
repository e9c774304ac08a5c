"""W9: what a graph break costs. ``y = x * 2 + 1; s = y.sum().item(); return y * s`` on 4x4 float32, jitted
with the host read as a graph break, against the same two graphs as two jitted functions with the host
read between them in Python (the break's cost is the difference), eager code, and torch.compile with the
same break. W10 feeds new data every call: the host read changes, and must neither be frozen into the
second graph nor cost a recompile per value."""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmarks.frameworks import Env
from benchmarks.workloads._base import Case, Workload, torch_graph_counter, uniform
from benchmarks.workloads._build import jit_graph_counter


def _inputs(count: int) -> list[np.ndarray]:
    return [uniform((4, 4), 90 + seed) for seed in range(count)]


def _cycling(call: Any, tensors: list[Any]) -> Any:
    """One call per timing sample, each on the next input (W10)."""
    state = {"i": 0}

    def run() -> Any:
        state["i"] = (state["i"] + 1) % len(tensors)
        return call(tensors[state["i"]])

    return run


def _one_input(fresh: bool) -> int:
    return 16 if fresh else 1


def _body(x: Any) -> Any:
    y = x * 2 + 1
    s = y.sum().item()
    return y * s


def _jitted(framework: str, kind: str, fresh: bool) -> Any:
    """``kind``: eager, break (the body compiled whole) or two (two compiled functions, host read between)."""

    def build(env: Env) -> Case:
        mod = env.module(framework)
        mycelia = framework == "mycelia"
        make = mod.Tensor if mycelia else mod.tensor
        compile_ = mod.jit if mycelia else mod.compile
        tensors = [make(a) for a in _inputs(_one_input(fresh))]
        if kind == "eager":
            return Case(_cycling(_body, tensors))
        if kind == "break":
            compiled = compile_(_body)
            counter = jit_graph_counter(mod, compiled) if mycelia else torch_graph_counter(mod)
            return Case(_cycling(compiled, tensors), note="1 graph break", count=counter)
        first = compile_(lambda x: ((y := x * 2 + 1), y.sum()))
        second = compile_(lambda y, s: y * s)

        def two(x: Any) -> Any:
            y, total = first(x)
            return second(y, total.item())

        return Case(_cycling(two, tensors), note="two compiled functions, host read between",
                    count=None if mycelia else torch_graph_counter(mod))

    return build


def _numpy(fresh: bool) -> Any:
    def build(env: Env) -> Case:
        def body(x: np.ndarray) -> np.ndarray:
            y = x * 2 + 1
            return y * float(y.sum())  # type: ignore[no-any-return]

        return Case(_cycling(body, [a.copy() for a in _inputs(_one_input(fresh))]))

    return build


def _columns(fresh: bool) -> dict[str, Any]:
    return {
        "mycelia": _jitted("mycelia", "eager", fresh),
        "mycelia.jit": _jitted("mycelia", "break", fresh),
        "mycelia.jit (two functions)": _jitted("mycelia", "two", fresh),
        "numpy": _numpy(fresh),
        "torch": _jitted("torch", "eager", fresh),
        "torch.compile": _jitted("torch", "break", fresh),
        "torch.compile (two functions)": _jitted("torch", "two", fresh),
    }


WORKLOADS = [
    Workload("W9", "graph break cost", "µs", 1e6,
             "`y = x*2+1; s = y.sum().item(); return y*s` on 4x4 float32, the same input every call; the break's "
             "cost is `mycelia.jit` minus `mycelia.jit (two functions)`",
             builders=_columns(fresh=False), count_label="graphs"),
    Workload("W10", "graph break, new data", "µs", 1e6,
             "W9 on 16 different inputs in turn: the host value changes every call (graphs compiled after the run)",
             builders=_columns(fresh=True), count_label="graphs"),
]
