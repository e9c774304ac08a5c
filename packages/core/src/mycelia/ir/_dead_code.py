"""Dropping nodes whose results nobody uses (every IR op is pure: no node is kept for its effects)."""

from __future__ import annotations

from mycelia.ir._graph import Graph, Node, Value

__all__ = ["remove_unused"]


def remove_unused(graph: Graph) -> Graph:
    """``graph`` without the nodes that no output depends on; regions are cleaned too."""
    live: set[Value] = set(graph.outputs)
    kept: list[Node] = []
    for node in reversed(graph.nodes):
        if any(output in live for output in node.outputs):
            live.update(node.inputs)
            if node.region is not None:
                node = Node(node.op, node.inputs, node.outputs, node.attrs, remove_unused(node.region),
                            node.location)
            kept.append(node)
    if len(kept) == len(graph.nodes) and all(k.region is n.region for k, n in zip(reversed(kept), graph.nodes)):
        return graph
    return graph.with_nodes(kept[::-1])
