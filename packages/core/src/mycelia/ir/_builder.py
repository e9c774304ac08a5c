"""Building graphs by hand (tests, frontends, benchmarks): ``GraphBuilder``.

``builder.op("add", x, 1.0)`` applies the same rules as eager dispatch: operands at an op's promoted
positions get one common dtype (explicit ``cast`` nodes are inserted), Python scalars become ``constant``
nodes of that dtype, attributes get their declared defaults, and the result type comes from the op's
``infer``. So a graph built here computes exactly what the eager call would.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._types import Dim, Symbol, TensorType
from mycelia.ir._graph import Constant, Graph, Node, Relation, SourceLocation, Value
from mycelia.ops._registry import OpDef, get_op

__all__ = ["IR_ONLY_OPS", "GraphBuilder", "IRError", "as_shape", "normalize_attrs"]

# Node kinds that are not registered ops: a constant, and a fused group whose body is its region.
IR_ONLY_OPS = frozenset({"constant", "fused"})


class IRError(ValueError):
    """A malformed graph or a bad builder call; the message names the op and the value."""


def as_shape(dims: Sequence[int | str | Symbol]) -> tuple[Dim, ...]:
    """Dims given as ints, symbol names or Symbols."""
    shape: list[Dim] = []
    for dim in dims:
        if isinstance(dim, Symbol):
            shape.append(dim)
        elif isinstance(dim, str):
            if not dim.isidentifier():
                raise IRError(f"a symbolic dim must be an identifier, got {dim!r}")
            shape.append(Symbol(dim))
        elif isinstance(dim, (int, np.integer)) and not isinstance(dim, bool) and dim >= 0:
            shape.append(int(dim))
        else:
            raise IRError(f"a dim must be a non-negative int or a symbol name, got {dim!r}")
    return tuple(shape)


def _frozen(value: Any) -> Any:
    """Attribute values hashable: lists become tuples, numpy scalars Python scalars."""
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(item) for item in value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        raise IRError("array attributes are not allowed: pass the array as a constant operand")
    return value


def normalize_attrs(op: OpDef, attrs: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """``attrs`` completed with the op's declared defaults, in declared order; unknown names rejected."""
    declared = dict(op.attrs)
    unknown = sorted(set(attrs) - set(declared))
    if unknown:
        raise IRError(f"{op.name}: unknown attribute(s) {', '.join(unknown)}; declared: "
                      f"{', '.join(declared) or 'none'}")
    return tuple((name, _frozen(attrs.get(name, default))) for name, default in op.attrs)


def _describe(value: Any) -> str:
    return repr(value) if isinstance(value, Value) else f"{type(value).__name__} {value!r}"


class GraphBuilder:
    """Accumulates inputs and nodes; ``build(outputs)`` returns the immutable :class:`Graph`."""

    def __init__(self, name: str = "graph") -> None:
        if not name.replace(".", "_").isidentifier():
            raise IRError(f"a graph name must be an identifier, got {name!r}")
        self.name = name
        self._inputs: list[Value] = []
        self._nodes: list[Node] = []
        self._relations: list[Relation] = []
        self._defined: set[Value] = set()
        self._input_names: set[str] = set()
        # Given to nodes built without an explicit location (the frontend sets it per source line).
        self.location: SourceLocation | None = None

    # -- inputs, constants, relations ---------------------------------------------------------------
    def input(self, name: str, dtype: dt.DType, shape: Sequence[int | str | Symbol]) -> Value:
        if not name.isidentifier() or name in self._input_names:
            raise IRError(f"input name {name!r} must be a new identifier")
        value = Value(TensorType(dtype, as_shape(shape)), name)
        self._input_names.add(name)
        self._inputs.append(value)
        self._defined.add(value)
        return value

    def constant(self, value: Any, dtype: dt.DType | None = None, location: SourceLocation | None = None) -> Value:
        """A constant node holding ``value`` (a Python scalar or array) as ``dtype``."""
        if dtype is None:
            dtype = dt.from_numpy(np.asarray(value).dtype)
        constant = Constant.of(value, dtype)
        return self.node("constant", (), (constant.type,), (("value", constant),), location=location)[0]

    def relation(self, kind: str, symbol: str | Symbol, *operands: int | str | Symbol) -> None:
        symbol = Symbol(symbol) if isinstance(symbol, str) else symbol
        dims = tuple(Symbol(o) if isinstance(o, str) else o for o in operands)
        self._relations.append(Relation(kind, symbol, dims))

    # -- nodes -----------------------------------------------------------------------------------------
    def node(self, op: str, inputs: Sequence[Value], output_types: Sequence[TensorType],
             attrs: Sequence[tuple[str, Any]] = (), region: Graph | None = None,
             location: SourceLocation | None = None) -> tuple[Value, ...]:
        """Append a node exactly as given (no promotion or inference; the verifier checks it)."""
        for value in inputs:
            if value not in self._defined:
                raise IRError(f"{op}: operand {_describe(value)} is not defined in graph @{self.name} "
                              "(use a value this builder created)")
        outputs = tuple(Value(t) for t in output_types)
        self._nodes.append(Node(op, tuple(inputs), outputs, tuple(attrs), region, location or self.location))
        self._defined.update(outputs)
        return outputs

    def op(self, name: str, *operands: Any, location: SourceLocation | None = None, **attrs: Any) -> Any:
        """Apply registered op ``name`` with eager promotion rules; returns a Value (or a tuple for
        multi-output ops). A variadic op takes its sequence first, as in eager: ``op("concat", [a, b], axis=0)``."""
        try:
            opdef = get_op(name)
        except KeyError:
            raise IRError(f"no op named {name!r} is registered") from None
        if opdef.variadic:
            if not operands or not isinstance(operands[0], (list, tuple)):
                raise IRError(f"{name}: expects a sequence of values first")
            flat = [*operands[0], *operands[1:]]
            count = len(operands[0])
            positions: Sequence[int] = range(count) if 0 in opdef.promote else ()
        else:
            flat = list(operands)
            count = -1
            positions = opdef.promote
        flat = self._promote(opdef, flat, positions, location)
        normalized = normalize_attrs(opdef, attrs)
        types = [value.type for value in flat]
        try:
            if count >= 0:
                result = opdef.infer(types[:count], *types[count:], **dict(normalized))
            else:
                result = opdef.infer(*types, **dict(normalized))
        except Exception as error:  # the op's own message, with the operand types
            raise IRError(f"{name}: {error} (operands: {', '.join(str(t) for t in types)})") from None
        multiple = isinstance(result, tuple)
        outputs = self.node(name, flat, result if multiple else (result,), normalized, location=location)
        return outputs if multiple else outputs[0]

    def _promote(self, opdef: OpDef, flat: list[Any], positions: Sequence[int],
                 location: SourceLocation | None) -> list[Value]:
        common: dt.DType | None = None
        for index, value in enumerate(flat):
            if isinstance(value, Value):
                if index in positions:
                    common = value.dtype if common is None else dt.promote_types(common, value.dtype)
            elif not isinstance(value, (bool, int, float)) or index not in positions:
                raise IRError(f"{opdef.name}: operand {index} must be a Value"
                              f"{' or a Python scalar' if index in positions else ''}, got {_describe(value)}")
        if common is None and any(index < len(flat) for index in positions):
            raise IRError(f"{opdef.name}: needs at least one Value operand")
        for index in positions:
            if index < len(flat) and not isinstance(flat[index], Value):
                assert common is not None
                common = dt.result_type_with_scalar(common, flat[index])
        if common is not None and common not in opdef.dtypes:
            raise IRError(f"{opdef.name}: dtype {common} is not supported")
        result: list[Value] = []
        for index, value in enumerate(flat):
            if index in positions and common is not None:
                if isinstance(value, Value):
                    if value.dtype is not common:
                        value = self.op("cast", value, dtype=common, location=location)
                else:
                    value = self.constant(value, common, location)
            result.append(value)
        return result

    def build(self, *outputs: Value) -> Graph:
        for value in outputs:
            if value not in self._defined:
                raise IRError(f"output {_describe(value)} is not defined in graph @{self.name}")
        return Graph(self.name, tuple(self._inputs), tuple(self._nodes), tuple(outputs), tuple(self._relations))
