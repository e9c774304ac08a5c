"""Constant folding: a node whose operands are all constants is evaluated at compile time (by the
reference interpreter, so the result is exactly what eager would compute) and becomes a constant.

Not folded: random ops and seeded ops (each run draws anew), results with a symbolic shape, and
results larger than ``max_elements`` (4096 by default), so that weights and big creations
(``zeros([4096, 4096])``) are not baked into the graph. A node the interpreter cannot evaluate is
left as it is.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from mycelia.ir import Constant, Graph, Node, Value, interpret
from mycelia_optimizer._pass_manager import PassContext
from mycelia_optimizer._rewrite import GraphRewriter, constant_node, is_nondeterministic, rewrite_graph

__all__ = ["MAX_FOLDED_ELEMENTS", "ConstantFolding"]

MAX_FOLDED_ELEMENTS = 4096


def _static_size(value: Value) -> int | None:
    size = 1
    for dim in value.shape:
        if not isinstance(dim, int):
            return None
        size *= dim
    return size


class ConstantFolding:
    """Replaces nodes computed only from constants by constant nodes (at most ``max_elements`` each)."""

    name = "constant_folding"

    def __init__(self, max_elements: int = MAX_FOLDED_ELEMENTS) -> None:
        self.max_elements = max_elements

    def foldable(self, rewriter: GraphRewriter, node: Node) -> bool:
        if node.op == "constant" or not node.outputs or is_nondeterministic(node):
            return False
        for output in node.outputs:
            size = _static_size(output)
            if size is None or size > self.max_elements:
                return False
        return all(rewriter.constant(value) is not None for value in node.inputs)

    def run(self, graph: Graph, context: PassContext) -> Graph:
        def visit(rewriter: GraphRewriter, node: Node) -> Mapping[Value, Value] | None:
            if not self.foldable(rewriter, node):
                return None
            constants = [c for c in (rewriter.producer(v) for v in node.inputs) if c is not None]
            unique = list(dict.fromkeys(constants))  # a constant used twice is defined once
            single = Graph("fold", (), (*unique, node), node.outputs)
            try:
                results = interpret(single)
            except Exception:  # the op rejects these operands at run time: keep the node, report nothing
                return None
            folded: dict[Value, Value] = {}
            new_nodes = []
            for output, tensor in zip(node.outputs, results):
                array = np.asarray(tensor.asnumpy())
                if tensor.dtype is not output.dtype or tuple(array.shape) != output.shape:
                    return None  # infer and the kernel disagree: not ours to paper over
                new_nodes.append(constant_node(Constant.of(array, output.dtype), node.location))
            for output, new in zip(node.outputs, new_nodes):
                rewriter.emit(new)
                folded[output] = new.output
            return folded

        return rewrite_graph(graph, visit)

    def __repr__(self) -> str:
        return f"ConstantFolding(max_elements={self.max_elements})"
