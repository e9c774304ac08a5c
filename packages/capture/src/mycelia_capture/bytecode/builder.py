"""A small emitter of canonical code that encodes on every supported version.

Example (``def f(x, y): return g(x, y)``)::

    b = CodeBuilder("f", argnames=("x", "y"))
    b.load_global_callable("g")
    b.load_fast("x"); b.load_fast("y")
    b.call(2)
    b.return_value()
    fn = b.to_function({"g": g})
"""

from __future__ import annotations

import inspect
import types
from typing import Any

from ._native import PY310, PY313, EncodeError
from .encode import encode
from .instructions import (
    JUMP_CLASSES,
    BinaryOp,
    Call,
    CanonicalCode,
    CompareOp,
    CondJump,
    ForIter,
    Instruction,
    Jump,
    Label,
    LoadGlobal,
    LoadMethod,
    Op,
    PushNull,
    TryRegion,
)

__all__ = ["CodeBuilder"]

_LOCAL_OPS = frozenset({"LOAD_FAST", "STORE_FAST", "DELETE_FAST", "LOAD_FAST_CHECK", "LOAD_FAST_AND_CLEAR"})


class CodeBuilder:
    """Collects canonical instructions; jump targets may be :class:`Label` objects."""

    def __init__(
        self,
        name: str = "<built>",
        argnames: tuple[str, ...] = (),
        *,
        posonlyargcount: int = 0,
        kwonlyargcount: int = 0,
        varargs: bool = False,
        varkw: bool = False,
        cellvars: tuple[str, ...] = (),
        freevars: tuple[str, ...] = (),
        filename: str = "<mycelia-built>",
        first_lineno: int = 1,
        qualname: str | None = None,
        flags: int = 0,
    ) -> None:
        self.name = name
        self.argnames = tuple(argnames)
        self.posonlyargcount = posonlyargcount
        self.kwonlyargcount = kwonlyargcount
        self.varargs = varargs
        self.varkw = varkw
        self.cellvars = tuple(cellvars)
        self.freevars = tuple(freevars)
        self.filename = filename
        self.first_lineno = first_lineno
        self.qualname = qualname or name
        self.extra_flags = flags
        self.instructions: list[Instruction] = []
        self.regions: list[TryRegion] = []
        self._labels: dict[Label, int] = {}
        self.lineno: int | None = first_lineno

    # -- low level -------------------------------------------------------------------------
    def emit(self, instr: Instruction) -> CodeBuilder:
        if instr.lineno is None and self.lineno is not None:
            instr = instr.replace(lineno=self.lineno)
        self.instructions.append(instr)
        return self

    def new_label(self, name: str = "") -> Label:
        return Label(name)

    def place(self, label: Label) -> CodeBuilder:
        """Bind ``label`` to the next emitted instruction."""
        if label in self._labels:
            raise EncodeError(f"{label!r} placed twice")
        self._labels[label] = len(self.instructions)
        return self

    def add_region(
        self, start: Label | int, end: Label | int, handler: Label | int, depth: int | None = None, lasti: bool = False
    ) -> CodeBuilder:
        """An exception region (3.11+; ``depth=None``: the stack depth at ``start``)."""
        if PY310:
            raise EncodeError("3.10 code uses SetupBlock/PopBlock instructions for try regions")
        self.regions.append(TryRegion(start, end, handler, depth, lasti))
        return self

    # -- helpers ---------------------------------------------------------------------------
    def op(self, name: str, arg: Any = None) -> CodeBuilder:
        return self.emit(Op(name, arg))

    def load_const(self, value: Any) -> CodeBuilder:
        return self.op("LOAD_CONST", value)

    def load_fast(self, name: str) -> CodeBuilder:
        return self.op("LOAD_FAST", name)

    def store_fast(self, name: str) -> CodeBuilder:
        return self.op("STORE_FAST", name)

    def load_global(self, name: str) -> CodeBuilder:
        return self.emit(LoadGlobal(name, push_null=False))

    def load_attr(self, name: str) -> CodeBuilder:
        return self.op("LOAD_ATTR", name)

    def load_global_callable(self, name: str) -> CodeBuilder:
        """Push global ``name`` ready for :meth:`call` (with its NULL slot)."""
        return self.emit(LoadGlobal(name, push_null=True))

    def push_null_before(self) -> CodeBuilder:
        """Call before emitting a callable that is not a global (3.10-3.12 put NULL below it)."""
        if not PY313:
            self.emit(PushNull())
        return self

    def push_null_after(self) -> CodeBuilder:
        """Call after emitting that callable (3.13 puts NULL above it)."""
        if PY313:
            self.emit(PushNull())
        return self

    def load_method(self, name: str) -> CodeBuilder:
        """Object on the stack -> two callable slots (method call with :meth:`call`)."""
        return self.emit(LoadMethod(name))

    def call(self, argc: int, kwnames: tuple[str, ...] = ()) -> CodeBuilder:
        return self.emit(Call(argc, tuple(kwnames), has_self_or_null=True))

    def binary(self, op: str, inplace: bool = False) -> CodeBuilder:
        return self.emit(BinaryOp(op, inplace))

    def compare(self, op: str) -> CodeBuilder:
        return self.emit(CompareOp(op))

    def jump(self, target: Label) -> CodeBuilder:
        return self.emit(Jump(target))

    def pop_jump_if(self, cond: str, target: Label) -> CodeBuilder:
        """Pop the top of stack and jump if it is true/false/none/not_none."""
        if PY313 and cond in ("true", "false"):
            self.op("TO_BOOL")  # 3.13's POP_JUMP_IF_TRUE/FALSE need an exact bool
        return self.emit(CondJump(cond, target, pop=True))

    def get_iter(self) -> CodeBuilder:
        return self.op("GET_ITER")

    def for_iter(self, exit_label: Label) -> CodeBuilder:
        return self.emit(ForIter(exit_label))

    def pop_top(self) -> CodeBuilder:
        return self.op("POP_TOP")

    def return_value(self) -> CodeBuilder:
        return self.op("RETURN_VALUE")

    # -- output ----------------------------------------------------------------------------
    def _resolve(self, t: Any) -> int:
        if isinstance(t, Label):
            if t not in self._labels:
                raise EncodeError(f"{t!r} was never placed")
            return self._labels[t]
        return int(t)

    def build(self) -> CanonicalCode:
        instrs = [
            i.replace(target=self._resolve(i.target)) if isinstance(i, JUMP_CLASSES) else i
            for i in self.instructions
        ]
        regions = [
            TryRegion(self._resolve(r.start), self._resolve(r.end), self._resolve(r.handler), r.depth, r.lasti)
            for r in self.regions
        ]
        varnames = list(self.argnames)
        for ins in instrs:
            if isinstance(ins, Op) and ins.name in _LOCAL_OPS and ins.arg not in varnames:
                if ins.arg not in self.cellvars and ins.arg not in self.freevars:
                    varnames.append(ins.arg)
        flags = inspect.CO_OPTIMIZED | inspect.CO_NEWLOCALS | self.extra_flags
        if self.varargs:
            flags |= inspect.CO_VARARGS
        if self.varkw:
            flags |= inspect.CO_VARKEYWORDS
        if PY310 and not self.cellvars and not self.freevars:
            flags |= inspect.CO_NOFREE
        argcount = len(self.argnames) - self.kwonlyargcount - int(self.varargs) - int(self.varkw)
        return CanonicalCode(
            instructions=instrs,
            regions=regions,
            argcount=argcount,
            posonlyargcount=self.posonlyargcount,
            kwonlyargcount=self.kwonlyargcount,
            varargs=self.varargs,
            varkw=self.varkw,
            flags=flags,
            varnames=tuple(varnames),
            cellvars=self.cellvars,
            freevars=self.freevars,
            name=self.name,
            qualname=self.qualname,
            filename=self.filename,
            first_lineno=self.first_lineno,
            consts=(None,),
        )

    def to_code(self) -> types.CodeType:
        return encode(self.build())

    def to_function(
        self,
        globals_: dict[str, Any],
        defaults: tuple[Any, ...] | None = None,
        closure: tuple[Any, ...] | None = None,
        kwdefaults: dict[str, Any] | None = None,
    ) -> types.FunctionType:
        fn = types.FunctionType(self.to_code(), globals_, self.name, defaults, closure)
        if kwdefaults:
            fn.__kwdefaults__ = kwdefaults
        return fn
