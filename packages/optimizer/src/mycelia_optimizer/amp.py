"""Automatic mixed precision: cast insertion with MindSpore's levels.

* ``O0``: nothing changes.
* ``O1``: the ops in :data:`LOW_PRECISION_OPS` (matmuls and convolutions, where half precision pays)
  run in the low dtype: their float32 operands are cast down and their results cast back to float32.
* ``O2``: every op runs in the low dtype except :data:`FULL_PRECISION_OPS` (normalizations, softmax,
  losses, reductions, exp/log …: numerically sensitive), which stay in float32 with casts around them.
* ``O3``: every op runs in the low dtype.

The low dtype is ``PassContext.low_dtype`` (float16, or bfloat16). Graph inputs and outputs keep their
types; constants stay as they are (a cast of a constant is folded by constant folding). Only nodes
whose promoted operands are all float32 (or already low) are converted; integer and float64 work is
left alone, as are casts, creation and random ops. When two converted ops follow each other the value
flows between them in low precision: the cast back to float32 that only fed a cast down is removed.
"""

from __future__ import annotations

from collections.abc import Mapping

from mycelia import dtype as dt
from mycelia._types import TensorType
from mycelia.ir import Graph, Node, SourceLocation, Value
from mycelia.ops import get_op
from mycelia_optimizer._pass_manager import PassContext
from mycelia_optimizer._rewrite import GraphRewriter, infer_types, is_nondeterministic, make_node, rewrite_graph

__all__ = ["FULL_PRECISION_OPS", "LOW_PRECISION_OPS", "AutoMixedPrecision"]

# O1's white list: compute-bound ops whose low-precision kernels are fast and accumulate safely.
LOW_PRECISION_OPS = frozenset({
    "matmul", "bmm", "dot", "outer", "tensor_dot", "einsum",
    "conv1d", "conv2d", "conv_transpose2d", "conv_backward_input", "conv_backward_weight",
})

# O2's black list: ops that overflow, underflow or lose too much in low precision.
FULL_PRECISION_OPS = frozenset({
    "softmax", "log_softmax", "logsumexp",
    "layer_norm", "batch_norm", "group_norm",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "cross_entropy_backward",
    "kl_div", "l1_loss", "mse_loss", "nll_loss", "smooth_l1_loss",
    "sum", "mean", "norm", "var", "std", "prod", "cumsum", "cumprod",
    "exp", "expm1", "log", "log1p", "log2", "pow", "softplus", "logsigmoid", "reciprocal", "rsqrt",
})

_NEVER_CONVERTED_GROUPS = frozenset({"creation", "random"})
_NEVER_CONVERTED_OPS = frozenset({"cast", "constant", "fused"})


class AutoMixedPrecision:
    """Inserts casts for ``level`` (None: ``PassContext.amp_level``)."""

    name = "amp"

    def __init__(self, level: str | None = None) -> None:
        self.level = level

    def converts(self, node: Node, level: str, context: PassContext) -> bool:
        """Whether ``node``'s op runs in low precision at ``level`` (before looking at its operands)."""
        if node.op in _NEVER_CONVERTED_OPS or node.region is not None or is_nondeterministic(node):
            return False
        try:
            opdef = get_op(node.op)
        except KeyError:
            return False
        if opdef.group in _NEVER_CONVERTED_GROUPS or context.low_dtype not in opdef.dtypes:
            return False
        if not context.supports_op(node.op):
            return False
        if level == "O1":
            return node.op in LOW_PRECISION_OPS
        if level == "O2":
            return node.op not in FULL_PRECISION_OPS
        return level == "O3"

    def run(self, graph: Graph, context: PassContext) -> Graph:
        level = self.level or context.amp_level
        low = context.low_dtype
        if level == "O0" or not context.supports_dtype(low):
            return graph
        back_casts: set[Node] = set()
        lowered: dict[Value, Value] = {}  # a float32 value -> its cast to the low dtype (one per value)

        def to_low(rewriter: GraphRewriter, value: Value, location: SourceLocation | None) -> Value:
            if value.dtype is low:
                return value
            producer = rewriter.producer(value)
            if producer is not None and producer.op == "cast" and producer.inputs[0].dtype is low:
                return producer.inputs[0]  # a value cast up from low precision: use it as it was
            if value not in lowered:
                lowered[value] = rewriter.emit(make_node("cast", (value,), location, dtype=low)).output
            return lowered[value]

        def visit(rewriter: GraphRewriter, node: Node) -> Mapping[Value, Value] | None:
            if not self.converts(node, level, context):
                return None
            opdef = get_op(node.op)
            count = len(node.inputs) - (len(opdef.inputs) - 1) if opdef.variadic else -1
            positions = set(range(count) if opdef.variadic and 0 in opdef.promote else opdef.promote)
            promoted = [node.inputs[i] for i in sorted(positions) if i < len(node.inputs)]
            if not promoted or not any(v.dtype is dt.float32 for v in promoted) \
                    or any(v.dtype not in (dt.float32, low) for v in promoted):
                return None
            try:
                inputs = tuple(value if index not in positions else _cast_placeholder(value, low)
                               for index, value in enumerate(node.inputs))
                types = infer_types(node.op, inputs, node.attrs)
            except Exception:  # the op does not accept the low dtype with these operands
                return None
            if any(t.shape != o.type.shape or (t.dtype is not o.dtype and not (t.dtype is low and o.dtype is
                                                                                 dt.float32))
                   for t, o in zip(types, node.outputs)):
                return None
            operands = tuple(to_low(rewriter, value, node.location) if index in positions else value
                             for index, value in enumerate(node.inputs))
            converted = rewriter.emit(Node(node.op, operands, tuple(Value(t) for t in types), node.attrs,
                                           None, node.location))
            replaced: dict[Value, Value] = {}
            for old, new in zip(node.outputs, converted.outputs):
                if new.type == old.type:
                    replaced[old] = new
                else:
                    back = rewriter.emit(make_node("cast", (new,), node.location, dtype=old.dtype))
                    back_casts.add(back)
                    replaced[old] = back.output
            return replaced

        result = rewrite_graph(graph, visit)
        if result is graph or not back_casts:
            return result
        used = {value for node in result.nodes for value in node.inputs} | set(result.outputs)
        kept = [node for node in result.nodes if node not in back_casts or node.output in used]
        return result if len(kept) == len(result.nodes) else result.with_nodes(kept)

    def __repr__(self) -> str:
        return f"AutoMixedPrecision(level={self.level!r})"


def _cast_placeholder(value: Value, low: dt.DType) -> Value:
    """A stand-in operand of ``value``'s shape in ``low`` (for inferring the converted node's types)."""
    return value if value.dtype is low else Value(TensorType(low, value.shape))
