"""``decode``: a CPython 3.10-3.13 code object -> :class:`CanonicalCode`."""

from __future__ import annotations

import bisect
import dataclasses
import dis
import inspect
import opcode
import types
from typing import Any

from ._native import BINARY_SYMBOLS_310, JUMP_OPCODES, PY310, PY311, PY312, PY313, DecodeError, nb_op_symbol
from .instructions import (
    JUMP_CLASSES,
    BinaryOp,
    Call,
    CallFunctionEx,
    CanonicalCode,
    CompareOp,
    CondJump,
    ContainsOp,
    ForIter,
    Instruction,
    IsOp,
    Jump,
    JumpIfNotExcMatch,
    LoadGlobal,
    LoadMethod,
    LoadSuperAttr,
    Op,
    PopBlock,
    PushNull,
    Send,
    SetupBlock,
    TryRegion,
    Yield,
)

__all__ = ["decode", "normalise_regions"]

_DROPPED = frozenset({"NOP", "EXTENDED_ARG", "CACHE"})
_PROLOGUE = frozenset({"COPY_FREE_VARS", "MAKE_CELL", "RETURN_GENERATOR", "GEN_START"})
_SPLIT_SUPER = {
    "LOAD_FAST_LOAD_FAST": ("LOAD_FAST", "LOAD_FAST"),
    "STORE_FAST_LOAD_FAST": ("STORE_FAST", "LOAD_FAST"),
    "STORE_FAST_STORE_FAST": ("STORE_FAST", "STORE_FAST"),
}
_ARGVAL_OPS = frozenset(set(opcode.hasconst) | set(opcode.hasname) | set(opcode.haslocal) | set(opcode.hasfree))


def _lines_310(code: types.CodeType) -> dict[int, int | None]:
    out: dict[int, int | None] = {}
    for start, end, line in code.co_lines():
        for off in range(start, end, 2):
            out[off] = line
    return out


def _with_loc(instr: Instruction, loc: dict[str, Any]) -> Instruction:
    # the instruction was just created here: setting its location in place is safe and cheap
    for k, v in loc.items():
        object.__setattr__(instr, k, v)
    return instr


def _jump_instr(ins: dis.Instruction, target: int) -> Instruction:
    name = ins.opname
    if name in ("JUMP_FORWARD", "JUMP_ABSOLUTE", "JUMP_BACKWARD", "JUMP"):
        return Jump(target)
    if name == "JUMP_BACKWARD_NO_INTERRUPT":
        return Jump(target, no_interrupt=True)
    if name.startswith("POP_JUMP_") and "_IF_" in name:
        return CondJump(name.split("_IF_", 1)[1].lower(), target, pop=True)
    if name in ("JUMP_IF_TRUE_OR_POP", "JUMP_IF_FALSE_OR_POP"):
        return CondJump(name[len("JUMP_IF_") : -len("_OR_POP")].lower(), target, pop=False)
    if name == "FOR_ITER":
        return ForIter(target)
    if name == "SEND":
        return Send(target)
    if name == "JUMP_IF_NOT_EXC_MATCH":
        return JumpIfNotExcMatch(target)
    if name.startswith("SETUP_"):
        return SetupBlock(name[len("SETUP_") :].lower(), target)
    raise DecodeError(f"unsupported jump opcode {name}")


def _simple(ins: dis.Instruction) -> Instruction:
    """Translate one non-jump, non-fused instruction."""
    name, arg, argval = ins.opname, ins.arg, ins.argval
    if name == "LOAD_GLOBAL":
        return LoadGlobal(argval, push_null=bool(arg & 1) if PY311 else False)
    if name == "LOAD_METHOD":
        return LoadMethod(argval)
    if name == "LOAD_ATTR" and PY312 and arg & 1:
        return LoadMethod(argval)
    if name == "LOAD_SUPER_ATTR":
        return LoadSuperAttr(argval, load_method=bool(arg & 1), two_args=bool(arg & 2))
    if name == "PUSH_NULL":
        return PushNull()
    if name == "CALL_FUNCTION":
        return Call(arg, (), has_self_or_null=False)
    if name == "CALL_METHOD":
        return Call(arg, (), has_self_or_null=True)
    if name == "CALL":
        return Call(arg, (), has_self_or_null=True)
    if name == "CALL_FUNCTION_EX":
        return CallFunctionEx(has_kwargs=bool(arg & 1), has_null=PY311)
    if name == "BINARY_OP":
        sym, inplace = nb_op_symbol(arg)
        return BinaryOp(sym, inplace)
    if PY310 and (name.startswith("BINARY_") or name.startswith("INPLACE_")):
        kind, _, rest = name.partition("_")
        if rest in BINARY_SYMBOLS_310:
            return BinaryOp(BINARY_SYMBOLS_310[rest], inplace=kind == "INPLACE")
    if name == "COMPARE_OP":
        return CompareOp(argval, to_bool=bool(PY313 and arg & 16))
    if name == "IS_OP":
        return IsOp(bool(arg))
    if name == "CONTAINS_OP":
        return ContainsOp(bool(arg))
    if name == "YIELD_VALUE":
        return Yield(arg=arg if PY312 else None)
    if name == "POP_BLOCK":
        return PopBlock()
    if ins.opcode in _ARGVAL_OPS:
        return Op(name, argval)
    return Op(name, arg)


def decode(code: types.CodeType) -> CanonicalCode:
    """Decode ``code`` (of the running interpreter) into canonical instructions."""
    raw = [i for i in dis.get_instructions(code) if i.opname != "CACHE"]
    lines = _lines_310(code) if not PY311 else None
    out: list[Instruction] = []
    # native offset -> canonical index (dropped instructions map to the next canonical one)
    pending: list[int] = []
    off2idx: dict[int, int] = {}
    prologue: list[tuple[str, Any, int | None]] = []

    def loc(ins: dis.Instruction) -> dict[str, Any]:
        if lines is not None:
            return {"lineno": lines.get(ins.offset)}
        p = ins.positions
        pos = (p.lineno, p.end_lineno, p.col_offset, p.end_col_offset) if p is not None else None
        return {"lineno": pos[0] if pos else None, "positions": pos}

    def emit(instr: Instruction, ins: dis.Instruction) -> None:
        for off in pending:
            off2idx[off] = len(out)
        pending.clear()
        off2idx[ins.offset] = len(out)
        out.append(_with_loc(instr, loc(ins)))

    # 3.12+: FOR_ITER's exhaustion path skips END_FOR (and 3.13's POP_TOP after it): drop them.
    skipped: set[int] = set()
    other_targets: set[int] = set()
    by_off = {ins.offset: k for k, ins in enumerate(raw)}
    for ins in raw:
        if ins.opcode in JUMP_OPCODES:
            if PY312 and ins.opname == "FOR_ITER":
                k = by_off[ins.argval]
                if raw[k].opname == "END_FOR":
                    skipped.add(raw[k].offset)
                    if PY313 and k + 1 < len(raw) and raw[k + 1].opname == "POP_TOP":
                        skipped.add(raw[k + 1].offset)
            else:
                other_targets.add(ins.argval)
    if skipped & other_targets:
        raise DecodeError(f"{code.co_name}: END_FOR reached other than from FOR_ITER")

    in_prologue = True
    kwnames: tuple[str, ...] = ()
    k = 0
    n = len(raw)
    while k < n:
        ins = raw[k]
        name = ins.opname
        k += 1
        if in_prologue:
            if name in _PROLOGUE or (name == "POP_TOP" and prologue and prologue[-1][0] == "RETURN_GENERATOR"):
                prologue.append((name, ins.argval, loc(ins)["lineno"]))
                pending.append(ins.offset)
                continue
            if name == "RESUME":
                prologue.append((name, ins.arg, loc(ins)["lineno"]))
                pending.append(ins.offset)
                in_prologue = False
                continue
            if name not in _DROPPED:
                in_prologue = False
        if name in _DROPPED or ins.offset in skipped:
            pending.append(ins.offset)
            continue
        if name == "RESUME":
            if not out or not isinstance(out[-1], Yield) or pending:
                raise DecodeError(f"{code.co_name}: RESUME at {ins.offset} not after YIELD_VALUE")
            out[-1] = out[-1].replace(resume=ins.arg)
            pending.append(ins.offset)
            continue
        if name in ("KW_NAMES", "PRECALL"):
            if name == "KW_NAMES":
                kwnames = tuple(code.co_consts[ins.arg])
            pending.append(ins.offset)
            continue
        if name == "CALL":
            emit(Call(ins.arg, kwnames, has_self_or_null=True), ins)
            kwnames = ()
            continue
        if name == "LOAD_CONST" and k < n and raw[k].opname in ("CALL_FUNCTION_KW", "CALL_KW"):
            call = raw[k]
            k += 1
            pending.append(ins.offset)
            emit(Call(call.arg, tuple(ins.argval), has_self_or_null=call.opname == "CALL_KW"), call)
            continue
        if name in ("CALL_FUNCTION_KW", "CALL_KW"):
            raise DecodeError(f"{code.co_name}: {name} without a constant tuple of names before it")
        if name in _SPLIT_SUPER:
            a, b = _SPLIT_SUPER[name]
            emit(Op(a, ins.argval[0]), ins)
            out.append(_with_loc(Op(b, ins.argval[1]), loc(ins)))
            continue
        if name == "RETURN_CONST":
            emit(Op("LOAD_CONST", ins.argval), ins)
            out.append(_with_loc(Op("RETURN_VALUE"), loc(ins)))
            continue
        if ins.opcode in JUMP_OPCODES:
            emit(_jump_instr(ins, ins.argval), ins)
            continue
        emit(_simple(ins), ins)

    end = len(code.co_code)
    for off in pending:
        off2idx[off] = len(out)
    off2idx[end] = len(out)
    offsets = sorted(off2idx)

    def idx(off: int) -> int:
        if off in off2idx:
            return off2idx[off]
        j = bisect.bisect_left(offsets, off)
        return off2idx[offsets[j]] if j < len(offsets) else len(out)

    for i, instr in enumerate(out):
        if isinstance(instr, JUMP_CLASSES):
            out[i] = instr.replace(target=idx(instr.target))

    co = CanonicalCode(
        instructions=out,
        argcount=code.co_argcount,
        posonlyargcount=code.co_posonlyargcount,
        kwonlyargcount=code.co_kwonlyargcount,
        varargs=bool(code.co_flags & inspect.CO_VARARGS),
        varkw=bool(code.co_flags & inspect.CO_VARKEYWORDS),
        flags=code.co_flags,
        varnames=code.co_varnames,
        cellvars=code.co_cellvars,
        freevars=code.co_freevars,
        name=code.co_name,
        qualname=getattr(code, "co_qualname", code.co_name),
        filename=code.co_filename,
        first_lineno=code.co_firstlineno,
        consts=code.co_consts,
        prologue=tuple(prologue),
    )
    if PY311:
        regions = [
            TryRegion(idx(e.start), idx(e.end), idx(e.target), e.depth, e.lasti)
            for e in dis.Bytecode(code).exception_entries
        ]
    else:
        from .stack import blocks_to_regions

        regions = blocks_to_regions(co)
    co.regions = normalise_regions(regions)
    return co


def normalise_regions(regions: list[TryRegion]) -> list[TryRegion]:
    """Sort, drop empty regions and merge adjacent ones with the same handler, depth and lasti."""
    out: list[TryRegion] = []
    for r in sorted(regions, key=lambda r: (r.start, r.end)):
        if r.end <= r.start:
            continue
        if (
            out
            and out[-1].end == r.start
            and (out[-1].handler, out[-1].depth, out[-1].lasti)
            == (
                r.handler,
                r.depth,
                r.lasti,
            )
        ):
            out[-1] = dataclasses.replace(out[-1], end=r.end)
        else:
            out.append(r)
    return out
