"""The compile front door: optimise a graph with the installed pass pipeline (entry point
``mycelia.optimizer``) and compile it for a backend. Frontends and benchmarks call this."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from typing import Any

from mycelia._context import current_backend
from mycelia._plugins import OPTIMIZER, plugin_entries
from mycelia.backends import Backend
from mycelia.ir._builder import IRError
from mycelia.ir._graph import Graph

__all__ = ["CompiledGraph", "compile_graph", "optimize_graph"]


@functools.cache
def _pipeline_factory() -> Any:
    """The ``mycelia.optimizer`` entry point ``default``, looked up once (reading entry points costs
    milliseconds); None when the optimizer package is not installed."""
    entries = [entry for entry in plugin_entries(OPTIMIZER) if entry.name == "default"]
    return entries[0].load() if entries else None


_pipelines: dict[tuple[int, str], Any] = {}


def optimize_graph(graph: Graph, backend: Backend | None = None, amp_level: str = "O0") -> Graph:
    """``graph`` after the optimizer's default pipeline for ``backend`` (unchanged when the optimizer
    package is not installed: it is optional)."""
    factory = _pipeline_factory()
    if factory is None:
        return graph
    backend = backend or current_backend()
    key = (id(backend), amp_level)
    pipeline = _pipelines.get(key)
    if pipeline is None:
        pipeline = _pipelines[key] = factory(capabilities=backend.capabilities(), amp_level=amp_level)
    return pipeline.run(graph)  # type: ignore[no-any-return]


@dataclass
class CompiledGraph:
    """A graph ready to run: ``compiled(*tensors_or_arrays) -> tuple of Tensors``.

    ``graph`` is the optimised graph the backend compiled; ``timings`` holds the milliseconds spent
    optimising and in the backend's compile."""

    graph: Graph
    executable: Any
    backend: Backend
    timings: dict[str, float] = field(default_factory=dict)

    def __call__(self, *args: Any) -> Any:
        return self.executable(*args)


def compile_graph(graph: Graph, backend: Backend | None = None, *, optimize: bool = True,
                  amp_level: str = "O0") -> CompiledGraph:
    backend = backend or current_backend()
    if not backend.capabilities().compiles_graphs:
        raise IRError(f"backend {backend.name!r} does not compile graphs")
    started = time.perf_counter()
    optimized = optimize_graph(graph, backend, amp_level) if optimize else graph
    optimized_at = time.perf_counter()
    executable = backend.compile(optimized)
    done = time.perf_counter()
    return CompiledGraph(optimized, executable, backend, {"optimize_ms": (optimized_at - started) * 1e3,
                                                          "backend_compile_ms": (done - optimized_at) * 1e3})
