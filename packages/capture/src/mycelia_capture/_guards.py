"""Sources (how to reload a value from a call's frame) and guards (what a cache entry assumed).

A source is an expression over the call's arguments: a parameter, a constant object the guard
holds, an attribute, an item, a closure cell. Guards are predicates on sources; an entry's guards are
compiled into one generated Python function that evaluates each shared source once, checks every
predicate in order and returns the graph's tensor inputs (or None when a guard fails). The same text
is what ``jit_info(fn).guards`` shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mycelia._tensor import Tensor

__all__ = ["AsArray", "Attr", "Computed", "Constant", "GuardSet", "Item", "Local", "Source", "attribute_code"]


class Source:
    """Base class; subclasses are frozen dataclasses, so equal sources are shared."""

    def expression(self, names: dict[Source, str], namespace: dict[str, Any]) -> str:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class Local(Source):
    """A parameter of the jitted function (after binding: defaults applied)."""

    name: str
    index: int

    def expression(self, names: dict[Source, str], namespace: dict[str, Any]) -> str:
        return f"a{self.index}"

    def describe(self) -> str:
        return self.name


@dataclass(frozen=True, eq=False)
class Constant(Source):
    """An object the guard function holds (a function's globals dict, a module)."""

    value: Any
    label: str

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Constant) and other.value is self.value

    def __hash__(self) -> int:
        return id(self.value)

    def expression(self, names: dict[Source, str], namespace: dict[str, Any]) -> str:
        key = f"k{id(self.value)}"
        namespace[key] = self.value
        return key

    def describe(self) -> str:
        return self.label


@dataclass(frozen=True)
class Attr(Source):
    base: Source
    name: str

    def expression(self, names: dict[Source, str], namespace: dict[str, Any]) -> str:
        return attribute_code(names[self.base], self.name)

    def describe(self) -> str:
        return f"{self.base.describe()}.{self.name}"


@dataclass(frozen=True)
class Item(Source):
    base: Source
    key: Any

    def expression(self, names: dict[Source, str], namespace: dict[str, Any]) -> str:
        return f"{names[self.base]}[{self.key!r}]"

    def describe(self) -> str:
        return f"{self.base.describe()}[{self.key!r}]"


@dataclass(frozen=True, eq=False)
class Computed(Source):
    """A host number computed from other sources: ``function(*arguments)`` (arguments are sources or
    constants). Compared by identity: each is made once, where the traced code computed it."""

    function: Any
    arguments: tuple[Any, ...]
    label: str

    @property
    def bases(self) -> tuple[Source, ...]:
        return tuple(a for a in self.arguments if isinstance(a, Source))

    def expression(self, names: dict[Source, str], namespace: dict[str, Any]) -> str:
        return self.spell(lambda source: names[source], namespace)

    def spell(self, spell_source: Callable[[Source], str], namespace: dict[str, Any]) -> str:
        function = f"f{id(self.function)}"
        namespace[function] = self.function
        parts = []
        for argument in self.arguments:
            if isinstance(argument, Source):
                parts.append(spell_source(argument))
            else:
                parts.append(f"v{id(argument)}")
                namespace[f"v{id(argument)}"] = argument
        return f"{function}({', '.join(parts)})"

    def describe(self) -> str:
        return self.label


@dataclass(frozen=True)
class AsArray(Source):
    """A host number (or array) as a new array of ``dtype`` (numpy): a graph input standing for it."""

    base: Source
    dtype: Any

    def expression(self, names: dict[Source, str], namespace: dict[str, Any]) -> str:
        namespace["ASARRAY"] = np.array  # a copy: Tensor(array) copies, and a graph output may be an input
        namespace[f"n{id(self.dtype)}"] = self.dtype.numpy
        return f"ASARRAY({names[self.base]}, n{id(self.dtype)})"

    def describe(self) -> str:
        return f"{self.base.describe()} as {self.dtype.short_name}[]"


def attribute_code(base: str, name: str) -> str:
    """``base.name``, or ``getattr(base, 'name')`` for names that are not identifiers (CellList's "0")."""
    return f"{base}.{name}" if name.isidentifier() else f"getattr({base}, {name!r})"


# -- guards ----------------------------------------------------------------------------------------------
@dataclass
class GuardSet:
    """The predicates of one cache entry plus the sources of the graph's tensor inputs."""

    checks: list[tuple[Source, str, Any]] = field(default_factory=list)  # (source, kind, expected)
    tensor_inputs: list[Source] = field(default_factory=list)
    _seen: set[tuple[Source, str]] = field(default_factory=set)
    # (label, expression, names it uses, expected value): process state such as grad mode.
    global_checks: list[tuple[str, str, dict[str, Any], Any]] = field(default_factory=list)

    def add(self, source: Source, kind: str, expected: Any = None) -> None:
        """kinds: ``value`` (type and ==), ``identity`` (is), ``type`` (exact type), ``len``,
        ``tensor`` (dtype, shape), ``absent`` (key not in a dict), ``none``."""
        key = (source, kind)
        if key in self._seen:
            return
        self._seen.add(key)
        self.checks.append((source, kind, expected))

    def add_global_state(self, label: str, expression: str, values: dict[str, Any], expected: Any) -> None:
        self.global_checks.append((label, expression, values, expected))

    def scalar_input(self, source: AsArray) -> int:
        """Index of a host number passed to the graph as a rank-0 array (its type is guarded)."""
        if source not in self.tensor_inputs:
            self.tensor_inputs.append(source)
        return self.tensor_inputs.index(source)

    def tensor_input(self, source: Source, tensor: Tensor, shape: tuple[Any, ...] | None = None) -> int:
        """Index of ``source`` among the graph's tensor inputs (added once), with its guard. ``shape`` may
        name dims by symbol (a dynamic dim: any size >= 2, equal wherever the symbol appears)."""
        if source in self.tensor_inputs:
            return self.tensor_inputs.index(source)
        self.add(source, "tensor", (type(tensor), tensor._dtype, tuple(tensor.shape) if shape is None else shape))
        self.tensor_inputs.append(source)
        return len(self.tensor_inputs) - 1

    # -- code generation -------------------------------------------------------------------------------
    def _sources_in_order(self) -> list[Source]:
        ordered: list[Source] = []

        def visit(source: Source) -> None:
            if source in ordered:
                return
            for base in source.bases if isinstance(source, Computed) else (getattr(source, "base", None),):
                if base is not None:
                    visit(base)
            ordered.append(source)

        for source, _, _ in self.checks:
            visit(source)
        for source in self.tensor_inputs:
            visit(source)
        return ordered

    def _predicate(self, name: str, kind: str, expected: Any, namespace: dict[str, Any]) -> str:
        slot = f"e{len(namespace)}"
        namespace[slot] = expected
        if kind == "value":
            type_slot = f"t{len(namespace)}"
            namespace[type_slot] = type(expected)
            return f"type({name}) is {type_slot} and {name} == {slot}"
        if kind == "identity":
            return f"{name} is {slot}"
        if kind == "type":
            return f"type({name}) is {slot}"
        if kind == "len":
            return f"len({name}) == {slot}"
        if kind == "no_attribute":
            return f"not hasattr({name}, {slot})"
        if kind == "nonzero":
            return f"{name} != 0"
        if kind == "array":
            namespace["ARRAY_EQUAL"] = _array_equal
            return f"ARRAY_EQUAL({name}, {slot})"
        if kind == "array_meta":  # a host array's type, dtype and shape (its contents are not assumed)
            namespace[slot] = expected
            return f"type({name}) is {slot}[0] and {name}.dtype == {slot}[1] and {name}.shape == {slot}[2]"
        if kind == "tensor":
            tensor_type, dtype, shape = expected
            namespace[slot] = tensor_type
            namespace[slot + "d"] = dtype
            head = f"type({name}) is {slot} and {name}._dtype is {slot}d and {name}._autograd is None"
            if all(isinstance(dim, int) for dim in shape):
                namespace[slot + "s"] = shape
                return f"{head} and {name}._data.shape == {slot}s"
            symbols = namespace.setdefault("__symbols__", {})
            parts = [f"len({name}._data.shape) == {len(shape)}"]
            for index, dim in enumerate(shape):
                size = f"{name}._data.shape[{index}]"
                if isinstance(dim, int):
                    parts.append(f"{size} == {dim}")
                elif str(dim) in symbols:
                    parts.append(f"{size} == {symbols[str(dim)]}")
                else:
                    symbols[str(dim)] = size
                    parts.append(f"{size} >= 2")  # 0 and 1 broadcast differently: they get their own entry
            return f"{head} and " + " and ".join(parts)
        raise ValueError(f"unknown guard kind {kind!r}")

    def code(self, namespace: dict[str, Any]) -> tuple[list[str], list[str], str]:
        """``(lines, input_expressions, text)``: guard statements for the body of a generated function
        whose parameters are ``a0, a1, …`` (each failing check ``return MISS``; attribute/key errors
        are caught by the caller's ``try``), the expressions of the tensor inputs, and the guard text."""
        names: dict[Source, str] = {}
        lines: list[str] = []
        text_lines: list[str] = []
        checks_by_source: dict[Source, list[tuple[str, Any]]] = {}
        for source, kind, expected in self.checks:
            checks_by_source.setdefault(source, []).append((kind, expected))
        for index, source in enumerate(self._sources_in_order()):
            expression = source.expression(names, namespace)
            if isinstance(source, Local):
                names[source] = expression
            else:
                names[source] = f"s{index}"
                lines.append(f"s{index} = {expression}")
            for kind, expected in checks_by_source.get(source, []):
                if kind == "alias":
                    lines.append(f"if {names[source]} is not {names[expected]}: return MISS")
                    text_lines.append(f"{source.describe()} is {expected.describe()}")
                    continue
                if kind == "absent":
                    key_slot = f"e{len(namespace)}"
                    namespace[key_slot] = expected
                    lines.append(f"if {key_slot} in {names[source]}: return MISS")
                    text_lines.append(f"{expected!r} not in {source.describe()}")
                    continue
                predicate = self._predicate(names[source], kind, expected, namespace)
                lines.append(f"if not ({predicate}): return MISS")
                text_lines.append(_describe_guard(source, kind, expected))
        for position, (label, expression, values, expected) in enumerate(self.global_checks):
            namespace.update(values)
            namespace[f"ge{position}"] = expected
            lines.append(f"if {expression} is not ge{position} and {expression} != ge{position}: return MISS")
            text_lines.append(f"{label} == {expected!r}")
        return lines, [names[s] for s in self.tensor_inputs], "\n".join(text_lines)

    def compile(self, argument_count: int) -> tuple[Callable[..., Any], str]:
        """``(check, text)``: ``check(*bound_args)`` returns the tuple of tensor inputs or None."""
        namespace: dict[str, Any] = {"MISS": None}
        lines, inputs, text = self.code(namespace)
        body = "\n".join(f"        {line}" for line in lines)
        source = (f"def check({', '.join(f'a{i}' for i in range(argument_count))}):\n    try:\n{body}\n"
                  f"        return ({''.join(i + ', ' for i in inputs)})\n"
                  "    except (AttributeError, KeyError, IndexError, TypeError):\n        return None\n")
        exec(compile(source, "<mycelia guards>", "exec"), namespace)
        return namespace["check"], text


def _array_equal(value: Any, expected: Any) -> bool:
    return (type(value) is type(expected) and value.dtype == expected.dtype and value.shape == expected.shape
            and bool((value == expected).all()))


def _describe_guard(source: Source, kind: str, expected: Any) -> str:
    where = source.describe()
    if kind == "value":
        return f"{where} == {expected!r} ({type(expected).__name__})"
    if kind == "identity":
        label = (getattr(expected, "__qualname__", None) or getattr(expected, "__name__", None)
                 or type(expected).__name__)
        return f"{where} is <{label} at {id(expected):#x}>"
    if kind == "type":
        return f"type({where}) is {expected.__name__}"
    if kind == "array_meta":
        return f"{where}: {expected[0].__name__} {expected[1]}{list(expected[2])} (any contents)"
    if kind == "len":
        return f"len({where}) == {expected}"
    if kind == "no_attribute":
        return f"not hasattr({where}, {expected!r})"
    if kind == "nonzero":
        return f"{where} != 0"
    if kind == "tensor":
        _, dtype, shape = expected
        dims = ", ".join(str(d) if isinstance(d, int) else f"{d}>=2" for d in shape)
        return f"{where}: Tensor {dtype.short_name}[{dims}], no gradient tracking"
    return f"{where}: {kind} {expected!r}"
