"""Calls: user functions inlined (their reads guarded), framework and builtin code run for real on
materialised values (user callbacks traced through proxies), user dunders traced; functions made inside
the trace."""

from __future__ import annotations

import builtins
import contextlib
import inspect
import operator
import sys
import types
from typing import Any

from mycelia import _autograd, _grad_api, nn
from mycelia._errors import TracedValueError
from mycelia._tensor import Tensor
from mycelia_capture._effects import DELETED
from mycelia_capture._guards import Attr, Constant, Item, Source
from mycelia_capture._liveness import FRAME_READERS
from mycelia_capture._provenance import MUTATING_METHODS, Bound, ProvenanceMixin, cell_filled, framework, python_method
from mycelia_capture._summaries import splice, summarize
from mycelia_capture._values import CaptureAbort, Dynamic, Unsupported, Var

__all__ = ["CallsMixin"]

_UNSUPPORTED_BUILTINS = {
    "input": "input()", "open": "open()",
    "exec": "exec()", "eval": "eval()", "globals": "globals()", "locals": "locals()", "vars": "vars()",
    "breakpoint": "breakpoint()", "id": "id() (object identities differ between calls)", "compile": "compile()",
    "setattr": None, "delattr": None, "dir": "dir()",
}
def _framework_manager(value: Any) -> bool:
    """A context manager a mycelia ``@contextmanager`` function made (``no_grad()``): its generator only
    switches framework state (which the trace must see switched), so it runs for real while tracing."""
    if not isinstance(value, contextlib._GeneratorContextManager):
        return False
    func = getattr(value, "func", None)  # __enter__ deletes it: then the suspended generator tells
    if func is not None:
        return framework(func)
    frame = getattr(getattr(value, "gen", None), "gi_frame", None)
    module = frame.f_globals.get("__name__", "") if frame is not None else ""
    return bool(module == "mycelia" or module.startswith(("mycelia.", "mycelia_")))


_CALLBACK_BUILTINS = {"map", "filter", "sorted", "min", "max", "reduce", "iter", "next"}

_REAL_PREFIXES = ("numpy", "ml_dtypes", "math", "operator", "functools", "itertools", "copy", "dataclasses")


class CallsMixin(ProvenanceMixin):
    # -- calls ------------------------------------------------------------------------------------------------
    def call(self, callee: Any, args: list[Var], kwargs: dict[str, Var]) -> Var:
        direct, self.direct_call = self.direct_call, False  # set by the Call instruction for this call only
        function = callee.value
        if args and not kwargs and type(args[0]) is Dynamic:  # float(n), type(n), Tensor(array) …
            dynamic = self.dynamic_call(function, args)
            if dynamic is not None:
                return dynamic
        target = self.proxies.get(id(function))
        if target is not None:  # a proxy came back (functools.wraps returned it): trace its function
            return self.call(target, args, kwargs)
        if isinstance(function, Bound):
            if _framework_manager(function.receiver.value):  # e.g. no_grad(): its __enter__/__exit__ run for real
                return self.call_real(function.function, [function.receiver, *args], kwargs)
            return self.inline(function.function, [function.receiver, *args], kwargs, None, direct=direct)
        if isinstance(function, types.MethodType):
            if _framework_manager(function.__self__):
                return self.call_real(function, args, kwargs)
            receiver = self.wrap(function.__self__)
            inner = function.__func__
            if isinstance(inner, types.FunctionType) and not framework(inner):
                return self.inline(inner, [receiver, *args], kwargs, None, direct=direct)
        if getattr(function, "__mycelia_jit_original__", None) is not None:
            return self.call(Var(function.__mycelia_jit_original__), args, kwargs)
        if isinstance(function, types.FunctionType):
            if id(function) in self.local_functions:  # made during this trace (comprehensions included)
                return self.inline(function, args, kwargs, None, direct=direct)
            if function.__module__ == "mycelia._grad_api" and "<locals>" in function.__qualname__:
                # The closures value_and_grad/grad return: traced, so the function they differentiate is too.
                return self.inline(function, args, kwargs, callee.source, direct=direct)
            if framework(function):
                return self.call_framework(function, args, kwargs)
            if (function.__module__ or "").startswith(_REAL_PREFIXES):
                return self.call_real(function, args, kwargs)
            return self.inline(function, args, kwargs, callee.source, direct=direct)
        if isinstance(function, nn.Cell):
            return self.call_cell(callee, args, kwargs, direct)
        if isinstance(function, type):
            return self.construct(callee, args, kwargs)
        if isinstance(function, (types.BuiltinFunctionType, types.BuiltinMethodType, types.MethodWrapperType,
                                 types.WrapperDescriptorType, types.MethodDescriptorType, types.MethodType)):
            return self.call_builtin(function, args, kwargs)
        call_method = next((k.__dict__["__call__"] for k in type(function).__mro__ if "__call__" in k.__dict__), None)
        if isinstance(call_method, types.FunctionType) and not framework(call_method):
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
        if len(args) == 1 and type(args[0]) is Dynamic and function in (operator.neg, operator.pos) \
                and type(args[0].raw) in (int, float):
            sign = "-" if function is operator.neg else "+"
            return self.derived(function, args, f"{sign}{args[0].source.describe()}")
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
        method = python_method(first, name)
        if method is not None:
            result = self.inline(method, list(args), {}, None)
            if result.value is not NotImplemented:
                return result
        if reflected is not None and len(args) == 2:
            other = python_method(args[1].value, reflected)
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
            reason = str(error) if getattr(error, "break_reason", False) else \
                f"reads a tensor's value on the host ({error})"
            raise self.unsupported(reason, breakable=True) from None
        except Exception as error:
            raise CaptureAbort(error) from None

    def call_builtin(self, function: Any, args: list[Var], kwargs: dict[str, Var]) -> Var:
        if function is sys.exc_info or function is getattr(sys, "exception", None):  # the traced frame's
            handled = self.frames[-1].handled if self.frames else None
            if function is sys.exc_info:
                info = (None, None, None) if handled is None else (type(handled), handled, handled.__traceback__)
                return self.created(info)
            return Var(handled)
        name = getattr(function, "__name__", "")
        receiver = getattr(function, "__self__", None)
        if receiver is builtins or receiver is None:
            if _UNSUPPORTED_BUILTINS.get(name):
                # Builtins that read the calling frame would read the resume's frame after a break.
                frame_reader = name in FRAME_READERS and not (name in ("vars", "dir") and args)
                raise self.unsupported(f"calls {_UNSUPPORTED_BUILTINS[name]}", breakable=not frame_reader)
            if name in ("getattr", "hasattr") and len(args) >= 2:
                return self._getattr_builtin(name, args)
            if name == "print":
                if self.config.print_breaks and self.can_break():  # type: ignore[attr-defined]
                    raise self.unsupported("print() runs where the program reaches it (jit_config print_breaks)",
                                           breakable=True)
                return self.record_print(args, kwargs)  # type: ignore[attr-defined, no-any-return]
            if name in ("setattr", "delattr") and len(args) >= 2 and self.is_outside(args[0]):
                value = args[2] if name == "setattr" and len(args) > 2 else DELETED
                self.store_attribute(args[0], self.materialize(args[1]), value)  # type: ignore[attr-defined]
                return Var(None)
        elif not isinstance(receiver, types.ModuleType) and name in MUTATING_METHODS:
            target = self.known.get(id(receiver))
            if target is not None or id(receiver) not in self.created_ids:
                return self.mutate_method(receiver, name, args, kwargs)  # type: ignore[attr-defined, no-any-return]
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

    def call_cell(self, cell: Var, args: list[Var], kwargs: dict[str, Var], direct: bool = False) -> Var:
        value = cell.value
        if value._forward_pre_hooks or value._forward_hooks or value._compute_dtype is not None:
            raise self.unsupported(f"calls {type(value).__name__} with hooks or a compute dtype set")
        construct = getattr(type(value), "construct", None)
        if not isinstance(construct, types.FunctionType):
            raise self.unsupported(f"{type(value).__name__}.construct is not a Python function")
        return self.inline(construct, [cell, *args], kwargs, None, direct=direct)

    def construct(self, callee: Var, args: list[Var], kwargs: dict[str, Var]) -> Var:
        klass = callee.value
        if klass is super and not args:
            return self._zero_argument_super()
        if issubclass(klass, Tensor) or klass.__module__ in ("builtins", "types") or issubclass(klass, BaseException) \
                or (issubclass(klass, tuple) and hasattr(klass, "_fields")) or framework(klass):
            result = self.call_real(klass, args, kwargs)
            if not isinstance(result.value, Tensor) and id(result.value) not in self.known:
                self.created_ids.add(id(result.value))  # a class called: a new object, made by this call
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
               source: Source | None, allow_summary: bool = True, direct: bool = False) -> Var:
        from mycelia_capture._tracer import canonical

        if allow_summary and self._summaries_apply(function, kwargs):
            summary = summarize(self, function, args)
            if summary is not None:
                return splice(self, summary, args)
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
        return self.enter(function, local_values, function_source, direct=direct)

    def _summaries_apply(self, function: types.FunctionType, kwargs: dict[str, Var]) -> bool:
        """A helper may be summarised: a named, plain function called positionally, while nothing this
        call wrote (shadowed globals, attributes, cells) could change what it reads, and no gradient is
        being taken (autograd must see each op the helper runs)."""
        code = function.__code__
        return (self.config.helper_summaries and not kwargs and not _autograd.state.depth
                and id(function) not in self.local_functions
                and not code.co_flags & (inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR)
                and not function.__code__.co_freevars
                and not (self.global_stores or self.attribute_stores or self.cell_stores))  # type: ignore[attr-defined]

    def enter(self, function: types.FunctionType, local_values: dict[str, Var], function_source: Source | None,
              collected: list[Any] | None = None, direct: bool = False) -> Var:
        """Run ``function``'s code with its parameters already bound to ``local_values`` (``collected``
        receives what a generator expression yields)."""
        from mycelia_capture._tracer import Frame, canonical

        canonical_code = canonical(function.__code__)
        local = function_source is None
        frame = Frame(function, canonical_code, local_values, function_source)
        frame.collected = collected
        frame.entered_by_call = direct
        if self.frames:  # the exception being handled is the thread's: a callee's bare `raise` re-raises it
            frame.handled = self.frames[-1].handled  # type: ignore[attr-defined]
        for name in canonical_code.cellvars:
            cell = types.CellType()
            if name in local_values:
                cell.cell_contents = local_values.pop(name)
            frame.cells[name] = ("local", cell, None)
        closure = function.__closure__ or ()
        for index, name in enumerate(canonical_code.freevars):
            cell = closure[index]
            contents = cell.cell_contents if cell_filled(cell) else None
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
    operator.matmul: ("__matmul__", "__rmatmul__"), operator.eq: ("__eq__", "__eq__"),
    operator.ne: ("__ne__", "__ne__"),
    operator.lt: ("__lt__", "__gt__"), operator.le: ("__le__", "__ge__"), operator.gt: ("__gt__", "__lt__"),
    operator.ge: ("__ge__", "__le__"), operator.neg: ("__neg__", None), operator.getitem: ("__getitem__", None),
    operator.contains: ("__contains__", None), len: ("__len__", None),
}


def _user_callable(value: Any) -> bool:
    if isinstance(value, Bound):
        return True
    if isinstance(value, types.MethodType):
        value = value.__func__
    return isinstance(value, types.FunctionType) and not framework(value)
