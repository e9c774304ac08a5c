"""Algebraic simplification: identities that remove nodes without changing any result.

* ``x*1``, ``1*x``, ``x+0``, ``0+x``, ``x-0``, ``x/1`` -> ``x``, only when ``x`` already has the
  result's type (so neither broadcasting nor promotion is lost) and the constant is all ones / zeros.
  (``-0.0 + 0`` gives ``+0.0``: equal under ``==``, as every compiler that folds ``x+0`` accepts.)
* ``neg(neg(x))`` -> ``x``.
* ``transpose(transpose(x, p), q)`` -> one transpose with the composed permutation, or ``x`` when
  the composition (or a single permutation) is the identity.
* ``reshape(reshape(x))`` -> one reshape; a reshape (or any shape-only op below) to ``x``'s own
  type -> ``x``.
* ``cast(cast(x, m), d)`` -> ``cast(x, d)`` when ``m`` holds every value of ``x``'s dtype exactly
  (f16 -> f32 -> f64 is one cast; f32 -> f16 -> f32 is kept: it rounds); ``cast(x, dtype(x))`` -> ``x``.
* ``swapaxes(swapaxes(x, a, b), a, b)`` -> ``x``; ``squeeze(expand_dims(x, a), a)`` -> ``x``.

Rules are applied to each node until none matches, so chains collapse in one run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from mycelia import dtype as dt
from mycelia.ir import Graph, Node, Value
from mycelia_optimizer._pass_manager import PassContext
from mycelia_optimizer._rewrite import GraphRewriter, make_node, rewrite_graph

__all__ = ["AlgebraicSimplification", "exactly_representable"]

_MANTISSA_BITS = {dt.float16: 11, dt.bfloat16: 8, dt.float32: 24, dt.float64: 53}
_INTEGER_BITS = {dt.bool_: 1, dt.uint8: 8, dt.int8: 7, dt.int16: 15, dt.int32: 31, dt.int64: 63}
_MAX_EXPONENT = {dt.float16: 15, dt.bfloat16: 127, dt.float32: 127, dt.float64: 1023}
_MIN_EXPONENT = {dt.float16: -24, dt.bfloat16: -133, dt.float32: -149, dt.float64: -1074}  # subnormals


def exactly_representable(source: dt.DType, target: dt.DType) -> bool:
    """Every value of ``source`` is a value of ``target`` (so a cast through ``target`` loses nothing)."""
    if source is target or source is dt.bool_:
        return True
    if target is dt.bool_:
        return False
    if source.is_floating_point:
        return (target.is_floating_point and _MANTISSA_BITS[target] >= _MANTISSA_BITS[source]
                and _MAX_EXPONENT[target] >= _MAX_EXPONENT[source] and _MIN_EXPONENT[target] <= _MIN_EXPONENT[source])
    bits = _INTEGER_BITS[source]  # magnitude bits of an integer dtype
    if target.is_floating_point:
        return _MANTISSA_BITS[target] >= bits
    if source.kind == "int" and target.kind == "uint":
        return False
    return _INTEGER_BITS[target] >= bits


Rule = Callable[[GraphRewriter, Node], "Value | Node | None"]


def _identity_operand(rewriter: GraphRewriter, node: Node) -> Value | None:
    """x*1, 1*x, x+0, 0+x, x-0, x/1 -> x when x has the result's type."""
    if len(node.inputs) != 2 or len(node.outputs) != 1:
        return None
    result = node.output.type
    left, right = node.inputs
    candidates: list[tuple[Value, Value, float]] = []
    if node.op == "mul":
        candidates = [(left, right, 1.0), (right, left, 1.0)]
    elif node.op == "add":
        candidates = [(left, right, 0.0), (right, left, 0.0)]
    elif node.op == "sub":
        candidates = [(left, right, 0.0)]
    elif node.op == "div" and node.attribute("rounding_mode") is None:
        candidates = [(left, right, 1.0)]
    for kept, other, neutral in candidates:
        constant = rewriter.constant(other)
        if kept.type == result and constant is not None and constant.is_scalar_equal_to(neutral):
            return kept
    return None


def _producer(rewriter: GraphRewriter, node: Node, op: str) -> Node | None:
    inner = rewriter.producer(node.inputs[0]) if node.inputs else None
    return inner if inner is not None and inner.op == op and len(inner.outputs) == 1 else None


def _same_type(rewriter: GraphRewriter, node: Node) -> Value | None:
    """A shape-only op (or a cast) whose result has its operand's type is the operand."""
    if node.op in ("reshape", "cast", "squeeze", "expand_dims", "flatten", "broadcast_to") \
            and len(node.inputs) == 1 and node.output.type == node.inputs[0].type:
        return node.inputs[0]
    return None


def _double_negation(rewriter: GraphRewriter, node: Node) -> Value | None:
    inner = _producer(rewriter, node, "neg") if node.op == "neg" else None
    return inner.inputs[0] if inner is not None else None


def _normalized(perm: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(p % len(perm) for p in perm)


def _transpose(rewriter: GraphRewriter, node: Node) -> Value | Node | None:
    if node.op != "transpose":
        return None
    perm = _normalized(tuple(node.attribute("input_perm")))
    if perm == tuple(range(len(perm))) and node.output.type == node.inputs[0].type:
        return node.inputs[0]
    inner = _producer(rewriter, node, "transpose")
    if inner is None:
        return None
    first = _normalized(tuple(inner.attribute("input_perm")))
    composed = tuple(first[p] for p in perm)  # output axis j reads input axis first[perm[j]]
    if composed == tuple(range(len(composed))):
        return inner.inputs[0]
    return make_node("transpose", inner.inputs, node.location, input_perm=composed)


def _reshape(rewriter: GraphRewriter, node: Node) -> Node | None:
    inner = _producer(rewriter, node, "reshape") if node.op == "reshape" else None
    if inner is None:
        return None
    return make_node("reshape", inner.inputs, node.location, shape=node.attribute("shape"))


def _cast(rewriter: GraphRewriter, node: Node) -> Node | None:
    inner = _producer(rewriter, node, "cast") if node.op == "cast" else None
    if inner is None:
        return None
    source, middle = inner.inputs[0].dtype, inner.output.dtype
    if not exactly_representable(source, middle):
        return None  # the middle cast rounds or wraps: it is part of the result
    return make_node("cast", inner.inputs, node.location, dtype=node.attribute("dtype"))


def _swapaxes(rewriter: GraphRewriter, node: Node) -> Value | None:
    inner = _producer(rewriter, node, "swapaxes") if node.op == "swapaxes" else None
    if inner is None:
        return None
    rank = len(node.inputs[0].shape)
    if rank == 0:
        return inner.inputs[0]

    def axes(n: Node) -> frozenset[int]:
        return frozenset({n.attribute("axis0") % rank, n.attribute("axis1") % rank})

    return inner.inputs[0] if axes(node) == axes(inner) else None


def _squeeze(rewriter: GraphRewriter, node: Node) -> Value | None:
    inner = _producer(rewriter, node, "expand_dims") if node.op == "squeeze" else None
    if inner is None:
        return None
    source = inner.inputs[0]
    rank = len(node.inputs[0].shape)
    inserted = inner.attribute("axis") % rank
    axis = node.attribute("axis")
    if axis is None:  # squeeze everything: only the inserted axis may be 1
        return source if node.output.type == source.type else None
    return source if len(axis) == 1 and axis[0] % rank == inserted else None


RULES: tuple[Rule, ...] = (_identity_operand, _same_type, _double_negation, _transpose, _reshape, _cast,
                           _swapaxes, _squeeze)
_MAX_STEPS = 16  # rule applications per node (each strictly shortens a chain; this is a safety bound)


class AlgebraicSimplification:
    """Applies the identities above (see the module docstring)."""

    name = "algebraic"

    def simplify(self, rewriter: GraphRewriter, node: Node) -> Value | Node | None:
        """What ``node`` simplifies to: an existing value, a new node, or None."""
        current: Node = node
        result: Value | Node | None = None
        for _ in range(_MAX_STEPS):
            step: Value | Node | None = None
            for rule in RULES:
                try:
                    step = rule(rewriter, current)
                except Exception:  # infer rejected a composed node: this rule does not apply
                    step = None
                if step is not None:
                    break
            if step is None:
                return result
            if isinstance(step, Value) or any(a.type != b.type for a, b in zip(step.outputs, node.outputs)):
                return step if isinstance(step, Value) else result
            current = result = step
        return result

    def run(self, graph: Graph, context: PassContext) -> Graph:
        def visit(rewriter: GraphRewriter, node: Node) -> Mapping[Value, Value] | None:
            if len(node.outputs) != 1 or node.region is not None:
                return None
            outcome = self.simplify(rewriter, node)
            if outcome is None:
                return None
            if isinstance(outcome, Node):
                outcome = rewriter.emit(outcome).output
            if outcome.type != node.output.type:
                return None
            return {node.output: outcome}

        return rewrite_graph(graph, visit)

    def __repr__(self) -> str:
        return "AlgebraicSimplification()"
