"""Loads (with guards), calls (inlined, or run for real when that is safe) and materialisation."""

from __future__ import annotations

import builtins
import inspect
import operator
import types
from typing import Any

from mycelia import _grad_api, nn
from mycelia._errors import TracedValueError
from mycelia._tensor import Tensor
from mycelia.ir import GraphBuilder, TracedArray, traced_tensor
from mycelia._types import Symbol
from mycelia_capture._guards import Attr, Constant, GuardSet, Item, Local, Source
from mycelia_capture._values import NULL, CaptureAbort, Unsupported, Var

__all__ = ["CallsMixin"]

_SCALARS = (bool, int, float, complex, str, bytes, type(None), type(Ellipsis))
_IDENTITY_TYPES = (types.FunctionType, types.BuiltinFunctionType, types.ModuleType, type, types.MethodType)
_UNSUPPORTED_BUILTINS = {
    "print": "print (output must happen in order with the graph's work)", "input": "input()", "open": "open()",
    "exec": "exec()", "eval": "eval()", "globals": "globals()", "locals": "locals()", "vars": "vars()",
    "breakpoint": "breakpoint()", "id": "id() (object identities differ between calls)", "compile": "compile()",
    "setattr": None, "delattr": None,
}
_CALLBACK_BUILTINS = {"map", "filter", "sorted", "min", "max", "reduce", "iter", "next"}
_MUTATING_METHODS = frozenset({
    "append", "extend", "insert", "remove", "pop", "clear", "sort", "reverse", "update", "setdefault", "popitem",
    "add", "discard", "difference_update", "intersection_update", "symmetric_difference_update", "appendleft",
    "extendleft", "popleft", "rotate", "__setitem__", "__delitem__", "__iadd__", "__imul__",
})
_FRAMEWORK_PREFIXES = ("mycelia.", "mycelia_")
_REAL_PREFIXES = ("numpy", "ml_dtypes", "math", "operator", "functools", "itertools", "copy", "dataclasses")


class _Bound:
    """A Python function bound to a traced ``self`` (keeps the receiver's source for guards)."""

    def __init__(self, function: types.FunctionType, receiver: Var) -> None:
        self.function = function
        self.receiver = receiver


class CallsMixin:
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
        self.dynamic_dims: dict[int, set[int]] = {}  # argument index -> dims traced as symbols
        self.size_symbols: dict[int, Symbol] = {}  # id(proxy handed to real code) -> the function it traces

    # -- errors --------------------------------------------------------------------------------------------
    def unsupported(self, reason: str) -> Unsupported:
        frame = self.frames[-1] if self.frames else None
        if frame is None:
            return Unsupported(reason)
        return Unsupported(reason, frame.code.filename, frame.lineno)

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
        dims = self.dynamic_dims.get(source.index, ()) if isinstance(source, Local) else ()
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
        if isinstance(value, _SCALARS):
            self.guards.add(source, "identity" if value is None or value is Ellipsis else "value", value)
            return Var(value, source)
        if isinstance(value, types.FunctionType) and id(value) in self.local_functions:
            return Var(value)
        self.guard_object(value, source, exact=False)
        var = Var(value, source)
        self.known.setdefault(id(value), var)
        self.keep.append(value)
        return var

    def materialize(self, var: Any) -> Any:
        """The value of ``var`` ready for real Python: a sourced container deep-guarded and copied with
        its tensors lifted; anything else as is."""
        if not isinstance(var, Var):
            return var
        if var.source is None or isinstance(var.value, (Tensor, *_SCALARS)):
            return var.value
        if var.source not in self.materialized:
            self.materialized[var.source] = self._deep(var.value, var.source)
        return self.materialized[var.source]

    def _deep(self, value: Any, source: Source) -> Any:
        if isinstance(value, Tensor):
            return value if isinstance(value._data, TracedArray) else self.lift(value, source)
        if isinstance(value, _SCALARS):
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
        for name in ("__bool__", "__len__"):
            method = _python_method(var.value, name)
            if method is not None:
                return bool(self.materialize(self.inline(method, [var], {}, None)))
        value = self.materialize(var)
        if isinstance(value, Tensor):
            raise self.unsupported("branches on a tensor's value (data-dependent control flow)")
        return bool(value)

    def check_mutable(self, var: Var, message: str) -> None:
        if var.source is not None or id(var.value) not in self.created_ids:
            raise self.unsupported(message)

    # -- loads ------------------------------------------------------------------------------------------------
    def function_globals(self, frame: Any) -> Source:
        return Constant(frame.function.__globals__, f"{frame.function.__module__}.__dict__")

    def load_global(self, frame: Any, name: str) -> Var:
        namespace = frame.function.__globals__
        source = self.function_globals(frame)
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
                if _framework(attribute):  # e.g. Cell.trainable_params: run it for real
                    return Var(types.MethodType(attribute, value))
                return Var(_Bound(attribute, owner))
            if isinstance(attribute, classmethod):
                return Var(_Bound(attribute.__func__, Var(type(value))))  # type: ignore[arg-type]
            if isinstance(attribute, staticmethod):
                return Var(attribute.__func__)
            return None
        return None

    def subscript(self, container: Var, key: Var) -> Var:
        index = self.materialize(key)
        value = container.value
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
        value = var.value
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
        return self.load(content, source)

    def store_cell(self, frame: Any, name: str, value: Var) -> None:
        kind, cell, _ = frame.cells[name]
        if kind != "local":
            raise self.unsupported(f"writes the enclosing function's variable {name!r} (nonlocal)")
        cell.cell_contents = value

    # -- calls ------------------------------------------------------------------------------------------------
    def call(self, callee: Any, args: list[Var], kwargs: dict[str, Var]) -> Var:  # noqa: PLR0911
        function = callee.value
        target = self.proxies.get(id(function))
        if target is not None:  # a proxy came back (functools.wraps returned it): trace its function
            return self.call(target, args, kwargs)
        if isinstance(function, _Bound):
            return self.inline(function.function, [function.receiver, *args], kwargs, None)
        if isinstance(function, types.MethodType):
            receiver = self.wrap(function.__self__)
            inner = function.__func__
            if isinstance(inner, types.FunctionType) and not _framework(inner):
                return self.inline(inner, [receiver, *args], kwargs, None)
        if getattr(function, "__mycelia_jit_original__", None) is not None:
            return self.call(Var(function.__mycelia_jit_original__), args, kwargs)
        if isinstance(function, types.FunctionType):
            if id(function) in self.local_functions:  # made during this trace (comprehensions included)
                return self.inline(function, args, kwargs, None)
            if function.__module__ == "mycelia._grad_api" and "<locals>" in function.__qualname__:
                # The closures value_and_grad/grad return: traced, so the function they differentiate is too.
                return self.inline(function, args, kwargs, callee.source)
            if _framework(function):
                return self.call_framework(function, args, kwargs)
            if (function.__module__ or "").startswith(_REAL_PREFIXES):
                return self.call_real(function, args, kwargs)
            return self.inline(function, args, kwargs, callee.source)
        if isinstance(function, nn.Cell):
            return self.call_cell(callee, args, kwargs)
        if isinstance(function, type):
            return self.construct(callee, args, kwargs)
        if isinstance(function, (types.BuiltinFunctionType, types.BuiltinMethodType, types.MethodWrapperType,
                                 types.WrapperDescriptorType, types.MethodDescriptorType, types.MethodType)):
            return self.call_builtin(function, args, kwargs)
        call_method = getattr(type(function), "__call__", None)
        if isinstance(call_method, types.FunctionType) and not _framework(call_method):
            return self.inline(call_method, [callee, *args], kwargs, None)
        return self.call_real(function, args, kwargs)

    def call_real(self, function: Any, args: list[Var], kwargs: dict[str, Var]) -> Var:
        real_args = [self.materialize(a) for a in args]
        real_kwargs = {k: self.materialize(v) for k, v in kwargs.items()}
        real_args = [self.proxy(v) if _user_callable(v) else self.resolve(v) for v in real_args]
        real_kwargs = {k: self.proxy(v) if _user_callable(v) else self.resolve(v) for k, v in real_kwargs.items()}
        result = self.resolve(self.user_call(function, real_args, real_kwargs))
        if isinstance(result, types.FunctionType) and id(result) not in self.known:
            self.local_functions.add(id(result))  # made by this call (a closure over trace values)
            self.keep.append(result)
        return self.wrap(result)

    def proxy(self, function: Any) -> Any:
        """A Python function handed to real code (``sorted(key=…)``, ``map``, ``functools.reduce``): when
        that code calls it, the call is traced like any other."""
        target = Var(function) if not isinstance(function, Var) else function

        def traced(*values: Any, **named: Any) -> Any:
            return self.materialize(self.call(target, [self.wrap(v) for v in values],
                                              {k: self.wrap(v) for k, v in named.items()}))

        traced.__name__ = getattr(function, "__name__", "function")
        traced.__qualname__ = getattr(function, "__qualname__", traced.__name__)
        traced.__doc__ = getattr(function, "__doc__", None)
        traced.__module__ = getattr(function, "__module__", None)  # type: ignore[assignment]
        traced.__wrapped__ = function  # type: ignore[attr-defined]
        self.keep.append(traced)
        self.proxies[id(traced)] = target
        return traced

    def apply_real(self, function: Any, args: list[Var]) -> Var:
        """An operator on the operands' real values (on traced tensors: an op recorded in the graph).
        A user class's Python dunder method is traced instead of run."""
        dunders = _DUNDERS.get(function)
        if dunders is not None:
            result = self.user_dunder(args, *dunders)
            if result is not None:
                return result
        return self.wrap(self.user_call(function, [self.materialize(a) for a in args], {}))

    def user_dunder(self, args: list[Var], name: str, reflected: str | None) -> Var | None:
        """``type(a).name(a, *rest)`` traced when it is a Python method of a user class (then the reflected
        method of the right operand when it returns NotImplemented); None to run the operator for real."""
        first = args[0].value
        method = _python_method(first, name)
        if method is not None:
            result = self.inline(method, list(args), {}, None)
            if result.value is not NotImplemented:
                return result
        if reflected is not None and len(args) == 2:
            other = _python_method(args[1].value, reflected)
            if other is not None:
                result = self.inline(other, [args[1], args[0]], {}, None)
                if result.value is not NotImplemented:
                    return result
            if method is not None:
                raise CaptureAbort(TypeError(f"unsupported operand types for {name}: {type(first).__name__} and "
                                             f"{type(args[1].value).__name__}"))
        return None

    def user_call(self, function: Any, args: Any, kwargs: dict[str, Any]) -> Any:
        """Call real code: its exceptions are the user's (the call then runs eagerly and raises them)."""
        try:
            return function(*args, **kwargs)
        except (Unsupported, CaptureAbort):
            raise
        except TracedValueError as error:
            raise self.unsupported(f"reads a tensor's value on the host ({error})") from None
        except Exception as error:
            raise CaptureAbort(error) from None

    def call_builtin(self, function: Any, args: list[Var], kwargs: dict[str, Var]) -> Var:
        name = getattr(function, "__name__", "")
        receiver = getattr(function, "__self__", None)
        if receiver is builtins or receiver is None:
            if name in _UNSUPPORTED_BUILTINS and _UNSUPPORTED_BUILTINS[name]:
                raise self.unsupported(f"calls {_UNSUPPORTED_BUILTINS[name]}")
            if name in ("getattr", "hasattr") and len(args) >= 2:
                return self._getattr_builtin(name, args)
            if name in ("setattr", "delattr"):
                self.check_mutable(args[0], f"{name} on an object that existed before the call")
        elif not isinstance(receiver, types.ModuleType) and name in _MUTATING_METHODS:
            target = self.known.get(id(receiver))
            if target is not None or id(receiver) not in self.created_ids:
                raise self.unsupported(f"calls .{name}() on an object that existed before the call (a side effect)")
        if name == "super" and not args:
            return self._zero_argument_super()
        if name in _CALLBACK_BUILTINS:
            return self.call_real(function, args, kwargs)
        result = self.call_real(function, args, kwargs)
        if name in ("list", "dict", "set", "sorted", "copy") or type(result.value) in (list, dict, set):
            if id(result.value) not in {id(self.materialize(a)) for a in args}:
                self.created_ids.add(id(result.value))
                self.keep.append(result.value)
        return result

    def _getattr_builtin(self, name: str, args: list[Var]) -> Var:
        attribute = self.materialize(args[1])
        try:
            value = self.load_attribute(args[0], attribute)
        except CaptureAbort as abort:
            if not isinstance(abort.error, AttributeError):
                raise
            if name == "hasattr":
                return Var(False)
            if len(args) > 2:
                return args[2]
            raise
        return Var(True) if name == "hasattr" else value

    def _zero_argument_super(self) -> Var:
        frame = self.frames[-1]
        if "__class__" not in frame.cells or not frame.code.argcount:
            raise self.unsupported("super() without a class cell")
        klass = frame.cells["__class__"][1].cell_contents
        klass = klass.value if isinstance(klass, Var) else klass
        first = frame.locals.get(frame.code.varnames[0])
        if first is None:
            raise self.unsupported("super() after its first argument was deleted")
        return Var(super(klass, first.value))

    def call_framework(self, function: Any, args: list[Var], kwargs: dict[str, Var]) -> Var:
        if function in (_grad_api.value_and_grad, _grad_api.grad):
            return self._gradient_factory(function, args, kwargs)
        return self.call_real(function, args, kwargs)

    def _gradient_factory(self, factory: Any, args: list[Var], kwargs: dict[str, Var]) -> Var:
        """``value_and_grad(fn, …)`` for real, with ``fn`` run through this tracer when autograd calls it."""
        target = args[0] if args else kwargs.pop("fn")
        rest = [self.resolve(self.materialize(a)) for a in args[1:]]
        options = {k: self.resolve(self.materialize(v)) for k, v in kwargs.items() if k != "fn"}

        def traced(*values: Any, **named: Any) -> Any:
            result = self.call(target, [self.wrap(v) for v in values], {k: self.wrap(v) for k, v in named.items()})
            return self.materialize(result)

        traced.__name__ = getattr(target.value, "__name__", "fn")
        made = factory(traced, *rest, **options)
        self.local_functions.add(id(made))
        return self.created(made)

    def call_cell(self, cell: Var, args: list[Var], kwargs: dict[str, Var]) -> Var:
        value = cell.value
        if value._forward_pre_hooks or value._forward_hooks or value._compute_dtype is not None:
            raise self.unsupported(f"calls {type(value).__name__} with hooks or a compute dtype set")
        construct = getattr(type(value), "construct", None)
        if not isinstance(construct, types.FunctionType):
            raise self.unsupported(f"{type(value).__name__}.construct is not a Python function")
        return self.inline(construct, [cell, *args], kwargs, None)

    def construct(self, callee: Var, args: list[Var], kwargs: dict[str, Var]) -> Var:
        klass = callee.value
        if klass is super and not args:
            return self._zero_argument_super()
        if issubclass(klass, Tensor) or klass.__module__ == "builtins" or issubclass(klass, BaseException) \
                or (issubclass(klass, tuple) and hasattr(klass, "_fields")) or _framework(klass):
            result = self.call_real(klass, args, kwargs)
            if klass.__module__ == "builtins" and isinstance(result.value, (list, dict, set)):
                self.created_ids.add(id(result.value))
                self.keep.append(result.value)
            return result
        if klass.__new__ is not object.__new__ or type(klass) is not type:
            return self.call_real(klass, args, kwargs)
        instance = self.created(object.__new__(klass))
        initializer = klass.__init__
        if isinstance(initializer, types.FunctionType):
            self.inline(initializer, [instance, *args], kwargs, None)
        elif args or kwargs:
            raise CaptureAbort(TypeError(f"{klass.__name__}() takes no arguments"))
        return instance

    # -- inlining ---------------------------------------------------------------------------------------------
    def inline(self, function: types.FunctionType, args: list[Var], kwargs: dict[str, Var],
               source: Source | None) -> Var:
        from mycelia_capture._tracer import Frame, canonical

        code = function.__code__
        generator = code.co_name == "<genexpr>" and id(function) in self.local_functions
        if code.co_flags & (inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR) and not generator:
            raise self.unsupported(f"calls the generator or coroutine function {function.__qualname__}")
        if len(self.frames) >= self.config.max_inline_depth:
            raise self.unsupported(f"calls nested deeper than {self.config.max_inline_depth} (max_inline_depth)")
        canonical_code = canonical(code)
        local = id(function) in self.local_functions
        function_source = None if local else Constant(function, function.__qualname__)
        local_values = self.bind(function, canonical_code, args, kwargs, function_source)
        if generator:  # a generator expression made here: run it to the end, hand out what it yielded
            collected: list[Any] = []
            self.enter(function, local_values, function_source, collected)
            return self.created(iter(collected))
        return self.enter(function, local_values, function_source)

    def enter(self, function: types.FunctionType, local_values: dict[str, Var], function_source: Source | None,
              collected: list[Any] | None = None) -> Var:
        """Run ``function``'s code with its parameters already bound to ``local_values`` (``collected``
        receives what a generator expression yields)."""
        from mycelia_capture._tracer import Frame, canonical

        canonical_code = canonical(function.__code__)
        local = function_source is None
        frame = Frame(function, canonical_code, local_values, function_source)
        frame.collected = collected
        for name in canonical_code.cellvars:
            cell = types.CellType()
            if name in local_values:
                cell.cell_contents = local_values.pop(name)
            frame.cells[name] = ("local", cell, None)
        closure = function.__closure__ or ()
        for index, name in enumerate(canonical_code.freevars):
            cell = closure[index]
            contents = cell.cell_contents if _cell_filled(cell) else None
            if local or isinstance(contents, Var):
                frame.cells[name] = ("local", cell, None)
            else:
                assert function_source is not None
                frame.cells[name] = ("outer", cell, Attr(Item(Attr(function_source, "__closure__"), index),
                                                         "cell_contents"))
        return self.run_frame(frame)  # type: ignore[attr-defined, no-any-return]

    def bind(self, function: types.FunctionType, code: Any, args: list[Var], kwargs: dict[str, Var],
             source: Source | None) -> dict[str, Var]:
        """Arguments to parameters with Python's rules (errors are the user's: run eagerly)."""
        parameters = list(inspect.signature(function).parameters.values())
        markers = [object() for _ in args]
        by_marker = {id(m): v for m, v in zip(markers, args)}
        named = {k: object() for k in kwargs}
        by_marker.update({id(named[k]): v for k, v in kwargs.items()})
        try:
            bound = inspect.signature(function).bind(*markers, **named)
        except TypeError as error:
            raise CaptureAbort(error) from None
        result: dict[str, Var] = {}
        defaults = function.__defaults__ or ()
        first_default = code.argcount - len(defaults)
        varnames = set(code.varnames)
        for position, parameter in enumerate(parameters):
            local_name = parameter.name
            if local_name.startswith("implicit") and f".{local_name[8:]}" in varnames:
                local_name = f".{local_name[8:]}"  # comprehensions take their iterator as ".0"
            if parameter.name in bound.arguments:
                given = bound.arguments[parameter.name]
                if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
                    result[local_name] = self.created(tuple(self.materialize(by_marker[id(m)]) for m in given))
                elif parameter.kind is inspect.Parameter.VAR_KEYWORD:
                    result[local_name] = self.created({k: self.materialize(by_marker[id(m)]) for k, m in given.items()})
                else:
                    result[local_name] = by_marker[id(given)]
            elif parameter.kind is inspect.Parameter.VAR_POSITIONAL:
                result[parameter.name] = self.created(())
            elif parameter.kind is inspect.Parameter.VAR_KEYWORD:
                result[parameter.name] = self.created({})
            elif parameter.kind is inspect.Parameter.KEYWORD_ONLY:
                value = (function.__kwdefaults__ or {})[parameter.name]
                result[parameter.name] = self.load(value, Item(Attr(source, "__kwdefaults__"), parameter.name)) \
                    if source is not None else self.wrap(value)
            else:
                index = position - first_default
                value = defaults[index]
                result[parameter.name] = self.load(value, Item(Attr(source, "__defaults__"), index)) \
                    if source is not None else self.wrap(value)
        return result

    # -- functions made inside the trace ------------------------------------------------------------------
    def make_function(self, frame: Any, flags: Any) -> Var:
        from mycelia_capture.bytecode import PY

        stack = frame.stack
        if PY < (3, 11):
            stack.pop()  # the qualified name
        code = stack.pop().value
        attributes: dict[int, Any] = {}
        if PY < (3, 13):
            for bit in (8, 4, 2, 1):
                if flags & bit:
                    attributes[bit] = self.materialize(stack.pop())
        function = self._function(code, frame.function.__globals__, attributes)
        return self.created(function)

    def _function(self, code: types.CodeType, namespace: dict[str, Any], attributes: dict[int, Any]) -> Any:
        closure = attributes.get(8)
        if closure:
            cells = tuple(c.value if isinstance(c, Var) else c for c in closure)
        else:  # 3.13 sets the closure after MAKE_FUNCTION: empty cells until then
            cells = tuple(types.CellType() for _ in code.co_freevars) or None
        function = types.FunctionType(code, namespace, code.co_name, attributes.get(1), cells)
        if attributes.get(2) is not None:
            function.__kwdefaults__ = attributes[2]
        self.local_functions.add(id(function))
        self.keep.append(function)
        return function

    def set_function_attribute(self, function: types.FunctionType, flag: int, value: Var) -> Any:
        """3.13's SET_FUNCTION_ATTRIBUTE: a new function with the attribute (closures cannot be set later)."""
        attributes = {1: function.__defaults__, 2: function.__kwdefaults__, 8: function.__closure__}
        attributes[flag] = self.materialize(value)
        return self.created(self._function(function.__code__, function.__globals__, attributes)).value


_DUNDERS: dict[Any, tuple[str, str | None]] = {
    operator.add: ("__add__", "__radd__"), operator.sub: ("__sub__", "__rsub__"), operator.mul: ("__mul__", "__rmul__"),
    operator.truediv: ("__truediv__", "__rtruediv__"), operator.floordiv: ("__floordiv__", "__rfloordiv__"),
    operator.mod: ("__mod__", "__rmod__"), operator.pow: ("__pow__", "__rpow__"),
    operator.matmul: ("__matmul__", "__rmatmul__"), operator.eq: ("__eq__", "__eq__"), operator.ne: ("__ne__", "__ne__"),
    operator.lt: ("__lt__", "__gt__"), operator.le: ("__le__", "__ge__"), operator.gt: ("__gt__", "__lt__"),
    operator.ge: ("__ge__", "__le__"), operator.neg: ("__neg__", None), operator.getitem: ("__getitem__", None),
    operator.contains: ("__contains__", None), len: ("__len__", None),
}


def _python_method(value: Any, name: str) -> types.FunctionType | None:
    """``type(value).name`` when it is a Python function of a user class (not builtins or mycelia)."""
    klass = type(value)
    if klass.__module__ == "builtins" or _framework(klass) or isinstance(value, Tensor):
        return None
    for base in klass.__mro__:
        if name in base.__dict__:
            method = base.__dict__[name]
            return method if isinstance(method, types.FunctionType) and not _framework(method) else None
    return None


def _user_callable(value: Any) -> bool:
    if isinstance(value, _Bound):
        return True
    if isinstance(value, types.MethodType):
        value = value.__func__
    return isinstance(value, types.FunctionType) and not _framework(value)


def _parameter_source(cell: Any, source: Source, tensor: Tensor) -> Source | None:
    for name, param in cell.__dict__.get("_params", {}).items():
        if param is tensor:
            return Attr(source, name)
    for name, child in cell.__dict__.get("_cells", {}).items():
        found = _parameter_source(child, Attr(source, name), tensor)
        if found is not None:
            return found
    return None


def _framework(value: Any) -> bool:
    module = getattr(value, "__module__", None) or ""
    return module == "mycelia" or module.startswith(_FRAMEWORK_PREFIXES)


def _cell_filled(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018
    except ValueError:
        return False
    return True

