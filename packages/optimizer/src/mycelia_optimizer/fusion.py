"""Elementwise fusion: maximal groups of elementwise ops (plus one trailing reduction where the
backend can) become one ``fused`` node whose region holds the group.

Which ops fuse is the backend's answer (``Capabilities.fusible_ops`` / ``fusible_reductions``); with
no answer nothing fuses. A group is grown along producer -> consumer edges in topological order:

* every member computes on the group's iteration shape (inputs from outside may broadcast);
* the fused node takes the place of the group's *first* member, so a member may only read values
  defined before that point (or inside the group) — the schedule stays topological;
* scalar constants are copied into the region (the kernel keeps them in registers);
* a reduction over the trailing dims of a group value ends the group.

Values of the group read outside it (later nodes, graph outputs) become the fused node's outputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mycelia import dtype as dt
from mycelia._types import Dim
from mycelia.ir import Graph, Node, Value, reduced_trailing_dims, remove_unused
from mycelia.ops import get_op
from mycelia_optimizer._pass_manager import PassContext

__all__ = ["ElementwiseFusion"]

MIN_GROUP_SIZE = 2  # a single op gains nothing from fusion; its eager kernel runs it


@dataclass
class _Group:
    shape: tuple[Dim, ...]
    start: int  # position of the first member in the original node list
    members: list[Node] = field(default_factory=list)
    closed: bool = False  # ended by a reduction

    @property
    def values(self) -> set[Value]:
        return {value for node in self.members for value in node.outputs}


class ElementwiseFusion:
    name = "elementwise_fusion"

    def run(self, graph: Graph, context: PassContext) -> Graph:
        capabilities = context.capabilities
        if capabilities is None or not capabilities.fusible_ops:
            return graph
        position: dict[Value, int] = {value: -1 for value in graph.inputs}
        scalar_constants: dict[Value, Node] = {}
        for index, node in enumerate(graph.nodes):
            for value in node.outputs:
                position[value] = index
            if node.op == "constant" and _is_scalar(node.outputs[0]):
                scalar_constants[node.outputs[0]] = node
        group_of: dict[Value, _Group] = {}
        groups: list[_Group] = []
        used = {value for node in graph.nodes for value in node.inputs} | set(graph.outputs)
        for index, node in enumerate(graph.nodes):
            if node.op in capabilities.fusible_ops and _elementwise_eligible(node, capabilities.fusible_attributes):
                group = self._join(node, group_of, position, scalar_constants)
                if group is None:
                    group = _Group(node.outputs[0].shape, index)
                    groups.append(group)
                group.members.append(node)
                group_of[node.outputs[0]] = group
            elif node.op in capabilities.fusible_reductions and _reduction_eligible(node) and node.outputs[0] in used:
                group = group_of.get(node.inputs[0])
                if group is not None and not group.closed and group.shape == node.inputs[0].shape:
                    group.members.append(node)
                    group.closed = True
                    group_of[node.outputs[0]] = group
        fused = [g for g in groups if sum(1 for m in g.members) >= MIN_GROUP_SIZE]
        if not fused:
            return graph
        # Scalar constants copied into regions may have no other user left.
        return remove_unused(_replace_groups(graph, fused, scalar_constants))

    @staticmethod
    def _join(node: Node, group_of: dict[Value, _Group], position: dict[Value, int],
              scalar_constants: dict[Value, Node]) -> _Group | None:
        shape = node.outputs[0].shape
        for value in node.inputs:
            group = group_of.get(value)
            if group is None or group.closed or group.shape != shape:
                continue
            if all(operand in scalar_constants or position[operand] < group.start
                   or group_of.get(operand) is group for operand in node.inputs):
                return group
        return None


def _is_scalar(value: Value) -> bool:
    """Rank 0 only: a [1, 1] constant can raise an op's rank, which the region's inputs must carry."""
    return value.shape == ()


def _float_or_bool(value: Value) -> bool:
    return value.dtype.is_floating_point or value.dtype is dt.bool_


def _elementwise_eligible(node: Node, known_attributes: frozenset[str]) -> bool:
    """One float/bool result from float/bool operands (integers would lose precision in the float
    compute type), and no attribute the kernel does not read set away from its default."""
    if len(node.outputs) != 1 or node.region is not None:
        return False
    if not all(_float_or_bool(v) for v in (*node.inputs, *node.outputs)):
        return False
    defaults = dict(get_op(node.op).attrs)
    return all(name in known_attributes or value == defaults.get(name) for name, value in node.attrs)


def _reduction_eligible(node: Node) -> bool:
    return (len(node.outputs) == 1 and len(node.inputs) == 1 and node.outputs[0].dtype.is_floating_point
            and node.attribute("dtype") is None and node.attribute("initial") is None
            and reduced_trailing_dims(node) is not None)


def _replace_groups(graph: Graph, groups: list[_Group], scalar_constants: dict[Value, Node]) -> Graph:
    member_of = {id(node): group for group in groups for node in group.members}
    fused_nodes = {id(group.members[0]): _fused_node(graph, group, scalar_constants) for group in groups}
    nodes: list[Node] = []
    for node in graph.nodes:
        if id(node) in fused_nodes:
            nodes.append(fused_nodes[id(node)])
        elif id(node) not in member_of:
            nodes.append(node)
    return graph.with_nodes(nodes)


def _fused_node(graph: Graph, group: _Group, scalar_constants: dict[Value, Node]) -> Node:
    from mycelia.ir import GraphBuilder

    inside = group.values
    members = {id(node) for node in group.members}
    used_outside = set(graph.outputs)
    for node in graph.nodes:
        if id(node) not in members:
            used_outside.update(value for value in node.inputs if value in inside)
    external: list[Value] = []
    constants: list[Value] = []
    for node in group.members:
        for value in node.inputs:
            if value in inside:
                continue
            if value in scalar_constants:
                if value not in constants:
                    constants.append(value)
            elif value not in external:
                external.append(value)
    builder = GraphBuilder(f"fused_{graph.name}")
    mapping: dict[Value, Value] = {value: builder.input(f"p{i}", value.dtype, value.shape)
                                   for i, value in enumerate(external)}
    for value in constants:
        node = scalar_constants[value]
        mapping[value] = builder.node("constant", (), (value.type,), node.attrs, location=node.location)[0]
    for node in group.members:
        outputs = builder.node(node.op, [mapping[v] for v in node.inputs], [v.type for v in node.outputs],
                               node.attrs, location=node.location)
        mapping.update(zip(node.outputs, outputs))
    results = [value for node in group.members for value in node.outputs if value in used_outside]
    region = builder.build(*(mapping[value] for value in results))
    kind = "elementwise_reduction" if group.closed else "elementwise"
    return Node("fused", tuple(external), tuple(results), (("kind", kind),), region, group.members[0].location)
