"""The pass manager (DESIGN §5): passes over the IR, run in order, verified and logged.

A pass is anything with a ``name`` and ``run(graph, context) -> Graph``; it returns the *same* Graph
object when it changed nothing (that is how :class:`Repeat` detects a fixed point). With
``verify=True`` (debug mode) every result goes through :func:`mycelia.ir.verify` and a broken graph is
reported with the pass that broke it. With ``MYCELIA_JIT_LOGS=passes`` (or ``all``) each pass prints
``[mycelia.passes] <pass>: <nodes before> -> <nodes after> nodes`` and the graph to stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from mycelia import _config
from mycelia import dtype as dt
from mycelia.backends import Capabilities
from mycelia.ir import Graph, IRError, verify

__all__ = [
    "AMP_LEVELS",
    "LOW_PRECISION_DTYPES",
    "Pass",
    "PassContext",
    "PassManager",
    "PassVerificationError",
    "Repeat",
    "jit_log_enabled",
]

AMP_LEVELS = ("O0", "O1", "O2", "O3")
LOW_PRECISION_DTYPES = frozenset({dt.float16, dt.bfloat16})
LOG_TOPIC = "passes"
LOG_PREFIX = "[mycelia.passes]"


def jit_log_enabled(topic: str) -> bool:
    """Whether ``MYCELIA_JIT_LOGS`` (read by ``mycelia._config.jit_logs``) names ``topic`` or ``all``."""
    reader = getattr(_config, "jit_logs", None)
    if reader is None:  # a core without the switch yet: logging stays off
        return False
    topics = reader()
    return topic in topics or "all" in topics


class PassVerificationError(IRError):
    """A pass produced a graph the verifier rejects."""


@dataclass(frozen=True)
class PassContext:
    """What passes may ask about the compilation.

    * ``capabilities``: the target backend's (None: unknown, passes assume every op and dtype works).
    * ``amp_level``: "O0" (off) to "O3" (everything in ``low_dtype``), MindSpore's levels.
    * ``low_dtype``: the AMP low precision, float16 or bfloat16.
    * ``log``: print each pass's result; None follows ``MYCELIA_JIT_LOGS``.
    """

    capabilities: Capabilities | None = None
    amp_level: str = "O0"
    low_dtype: dt.DType = dt.float16
    log: bool | None = None

    def __post_init__(self) -> None:
        if self.amp_level not in AMP_LEVELS:
            raise ValueError(f"amp_level must be one of {', '.join(AMP_LEVELS)}, got {self.amp_level!r}")
        if self.low_dtype not in LOW_PRECISION_DTYPES:
            raise ValueError(f"low_dtype must be float16 or bfloat16, got {self.low_dtype}")

    @property
    def logging(self) -> bool:
        return jit_log_enabled(LOG_TOPIC) if self.log is None else self.log

    def supports_dtype(self, dtype: dt.DType) -> bool:
        """The target computes in ``dtype`` (always true when the target is unknown)."""
        if self.capabilities is None or not self.capabilities.dtypes:
            return True
        names = self.capabilities.dtypes
        return dtype.numpy.name in names or dtype.name in names or dtype.short_name in names

    def supports_op(self, op: str) -> bool:
        """The target has a kernel for ``op`` (always true when the target is unknown)."""
        if self.capabilities is None or not self.capabilities.ops:
            return True
        return op in self.capabilities.ops


@runtime_checkable
class Pass(Protocol):
    """A graph-to-graph rewrite. ``run`` returns ``graph`` itself when nothing changed."""

    @property
    def name(self) -> str: ...

    def run(self, graph: Graph, context: PassContext) -> Graph: ...


class Repeat:
    """Its passes run in order, again and again until a round changes nothing (at most ``max_rounds``)."""

    def __init__(self, passes: Iterable[Pass], max_rounds: int = 8) -> None:
        self.passes = tuple(passes)
        if max_rounds < 1:
            raise ValueError("max_rounds must be at least 1")
        self.max_rounds = max_rounds

    @property
    def name(self) -> str:
        return "repeat(" + ", ".join(p.name for p in self.passes) + ")"

    def run(self, graph: Graph, context: PassContext) -> Graph:
        return PassManager([self], context=context).run(graph)

    def __repr__(self) -> str:
        return f"Repeat({list(self.passes)!r}, max_rounds={self.max_rounds})"


class PassManager:
    """Runs ``passes`` in order. ``verify=True`` checks every intermediate graph (debug mode)."""

    def __init__(self, passes: Iterable[Pass], *, context: PassContext | None = None, verify: bool = False) -> None:
        self.passes: tuple[Pass, ...] = tuple(passes)
        for item in self.passes:
            if not isinstance(item, Pass):
                raise TypeError(f"{item!r} is not a pass (it needs a name and run(graph, context))")
        self.context = context or PassContext()
        self.verify = verify

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.passes]

    def run(self, graph: Graph, context: PassContext | None = None) -> Graph:
        """``graph`` after every pass (``context`` overrides the manager's for this run)."""
        if self.verify:
            try:
                verify(graph)
            except IRError as error:
                raise PassVerificationError(f"the graph given to the pass manager is invalid: {error}") from error
        return self._sequence(self.passes, graph, context or self.context)

    def _sequence(self, passes: Sequence[Pass], graph: Graph, context: PassContext) -> Graph:
        for item in passes:
            if isinstance(item, Repeat):
                graph = self._repeat(item, graph, context)
            else:
                graph = self._one(item, graph, context)
        return graph

    def _repeat(self, repeat: Repeat, graph: Graph, context: PassContext) -> Graph:
        for _ in range(repeat.max_rounds):
            result = self._sequence(repeat.passes, graph, context)
            if result is graph:
                break
            graph = result
        return graph

    def _one(self, item: Pass, graph: Graph, context: PassContext) -> Graph:
        result = item.run(graph, context)
        if not isinstance(result, Graph):
            raise TypeError(f"pass {item.name!r} returned {type(result).__name__}, not a Graph")
        if self.verify and result is not graph:
            try:
                verify(result)
            except IRError as error:
                raise PassVerificationError(f"pass {item.name!r} produced an invalid graph: {error}") from error
        if context.logging:
            print(f"{LOG_PREFIX} {item.name}: {len(graph.nodes)} -> {len(result.nodes)} nodes", file=sys.stderr)
            print(str(result), end="", file=sys.stderr)
        return result

    def __repr__(self) -> str:
        return f"PassManager({self.names!r}, verify={self.verify})"
