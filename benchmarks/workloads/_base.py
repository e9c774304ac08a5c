"""What a workload is: a name, a unit, and per column (variant) a builder that returns the callable to time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from benchmarks.frameworks import Env


@dataclass
class Case:
    """One variant of one workload, ready to run.

    ``fn`` is one timed call. A W1 call chains ``ops_per_call`` ops and is reported per op. For a *fresh*
    workload (W6) every sample is one cold call: ``reset`` (untimed) drops compiled code first.
    ``count`` reads the compile/graph count after the calls so far.
    """

    fn: Callable[[], Any]
    ops_per_call: int = 1
    reset: Callable[[], None] | None = None
    count: Callable[[], int | None] | None = None
    max_reps: int | None = None
    note: str | None = None


Builder = Callable[[Env], Case]


@dataclass(frozen=True)
class Workload:
    key: str
    title: str
    unit: str  # e.g. "µs/op", "ms", "µs"
    scale: float  # seconds -> unit
    what: str  # one-line definition for the README
    builders: dict[str, Builder] = field(default_factory=dict)
    fresh: bool = False  # each sample is a cold run (compile included)
    count_label: str | None = None  # e.g. "compiles", "graphs"
    quiet: bool = False  # the workload prints: stdout goes to a sink while it runs
    rtol: float = 1e-3


def normal(shape: tuple[int, ...], seed: int, std: float = 1.0) -> np.ndarray:
    """Deterministic float32 input: every framework gets the same numbers."""
    return (np.random.default_rng(seed).standard_normal(shape) * std).astype(np.float32)


def uniform(shape: tuple[int, ...], seed: int, low: float = -1.0, high: float = 1.0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(low, high, shape).astype(np.float32)


def jax_blocking(jax: Any, fn: Callable[[], Any]) -> Callable[[], Any]:
    """jax dispatches asynchronously: a call counts only once its result exists."""
    block = jax.block_until_ready

    def call() -> Any:
        return block(fn())

    return call


def jax_cache_size(jitted: Any) -> int | None:
    size = getattr(jitted, "_cache_size", None)
    return int(size()) if callable(size) else None


def torch_graph_counter(torch: Any) -> Callable[[], int | None]:
    """Graphs dynamo has compiled since this call (None where this torch does not expose the counter)."""
    try:
        from torch._dynamo.utils import counters
    except ImportError:
        return lambda: None
    start = int(counters["stats"]["unique_graphs"])
    return lambda: int(counters["stats"]["unique_graphs"]) - start
