"""The symbolic executor (DESIGN §4.1 item 3): runs a function's canonical bytecode with real Python
objects, except that tensors are traced tensors recording into an IR graph.

Python semantics come from the objects themselves: an add of two ints is ``operator.add`` on them,
an add of tensors is the eager op on traced tensors (which appends a node). What the executor adds is
*provenance*: every value read from the call's frame (arguments, globals, closure cells, attributes and
items of those) is loaded through :meth:`Tracer.load`, which guards it; and it refuses, with a reason,
whatever would make the capture wrong: reading a tensor's value on the host, branching on it, mutating
an object that existed before the call, printing, generators.
"""

from __future__ import annotations

import builtins
import itertools
import operator
import types
from typing import Any

from mycelia._errors import TracedValueError
from mycelia_capture._blocks310 import OPS_310, Blocks310Mixin, chain_context
from mycelia_capture._breaks import GraphBreak, snapshot
from mycelia_capture._calls import CallsMixin
from mycelia_capture._effects import DELETED, EffectsMixin
from mycelia_capture._host_values import formatted, joined
from mycelia_capture._values import NULL, CaptureAbort, Dynamic, DynamicTuple, Unsupported, Var
from mycelia_capture.bytecode import (
    PY,
    BinaryOp,
    Call,
    CallFunctionEx,
    CanonicalCode,
    CompareOp,
    CondJump,
    ContainsOp,
    ForIter,
    IsOp,
    Jump,
    JumpIfNotExcMatch,
    LoadGlobal,
    LoadMethod,
    LoadSuperAttr,
    Op,
    PopBlock,
    PushNull,
    SetupBlock,
    Yield,
    decode,
)

__all__ = ["BINARY_OPERATORS", "COMPARE_OPERATORS", "INPLACE_OPERATORS", "Frame", "Tracer"]

BINARY_OPERATORS = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "//": operator.floordiv,
    "%": operator.mod, "**": operator.pow, "@": operator.matmul, "<<": operator.lshift, ">>": operator.rshift,
    "&": operator.and_, "|": operator.or_, "^": operator.xor,
}
INPLACE_OPERATORS = {
    "+": operator.iadd, "-": operator.isub, "*": operator.imul, "/": operator.itruediv, "//": operator.ifloordiv,
    "%": operator.imod, "**": operator.ipow, "@": operator.imatmul, "<<": operator.ilshift, ">>": operator.irshift,
    "&": operator.iand, "|": operator.ior, "^": operator.ixor,
}
COMPARE_OPERATORS = {"<": operator.lt, "<=": operator.le, "==": operator.eq, "!=": operator.ne, ">": operator.gt,
            ">=": operator.ge}
_PY310 = PY < (3, 11)
_CODE_CACHE: dict[types.CodeType, CanonicalCode] = {}
_CODE_NOT_RESUMABLE = "code that cannot be resumed"  # (the error itself is the reason then)
# Instructions the interpreter does not run (class bodies, star imports, generators): no resume there.
_NOT_RESUMABLE = frozenset({"LOAD_BUILD_CLASS", "IMPORT_STAR", "SETUP_ANNOTATIONS", "LOAD_NAME", "STORE_NAME",
                            "Yield", "Send", "GET_AWAITABLE", "BEFORE_ASYNC_WITH"})


def canonical(code: types.CodeType) -> CanonicalCode:
    decoded = _CODE_CACHE.get(code)
    if decoded is None:
        decoded = _CODE_CACHE[code] = decode(code)
    return decoded


class Frame:
    """One function activation being traced."""

    def __init__(self, function: types.FunctionType, code: CanonicalCode, local_values: dict[str, Var],
                 function_source: Any) -> None:
        self.function = function
        self.code = code
        self.locals = local_values
        self.stack: list[Any] = []
        self.cells: dict[str, Any] = {}
        self.function_source = function_source  # a Source for the function object, or None if made here
        self.index = 0
        self.lineno: int | None = code.first_lineno
        self.kw_names: tuple[str, ...] = ()
        self.collected: list[Any] | None = None  # a generator expression's yielded values
        self.handled: BaseException | None = None  # the exception an `except` block is handling
        self.before: tuple[int, list[Any]] = (0, [])  # (index, stack) before the current instruction
        self.after_call: tuple[int, list[Any]] | None = None  # (next index, stack) while in a call
        self.entered_by_call = False  # inlined straight from a Call: its return value is the call's result
        self.pending_function: dict[str, Any] = {}

    def pop(self, count: int = 1) -> list[Any]:
        if count == 0:
            return []
        values = self.stack[-count:]
        del self.stack[-count:]
        return values


class Tracer(CallsMixin, EffectsMixin, Blocks310Mixin):
    """Executes instructions; :class:`~._calls.CallsMixin` holds loads, calls and guards."""

    def run_frame(self, frame: Frame) -> Var:
        instructions = frame.code.instructions
        self.frames.append(frame)
        try:
            while True:
                if frame.index >= len(instructions):
                    raise self.unsupported("ran past the end of the code")
                instruction = instructions[frame.index]
                frame.index += 1
                if instruction.lineno is not None:
                    frame.lineno = instruction.lineno
                self.steps += 1
                if self.steps > self.max_steps:
                    raise self.unsupported(f"more than {self.config.max_unrolled_instructions} instructions traced "
                                           "(a loop too long to unroll)")
                frame.before = (frame.index - 1, list(frame.stack))
                try:
                    result = self.step(frame, instruction)
                except CaptureAbort as abort:  # the user's code raised: its own handler, if any, runs
                    if not self.handle_exception(frame, abort.error):
                        raise
                    continue
                if result is not None:
                    return result
        except Unsupported as error:
            if error.breakable and self.breaks_allowed and frame is self.frames[-1]:
                raise self.graph_break(error) from None
            raise
        except (CaptureAbort, GraphBreak):
            raise
        except TracedValueError as error:
            unsupported = self.unsupported(f"reads a tensor's value on the host ({error})", breakable=True)
            if self.breaks_allowed and frame is self.frames[-1]:
                raise self.graph_break(unsupported) from None
            raise unsupported from None
        except Exception as error:  # a bug of the tracer, or a user error it did not attribute: run eagerly
            raise self.unsupported(f"internal tracer error {type(error).__name__}: {error}") from error
        finally:
            self.frames.pop()

    # -- one instruction ---------------------------------------------------------------------------------
    def step(self, frame: Frame, instruction: Any) -> Var | None:
        stack = frame.stack
        kind = type(instruction)
        if kind is Op:
            return self.step_op(frame, instruction.name, instruction.arg)
        if kind is BinaryOp:
            right, left = stack.pop(), stack.pop()
            table = INPLACE_OPERATORS if instruction.inplace else BINARY_OPERATORS
            if instruction.op not in table:
                raise self.unsupported(f"binary operator {instruction.op}")
            dynamic = self.dynamic_binary(instruction.op, table[instruction.op], left, right) \
                if type(left) is Dynamic or type(right) is Dynamic else None
            stack.append(dynamic if dynamic is not None else self.apply_real(table[instruction.op], [left, right]))
        elif kind is CompareOp:
            right, left = stack.pop(), stack.pop()
            function = COMPARE_OPERATORS[instruction.op]
            result = (self.dynamic_binary(instruction.op, function, left, right) if type(left) is Dynamic or
                      type(right) is Dynamic else None) or self.apply_real(function, [left, right])
            if instruction.to_bool:
                result = Var(self.truth(result))
            stack.append(result)
        elif kind is IsOp:
            right, left = stack.pop(), stack.pop()
            same = self.identity(left) is self.identity(right)
            stack.append(Var(same != instruction.invert))
        elif kind is ContainsOp:
            right, left = stack.pop(), stack.pop()
            contained = self.apply_real(operator.contains, [right, left])
            stack.append(Var(bool(contained.value) != instruction.invert))
        elif kind is CondJump:
            value = stack[-1]
            if instruction.cond in ("none", "not_none"):
                taken = (self.identity(value) is None) == (instruction.cond == "none")
            else:
                taken = self.truth(value) == (instruction.cond == "true")
            if instruction.pop or not taken:
                stack.pop()
            if taken:
                frame.index = instruction.target
        elif kind is Jump:
            if instruction.target < frame.index - 1 and not self.config.loop_unrolling and self.builder is not None:
                # loop_unrolling=False: every back edge is a graph break, so each iteration is its own graph
                raise self.unsupported("a loop (jit_config loop_unrolling is off)", breakable=True)
            frame.index = instruction.target
        elif kind is ForIter:
            iterator = stack[-1].value
            try:
                item = next(iterator)
            except StopIteration:
                stack.pop()
                frame.index = instruction.target
            else:
                stack.append(item if isinstance(item, Var) else Var(item))
        elif kind is LoadGlobal:
            if instruction.push_null:
                stack.append(NULL)
            stack.append(self.load_global(frame, instruction.name))
        elif kind is PushNull:
            stack.append(NULL)
        elif kind is LoadMethod:
            owner = stack.pop()
            attribute = self.load_attribute(owner, instruction.name)
            stack.append(attribute)
            stack.append(NULL)
        elif kind is LoadSuperAttr:
            self_var, class_var, _super = stack.pop(), stack.pop(), stack.pop()
            proxy = super(class_var.value, self_var.value)
            stack.append(self.load_attribute(Var(proxy), instruction.name))
            if instruction.load_method:
                stack.append(NULL)
        elif kind is Call:
            arguments = frame.pop(instruction.argc)
            if instruction.has_self_or_null:
                first, second = frame.pop(2)
                if first is NULL:
                    callee, self_value = second, None
                elif second is NULL:
                    callee, self_value = first, None
                else:
                    callee, self_value = first, second
            else:
                callee, self_value = stack.pop(), None
            if self_value is not None:
                arguments = [self_value, *arguments]
            count = len(instruction.kwnames)
            positional = arguments[:len(arguments) - count] if count else arguments
            keywords = dict(zip(instruction.kwnames, arguments[len(arguments) - count:])) if count else {}
            frame.after_call = (frame.index, list(stack))
            self.direct_call = True
            stack.append(self.call(callee, positional, keywords))
            frame.after_call = None
        elif kind is CallFunctionEx:
            keywords_var = stack.pop() if instruction.has_kwargs else None
            arguments_var = stack.pop()
            callee = stack.pop()
            if instruction.has_null:
                other = stack.pop()
                if callee is NULL:
                    callee = other
            positional = [Var(v) if not isinstance(v, Var) else v for v in self.iterate(arguments_var)]
            keywords = {}
            if keywords_var is not None:
                mapping = self.materialize(keywords_var)
                keywords = {key: Var(value) for key, value in mapping.items()}
            frame.after_call = (frame.index, list(stack))
            self.direct_call = True
            stack.append(self.call(callee, positional, keywords))
            frame.after_call = None
        elif kind is Yield:
            if frame.collected is None:
                raise self.unsupported("yield")
            frame.collected.append(self.materialize(stack.pop()))
            stack.append(Var(None))
        elif kind in (SetupBlock, PopBlock, JumpIfNotExcMatch):  # 3.10 only
            self.step_block(frame, instruction)
        else:
            raise self.unsupported(f"the {kind.__name__} instruction")
        return None

    def step_op(self, frame: Frame, name: str, arg: Any) -> Var | None:
        stack = frame.stack
        if name in ("LOAD_FAST", "LOAD_FAST_CHECK"):
            if arg not in frame.locals and arg in frame.cells:  # 3.13 loads a cell for a closure this way
                stack.append(Var(frame.cells[arg][1]))
                return None
            if arg not in frame.locals:
                raise CaptureAbort(UnboundLocalError(f"local variable {arg!r} referenced before assignment"))
            stack.append(frame.locals[arg])
        elif name == "LOAD_FAST_AND_CLEAR":
            stack.append(frame.locals.pop(arg, NULL))
        elif name == "STORE_FAST":
            value = stack.pop()
            if value is NULL:
                frame.locals.pop(arg, None)
            else:
                frame.locals[arg] = value
        elif name == "DELETE_FAST":
            frame.locals.pop(arg, None)
        elif name == "LOAD_CONST":
            stack.append(Var(arg))
        elif name == "RETURN_VALUE":
            return stack.pop()  # type: ignore[no-any-return]
        elif name == "RETURN_CONST":
            return Var(arg)
        elif name == "POP_TOP":
            stack.pop()
        elif name == "COPY":
            stack.append(stack[-arg])
        elif name == "SWAP":
            stack[-1], stack[-arg] = stack[-arg], stack[-1]
        elif name == "DUP_TOP":
            stack.append(stack[-1])
        elif name == "DUP_TOP_TWO":
            stack.extend(stack[-2:])
        elif name in ("ROT_TWO", "ROT_THREE", "ROT_FOUR", "ROT_N"):
            count = {"ROT_TWO": 2, "ROT_THREE": 3, "ROT_FOUR": 4}.get(name, arg)
            stack[-count:] = [stack[-1], *stack[-count:-1]]
        elif name in ("NOP", "PRECALL", "END_FOR", "RESUME", "CACHE", "COPY_FREE_VARS", "MAKE_CELL", "NOT_TAKEN",
                      "END_SEND"):
            if name == "END_FOR":
                stack.pop()
        elif name in ("LOAD_DEREF", "LOAD_CLASSDEREF"):
            stack.append(self.load_cell(frame, arg))
        elif name == "STORE_DEREF":
            self.store_cell(frame, arg, stack.pop())
        elif name == "LOAD_CLOSURE":
            stack.append(Var(self.cell_object(frame, arg)))
        elif name == "LOAD_ATTR":
            owner = stack.pop()
            stack.append(self.load_attribute(owner, arg))
        elif name == "STORE_ATTR":
            owner, value = stack.pop(), stack.pop()
            if self.is_outside(owner):
                self.store_attribute(owner, arg, value)
            else:
                self.user_call(setattr, (owner.value, arg, self.real(value)), {})
        elif name == "DELETE_ATTR":
            owner = stack.pop()
            if self.is_outside(owner):
                self.store_attribute(owner, arg, DELETED)
            else:
                self.user_call(delattr, (owner.value, arg), {})
        elif name in ("STORE_GLOBAL", "DELETE_GLOBAL"):
            value = stack.pop() if name == "STORE_GLOBAL" else DELETED
            namespace = frame.function.__globals__
            self.store_global(namespace, f"{frame.function.__module__}.__dict__", arg, value)
        elif name == "BINARY_SUBSCR":
            key, container = stack.pop(), stack.pop()
            stack.append(self.subscript(container, key))
        elif name == "BINARY_SLICE":
            stop, start, container = stack.pop(), stack.pop(), stack.pop()
            stack.append(self.subscript(container, Var(slice(self.real(start), self.real(stop)))))
        elif name in ("STORE_SUBSCR", "DELETE_SUBSCR", "STORE_SLICE"):
            self.store_item(frame, name)
        elif name == "BUILD_SLICE":
            parts = [self.real(v) for v in frame.pop(arg)]
            stack.append(Var(slice(*parts)))
        elif name == "BUILD_TUPLE":
            stack.append(self.build_tuple(frame.pop(arg)))
        elif name in ("BUILD_LIST", "BUILD_SET"):
            items = [self.real(v) for v in frame.pop(arg)]
            stack.append(self.created(list(items) if name == "BUILD_LIST" else set(items)))
        elif name == "BUILD_MAP":
            flat = frame.pop(2 * arg)
            stack.append(self.created({self.real(flat[i]): self.real(flat[i + 1]) for i in range(0, len(flat), 2)}))
        elif name == "BUILD_CONST_KEY_MAP":
            keys = self.real(stack.pop())
            values = [self.real(v) for v in frame.pop(arg)]
            stack.append(self.created(dict(zip(keys, values))))
        elif name == "BUILD_STRING":
            parts = frame.pop(arg)
            stack.append(self.text(joined, parts, "f-string") or Var(joined(*(self.real(v) for v in parts))))
        elif name in ("LIST_APPEND", "SET_ADD"):
            value = stack.pop()
            if name == "LIST_APPEND" and (type(value) in (Dynamic, DynamicTuple) or type(stack[-arg]) is DynamicTuple):
                stack[-arg] = self.dynamic_list(stack[-arg], value)  # a comprehension over host values
            else:
                target = stack[-arg].value
                (target.append if name == "LIST_APPEND" else target.add)(self.real(value))
        elif name == "MAP_ADD":
            value, key = stack.pop(), stack.pop()
            stack[-arg].value[self.real(key)] = self.real(value)
        elif name in ("LIST_EXTEND", "SET_UPDATE", "DICT_UPDATE", "DICT_MERGE"):
            source = self.materialize(stack.pop())
            target = stack[-arg].value
            if name == "DICT_MERGE":
                duplicate = set(target) & set(source)
                if duplicate:
                    raise CaptureAbort(TypeError(f"got multiple values for keyword argument {duplicate.pop()!r}"))
            (target.extend if name == "LIST_EXTEND" else target.update)(source)
        elif name == "LIST_TO_TUPLE":
            stack.append(self.created(tuple(stack.pop().value)))
        elif name == "CALL_INTRINSIC_1":
            self.intrinsic(frame, arg)
        elif name in ("UNPACK_SEQUENCE", "UNPACK_EX"):
            sequence = stack.pop()
            items = list(sequence.items) if type(sequence) is DynamicTuple else \
                [v if isinstance(v, Var) else Var(v) for v in self.iterate(sequence)]
            if name == "UNPACK_SEQUENCE":
                if len(items) != arg:
                    raise CaptureAbort(ValueError(f"expected {arg} values to unpack, got {len(items)}"))
                stack.extend(reversed(items))
            else:
                before, after = arg & 0xFF, arg >> 8
                if len(items) < before + after:
                    raise CaptureAbort(ValueError(f"not enough values to unpack (expected at least {before + after}, "
                                                  f"got {len(items)})"))
                middle = self.created([self.real(v) for v in items[before:len(items) - after]])
                stack.extend(reversed([*items[:before], middle, *items[len(items) - after:]]))
        elif name in ("UNARY_NEGATIVE", "UNARY_POSITIVE", "UNARY_INVERT"):
            function = {"UNARY_NEGATIVE": operator.neg, "UNARY_POSITIVE": operator.pos,
                        "UNARY_INVERT": operator.invert}[name]
            stack.append(self.apply_real(function, [stack.pop()]))
        elif name == "UNARY_NOT":
            stack.append(Var(not self.truth(stack.pop())))
        elif name == "TO_BOOL":
            stack.append(Var(self.truth(stack.pop())))
        elif name == "GET_ITER":
            stack.append(Var(self.iterate(stack.pop())))
        elif name in ("FORMAT_VALUE", "CONVERT_VALUE", "FORMAT_SIMPLE", "FORMAT_WITH_SPEC"):
            spec = stack.pop() if name == "FORMAT_WITH_SPEC" or (name == "FORMAT_VALUE" and arg & 4) else Var("")
            operands = [stack.pop(), Var(arg & 3 if name == "FORMAT_VALUE" else arg if name == "CONVERT_VALUE" else 0),
                        Var(name != "CONVERT_VALUE"), spec]
            stack.append(self.text(formatted, operands, "formatted value")
                         or Var(formatted(*(self.real(v) for v in operands))))
        elif name == "MAKE_FUNCTION":
            stack.append(self.make_function(frame, arg))
        elif name == "SET_FUNCTION_ATTRIBUTE":
            function = stack.pop()
            value = stack.pop()
            stack.append(Var(self.set_function_attribute(function.value, arg, value)))
        elif name == "KW_NAMES":
            frame.kw_names = arg
        elif name == "RAISE_VARARGS":
            self.raise_error(frame, arg)
        elif name == "IMPORT_NAME":
            fromlist, level = self.real(stack.pop()), self.real(stack.pop())
            stack.append(Var(builtins.__import__(arg, frame.function.__globals__, None, fromlist, level)))
        elif name == "IMPORT_FROM":
            stack.append(Var(getattr(stack[-1].value, arg)))
        elif name == "LOAD_ASSERTION_ERROR":
            stack.append(Var(AssertionError))
        elif name == "GET_LEN":
            stack.append(Var(len(self.materialize(stack[-1]))))
        elif name == "POP_BLOCK":
            pass
        elif _PY310 and name in OPS_310:
            self.step_op310(frame, name, arg)
        elif name == "PUSH_EXC_INFO":
            error = stack.pop()
            stack.append(Var(frame.handled))
            frame.handled = error.value
            stack.append(error)
        elif name == "CHECK_EXC_MATCH":
            kinds = self.real(stack.pop())
            stack.append(Var(isinstance(stack[-1].value, kinds)))
        elif name == "POP_EXCEPT":
            frame.handled = stack.pop().value
        elif name == "RERAISE":  # pops the exception only (the oparg-th value below it is read, not popped)
            raise CaptureAbort(stack.pop().value)
        elif name in ("MATCH_SEQUENCE", "MATCH_MAPPING"):
            flag = 1 << 5 if name == "MATCH_SEQUENCE" else 1 << 6  # Py_TPFLAGS_SEQUENCE / MAPPING
            stack.append(Var(bool(type(self.real(stack[-1])).__flags__ & flag)))
        elif name == "MATCH_KEYS":
            keys = self.real(stack[-1])
            subject = self.real(stack[-2])
            found = all(key in subject for key in keys)
            stack.append(self.created(tuple(subject[key] for key in keys)) if found else Var(None))
        elif name == "MATCH_CLASS":
            self.match_class(frame, arg)
        elif name == "BEFORE_WITH":
            manager = stack.pop()
            kind = type(manager.value)
            for method, missed in (("__enter__", ""), ("__exit__", " (missed __exit__ method)" * (PY >= (3, 12)))):
                if not hasattr(kind, method):  # 3.11+ raise TypeError (3.10 AttributeError)
                    raise CaptureAbort(TypeError(f"'{kind.__name__}' object does not support the context manager "
                                                 f"protocol{missed}"))
            exit_method = self.load_attribute(manager, "__exit__")
            stack.append(exit_method)
            stack.append(self.call(self.load_attribute(manager, "__enter__"), [], {}))
        elif name == "WITH_EXCEPT_START":
            error = stack[-1].value
            stack.append(self.call(stack[-4], [Var(type(error)), Var(error), Var(error.__traceback__)], {}))
        else:
            raise self.unsupported(f"the {name} instruction")
        return None

    def break_refusal(self) -> str | None:
        """Why the traced frames cannot be saved at this point for a resume (None: they can)."""
        frames = self.frames
        for outer, inner in itertools.pairwise(frames):
            if not inner.entered_by_call or outer.after_call is None:
                return "inside an operator, property or callback: not resumable"
        for frame in frames:
            if _NOT_RESUMABLE.intersection(getattr(i, "name", type(i).__name__) for i in frame.code.instructions):
                return _CODE_NOT_RESUMABLE
            if frame.collected is not None or (frame.code.name.startswith("<") and frame.code.name != "<lambda>"):
                return "a graph break inside a comprehension or generator expression"
        return None

    def can_break(self) -> bool:
        """A graph break may be made here (breaks are allowed and the frames can be saved)."""
        return self.breaks_allowed and self.break_refusal() is None

    def graph_break(self, error: Unsupported) -> Exception:
        """The frames' state at the instruction that cannot be traced, for a continuation; or the error
        itself when that state cannot be resumed (the whole function then runs eagerly)."""
        frames = list(self.frames)
        refusal = self.break_refusal()
        if refusal is _CODE_NOT_RESUMABLE:
            return error
        if refusal is not None:
            return Unsupported(f"{error.reason} ({refusal})", error.filename, error.lineno)
        try:
            states = snapshot(frames)
        except Unsupported as reason:
            return Unsupported(f"{error.reason} ({reason.reason})", error.filename, error.lineno)
        return GraphBreak(error.reason, error.filename, error.lineno, states)

    def handle_exception(self, frame: Frame, error: BaseException, index: int | None = None) -> bool:
        """Enter the handler of the try region around the failing instruction (3.11+ exception table; 3.10:
        :meth:`~._blocks310.Blocks310Mixin.handle_exception310`)."""
        index = frame.index - 1 if index is None else index
        chain_context(error, frame.handled)
        if _PY310:
            return self.handle_exception310(frame, error, index)
        region = frame.code.region_at(index)
        if region is None:
            return False
        del frame.stack[region.depth or 0:]
        if region.lasti:
            frame.stack.append(Var(index))
        frame.stack.append(Var(error))
        frame.index = region.handler
        return True

    def match_class(self, frame: Frame, count: int) -> None:
        """MATCH_CLASS: the subject's positional (``__match_args__``) and keyword attributes, or None (3.11+;
        3.10's form is made from it by :meth:`~._blocks310.Blocks310Mixin.step_op310`)."""
        names, klass, subject = self.real(frame.stack.pop()), frame.stack.pop(), frame.stack.pop()
        if not isinstance(subject.value, self.real(klass)):
            frame.stack.append(Var(None))
            return
        positional = getattr(self.real(klass), "__match_args__", ())
        if count > len(positional):
            if count == 1 and not positional:  # int(x), str(x) … match the subject itself
                frame.stack.append(self.created((self.real(subject),)))
                return
            raise CaptureAbort(TypeError(f"{self.real(klass).__name__}() accepts {len(positional)} positional "
                                         f"sub-patterns ({count} given)"))
        values = []
        for attribute in (*positional[:count], *names):
            try:
                values.append(self.real(self.load_attribute(subject, attribute)))
            except CaptureAbort:
                frame.stack.append(Var(None))
                return
        frame.stack.append(self.created(tuple(values)))

    def intrinsic(self, frame: Frame, arg: Any) -> None:
        names = {5: "positive", 6: "list_to_tuple"}
        kind = names.get(arg if isinstance(arg, int) else -1)
        value = frame.stack.pop()
        if kind == "positive":
            frame.stack.append(self.apply_real(operator.pos, [value]))
        elif kind == "list_to_tuple":
            frame.stack.append(self.created(tuple(value.value)))
        else:
            raise self.unsupported(f"intrinsic function {arg}")

    def raise_error(self, frame: Frame, arg: int) -> None:
        if arg == 0:
            if frame.handled is None:
                raise CaptureAbort(RuntimeError("No active exception to reraise"))
            raise CaptureAbort(frame.handled)
        values = frame.pop(arg)
        error = self.real(values[0])
        if isinstance(error, type):
            error = error()
        if arg == 2:
            error.__cause__ = self.real(values[1])
        raise CaptureAbort(error)

    def store_item(self, frame: Frame, name: str) -> None:
        stack = frame.stack
        if name == "STORE_SUBSCR":
            key, container, value = stack.pop(), stack.pop(), stack.pop()
            if self.is_outside(container):
                self.mutate_method(container.value, "__setitem__", [key, value], {})
            else:
                self.user_call(operator.setitem, (container.value, self.real(key), self.real(value)), {})
        elif name == "DELETE_SUBSCR":
            key, container = stack.pop(), stack.pop()
            if self.is_outside(container):
                self.mutate_method(container.value, "__delitem__", [key], {})
            else:
                self.user_call(operator.delitem, (container.value, self.real(key)), {})
        else:
            stop, start, container, value = stack.pop(), stack.pop(), stack.pop(), stack.pop()
            if self.is_outside(container):
                self.mutate_method(container.value, "__setitem__",
                                   [Var(slice(self.real(start), self.real(stop))), value], {})
            else:
                container.value[self.real(start):self.real(stop)] = self.real(value)
