"""Per-signature summaries of helper functions (issue 6 item 3): a helper called with tensors (and
hashable constants) is traced once per (function, argument signature) into a small graph; later call
sites — in the same capture or a later one — splice that graph instead of interpreting the bytecode
again. A summary keeps the guards its trace produced (all on globals, closures and defaults, never
on the call site) and is reused only while they still hold.

Only pure helpers are summarised: no side effects, no objects escaping, a result of tensors and
constants. Anything else is inlined as usual."""

from __future__ import annotations

import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mycelia._tensor import Tensor
from mycelia.ir import Graph, GraphBuilder, TracedArray, recording, traced_tensor
from mycelia_capture._guards import GuardSet, Local
from mycelia_capture._values import CaptureAbort, Unsupported, Var

__all__ = ["Summary", "summarize"]

_CONSTANTS = (bool, int, float, str, type(None))
MAX_SUMMARIES = 512  # kept process-wide; the oldest is dropped beyond this


@dataclass
class Summary:
    graph: Graph
    result: Any  # the helper's result with graph outputs as ("output", index) markers
    guards: list[tuple[Any, str, Any]]
    check: Callable[[], Any]


_summaries: dict[tuple[Any, ...], Summary | None] = {}


def signature_key(function: types.FunctionType, args: list[Var]) -> tuple[Any, ...] | None:
    """(function, per argument: tensor dtype/shape or constant type/value); None when not summarisable."""
    key: list[Any] = [function]
    for arg in args:
        value = arg.value
        if isinstance(value, Tensor) and isinstance(value._data, TracedArray):
            key.append(("tensor", value._dtype, tuple(value.shape)))
        elif isinstance(value, _CONSTANTS):
            key.append(("constant", type(value), value))
        else:
            return None
    return tuple(key)


def _template(value: Any, outputs: list[Any], builder: GraphBuilder) -> Any:
    if isinstance(value, Tensor):
        data = value._data
        if not isinstance(data, TracedArray) or data.builder is not builder:
            raise Unsupported("a summarised helper returned a tensor from outside its graph")
        outputs.append(data.value)
        return ("output", len(outputs) - 1)
    if isinstance(value, _CONSTANTS):
        return ("constant", value)
    if type(value) in (tuple, list):
        return (type(value).__name__, [_template(v, outputs, builder) for v in value])
    raise Unsupported(f"a summarised helper returned a {type(value).__name__}")


def summarize(tracer: Any, function: types.FunctionType, args: list[Var]) -> Summary | None:
    """The summary of ``function`` for these arguments, made now if needed (None: inline instead)."""
    key = signature_key(function, args)
    if key is None:
        return None
    if key in _summaries:
        summary = _summaries[key]
        if summary is None or summary.check() is not None:
            return summary  # None: known not to be summarisable
        del _summaries[key]  # a global or closure it read has changed: trace it again
    builder = GraphBuilder("summary")
    inner = type(tracer)(tracer.config, builder)
    inner_args = []
    for index, arg in enumerate(args):
        value = arg.value
        if isinstance(value, Tensor):
            value = traced_tensor(builder.input(f"a{index}", value._dtype, tuple(value.shape)), builder)
        inner_args.append(Var(value))
    try:
        with recording(builder, random_outside=True):
            result = inner.inline(function, inner_args, {}, None, allow_summary=False)
        if inner.effects or inner.lifted:  # writes, or reads of tensors outside its arguments
            raise Unsupported("not pure")
        outputs: list[Any] = []
        template = _template(inner.materialize(result), outputs, builder)
    except (Unsupported, CaptureAbort):
        _summaries[key] = None
        return None
    if any(isinstance(source, Local) for source, _, _ in inner.guards.checks):
        _summaries[key] = None
        return None
    check_set = GuardSet(checks=list(inner.guards.checks))
    check, _ = check_set.compile(0)
    summary = Summary(builder.build(*outputs), template, list(inner.guards.checks), check)
    if len(_summaries) >= MAX_SUMMARIES:
        _summaries.pop(next(iter(_summaries)))
    _summaries[key] = summary
    return summary


def splice(tracer: Any, summary: Summary, args: list[Var]) -> Var:
    """The summary's graph appended to the caller's, fed with the call's tensors; its guards added."""
    builder = tracer.builder
    mapping = {}
    for graph_input, arg in zip(summary.graph.inputs, (a for a in args if isinstance(a.value, Tensor))):
        mapping[graph_input] = arg.value._data.value
    for node in summary.graph.nodes:
        outputs = builder.node(node.op, [mapping[v] for v in node.inputs], [v.type for v in node.outputs],
                               node.attrs, node.region, node.location)
        mapping.update(zip(node.outputs, outputs))
    for source, kind, expected in summary.guards:
        tracer.guards.add(source, kind, expected)
    values = [traced_tensor(mapping[v], builder) for v in summary.graph.outputs]
    return Var(_rebuild(summary.result, values, tracer))


def _rebuild(template: Any, values: list[Tensor], tracer: Any) -> Any:
    kind, content = template
    if kind == "output":
        return values[content]
    if kind == "constant":
        return content
    items = [_rebuild(item, values, tracer) for item in content]
    made = tuple(items) if kind == "tuple" else items
    tracer.created_ids.add(id(made))
    tracer.keep.append(made)
    return made
