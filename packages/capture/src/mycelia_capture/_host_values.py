"""Host values after a graph break (issue 7): what the breaking instruction read from a tensor
(``.item()``, ``float(t)``, ``asnumpy()``) changes every call, so a resume never freezes it into its graph.

A number (or numeric host array) in a resume state is a :class:`~._values.Dynamic`: guarded by type only.
With a float tensor it becomes a rank-0 graph input (eager converts it to the tensor's dtype the same
way, so the result is bit-identical); Python arithmetic, comparisons, truth, f-strings, ``float``/
``int``/``abs``/``round``/``str``, tuples and comprehension lists of them stay symbolic (computed from
the entry's arguments, see :class:`~._guards.Computed`). Any other use specializes it (a value guard),
or, for the value the step itself read (*volatile*), is a further graph break there.
"""

from __future__ import annotations

import operator
import types
from typing import Any

import numpy as np

from mycelia._tensor import Tensor
from mycelia.dtype import from_numpy
from mycelia.ir import traced_tensor
from mycelia_capture._guards import AsArray, Attr, Computed, Item, Source
from mycelia_capture._values import Dynamic, DynamicTuple, Var

__all__ = ["SMALL_ARRAY", "HostValuesMixin", "formatted", "joined"]

SMALL_ARRAY = 64  # numpy arrays up to this many elements are guarded by value, larger ones by identity
_CONVERSIONS = {0: None, 1: str, 2: repr, 3: ascii}


class HostValuesMixin:
    """Part of the tracer (it uses the provenance mixin's guards, builder and loads)."""

    def dynamic(self, value: Any, source: Source, volatile: bool = False) -> Var:
        """A number (or a small numpy array) in a resume state: guarded by type (and an array's dtype
        and shape) only; its value is assumed only where the traced code needs it (see :class:`Dynamic`)."""
        if isinstance(value, (np.ndarray, np.generic)):
            self.guards.add(source, "array_meta", (type(value), value.dtype, value.shape))
        else:
            self.guards.add(source, "type", type(value))
        return Dynamic(value, source, self.specialize, volatile)

    def load_state(self, value: Any, source: Source, volatile: bool = False) -> Var:
        """A value saved at a graph break: a host number (or numeric array) as a Dynamic, else loaded."""
        if type(value) in (int, float) or (isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in "biuf"):
            return self.dynamic(value, source, volatile)
        if isinstance(value, types.MethodType) and not isinstance(value.__self__, (type, types.ModuleType)):
            # a `with` block's __exit__ (bound to a manager made in the call): the method's function, and
            # the type of what it is bound to -- the manager is a new object every call
            self.guards.add(Attr(source, "__func__"), "identity", value.__func__)
            self.guards.add(Attr(source, "__self__"), "type", type(value.__self__))
            self.known.setdefault(id(value.__self__), Var(value.__self__, Attr(source, "__self__")))
            self.keep.append(value)
            return Var(value, source)
        return self.load(value, source)

    def specialize(self, var: Dynamic) -> None:
        if var.volatile and type(var.raw) is not bool and self.can_break():  # type: ignore[attr-defined]
            raise self.unsupported(f"uses a value read from a tensor ({var.source.describe()}) in Python code",
                                   breakable=True)
        raw = var.raw
        if isinstance(raw, np.generic):
            self.guards.add(var.source, "value", raw)
        elif isinstance(raw, np.ndarray):  # small arrays by contents, larger ones by identity
            self.guards.add(var.source, *(("array", raw.copy()) if raw.size <= SMALL_ARRAY else ("identity", raw)))
        else:
            self.guards.add(var.source, "value", raw)

    def derived(self, function: Any, arguments: list[Var], label: str) -> Var:
        """``function`` of Dynamic numbers (and constants) as another Dynamic, when that is exact."""
        raws = [a.raw if isinstance(a, Dynamic) else a.value for a in arguments]
        try:
            result = function(*raws)
        except Exception:
            return None  # type: ignore[return-value]
        if type(result) not in (int, float, str, bool) and not isinstance(result, (np.ndarray, np.generic)):
            return None  # type: ignore[return-value]
        parts = tuple(a.source if isinstance(a, Dynamic) else a.value for a in arguments)
        volatile = any(isinstance(a, Dynamic) and a.volatile for a in arguments)
        return Dynamic(result, Computed(function, parts, label), self.specialize, volatile)

    def dynamic_truth(self, var: Dynamic) -> bool:
        return bool(self.derived(bool, [var], f"bool({_label(var)})").value)

    def text(self, function: Any, arguments: list[Var], label: str) -> Var | None:
        """String formatting (f-strings) with a Dynamic part, as a Dynamic string; None without one."""
        if not any(type(a) is Dynamic for a in arguments):
            return None
        return self.derived(function, arguments, label)

    def dynamic_binary(self, symbol: str, function: Any, left: Var, right: Var) -> Var | None:
        """``left <symbol> right`` with a Dynamic operand, without specializing it: with a float tensor
        the number becomes a rank-0 graph input (eager converts it to the tensor's dtype the same way);
        with another number (or float host arrays) the result is a Dynamic (only operations that cannot
        raise: a Dynamic divisor is guarded non-zero). None: the operation runs as usual (specializing)."""
        for number, other in ((left, right), (right, left)):
            if type(number) is Dynamic and type(other) is not Dynamic and symbol in ("+", "-", "*", "/") \
                    and type(number.raw) in (int, float):
                tensor = other.value
                if isinstance(tensor, Tensor) and tensor._dtype.is_floating_point:
                    lifted = Var(self.lift_scalar(number, tensor._dtype))
                    return self.apply_real(function, [other, lifted] if number is right else [lifted, other])  # type: ignore[attr-defined]
        if function in _COMPARISONS:  # numbers compared: a Dynamic bool (specialized only as a bool)
            numbers = all(type(a.raw if type(a) is Dynamic else a.value) in (int, float, bool) for a in (left, right))
            return self.derived(function, [left, right], f"({_label(left)} {symbol} {_label(right)})") \
                if numbers else None
        raws = [a.raw if type(a) is Dynamic else a.value for a in (left, right)]
        numbers = all(type(raw) in (int, float) for raw in raws)
        float_arrays = all(type(raw) in (int, float) or (isinstance(raw, (np.ndarray, np.generic))
                                                          and raw.dtype.kind == "f")
                           for raw in raws)  # numpy float arithmetic never raises (ints can overflow)
        if symbol in ("/", "//", "%") and numbers:
            if type(right) is Dynamic:
                self.guards.add(right.source, "nonzero")  # a zero divisor is another entry (which raises)
            elif right.value == 0:
                return None
        elif symbol not in ("+", "-", "*") or not float_arrays:
            return None
        return self.derived(function, [left, right], f"({_label(left)} {symbol} {_label(right)})")

    def dynamic_call(self, function: Any, args: list[Var]) -> Var | None:
        """A builtin applied to a Dynamic without assuming its value: ``type``/``isinstance`` (the type
        is guarded); ``float``/``int`` (also of a one-element host array), ``abs``, ``hash``, ``round(n, digits)``,
        ``str``/``repr`` as Dynamics; ``Tensor(array)`` of a host array as a graph input (a copy, as
        eager makes). None: the call runs as usual."""
        raw = args[0].raw  # type: ignore[attr-defined]
        if function is type and len(args) == 1:
            return Var(type(raw))
        if function is isinstance and len(args) == 2 and type(args[1]) is not Dynamic:
            return Var(isinstance(raw, self.real(args[1])))
        if (function in (abs, str, repr, hash) and len(args) == 1 and type(raw) in (int, float)) or \
                (function is round and len(args) == 2 and type(raw) is float and type(args[1].value) is int):
            return self.derived(function, args, f"{function.__name__}({_label(args[0])})")
        if len(args) != 1:
            return None
        if function is Tensor and isinstance(raw, np.ndarray):  # its shape and dtype follow from guarded ones
            try:
                dtype = from_numpy(raw.dtype)
            except TypeError:
                return None
            return Var(self.lift_scalar(args[0], dtype, raw.shape))
        if function not in (float, int):
            return None
        kind = raw.dtype.kind if isinstance(raw, (np.ndarray, np.generic)) and raw.size == 1 else type(raw).__name__[0]
        if kind in ("f", "i", "u", "b") if function is float else kind in ("i", "u"):
            return self.derived(function, args, f"{function.__name__}({_label(args[0])})")
        return None

    def effect_value(self, var: Any) -> Any:
        """A value a side effect records: Dynamic numbers stay symbolic (the replay computes them)."""
        return var if type(var) in (Dynamic, DynamicTuple) else self.materialize(var)

    def dynamic_list(self, target: Var, item: Var) -> DynamicTuple:
        """``target`` (a comprehension's list) with ``item`` appended, keeping Dynamic items symbolic."""
        if type(target) is not DynamicTuple:
            if target.source is not None:  # a list saved at a graph break: its items are state too
                self.guards.add(target.source, "type", list)
                self.guards.add(target.source, "len", len(target.value))
                items = [self.load_state(v, Item(target.source, i)) for i, v in enumerate(target.value)]
            else:
                items = [Var(existing) for existing in target.value]
            target = DynamicTuple(list(target.value), items)
        target.append(item)
        return target

    def build_tuple(self, items: list[Var]) -> Var:
        if not any(type(item) in (Dynamic, DynamicTuple) for item in items):
            return self.created(tuple(self.real(item) for item in items))  # type: ignore[attr-defined]
        made = tuple(item.raw if type(item) in (Dynamic, DynamicTuple) else self.real(item)  # type: ignore[attr-defined]
                     for item in items)
        self.created(made)
        return DynamicTuple(made, items)

    def lift_scalar(self, var: Dynamic, dtype: Any, shape: tuple[int, ...] = ()) -> Tensor:
        """A Dynamic number (or host array of ``shape``) as a graph input of ``dtype`` (what eager
        converts it to)."""
        source = AsArray(var.source, dtype)
        existing = self.lifted.get(source)
        if existing is not None:
            return existing
        index = self.guards.scalar_input(source)
        traced = traced_tensor(self.builder.input(f"in{index}", dtype, shape), self.builder)
        self.lifted[source] = traced
        self.input_data[id(traced)] = traced._data
        self.keep.append(traced)
        return traced


_COMPARISONS = frozenset({operator.lt, operator.le, operator.eq, operator.ne, operator.gt, operator.ge})


def _label(var: Var) -> str:
    return var.source.describe() if type(var) is Dynamic else repr(var.value)


def joined(*parts: str) -> str:
    return "".join(parts)


def formatted(value: Any, conversion: int, formats: bool, spec: str) -> Any:
    """FORMAT_VALUE (3.10-3.12) and CONVERT_VALUE / FORMAT_SIMPLE / FORMAT_WITH_SPEC (3.13) as one function."""
    converter = _CONVERSIONS[conversion]
    converted = converter(value) if converter else value
    return format(converted, spec) if formats else converted
