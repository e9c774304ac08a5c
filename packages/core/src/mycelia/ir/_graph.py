"""The IR's data structures (DESIGN §3): typed SSA values, nodes in topological order, graphs.

Everything is a frozen dataclass. Values and nodes compare by identity (two ``add`` nodes with the
same operands are still two nodes until CSE merges them); a value's printed name comes from its
position, so passes never have to invent names.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._types import Dim, Symbol, TensorType

__all__ = [
    "Constant",
    "Graph",
    "Node",
    "Relation",
    "SourceLocation",
    "Value",
    "reduced_trailing_dims",
]


@dataclass(frozen=True)
class SourceLocation:
    """Where a node came from in the user's code; printed as ``# file:line``."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, eq=False)
class Value:
    """An SSA value: produced once (a graph input or a node output), typed ``dtype[dims]``.

    ``name`` is kept for graph inputs (``%x``); node outputs print as ``%<index>``.
    """

    type: TensorType
    name: str | None = None

    @property
    def dtype(self) -> dt.DType:
        return self.type.dtype

    @property
    def shape(self) -> tuple[Dim, ...]:
        return self.type.shape

    def __repr__(self) -> str:
        label = f"%{self.name}" if self.name else f"<value at {id(self):#x}>"
        return f"{label}: {self.type}"


@dataclass(frozen=True)
class Constant:
    """A constant tensor as an attribute: hashable and comparable by content (dtype, shape, bytes),
    so CSE and constant folding can key on it."""

    dtype: dt.DType
    shape: tuple[int, ...]
    data: bytes

    @staticmethod
    def of(value: Any, dtype: dt.DType) -> Constant:
        array = np.array(value, dtype=dtype.numpy, order="C")
        return Constant(dtype, tuple(int(d) for d in array.shape), array.tobytes())

    @property
    def array(self) -> np.ndarray:
        """A read-only numpy view of the data."""
        return np.frombuffer(self.data, dtype=self.dtype.numpy).reshape(self.shape)

    @property
    def type(self) -> TensorType:
        return TensorType(self.dtype, self.shape)

    def is_scalar_equal_to(self, number: float) -> bool:
        """Every element equals ``number`` (an empty constant never does)."""
        array = self.array
        return bool(array.size) and bool(np.all(array == number))


@dataclass(frozen=True)
class Relation:
    """A fact about symbolic dims: ``S = T`` (equal), ``S = A*B*…`` (product) or ``S >= n`` (lower bound)."""

    kind: str  # "equal" | "product" | "at_least"
    symbol: Symbol
    operands: tuple[Dim, ...]

    def __post_init__(self) -> None:
        if self.kind not in ("equal", "product", "at_least"):
            raise ValueError(f"unknown relation kind {self.kind!r} (equal, product, at_least)")
        if self.kind in ("equal", "at_least") and len(self.operands) != 1:
            raise ValueError(f"a {self.kind} relation takes exactly one operand, got {self.operands}")
        if self.kind == "at_least" and not isinstance(self.operands[0], int):
            raise ValueError("an at_least relation's bound must be an int")

    def __str__(self) -> str:
        if self.kind == "at_least":
            return f"{self.symbol} >= {self.operands[0]}"
        joined = "*".join(str(operand) for operand in self.operands)
        return f"{self.symbol} = {joined}"


@dataclass(frozen=True, eq=False)
class Node:
    """One op application. ``attrs`` are complete (defaults filled) and sorted as the op declares
    them; ``region`` is a nested graph (a fused group, later structured control flow) whose inputs
    are bound to this node's inputs in order and whose outputs are this node's outputs."""

    op: str
    inputs: tuple[Value, ...]
    outputs: tuple[Value, ...]
    attrs: tuple[tuple[str, Any], ...] = ()
    region: Graph | None = None
    location: SourceLocation | None = None

    @property
    def attributes(self) -> dict[str, Any]:
        return dict(self.attrs)

    def attribute(self, name: str, default: Any = None) -> Any:
        for key, value in self.attrs:
            if key == name:
                return value
        return default

    @property
    def output(self) -> Value:
        if len(self.outputs) != 1:
            raise ValueError(f"{self.op} has {len(self.outputs)} outputs, not one")
        return self.outputs[0]


@dataclass(frozen=True, eq=False)
class Graph:
    """A function: named inputs, nodes in topological order, outputs, facts about its symbols."""

    name: str
    inputs: tuple[Value, ...]
    nodes: tuple[Node, ...]
    outputs: tuple[Value, ...]
    relations: tuple[Relation, ...] = ()
    # Values produced by a node, for passes: value -> (node, output index). Built lazily.
    _producers: dict[Value, tuple[Node, int]] = field(default_factory=dict, repr=False, compare=False)

    def producer(self, value: Value) -> tuple[Node, int] | None:
        """The node (and output index) that defines ``value``; None for inputs and unknown values."""
        if not self._producers and self.nodes:
            for node in self.nodes:
                for index, output in enumerate(node.outputs):
                    self._producers[output] = (node, index)
        return self._producers.get(value)

    def users(self) -> dict[Value, list[Node]]:
        """Value -> the nodes reading it, in order (graph outputs are not nodes: see ``outputs``)."""
        result: dict[Value, list[Node]] = {}
        for node in self.nodes:
            for value in node.inputs:
                result.setdefault(value, []).append(node)
        return result

    def walk(self) -> Iterator[Node]:
        """Every node, nested regions included (depth first, a region's nodes after its owner)."""
        for node in self.nodes:
            yield node
            if node.region is not None:
                yield from node.region.walk()

    def with_nodes(self, nodes: tuple[Node, ...] | list[Node], outputs: tuple[Value, ...] | None = None) -> Graph:
        """A copy with other nodes (and outputs); used by passes."""
        return Graph(self.name, self.inputs, tuple(nodes), self.outputs if outputs is None else tuple(outputs),
                     self.relations)

    def symbols(self) -> list[Symbol]:
        """The symbolic dims of the inputs, in order of first appearance."""
        seen: dict[Symbol, None] = {}
        for value in self.inputs:
            for dim in value.shape:
                if isinstance(dim, Symbol):
                    seen.setdefault(dim)
        return list(seen)

    def __str__(self) -> str:
        from mycelia.ir._printer import print_graph

        return print_graph(self)

    def __repr__(self) -> str:
        return f"<Graph @{self.name}: {len(self.inputs)} inputs, {len(self.nodes)} nodes, {len(self.outputs)} outputs>"


def reduced_trailing_dims(node: Node) -> int | None:
    """How many trailing dims a reduction node (``axis``/``keepdims`` attributes) reduces; None when
    the reduced dims are not the trailing ones. ``axis=None`` reduces all of them."""
    rank = len(node.inputs[0].shape)
    axis = node.attribute("axis")
    if axis is None or axis == ():
        axes: tuple[int, ...] = tuple(range(rank))
    else:
        listed = axis if isinstance(axis, tuple) else (axis,)
        axes = tuple(sorted(a % rank if rank else 0 for a in listed))
    if not axes or axes != tuple(range(rank - len(axes), rank)):
        return None
    return len(axes)
