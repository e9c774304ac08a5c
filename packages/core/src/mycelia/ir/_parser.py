"""Parse the IR's printed form back into a :class:`Graph` (the inverse of ``print_graph``).

Line based: a graph header, one line per node (a region node opens a nested graph on its line),
``return``, ``}``. Errors name the line number and what was expected.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._types import Dim, Symbol, TensorType
from mycelia.ir._builder import IR_ONLY_OPS, IRError, normalize_attrs
from mycelia.ir._graph import Constant, Graph, Node, Relation, SourceLocation, Value
from mycelia.ops._registry import get_op

__all__ = ["parse"]

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<hex>0x[0-9a-fA-F]*)
  | (?P<number>-?\d+\.?\d*(?:[eE][-+]?\d+)?|-inf\b|-nan\b)
  | (?P<value>%[A-Za-z0-9_]+)
  | (?P<symbol>@[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<arrow>->|>=)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[\[\](){},:=<>*])
""", re.VERBOSE)

_DTYPES = {d.short_name: d for d in dt.all_dtypes()}


@dataclass
class _Token:
    kind: str
    text: str


class _Line:
    """The tokens of one line and a cursor; ``location`` is its ``# file:line`` comment."""

    def __init__(self, text: str, number: int) -> None:
        self.number = number
        self.location: SourceLocation | None = None
        self.tokens: list[_Token] = []
        position = 0
        while position < len(text):
            if text[position] == "#":
                comment = text[position + 1:].strip()
                file, _, line = comment.rpartition(":")
                if not file or not line.isdigit():
                    raise IRError(f"line {number}: a comment must be a source location 'file:line', got {comment!r}")
                self.location = SourceLocation(file, int(line))
                break
            match = _TOKEN.match(text, position)
            if match is None:
                raise IRError(f"line {number}: unexpected character {text[position]!r} at column {position + 1}")
            position = match.end()
            if match.lastgroup != "space":
                self.tokens.append(_Token(match.lastgroup or "", match.group()))
        self.index = 0

    def error(self, expected: str) -> IRError:
        found = self.tokens[self.index].text if self.index < len(self.tokens) else "end of line"
        return IRError(f"line {self.number}: expected {expected}, found {found!r}")

    def peek(self, text: str | None = None) -> bool:
        if self.index >= len(self.tokens):
            return False
        return text is None or self.tokens[self.index].text == text

    def take(self, text: str | None = None, kind: str | None = None) -> str:
        if self.index >= len(self.tokens):
            raise self.error(text or kind or "a token")
        token = self.tokens[self.index]
        if (text is not None and token.text != text) or (kind is not None and token.kind != kind):
            raise self.error(repr(text) if text else kind or "a token")
        self.index += 1
        return token.text

    def accept(self, text: str) -> bool:
        if self.peek(text):
            self.index += 1
            return True
        return False

    def done(self) -> bool:
        return self.index >= len(self.tokens)


class _Parser:
    def __init__(self, text: str) -> None:
        self.lines = [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
        self.position = 0

    def next_line(self) -> _Line:
        if self.position >= len(self.lines):
            last = self.lines[-1][0] if self.lines else 0
            raise IRError(f"line {last}: unexpected end of text: a graph is missing its closing '}}'")
        number, text = self.lines[self.position]
        self.position += 1
        return _Line(text, number)

    # -- types and values ----------------------------------------------------------------------------
    def type(self, line: _Line) -> TensorType:
        name = line.take(kind="name")
        if name not in _DTYPES:
            raise IRError(f"line {line.number}: unknown dtype {name!r} (known: {', '.join(_DTYPES)})")
        line.take("[")
        dims: list[Dim] = []
        while not line.accept("]"):
            if dims:
                line.take(",")
            dims.append(self.dim(line))
        return TensorType(_DTYPES[name], tuple(dims))

    @staticmethod
    def dim(line: _Line) -> Dim:
        if line.peek() and line.tokens[line.index].kind == "number":
            text = line.take()
            if not text.isdigit():
                raise IRError(f"line {line.number}: a dim must be a non-negative int or a symbol, got {text}")
            return int(text)
        return Symbol(line.take(kind="name"))

    def use(self, line: _Line, scope: dict[str, Value]) -> Value:
        name = line.take(kind="value")
        if name not in scope:
            raise IRError(f"line {line.number}: {name} is used before it is defined")
        return scope[name]

    # -- attributes ---------------------------------------------------------------------------------
    def attribute(self, line: _Line) -> Any:
        if line.accept("("):
            items = []
            while not line.accept(")"):
                items.append(self.attribute(line))
                if not line.accept(","):
                    line.take(")")
                    break
            return tuple(items)
        token = line.tokens[line.index] if not line.done() else None
        if token is None:
            raise line.error("an attribute value")
        if token.kind == "string":
            line.index += 1
            return json.loads(token.text)
        if token.kind == "number":
            line.index += 1
            text = token.text
            return float(text) if any(c in text for c in ".eEni") else int(text)
        if token.kind == "name":
            line.index += 1
            literals = {"True": True, "False": False, "None": None, "inf": float("inf"), "nan": float("nan"),
                        "Ellipsis": Ellipsis}
            if token.text in literals:
                return literals[token.text]
            if token.text in _DTYPES:
                return _DTYPES[token.text]
            if token.text == "dense":
                return self.dense(line)
            if token.text == "slice" and line.peek("("):
                bounds = self.attribute(line)
                if len(bounds) != 3:
                    raise IRError(f"line {line.number}: slice takes (start, stop, step)")
                return slice(*bounds)
        raise line.error("an attribute value")

    def nested(self, line: _Line) -> Any:
        if line.accept("["):
            items: list[Any] = []
            while not line.accept("]"):
                if items:
                    line.take(",")
                items.append(self.nested(line))
            return items
        return self.attribute(line)

    def dense(self, line: _Line) -> Constant:
        line.take("<")
        type_ = self.type(line)
        line.take(":")
        shape = tuple(int(d) for d in type_.shape if isinstance(d, int))
        if len(shape) != len(type_.shape):
            raise IRError(f"line {line.number}: a constant must have a static shape, got {type_}")
        if line.peek() and line.tokens[line.index].kind == "hex":
            digits = line.take()[2:]
            if len(digits) % 2:
                raise IRError(f"line {line.number}: constant data 0x{digits} has an odd number of hex digits")
            data = bytes.fromhex(digits)
            constant = Constant(type_.dtype, shape, data)
            if len(data) != int(np.prod(shape, dtype=np.int64)) * type_.dtype.itemsize:
                raise IRError(f"line {line.number}: constant data does not match {type_}")
        else:
            values = self.nested(line)
            array = np.asarray(values, dtype=np.float64 if type_.dtype.is_floating_point else type_.dtype.numpy)
            if array.size == 0 and 0 in shape:  # "[]" prints every empty shape alike
                array = array.reshape(shape)
            if array.shape != shape:
                raise IRError(f"line {line.number}: constant of shape {array.shape} does not match {type_}")
            constant = Constant.of(array, type_.dtype)
        line.take(">")
        return constant

    # -- graphs ---------------------------------------------------------------------------------------
    def graph(self, line: _Line) -> Graph:
        """Parse a graph whose header starts at ``line``'s cursor, and its body lines."""
        line.take("graph")
        name = line.take(kind="symbol")[1:]
        scope: dict[str, Value] = {}
        inputs: list[Value] = []
        line.take("(")
        while not line.accept(")"):
            if inputs:
                line.take(",")
            value_name = line.take(kind="value")
            line.take(":")
            value = Value(self.type(line), value_name[1:])
            if value_name in scope:
                raise IRError(f"line {line.number}: input {value_name} is declared twice")
            scope[value_name] = value
            inputs.append(value)
        line.take("->")
        line.take("(")
        result_types: list[TensorType] = []
        while not line.accept(")"):
            if result_types:
                line.take(",")
            result_types.append(self.type(line))
        relations: list[Relation] = []
        if line.accept("where"):
            while True:
                relations.append(self.relation(line))
                if not line.accept(","):
                    break
        line.take("{")
        if not line.done():
            raise line.error("end of the graph header")
        nodes: list[Node] = []
        while True:
            body = self.next_line()
            if body.accept("}"):
                raise IRError(f"line {body.number}: graph @{name} ends without a return")
            if body.accept("return"):
                return_line = body.number
                outputs: list[Value] = []
                while not body.done():
                    if outputs:
                        body.take(",")
                    outputs.append(self.use(body, scope))
                closing = self.next_line()
                closing.take("}")
                if not closing.done():
                    raise closing.error("end of line after '}'")
                break
            nodes.append(self.node(body, scope))
        types = [v.type for v in outputs]
        if types != result_types:
            raise IRError(f"line {return_line}: graph @{name} returns {', '.join(map(str, types))} but its header says "
                          f"{', '.join(map(str, result_types))}")
        return Graph(name, tuple(inputs), tuple(nodes), tuple(outputs), tuple(relations))

    def relation(self, line: _Line) -> Relation:
        symbol = Symbol(line.take(kind="name"))
        if line.accept(">="):
            bound = line.take(kind="number")
            if not bound.isdigit():
                raise IRError(f"line {line.number}: a lower bound must be a non-negative int, got {bound}")
            return Relation("at_least", symbol, (int(bound),))
        line.take("=")
        operands = [self.dim(line)]
        while line.accept("*"):
            operands.append(self.dim(line))
        return Relation("product" if len(operands) > 1 else "equal", symbol, tuple(operands))

    def node(self, line: _Line, scope: dict[str, Value]) -> Node:
        defined: list[tuple[str, TensorType]] = []
        while line.peek() and line.tokens[line.index].kind == "value":
            value_name = line.take()
            line.take(":")
            defined.append((value_name, self.type(line)))
            if not line.accept(","):
                line.take("=")
                break
        op = line.take(kind="name")
        inputs: list[Value] = []
        while line.peek() and line.tokens[line.index].kind == "value":
            inputs.append(self.use(line, scope))
            if not line.accept(","):
                break
        attrs: list[tuple[str, Any]] = []
        if line.accept("{"):
            while not line.accept("}"):
                if attrs:
                    line.take(",")
                attr_name = line.take(kind="name")
                line.take("=")
                attrs.append((attr_name, self.attribute(line)))
        location = line.location
        region = self.graph(line) if line.peek("graph") else None
        if region is None and not line.done():
            raise line.error("end of line")
        if op not in IR_ONLY_OPS:
            try:
                attrs = list(normalize_attrs(get_op(op), dict(attrs)))
            except KeyError:
                raise IRError(f"line {line.number}: unknown op {op!r}") from None
            except IRError as error:
                raise IRError(f"line {line.number}: {error}") from None
        outputs = []
        for value_name, type_ in defined:
            if value_name in scope:
                raise IRError(f"line {line.number}: {value_name} is defined twice")
            scope[value_name] = value = Value(type_)
            outputs.append(value)
        return Node(op, tuple(inputs), tuple(outputs), tuple(attrs), region, location)


def parse(text: str) -> Graph:
    """The graph printed in ``text`` (one top-level graph)."""
    parser = _Parser(text)
    graph = parser.graph(parser.next_line())
    if parser.position != len(parser.lines):
        number, _ = parser.lines[parser.position]
        raise IRError(f"line {number}: text after the end of graph @{graph.name}")
    return graph
