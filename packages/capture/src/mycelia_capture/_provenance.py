"""Provenance: values loaded from the call's frame with guards (arguments, globals, attributes, items,
closure cells), tensors lifted to graph inputs, sourced containers materialised for real code."""

from __future__ import annotations

import builtins
import operator
import types
from typing import Any

import numpy as np

from mycelia import nn
from mycelia._tensor import Tensor
from mycelia._types import Symbol
from mycelia.ir import GraphBuilder, TracedArray, traced_tensor
from mycelia_capture._guards import Attr, Constant, GuardSet, Item, Local, Source
from mycelia_capture._host_values import SMALL_ARRAY, HostValuesMixin
from mycelia_capture._values import NULL, CaptureAbort, Dynamic, DynamicTuple, Unsupported, Var

__all__ = ["MUTATING_METHODS", "SCALARS", "SMALL_ARRAY", "Bound", "ProvenanceMixin", "cell_filled", "framework",
           "python_method"]

SCALARS = (bool, int, float, complex, str, bytes, type(None), type(Ellipsis))
_IDENTITY_TYPES = (types.FunctionType, types.BuiltinFunctionType, types.ModuleType, type, types.MethodType)
_FRAMEWORK_PREFIXES = ("mycelia.", "mycelia_")
MUTATING_METHODS = frozenset({
    "append", "extend", "insert", "remove", "pop", "clear", "sort", "reverse", "update", "setdefault", "popitem",
    "add", "discard", "difference_update", "intersection_update", "symmetric_difference_update", "appendleft",
    "extendleft", "popleft", "rotate", "__setitem__", "__delitem__", "__iadd__", "__imul__",
})


class Bound:
    """A Python function bound to a traced ``self`` (keeps the receiver's source for guards)."""

    def __init__(self, function: types.FunctionType, receiver: Var) -> None:
        self.function = function
        self.receiver = receiver



class ProvenanceMixin(HostValuesMixin):
    def __init__(self, config: Any, builder: GraphBuilder) -> None:
        self.config = config
        self.builder = builder
        self.guards = GuardSet()
        self.frames: list[Any] = []
        self.steps = 0
        self.lifted: dict[Source, Tensor] = {}
        self.lifted_by_id: dict[int, tuple[Source, Tensor]] = {}
        self.input_data: dict[int, Any] = {}  # id(traced input) -> its original TracedArray
        self.known: dict[int, Var] = {}
        self.created_ids: set[int] = set()
        self.keep: list[Any] = []  # objects whose ids are in the tables above stay alive while tracing
        self.local_functions: set[int] = set()
        self.materialized: dict[Source, Any] = {}
        self.proxies: dict[int, Var] = {}
        self.direct_call = False  # the next call() is a Call instruction's (its callee's return is the result)
        self.breaks_allowed = False  # set by the capture when a continuation can be made
        self.max_steps = config.max_unrolled_instructions
        self.init_effects()  # type: ignore[attr-defined]
        self.dynamic_dims: dict[tuple[int, ...], set[int]] = {}  # argument key -> dims traced as symbols
        self.size_symbols: dict[int, Symbol] = {}  # id(proxy handed to real code) -> the function it traces

    # -- errors --------------------------------------------------------------------------------------------
    def unsupported(self, reason: str, breakable: bool = False) -> Unsupported:
        frame = self.frames[-1] if self.frames else None
        if frame is None:
            return Unsupported(reason, breakable=breakable)
        return Unsupported(reason, frame.code.filename, frame.lineno, breakable)

    # -- provenance ------------------------------------------------------------------------------------------
    def created(self, value: Any) -> Var:
        self.created_ids.add(id(value))
        self.keep.append(value)
        return Var(value)

    def wrap(self, value: Any) -> Var:
        known = self.known.get(id(value))
        if known is not None:
            return known
        if isinstance(value, Tensor) and not isinstance(value._data, TracedArray):
            return Var(self.resolve_tensor(value))
        return Var(value)

    def lift(self, tensor: Tensor, source: Source) -> Tensor:
        """A real tensor read from ``source`` becomes a graph input (once per source; an aliased tensor
        reuses the first source's input under an identity guard)."""
        existing = self.lifted.get(source)
        if existing is not None:
            return existing
        if tensor._autograd is not None:
            raise self.unsupported(f"{source.describe()} is a tensor being differentiated by an outer gradient")
        aliased = self.lifted_by_id.get(id(tensor))
        if aliased is not None:
            self.guards.add(source, "alias", aliased[0])
            self.lifted[source] = aliased[1]
            return aliased[1]
        shape = self.symbolic_shape(source, tensor)
        index = self.guards.tensor_input(source, tensor, shape)
        name = f"in{index}"
        value = self.builder.input(name, tensor._dtype, shape)
        traced = traced_tensor(value, self.builder)
        if type(tensor) is not Tensor:  # a Parameter stays a Parameter (name, requires_grad) while traced
            stand_in = object.__new__(type(tensor))
            for slot in ("name", "requires_grad"):
                if hasattr(tensor, slot):
                    setattr(stand_in, slot, getattr(tensor, slot))
            stand_in._data, stand_in._dtype = traced._data, traced._dtype
            stand_in._backend, stand_in._autograd = traced._backend, None
            traced = stand_in
        self.lifted[source] = traced
        self.lifted_by_id[id(tensor)] = (source, traced)
        self.input_data[id(traced)] = traced._data
        self.keep.extend((tensor, traced))
        return traced

    def input_source(self, tensor: Tensor) -> Source | None:
        """The source of a lifted input that still holds its input value (None for computed tensors)."""
        if self.input_data.get(id(tensor)) is not tensor._data:
            return None
        for source, traced in self.lifted.items():
            if traced is tensor:
                return source
        return None

    def symbolic_shape(self, source: Source, tensor: Tensor) -> tuple[Any, ...]:
        """The tensor's shape with its dynamic dims (per argument, from the cache's history) as symbols;
        dims of equal size share a symbol."""
        shape = tuple(tensor.shape)
        key: tuple[int, ...] | None = None
        if isinstance(source, Local):
            key = (source.index,)
        elif isinstance(source, Item) and isinstance(source.base, Local) and isinstance(source.key, int):
            key = (source.base.index, source.key)
        dims = self.dynamic_dims.get(key, ()) if key is not None else ()
        result: list[Any] = list(shape)
        for dim in dims:
            if dim < len(shape) and shape[dim] >= 2:
                symbol = self.size_symbols.get(shape[dim])
                if symbol is None:
                    symbol = self.size_symbols[shape[dim]] = Symbol(f"s{len(self.size_symbols)}")
                result[dim] = symbol
        return tuple(result)

    def load(self, value: Any, source: Source) -> Var:
        """``value`` read from ``source``: guarded by kind (value, identity or type) and remembered."""
        if isinstance(value, Tensor):
            if isinstance(value._data, TracedArray):  # already a value of this graph (made inside the call)
                return Var(value)
            return Var(self.lift(value, source), source)
        if isinstance(value, SCALARS):
            self.guards.add(source, "identity" if value is None or value is Ellipsis else "value", value)
            return Var(value, source)
        if isinstance(value, types.FunctionType) and id(value) in self.local_functions:
            return Var(value)
        self.guard_object(value, source, exact=False)
        if isinstance(value, (types.MethodType, types.BuiltinMethodType)) and \
                not isinstance(getattr(value, "__self__", None), (types.ModuleType, type(None))):
            # its receiver is reachable too (a `with` block's __exit__, a list's append)
            self.known.setdefault(id(value.__self__), Var(value.__self__, Attr(source, "__self__")))
        var = Var(value, source)
        self.known.setdefault(id(value), var)
        self.keep.append(value)
        return var

    def materialize(self, var: Any) -> Any:
        """The value of ``var`` ready for real Python: a sourced container deep-guarded and copied with
        its tensors lifted; anything else as is."""
        if not isinstance(var, Var):
            return var
        if var.source is None or isinstance(var.value, (Tensor, *SCALARS)):
            if var.source is None:
                self.check_unmutated(var.value)  # type: ignore[attr-defined]
            return var.value
        self.check_unmutated(var.value)  # type: ignore[attr-defined]
        if var.source not in self.materialized:
            self.materialized[var.source] = self._deep(var.value, var.source)
        return self.materialized[var.source]

    def _deep(self, value: Any, source: Source) -> Any:
        if isinstance(value, Tensor):
            return value if isinstance(value._data, TracedArray) else self.lift(value, source)
        if isinstance(value, SCALARS):
            self.guards.add(source, "identity" if value is None or value is Ellipsis else "value", value)
            return value
        if isinstance(value, (list, tuple)):
            self.guards.add(source, "type", type(value))
            self.guards.add(source, "len", len(value))
            items = [self._deep(item, Item(source, index)) for index, item in enumerate(value)]
            if isinstance(value, tuple) and hasattr(value, "_fields"):
                return type(value)(*items)
            return type(value)(items)
        if isinstance(value, dict):
            self.guards.add(source, "type", type(value))
            self.guards.add(source, "len", len(value))
            if not all(isinstance(key, (str, int)) for key in value):
                raise self.unsupported(f"{source.describe()} is a dict with keys other than str/int")
            return {key: self._deep(item, Item(source, key)) for key, item in value.items()}
        if isinstance(value, np.ndarray) and value.size <= SMALL_ARRAY:
            # A host value (e.g. what .asnumpy() returned before a graph break): guarded by its contents.
            self.guards.add(source, "array", value.copy())
            return value
        self.guard_object(value, source, exact=True)
        self.known.setdefault(id(value), Var(value, source))
        self.keep.append(value)
        return value

    real = materialize

    def guard_object(self, value: Any, source: Source, exact: bool) -> None:
        """Functions, classes and modules by identity; a bound method by what it binds (each read makes a
        new one); other objects by type, or (``exact``: handed to real code) by identity."""
        if isinstance(value, types.MethodType):
            self.guards.add(Attr(source, "__func__"), "identity", value.__func__)
            self.guards.add(Attr(source, "__self__"), "identity", value.__self__)
        elif isinstance(value, types.BuiltinMethodType) and \
                not isinstance(value.__self__, (types.ModuleType, type(None))):
            # a bound builtin method (lst.append) is a new object per read: guard its receiver and name
            self.guards.add(Attr(source, "__self__"), "identity", value.__self__)
            self.guards.add(Attr(source, "__name__"), "value", value.__name__)
        elif exact or isinstance(value, _IDENTITY_TYPES) or type(value).__module__ == "mycelia.dtype":
            self.guards.add(source, "identity", value)
        else:
            self.guards.add(source, "type", type(value))

    def resolve_tensor(self, tensor: Tensor) -> Tensor:
        """A real tensor met inside the trace (a Parameter a framework call returned) as its graph input:
        found by identity among lifted tensors, or by its attribute path in a Cell read from a source."""
        if isinstance(tensor._data, TracedArray):
            return tensor
        lifted = self.lifted_by_id.get(id(tensor))
        if lifted is not None:
            return lifted[1]
        for var in list(self.known.values()):
            if isinstance(var.value, nn.Cell) and var.source is not None:
                source = _parameter_source(var.value, var.source, tensor)
                if source is not None:
                    return self.lift(tensor, source)
        # Held by an object the trace already depends on (a closure's list of weights): read through the
        # object itself at every call, so a new value in the same Parameter is seen.
        return self.lift(tensor, Constant(tensor, getattr(tensor, "name", None) or f"tensor@{id(tensor):#x}"))

    def resolve(self, value: Any) -> Any:
        """``value`` with real tensors (also inside lists/tuples) replaced by their graph inputs."""
        if isinstance(value, Tensor):
            return self.resolve_tensor(value)
        if type(value) in (list, tuple) and any(isinstance(item, Tensor) for item in value):
            resolved = type(value)(self.resolve(item) for item in value)
            self.created_ids.add(id(resolved))
            self.keep.append(resolved)
            return resolved
        return value

    def identity(self, var: Any) -> Any:
        return None if var is NULL else var.value

    def truth(self, var: Var) -> bool:
        if type(var) is Dynamic and type(var.raw) in (int, float, bool):  # guarded on the truth, not the number
            return self.dynamic_truth(var)
        for name in ("__bool__", "__len__"):
            method = python_method(var.value, name)
            if method is not None:
                return bool(self.materialize(self.inline(method, [var], {}, None)))
        value = self.materialize(var)
        if isinstance(value, Tensor):
            raise self.unsupported("branches on a tensor's value (data-dependent control flow)", breakable=True)
        return bool(value)

    def is_outside(self, var: Var) -> bool:
        """An object that existed before the call (writes to it are side effects to replay)."""
        return var.source is not None or id(var.value) not in self.created_ids

    # -- loads ------------------------------------------------------------------------------------------------
    def function_globals(self, frame: Any) -> Source:
        return Constant(frame.function.__globals__, f"{frame.function.__module__}.__dict__")

    def load_global(self, frame: Any, name: str) -> Var:
        namespace = frame.function.__globals__
        source = self.function_globals(frame)
        stored = self.stored_global(namespace, name)  # type: ignore[attr-defined]
        if stored is not None:  # written earlier in this call (replayed after the graph)
            return stored  # type: ignore[no-any-return]
        if name in namespace:
            return self.load(namespace[name], Item(source, name))
        builtins_dict = namespace.get("__builtins__", builtins.__dict__)
        if isinstance(builtins_dict, types.ModuleType):
            builtins_dict = builtins_dict.__dict__
        if name not in builtins_dict:
            raise CaptureAbort(NameError(f"name {name!r} is not defined"))
        self.guards.add(source, "absent", name)
        return self.load(builtins_dict[name], Item(Constant(builtins_dict, "builtins"), name))

    def load_attribute(self, owner: Var, name: str) -> Var:
        try:
            return self._load_attribute(owner, name)
        except AttributeError as error:
            if owner.source is not None:  # the path taken depends on the attribute staying missing
                self.guards.add(owner.source, "no_attribute", name)
            raise CaptureAbort(error) from None

    def _load_attribute(self, owner: Var, name: str) -> Var:
        value = owner.value
        stored = self.stored_attribute(value, name)  # type: ignore[attr-defined]
        if stored is not None:  # set earlier in this call (replayed after the graph)
            return stored  # type: ignore[no-any-return]
        if isinstance(value, Tensor) or owner.source is None:
            if owner.source is None and isinstance(value, (types.ModuleType,)):
                return Var(getattr(value, name))
            result = self._static_attribute(owner, name) if owner.source is None and self._is_user_object(value) \
                else None
            return result if result is not None else self.wrap(getattr(value, name))
        if isinstance(value, (types.ModuleType, type)):  # class attributes go through descriptors
            return self.load(self.user_call(getattr, (value, name), {}), Attr(owner.source, name))
        if isinstance(value, nn.Cell):
            params, cells = value.__dict__.get("_params", {}), value.__dict__.get("_cells", {})
            if name in params or name in cells:
                return self.load(getattr(value, name), Attr(owner.source, name))
        static = self._static_attribute(owner, name)
        if static is not None:
            return static
        if name in getattr(value, "__dict__", {}):
            return self.load(value.__dict__[name], Attr(owner.source, name))
        if isinstance(value, (list, tuple, dict, set, str)) or type(value).__module__ == "builtins":
            if name in MUTATING_METHODS:  # bound to the caller's object: the call is replayed on it
                return Var(getattr(value, name))
            return Var(getattr(self.materialize(owner), name))
        return self.load(getattr(value, name), Attr(owner.source, name))

    @staticmethod
    def _is_user_object(value: Any) -> bool:
        return not isinstance(value, (type, types.ModuleType)) and type(value).__module__ != "builtins"

    def _static_attribute(self, owner: Var, name: str) -> Var | None:
        """Class-level lookups that run Python: methods (bound to the traced receiver), properties
        (their getter inlined), classmethods and staticmethods."""
        value = owner.value
        if isinstance(value, type) or not self._is_user_object(value):
            return None
        instance_dict = getattr(value, "__dict__", {})
        for klass in type(value).__mro__:
            if name not in klass.__dict__:
                continue
            attribute = klass.__dict__[name]
            if isinstance(attribute, property):
                if attribute.fget is None:
                    return None
                return self.call(Var(attribute.fget), [owner], {})
            if name in instance_dict:
                return None
            if isinstance(attribute, types.FunctionType):
                if framework(attribute):  # e.g. Cell.trainable_params: run it for real
                    return Var(types.MethodType(attribute, value))
                return Var(Bound(attribute, owner))
            if isinstance(attribute, classmethod):
                return Var(Bound(attribute.__func__, Var(type(value))))  # type: ignore[arg-type]
            if isinstance(attribute, staticmethod):
                return Var(attribute.__func__)
            return None
        return None

    def subscript(self, container: Var, key: Var) -> Var:
        if type(container) is DynamicTuple and not container.exposed and type(key) is not Dynamic \
                and type(key.value) is int and -len(container.items) <= key.value < len(container.items):
            return container.items[key.value]  # an item of a tuple/list of host numbers, still symbolic
        index = self.materialize(key)
        value = container.value
        self.check_unmutated(value)  # type: ignore[attr-defined]
        if container.source is not None and isinstance(value, (list, tuple, dict)) and isinstance(index, (int, str)) \
                and not isinstance(value, Tensor):
            if isinstance(value, (list, tuple)):
                self.guards.add(container.source, "len", len(value))
            try:
                item = value[index]
            except (IndexError, KeyError, TypeError) as error:
                if isinstance(error, KeyError):  # the path taken depends on the key staying absent
                    self.guards.add(container.source, "absent", index)
                raise CaptureAbort(error) from None
            return self.load(item, Item(container.source, index if not isinstance(value, (list, tuple))
                                        or index >= 0 else len(value) + index))
        return self.apply_real(operator.getitem, [container, key])

    def iterate(self, var: Var) -> Any:
        if type(var) is DynamicTuple and not var.exposed:
            return iter(list(var.items))  # host numbers stay symbolic
        value = var.value
        self.check_unmutated(value)  # type: ignore[attr-defined]
        if isinstance(value, Tensor):
            if not value.shape or not isinstance(value.shape[0], int):
                raise self.unsupported("iterates over a 0-d or dynamically sized tensor")
            return iter([Var(value[i]) for i in range(value.shape[0])])
        if var.source is not None and isinstance(value, (list, tuple)):
            self.guards.add(var.source, "len", len(value))
            return iter([self.load(item, Item(var.source, i)) for i, item in enumerate(value)])
        if var.source is not None:
            return iter([self.wrap(item) for item in self.materialize(var)])
        if isinstance(value, types.GeneratorType):
            raise self.unsupported("iterates over a generator")
        return (item if isinstance(item, Var) else self.wrap(item) for item in iter(value))

    # -- cells (closures) -----------------------------------------------------------------------------------
    def cell_object(self, frame: Any, name: str) -> Any:
        entry = frame.cells.get(name)
        if entry is None:
            raise self.unsupported(f"closure cell {name!r}")
        return entry[1]

    def load_cell(self, frame: Any, name: str) -> Var:
        kind, cell, source = frame.cells[name]
        try:
            content = cell.cell_contents
        except ValueError:
            raise CaptureAbort(NameError(f"free variable {name!r} referenced before assignment")) from None
        if kind == "local":
            return content if isinstance(content, Var) else self.wrap(content)
        stored = self.cell_stores.get(id(cell))  # type: ignore[attr-defined]
        if stored is not None:
            return stored  # type: ignore[no-any-return]
        return self.load(content, source)

    def store_cell(self, frame: Any, name: str, value: Var) -> None:
        kind, cell, source = frame.cells[name]
        if kind != "local":  # the enclosing function's variable (nonlocal): replayed after the graph
            self.store_outer_cell(cell, source, value)  # type: ignore[attr-defined]
            return
        cell.cell_contents = value



def python_method(value: Any, name: str) -> types.FunctionType | None:
    """``type(value).name`` when it is a Python function of a user class (not builtins or mycelia)."""
    klass = type(value)
    if klass.__module__ == "builtins" or framework(klass) or isinstance(value, Tensor):
        return None
    for base in klass.__mro__:
        if name in base.__dict__:
            method = base.__dict__[name]
            return method if isinstance(method, types.FunctionType) and not framework(method) else None
    return None


def _parameter_source(cell: Any, source: Source, tensor: Tensor) -> Source | None:
    for name, param in cell.__dict__.get("_params", {}).items():
        if param is tensor:
            return Attr(source, name)
    for name, child in cell.__dict__.get("_cells", {}).items():
        found = _parameter_source(child, Attr(source, name), tensor)
        if found is not None:
            return found
    return None


def framework(value: Any) -> bool:
    module = getattr(value, "__module__", None) or ""
    return module == "mycelia" or module.startswith(_FRAMEWORK_PREFIXES)


def cell_filled(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018
    except ValueError:
        return False
    return True
