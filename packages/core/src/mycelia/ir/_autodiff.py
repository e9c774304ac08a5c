"""Graph autodiff: a forward graph becomes one forward+backward graph.

The forward graph is interpreted on traced tensors under eager autograd, so each op's ``vjp`` rule
(written in mycelia ops) records the backward nodes: one set of gradient rules serves eager mode,
graphs, and higher orders.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mycelia._grad_api import value_and_grad
from mycelia.ir._builder import IRError
from mycelia.ir._graph import Graph
from mycelia.ir._interpreter import interpret
from mycelia.ir._tracing import trace

__all__ = ["value_and_grad_graph"]


def value_and_grad_graph(graph: Graph, grad_position: int | Sequence[int] = 0, name: str | None = None) -> Graph:
    """A graph returning ``(*outputs, *gradients)``: the gradients of the first output (summed when it is
    not a scalar, as eager ``value_and_grad`` does) with respect to the inputs at ``grad_position``;
    the other outputs are passed through as auxiliary values."""
    positions = (grad_position,) if isinstance(grad_position, int) else tuple(grad_position)
    for position in positions:
        if not 0 <= position < len(graph.inputs):
            raise IRError(f"grad_position {position} is out of range for graph @{graph.name} "
                          f"({len(graph.inputs)} inputs)")
        if not graph.inputs[position].dtype.is_floating_point:
            raise IRError(f"input %{graph.inputs[position].name} of graph @{graph.name} is "
                          f"{graph.inputs[position].type}: only floating-point inputs have gradients")
    if not graph.outputs:
        raise IRError(f"graph @{graph.name} has no output to differentiate")
    auxiliary = len(graph.outputs) > 1

    def forward(*tensors: Any) -> Any:
        outputs = interpret(graph, *tensors)
        return (outputs[0], outputs[1:]) if auxiliary else outputs[0]

    compute = value_and_grad(forward, grad_position=positions if len(positions) > 1 else positions[0],
                             has_aux=auxiliary)

    def step(*tensors: Any) -> Any:
        value, grads = compute(*tensors)
        grads = grads if isinstance(grads, tuple) else (grads,)
        if auxiliary:
            loss, aux = value
            return (loss, *aux, *grads)
        return (value, *grads)

    return trace(step, [value.type for value in graph.inputs], name or f"{graph.name}_grad",
                 [value.name or f"arg{i}" for i, value in enumerate(graph.inputs)])
