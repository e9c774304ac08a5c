"""The rewriting machinery every pass shares: walk a graph's nodes in order, substitute values that
earlier rewrites replaced, and emit the nodes that survive (or new ones) into a fresh node list.

A pass gives :func:`rewrite_graph` a *visitor* called once per top-level node, whose operands have
already been substituted. The visitor returns ``None`` to keep the node, or a mapping from the node's
outputs to replacement values (existing values, or outputs of nodes it emitted first with
:meth:`GraphRewriter.emit`). A node whose outputs are all replaced is dropped; one with some
outputs replaced is kept for the others. Graph outputs are substituted at the end.

Contract (the pass manager's fixed points rely on it): when nothing changed, the *same* Graph object
comes back. Replacements must keep the type of the value they replace (graph outputs and later
uses depend on it); :func:`rewrite_graph` raises :class:`~mycelia.ir.IRError` otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mycelia._types import TensorType
from mycelia.ir import Constant, Graph, IRError, Node, SourceLocation, Value, normalize_attrs
from mycelia.ops import get_op

__all__ = [
    "GraphRewriter",
    "Visitor",
    "constant_node",
    "constant_of",
    "infer_types",
    "is_nondeterministic",
    "make_node",
    "rewrite_graph",
]


class GraphRewriter:
    """The state of one rewrite: the nodes emitted so far and the value substitutions."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.nodes: list[Node] = []
        self.changed = False
        self._replacements: dict[Value, Value] = {}
        self._producers: dict[Value, Node] = {}

    # -- values ----------------------------------------------------------------------------------------
    def resolve(self, value: Value) -> Value:
        """``value`` after every substitution made so far (chains followed)."""
        seen = value
        while seen in self._replacements:
            seen = self._replacements[seen]
        return seen

    def replace(self, old: Value, new: Value) -> None:
        """Make later uses of ``old`` (and graph outputs) read ``new``, which must have its type."""
        new = self.resolve(new)
        if new is old:
            return
        if old.type != new.type:
            raise IRError(f"graph @{self.graph.name}: cannot replace a {old.type} value by a {new.type} value")
        self._replacements[old] = new
        self.changed = True

    def producer(self, value: Value) -> Node | None:
        """The emitted node defining ``value`` (after substitution); None for graph inputs."""
        return self._producers.get(self.resolve(value))

    def constant(self, value: Value) -> Constant | None:
        """The constant ``value`` holds when a ``constant`` node defines it."""
        return constant_of(self.producer(value))

    # -- nodes -----------------------------------------------------------------------------------------
    def emit(self, node: Node, new: bool = True) -> Node:
        """Append ``node`` (its operands substituted); ``new`` marks the graph as changed."""
        node = self.substitute(node)
        self.nodes.append(node)
        for output in node.outputs:
            self._producers[output] = node
        if new:
            self.changed = True
        return node

    def substitute(self, node: Node) -> Node:
        """``node`` with its operands resolved (the same object when none was replaced)."""
        inputs = tuple(self.resolve(value) for value in node.inputs)
        if all(a is b for a, b in zip(inputs, node.inputs)):
            return node
        return Node(node.op, inputs, node.outputs, node.attrs, node.region, node.location)

    def finish(self) -> Graph:
        outputs = tuple(self.resolve(value) for value in self.graph.outputs)
        if not self.changed and len(self.nodes) == len(self.graph.nodes) and all(
                a is b for a, b in zip(self.nodes, self.graph.nodes)):
            return self.graph
        return self.graph.with_nodes(self.nodes, outputs)


Visitor = Callable[[GraphRewriter, Node], "Mapping[Value, Value] | None"]


def rewrite_graph(graph: Graph, visit: Visitor) -> Graph:
    """Run ``visit`` over ``graph``'s top-level nodes in order (see the module docstring)."""
    rewriter = GraphRewriter(graph)
    for original in graph.nodes:
        node = rewriter.substitute(original)
        if node is not original:
            rewriter.changed = True
        replaced = visit(rewriter, node)
        if not replaced:
            rewriter.emit(node, new=False)
            continue
        for old, new in replaced.items():
            if old not in node.outputs:
                raise IRError(f"graph @{graph.name}: {node.op} rewrite replaced a value the node does not define")
            rewriter.replace(old, new)
        if any(output not in replaced for output in node.outputs):
            rewriter.emit(node, new=False)
        else:
            rewriter.changed = True
    return rewriter.finish()


# -- building nodes ------------------------------------------------------------------------------------
def constant_of(node: Node | None) -> Constant | None:
    """The Constant of a ``constant`` node (None for anything else)."""
    if node is None or node.op != "constant":
        return None
    value = node.attribute("value")
    return value if isinstance(value, Constant) else None


def constant_node(constant: Constant, location: SourceLocation | None = None) -> Node:
    """A fresh ``constant`` node holding ``constant``."""
    return Node("constant", (), (Value(constant.type),), (("value", constant),), None, location)


def infer_types(op: str, inputs: Sequence[Value], attrs: tuple[tuple[str, Any], ...]) -> tuple[TensorType, ...]:
    """The output types registered op ``op`` infers for ``inputs`` and complete ``attrs``."""
    opdef = get_op(op)
    types = [value.type for value in inputs]
    if opdef.variadic:
        count = len(types) - (len(opdef.inputs) - 1)
        result = opdef.infer(types[:count], *types[count:], **dict(attrs))
    else:
        result = opdef.infer(*types, **dict(attrs))
    return tuple(result) if isinstance(result, tuple) else (result,)


def make_node(op: str, inputs: Sequence[Value], location: SourceLocation | None = None, **attrs: Any) -> Node:
    """A node of registered op ``op``: attributes completed with defaults, outputs typed by ``infer``.

    Raises whatever ``infer`` raises for operands it rejects; callers treat that as "no rewrite".
    """
    normalized = normalize_attrs(get_op(op), attrs)
    types = infer_types(op, inputs, normalized)
    return Node(op, tuple(inputs), tuple(Value(t) for t in types), normalized, None, location)


def is_nondeterministic(node: Node) -> bool:
    """Random ops (group ``random``) and ops drawing from a seed (dropout): never merged or folded."""
    if node.op == "constant":
        return False
    if node.op == "fused":
        return node.region is not None and any(is_nondeterministic(inner) for inner in node.region.walk())
    try:
        group = get_op(node.op).group
    except KeyError:
        return True  # unknown op: assume the worst
    return group == "random" or any(name in ("seed", "offset") for name, _ in node.attrs)
