"""Dead code elimination: nodes no graph output depends on are dropped (every IR op is pure).

Nested regions are cleaned too. Unused graph inputs stay: they are the graph's signature.
"""

from __future__ import annotations

from mycelia.ir import Graph, remove_unused
from mycelia_optimizer._pass_manager import PassContext

__all__ = ["DeadCodeElimination"]


class DeadCodeElimination:
    """Drops unused nodes (returns the same graph when every node is used)."""

    name = "dead_code"

    def run(self, graph: Graph, context: PassContext) -> Graph:
        return remove_unused(graph)

    def __repr__(self) -> str:
        return "DeadCodeElimination()"
