"""Common subexpression elimination: two nodes with the same op, operands, attributes and region
compute the same values, so the later one is dropped and its uses read the earlier one's results.

Constants merge by content (``ir.Constant`` compares dtype, shape and bytes). Random ops and ops that
draw from a seed (dropout) never merge: two draws are two different tensors even with equal attributes.
Attribute values are compared with their types (``1``, ``1.0`` and ``True`` are different keys, and
so are ``0.0`` and ``-0.0``); output types are part of the key as well.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from mycelia.ir import Graph, Node, Value
from mycelia_optimizer._pass_manager import PassContext
from mycelia_optimizer._rewrite import GraphRewriter, is_nondeterministic, rewrite_graph

__all__ = ["CommonSubexpressionElimination", "node_key"]


def _attribute_key(value: Any) -> Any:
    if isinstance(value, tuple):
        return (tuple, tuple(_attribute_key(item) for item in value))
    if isinstance(value, float):
        return (float, "nan" if math.isnan(value) else repr(value))
    return (type(value), value)


def node_key(node: Node) -> tuple[Any, ...]:
    """What makes two nodes interchangeable: op, operands (by identity), typed attributes, region
    (by identity) and output types."""
    return (node.op, node.inputs, tuple((name, _attribute_key(value)) for name, value in node.attrs),
            None if node.region is None else id(node.region), tuple(output.type for output in node.outputs))


class CommonSubexpressionElimination:
    """Merges structurally equal nodes into the first one (top level; regions compare by identity)."""

    name = "common_subexpressions"

    def run(self, graph: Graph, context: PassContext) -> Graph:
        seen: dict[tuple[Any, ...], Node] = {}

        def visit(rewriter: GraphRewriter, node: Node) -> Mapping[Value, Value] | None:
            if is_nondeterministic(node):
                return None
            key = node_key(node)
            try:
                earlier = seen.setdefault(key, node)
            except TypeError:  # an unhashable attribute: leave the node alone
                return None
            if earlier is node:
                return None
            return dict(zip(node.outputs, earlier.outputs))

        return rewrite_graph(graph, visit)

    def __repr__(self) -> str:
        return "CommonSubexpressionElimination()"
