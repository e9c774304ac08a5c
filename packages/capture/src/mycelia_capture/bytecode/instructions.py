"""Canonical instructions: one instruction set for the bytecode of CPython 3.10-3.13.

Every class is a frozen dataclass. Jump targets are *instruction indices* into
``CanonicalCode.instructions`` (the builder also accepts :class:`Label` objects and resolves them
to indices when it builds). Byte offsets never appear here.

Stack model (shared by every version):

* ``Call(argc, kwnames, has_self_or_null=True)`` pops ``argc`` arguments (the last
  ``len(kwnames)`` of them passed by keyword) and, below them, two *callable slots*; it pushes the
  result. With ``has_self_or_null=False`` (3.10's ``CALL_FUNCTION``) there is only one slot,
  the callable. Of the two slots ``(a, b)`` (``a`` deeper): if ``a`` is NULL the callable is ``b``;
  if ``b`` is NULL the callable is ``a``; otherwise ``a`` is the method and ``b`` its ``self``
  (see :func:`call_target`). This rule is version-independent: 3.11/3.12 put the NULL below the
  callable, 3.13 above it, and every version puts a bound method's ``self`` above the function.
* ``LoadGlobal(name, push_null=True)`` and ``PushNull()`` push such a NULL slot; ``LoadMethod``
  pushes two slots.
* Generic :class:`Op` instructions keep the interpreter's own opname and a resolved argument
  (a constant's value, a name, a local's name, or the integer oparg).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = [
    "Label",
    "Instruction",
    "Op",
    "LoadGlobal",
    "LoadMethod",
    "LoadSuperAttr",
    "PushNull",
    "Call",
    "CallFunctionEx",
    "BinaryOp",
    "CompareOp",
    "IsOp",
    "ContainsOp",
    "Jump",
    "CondJump",
    "ForIter",
    "Send",
    "JumpIfNotExcMatch",
    "SetupBlock",
    "PopBlock",
    "Yield",
    "JUMP_CLASSES",
    "TryRegion",
    "CanonicalCode",
    "call_target",
]

Positions = tuple[int | None, int | None, int | None, int | None]


class Label:
    """A forward-referencable jump target, used by the :class:`~.builder.CodeBuilder`."""

    __slots__ = ("name",)

    def __init__(self, name: str = "") -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Label({self.name!r})" if self.name else f"Label(0x{id(self):x})"


class Instruction:
    """Base class. ``lineno`` is the source line (None for artificial instructions);
    ``positions`` is ``(lineno, end_lineno, col, end_col)`` on 3.11+ and is ignored by ``==``.

    Instructions are immutable records. They are not dataclasses: making ~20 frozen dataclasses costs
    tens of milliseconds at import, which is most of the jit's cold start. Each subclass is declared with
    :func:`_record`, which reads its annotated fields (positional, with their class-level defaults);
    ``lineno`` and ``positions`` are keyword-only on every instruction."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()
    _defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, *args: Any, lineno: int | None = None, positions: Positions | None = None,
                 **kwargs: Any) -> None:
        fields = type(self)._fields
        if len(args) > len(fields):
            raise TypeError(f"{type(self).__name__} takes {len(fields)} positional arguments, got {len(args)}")
        values = dict(zip(fields, args))
        for name in fields[len(args):]:
            if name in kwargs:
                values[name] = kwargs.pop(name)
            elif name in type(self)._defaults:
                values[name] = type(self)._defaults[name]
            else:
                raise TypeError(f"{type(self).__name__} is missing the argument {name!r}")
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected arguments {sorted(kwargs)}")
        set_value = object.__setattr__
        for name, value in values.items():
            set_value(self, name, value)
        set_value(self, "lineno", lineno)
        set_value(self, "positions", positions)

    def _key(self) -> tuple[Any, ...]:
        return (*(getattr(self, name) for name in type(self)._fields), self.lineno)

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self._key() == other._key()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self._key()))

    def __repr__(self) -> str:
        parts = [f"lineno={self.lineno!r}", *(f"{n}={getattr(self, n)!r}" for n in type(self)._fields)]
        return f"{type(self).__name__}({', '.join(parts)})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: instructions are immutable")

    __delattr__ = __setattr__  # type: ignore[assignment]

    def replace(self, **changes: Any) -> Instruction:
        """A copy with ``changes`` (as ``dataclasses.replace``)."""
        values = {name: getattr(self, name) for name in type(self)._fields}
        values["lineno"], values["positions"] = self.lineno, self.positions
        values.update(changes)
        return type(self)(**values)


def _record(cls: type) -> type:
    """Collect a subclass's annotated fields (in order) and their defaults."""
    own = [name for name in inspect.get_annotations(cls) if name not in ("lineno", "positions")]
    cls._fields = (*getattr(cls.__mro__[1], "_fields", ()), *own)  # type: ignore[attr-defined]
    defaults = dict(getattr(cls.__mro__[1], "_defaults", {}))
    for name in own:
        if name in cls.__dict__:
            defaults[name] = cls.__dict__[name]
    cls._defaults = defaults  # type: ignore[attr-defined]
    return cls


@_record
class Op(Instruction):
    """An instruction that means the same on every version that has it (``LOAD_FAST``,
    ``STORE_ATTR``, ``BUILD_LIST``...). ``arg``: constant value, name, local name or int."""

    name: str
    arg: Any = None


@_record
class LoadGlobal(Instruction):
    name: str
    push_null: bool = False


@_record
class LoadMethod(Instruction):
    """Pops an object, pushes two callable slots (method+self, or attribute+NULL)."""

    name: str


@_record
class LoadSuperAttr(Instruction):
    """3.12+ ``LOAD_SUPER_ATTR``: pops global ``super``, ``__class__`` and ``self``."""

    name: str
    load_method: bool = False
    two_args: bool = True


@_record
class PushNull(Instruction):
    pass


@_record
class Call(Instruction):
    argc: int
    kwnames: tuple[str, ...] = ()
    has_self_or_null: bool = True


@_record
class CallFunctionEx(Instruction):
    """``f(*args, **kwargs)``: pops kwargs (if ``has_kwargs``), the args tuple and the callable
    slots: two with ``has_null`` (3.11+, where a NULL was pushed for it), else one (3.10)."""

    has_kwargs: bool = False
    has_null: bool = True


@_record
class BinaryOp(Instruction):
    """``op`` is the operator symbol without ``=`` (``"+"``, ``"//"``, ``"@"``...)."""

    op: str
    inplace: bool = False


@_record
class CompareOp(Instruction):
    """``op`` in ``<, <=, ==, !=, >, >=``; ``to_bool`` is 3.13's "convert result to bool" bit."""

    op: str
    to_bool: bool = False


@_record
class IsOp(Instruction):
    invert: bool = False


@_record
class ContainsOp(Instruction):
    invert: bool = False


@_record
class Jump(Instruction):
    """Unconditional jump. ``no_interrupt``: 3.11+ ``JUMP_BACKWARD_NO_INTERRUPT``."""

    target: Any
    no_interrupt: bool = False


@_record
class CondJump(Instruction):
    """Conditional jump on the top of stack. ``cond`` is one of ``true``, ``false``, ``none``,
    ``not_none``. ``pop=True``: POP_JUMP_IF_* (always pops); ``pop=False``: JUMP_IF_*_OR_POP
    (keeps the value when jumping, pops it otherwise; 3.10/3.11 only)."""

    cond: str
    target: Any
    pop: bool = True


@_record
class ForIter(Instruction):
    """Pushes the next item; when the iterator is exhausted, pops it and continues at
    ``target`` (3.12's END_FOR and 3.13's END_FOR/POP_TOP after the loop are implied)."""

    target: Any


@_record
class Send(Instruction):
    """3.11+ ``SEND``: jumps to ``target`` when the sub-iterator returns."""

    target: Any


@_record
class JumpIfNotExcMatch(Instruction):
    """3.10 only (3.11+ uses CHECK_EXC_MATCH + CondJump)."""

    target: Any


@_record
class SetupBlock(Instruction):
    """3.10 only: ``SETUP_FINALLY`` / ``SETUP_WITH`` / ``SETUP_ASYNC_WITH``. The regions they
    open are also reported as :class:`TryRegion` records on the code."""

    kind: str  # "finally" | "with" | "async_with"
    target: Any


@_record
class PopBlock(Instruction):
    """3.10 only."""


@_record
class Yield(Instruction):
    """``YIELD_VALUE``; ``arg`` is its oparg (3.12+), ``resume`` the oparg of the ``RESUME`` that
    follows it on 3.11+ (1: yield, 2: yield from, 3: await; 3.13 adds bit 4 for depth 1)."""

    arg: int | None = None
    resume: int | None = None


JUMP_CLASSES = (Jump, CondJump, ForIter, Send, JumpIfNotExcMatch, SetupBlock)


@dataclass(frozen=True)
class TryRegion:
    """An exception region: instructions ``start <= i < end`` are handled by ``handler``.
    ``depth`` is the stack depth kept below the exception (3.11+ pushes the exception and, with
    ``lasti``, the offset of the raising instruction before it; 3.10 pushes six values).
    On 3.10 the regions are derived from the SETUP_*/POP_BLOCK instructions, which stay in the
    stream and are what ``encode`` assembles; on 3.11+ ``encode`` builds the exception table from
    these records."""

    start: Any
    end: Any
    handler: Any
    depth: int | None = None
    lasti: bool = False


@dataclass
class CanonicalCode:
    """A decoded code object: instructions plus what ``types.CodeType`` needs besides them."""

    instructions: list[Instruction]
    regions: list[TryRegion] = field(default_factory=list)
    argcount: int = 0
    posonlyargcount: int = 0
    kwonlyargcount: int = 0
    varargs: bool = False
    varkw: bool = False
    flags: int = 0
    varnames: tuple[str, ...] = ()
    cellvars: tuple[str, ...] = ()
    freevars: tuple[str, ...] = ()
    name: str = "<canonical>"
    qualname: str = "<canonical>"
    filename: str = "<canonical>"
    first_lineno: int = 1
    consts: tuple[Any, ...] = ()
    #: the prologue the interpreter ran before the body, as (opname, argval) pairs
    #: (GEN_START on 3.10; COPY_FREE_VARS, MAKE_CELL, RETURN_GENERATOR, POP_TOP on 3.11+).
    #: Informational: ``encode`` regenerates it from flags, cellvars and freevars.
    prologue: tuple[tuple[str, Any], ...] = ()

    @property
    def argnames(self) -> tuple[str, ...]:
        n = self.argcount + self.kwonlyargcount + int(self.varargs) + int(self.varkw)
        return self.varnames[:n]

    @property
    def docstring(self) -> Any:
        return self.consts[0] if self.consts and isinstance(self.consts[0], str) else None

    def jump_targets(self) -> set[int]:
        out = {i.target for i in self.instructions if isinstance(i, JUMP_CLASSES)}
        out.update(r.handler for r in self.regions)
        return out

    def region_at(self, index: int) -> TryRegion | None:
        for r in self.regions:
            if r.start <= index < r.end:
                return r
        return None


def call_target(a: Any, b: Any, is_null: Any = None) -> tuple[Any, Any]:
    """Given the two callable slots below a call's arguments (``a`` deeper), return
    ``(callable, self_or_None)``. ``is_null(x)`` tells whether a slot holds NULL
    (default: ``x is None``)."""
    null = is_null if is_null is not None else (lambda x: x is None)
    if null(a):
        return b, None
    if null(b):
        return a, None
    return a, b
