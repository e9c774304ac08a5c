"""Reverse-mode autodiff over an eager tape (DESIGN §2.3).

While a gradient is being taken, the tensors it differentiates with respect to carry a
:class:`Leaf`; every op that consumes a tracked tensor records a :class:`Node` on its outputs
(``tensor._autograd = (node, output_index)``). ``backward`` walks the nodes reachable from the
output in reverse topological order, calling each op's ``vjp`` (written in mycelia ops, so the
same rules give higher-order gradients when an outer gradient is recording), and drops each
node's saved tensors as soon as they are used, so a long chain's intermediates are freed early.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from mycelia._tensor import Tensor

__all__ = ["Leaf", "Node", "VjpContext", "backward", "is_recording", "needs_gradient", "no_grad", "record"]


class _State(threading.local):
    def __init__(self) -> None:
        self.enabled = True  # False under no_grad / while a non-nested backward runs
        self.depth = 0  # gradients being taken right now (nesting gives higher order)


state = _State()


class Leaf:
    """Marks a tensor being differentiated with respect to."""

    __slots__ = ()


class Node:
    """One recorded op call: what its vjp needs, dropped after backward uses it."""

    __slots__ = ("attrs", "inputs", "op", "outputs", "versions")

    def __init__(self, op: Any, inputs: tuple[Any, ...], attrs: dict[str, Any], outputs: tuple[Tensor, ...]):
        self.op = op
        self.inputs: tuple[Any, ...] | None = inputs
        self.attrs = attrs
        # The buffer each tracked input held when recorded. Tensors are values (in-place updates
        # rebind `_data`), so a different buffer at backward time means the input was assigned into
        # after this op read it, and its gradient would silently use the new value.
        skipped = getattr(op, "updated_in_place", ())
        self.versions: tuple[Any, ...] = tuple(value._data if tracked(value) and position not in skipped else None
                                               for position, value in enumerate(_flatten(inputs)))
        # Weak: an output nobody consumed gets no gradient, and no tensor->node->tensor cycle forms.
        self.outputs: tuple[weakref.ref[Tensor], ...] | None = tuple(weakref.ref(o) for o in outputs)


class VjpContext:
    """What a vjp rule sees: the op's inputs (Tensors or Python scalars), outputs and attrs."""

    __slots__ = ("attrs", "inputs", "outputs")

    def __init__(self, inputs: tuple[Any, ...], outputs: tuple[Tensor, ...], attrs: dict[str, Any]) -> None:
        self.inputs = inputs
        self.outputs = outputs
        self.attrs = attrs

    @property
    def output(self) -> Tensor:
        return self.outputs[0]


def is_recording() -> bool:
    return state.enabled and state.depth > 0


def tracked(value: Any) -> bool:
    """Part of the gradient being taken: a leaf, or made by a node whose backward has not run.
    (A tensor kept from an earlier gradient call still points at a spent node; it is a constant.)"""
    if not isinstance(value, Tensor) or value._autograd is None:
        return False
    meta = value._autograd
    return not isinstance(meta, tuple) or meta[0].inputs is not None


def needs_gradient(value: Any) -> bool:
    """Whether a vjp must compute this input's gradient: a tracked float tensor. Python scalars,
    untracked tensors and integer/bool tensors get none, so rules can skip the work."""
    return tracked(value) and value._dtype.is_floating_point  # type: ignore[no-any-return]


def record(op: Any, inputs: tuple[Any, ...], attrs: dict[str, Any], outputs: tuple[Tensor, ...]) -> None:
    """Attach a node to ``outputs`` when any input is tracked and recording is on."""
    if not state.enabled or not any(tracked(value) for value in _flatten(inputs)):
        return
    # Recorded even without a vjp, so backward can name the op that has no gradient rule.
    node = Node(op, inputs, attrs, outputs)
    for index, output in enumerate(outputs):
        output._autograd = (node, index)


def _flatten(values: Sequence[Any]) -> Iterator[Any]:
    for value in values:
        if isinstance(value, (list, tuple)):
            yield from value
        else:
            yield value


@contextmanager
def no_grad() -> Iterator[None]:
    """Ops inside record nothing (``with mycelia.no_grad(): ...``)."""
    previous = state.enabled
    state.enabled = False
    try:
        yield
    finally:
        state.enabled = previous


def _creator(tensor: Tensor) -> Node | None:
    meta = tensor._autograd
    if isinstance(meta, tuple) and meta[0].inputs is not None:
        return meta[0]  # type: ignore[no-any-return]
    return None


def _check_not_modified(node: Node) -> None:
    for position, (value, recorded) in enumerate(zip(_flatten(node.inputs or ()), node.versions)):
        if recorded is not None and value._data is not recorded:
            raise RuntimeError(
                f"{node.op.name}: input {position} was modified in place (e.g. y[i] = v) after this op used it, "
                f"so its gradient would use the new value. Assign into a copy instead (y = y.copy()) or "
                f"compute the new value functionally.")


def _topological(output_nodes: list[Node], targets: set[int]) -> list[Node]:
    """Nodes reachable from the outputs, consumers before producers; expansion stops at targets."""
    order: list[Node] = []
    seen: set[int] = set()
    stack: list[tuple[Node, bool]] = [(node, False) for node in output_nodes]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for value in _flatten(node.inputs or ()):
            if isinstance(value, Tensor) and id(value) not in targets:
                producer = _creator(value)
                if producer is not None and id(producer) not in seen:
                    stack.append((producer, False))
    order.reverse()
    return order


def backward(outputs: Sequence[Tensor], output_grads: Sequence[Tensor],
             targets: Sequence[Tensor]) -> list[Tensor | None]:
    """Gradients of ``sum(output * grad)`` with respect to each target (None when unreachable)."""
    from mycelia._autograd_math import accumulate, conform_gradient

    target_ids = {id(target) for target in targets}
    # id(tensor) -> (tensor, gradient so far). The tensor is held while its gradient is pending:
    # nodes hold their outputs weakly, and a consumer's inputs are dropped once it has run.
    grads: dict[int, tuple[Tensor, Tensor]] = {}

    def add_gradient(tensor: Tensor, grad: Tensor) -> None:
        pending = grads.get(id(tensor))
        grads[id(tensor)] = (tensor, accumulate(pending[1] if pending else None, grad))

    for output, grad in zip(outputs, output_grads):
        add_gradient(output, grad)
    roots = [node for node in (_creator(output) for output in outputs if id(output) not in target_ids)
             if node is not None]
    nested = state.depth > 1  # an outer gradient records what this backward computes
    previous = state.enabled
    state.enabled = nested and previous
    try:
        for node in _topological(roots, target_ids):
            assert node.outputs is not None and node.inputs is not None
            node_outputs = [reference() for reference in node.outputs]
            output_grads_of_node = [None if output is None else grads.pop(id(output), (None, None))[1]
                                    for output in node_outputs]
            if all(grad is None for grad in output_grads_of_node):
                continue
            if node.op.vjp is None:
                if not node.op.differentiable:
                    continue  # e.g. argmax: no gradient flows through it
                raise NotImplementedError(f"{node.op.name}: no gradient rule (vjp) is defined for this op")
            _check_not_modified(node)
            context = VjpContext(node.inputs, tuple(node_outputs), node.attrs)  # type: ignore[arg-type]
            upstream: Any = output_grads_of_node[0] if len(node_outputs) == 1 else tuple(output_grads_of_node)
            input_grads = node.op.vjp(context, upstream)
            flat_inputs = list(_flatten(node.inputs))
            for value, grad in zip(flat_inputs, _flatten(input_grads)):
                if grad is None or not tracked(value):
                    continue
                conformed = conform_gradient(grad, value)
                if conformed is not None:
                    add_gradient(value, conformed)
            if not nested:
                node.inputs = None  # free intermediates as soon as they have been used
                node.outputs = None
                node.versions = ()
    finally:
        state.enabled = previous
    return [grads[id(target)][1] if id(target) in grads else None for target in targets]
