"""The IR's text form (DESIGN §3): one line per node, parsed back by ``mycelia.ir.parse``.

Canonical: node outputs are numbered in order (``%0``, ``%1`` …, restarting in each region), inputs
keep their names, attributes equal to the op's declared default are left out, and source locations are
aligned comments. ``print_graph(parse(text)) == text`` for any printed graph (golden tests check it).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._types import TensorType
from mycelia.ir._graph import Constant, Graph, Node, Value
from mycelia.ops._registry import get_op

__all__ = ["format_attribute", "format_type", "print_graph"]

COMMENT_COLUMN = 48  # location comments line up here (or two spaces after a longer line)
_INLINE_ELEMENTS = 32  # larger constants print as hex bytes


def format_type(type_: TensorType) -> str:
    return str(type_)


def _format_float(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(value)


def _format_constant(constant: Constant) -> str:
    array = constant.array
    head = f"dense<{constant.type}: "
    finite = not constant.dtype.is_floating_point or bool(np.isfinite(array.astype(np.float64)).all())
    if array.size <= _INLINE_ELEMENTS and finite:
        if constant.dtype.is_floating_point:
            listed = array.astype("float64").tolist()
        else:
            listed = array.tolist()
        return head + _format_nested(listed) + ">"
    return head + "0x" + constant.data.hex() + ">"


def _format_nested(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_format_nested(item) for item in value) + "]"
    return format_attribute(value)


def format_attribute(value: Any) -> str:
    """An attribute value in the IR's literal syntax."""
    if value is None or isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _format_float(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dt.DType):
        return value.short_name
    if isinstance(value, Constant):
        return _format_constant(value)
    if value is Ellipsis:
        return "Ellipsis"
    if isinstance(value, slice):
        return f"slice({format_attribute(value.start)}, {format_attribute(value.stop)}, {format_attribute(value.step)})"
    if isinstance(value, tuple):
        if len(value) == 1:
            return f"({format_attribute(value[0])},)"
        return "(" + ", ".join(format_attribute(item) for item in value) + ")"
    raise TypeError(f"an attribute of type {type(value).__name__} cannot be printed: {value!r}")


def _same(value: Any, default: Any) -> bool:
    """Equal and of the same type, recursively (``1 == True == 1.0`` must not hide an attribute)."""
    if type(value) is not type(default):
        return False
    if isinstance(value, tuple):
        return len(value) == len(default) and all(_same(a, b) for a, b in zip(value, default))
    if isinstance(value, float):
        if math.isnan(value):
            return math.isnan(default)
        return value == default and math.copysign(1.0, value) == math.copysign(1.0, default)
    return bool(value == default)


def _shown_attrs(node: Node) -> list[tuple[str, Any]]:
    if node.op in ("constant", "fused"):
        return list(node.attrs)
    try:
        defaults = dict(get_op(node.op).attrs)
    except KeyError:
        return list(node.attrs)
    return [(name, value) for name, value in node.attrs
            if name not in defaults or not _same(_frozen_default(defaults[name]), value)]


def _frozen_default(value: Any) -> Any:
    return tuple(_frozen_default(v) for v in value) if isinstance(value, list) else value


class _Printer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def graph(self, graph: Graph, indent: str, header_prefix: str = "", location: str = "") -> None:
        names: dict[Value, str] = {}
        for value in graph.inputs:
            names[value] = f"%{value.name}"
        parameters = ", ".join(f"{names[v]}: {v.type}" for v in graph.inputs)
        results = ", ".join(str(v.type) for v in graph.outputs)
        where = f" where {', '.join(str(r) for r in graph.relations)}" if graph.relations else ""
        header = f"{header_prefix}graph @{graph.name}({parameters}) -> ({results}){where} {{"
        self.emit(indent, header, location)
        inner = indent + "  "
        counter = 0
        for node in graph.nodes:
            for output in node.outputs:
                names[output] = f"%{counter}"
                counter += 1
            self.node(node, names, inner)
        returned = ", ".join(self.name_of(names, value) for value in graph.outputs)
        self.emit(inner, f"return {returned}" if returned else "return", "")
        self.emit(indent, "}", "")

    @staticmethod
    def name_of(names: dict[Value, str], value: Value) -> str:
        try:
            return names[value]
        except KeyError:
            return f"%<undefined {value.type}>"

    def node(self, node: Node, names: dict[Value, str], indent: str) -> None:
        defined = ", ".join(f"{names[o]}: {o.type}" for o in node.outputs)
        text = f"{defined} = {node.op}" if node.outputs else node.op
        if node.inputs:
            text += " " + ", ".join(self.name_of(names, value) for value in node.inputs)
        attrs = _shown_attrs(node)
        if attrs:
            text += " {" + ", ".join(f"{name}={format_attribute(value)}" for name, value in attrs) + "}"
        location = str(node.location) if node.location is not None else ""
        if node.region is not None:
            self.graph(node.region, indent, text + " ", location)
        else:
            self.emit(indent, text, location)

    def emit(self, indent: str, text: str, location: str) -> None:
        line = indent + text
        if location:
            line = line.ljust(COMMENT_COLUMN - 1) + f"  # {location}" if len(line) < COMMENT_COLUMN - 1 \
                else f"{line}  # {location}"
        self.lines.append(line)


def print_graph(graph: Graph) -> str:
    """The graph's canonical text (ends with a newline)."""
    printer = _Printer()
    printer.graph(graph, "")
    return "\n".join(printer.lines) + "\n"
