"""The IR (DESIGN §3): the contract between capture, optimizer and backends.

Graphs of typed SSA values (``dtype[dims]``, a dim an int or a symbol), nodes in topological order,
constants, nested regions (fused groups), source locations. Build them with :class:`GraphBuilder` or
:func:`trace`, print with ``str(graph)``, read back with :func:`parse`, check with :func:`verify`, run
with :func:`interpret` (the oracle), differentiate with :func:`value_and_grad_graph`.
"""

from mycelia._types import Symbol, TensorType
from mycelia.ir._autodiff import value_and_grad_graph
from mycelia.ir._builder import IR_ONLY_OPS, GraphBuilder, IRError, as_shape, normalize_attrs
from mycelia.ir._compile import CompiledGraph, compile_graph, optimize_graph
from mycelia.ir._dead_code import remove_unused
from mycelia.ir._graph import Constant, Graph, Node, Relation, SourceLocation, Value, reduced_trailing_dims
from mycelia.ir._interpreter import bind_inputs, interpret
from mycelia.ir._liveness import BufferPlan, last_uses, plan_buffers
from mycelia.ir._parser import parse
from mycelia.ir._printer import format_attribute, print_graph
from mycelia.ir._tracing import RECORDING, TracedArray, TracedValueError, recording, trace, traced_tensor
from mycelia.ir._verifier import verify

__all__ = [
    "IR_ONLY_OPS",
    "BufferPlan",
    "CompiledGraph",
    "RECORDING",
    "Constant",
    "Graph",
    "GraphBuilder",
    "IRError",
    "Node",
    "Relation",
    "SourceLocation",
    "Symbol",
    "TensorType",
    "TracedArray",
    "TracedValueError",
    "Value",
    "as_shape",
    "bind_inputs",
    "compile_graph",
    "format_attribute",
    "interpret",
    "last_uses",
    "normalize_attrs",
    "optimize_graph",
    "parse",
    "plan_buffers",
    "print_graph",
    "recording",
    "reduced_trailing_dims",
    "remove_unused",
    "trace",
    "traced_tensor",
    "value_and_grad_graph",
    "verify",
]
