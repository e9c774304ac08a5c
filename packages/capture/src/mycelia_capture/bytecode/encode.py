"""``encode``: :class:`CanonicalCode` -> a code object for the running interpreter.

Canonical instructions are lowered to the running version's instructions (jump direction and
flavour, EXTENDED_ARG-free arguments, prologue, END_FOR after loops, RESUME after yields, NULL
slots), the stack size is computed here with ``dis.stack_effect``, and the ``bytecode`` package
assembles offsets, EXTENDED_ARG, inline CACHE entries (counts from ``dis``), the line table and
the exception table (3.11+).
"""

from __future__ import annotations

import dis
import itertools
import opcode
import types
from typing import Any

import bytecode as _bc
from bytecode.instr import InstrLocation as _InstrLocation

from ._native import (
    GEN_FLAGS,
    PY310,
    PY311,
    PY312,
    PY313,
    EncodeError,
    has_arg,
    native_stack_effect,
    nb_op_index,
)
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
    Yield,
)
from .stack import TERMINAL_NAMES, depth_dataflow, is_terminal

__all__ = ["encode", "lower_one"]

_UNCOND = frozenset({"JUMP_FORWARD", "JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT", "JUMP_ABSOLUTE"})
_INV = {"true": "false", "false": "true", "none": "not_none", "not_none": "none"}
_BINARY_310 = {
    "**": "POWER",
    "*": "MULTIPLY",
    "@": "MATRIX_MULTIPLY",
    "//": "FLOOR_DIVIDE",
    "/": "TRUE_DIVIDE",
    "%": "MODULO",
    "+": "ADD",
    "-": "SUBTRACT",
    "<<": "LSHIFT",
    ">>": "RSHIFT",
    "&": "AND",
    "^": "XOR",
    "|": "OR",
}


class _N:
    """A native instruction before assembly. ``target`` is a label key for jumps."""

    __slots__ = ("arg", "lineno", "name", "positions", "shape", "target")

    def __init__(self, name: str, arg: Any = None, shape: int = 0, target: Any = None) -> None:
        if name not in opcode.opmap:
            raise EncodeError(f"{name} does not exist on this Python")
        self.name = name
        self.arg = arg
        self.shape = shape
        self.target = target
        self.lineno: int | None = None
        self.positions: Any = None


def _jump(name: str, key: Any) -> _N:
    return _N(name, None, 0, key)


class _Lowerer:
    def __init__(self, co: CanonicalCode | None) -> None:
        self.co = co
        self.varnames = set(co.varnames) if co else set()
        self.cellvars = set(co.cellvars) if co else set()
        self.freevars = set(co.freevars) if co else set()
        self.slots: list[str] = []  # 3.10 only: "null" (virtual) / "method" markers

    def op_arg(self, name: str, arg: Any) -> tuple[Any, int]:
        """(bytecode-package argument, oparg shape for dis.stack_effect)."""
        op = opcode.opmap[name]
        if not has_arg(op):
            return _bc.UNSET, 0
        if op in opcode.hasfree:
            return (_bc.CellVar(arg) if arg in self.cellvars else _bc.FreeVar(arg)), 0
        if op in opcode.haslocal:
            if PY313 and arg not in self.varnames:
                if arg in self.cellvars:
                    return _bc.CellVar(arg), 0
                if arg in self.freevars:
                    return _bc.FreeVar(arg), 0
            return arg, 0
        if op in opcode.hasname:
            if PY312 and name == "LOAD_ATTR":
                return (False, arg), 0
            return arg, 0
        if op in opcode.hasconst:
            return arg, 0
        if name == "CALL_INTRINSIC_1":
            return _bc.Intrinsic1Op(arg), arg
        if name == "CALL_INTRINSIC_2":
            return _bc.Intrinsic2Op(arg), arg
        return arg, int(arg)

    def op(self, name: str, arg: Any = None) -> _N:
        a, shape = self.op_arg(name, arg)
        return _N(name, a, shape)

    def lower(self, ins: Instruction, i: int) -> list[_N]:
        if isinstance(ins, Op):
            return [self.op(ins.name, ins.arg)]
        if isinstance(ins, LoadGlobal):
            if not PY311:
                if ins.push_null:
                    self.slots.append("null")
                return [_N("LOAD_GLOBAL", ins.name)]
            return [_N("LOAD_GLOBAL", (ins.push_null, ins.name), int(ins.push_null))]
        if isinstance(ins, PushNull):
            if not PY311:
                self.slots.append("null")
                return []
            return [_N("PUSH_NULL")]
        if isinstance(ins, LoadMethod):
            if not PY311:
                self.slots.append("method")
            if PY312:
                return [_N("LOAD_ATTR", (True, ins.name), 1)]
            return [_N("LOAD_METHOD", ins.name)]
        if isinstance(ins, LoadSuperAttr):
            if not PY312:
                raise EncodeError("LOAD_SUPER_ATTR needs Python 3.12+")
            return [
                _N(
                    "LOAD_SUPER_ATTR",
                    (ins.load_method, ins.two_args, ins.name),
                    int(ins.load_method) | (2 * int(ins.two_args)),
                )
            ]
        if isinstance(ins, Call):
            return self.call(ins)
        if isinstance(ins, CallFunctionEx):
            if PY311 and not ins.has_null:
                raise EncodeError("CALL_FUNCTION_EX needs a NULL slot on 3.11+")
            if not PY311 and ins.has_null:
                if not self.slots or self.slots.pop() != "null":
                    raise EncodeError("CALL_FUNCTION_EX with a NULL slot that 3.10 cannot express")
            return [_N("CALL_FUNCTION_EX", int(ins.has_kwargs), int(ins.has_kwargs))]
        if isinstance(ins, BinaryOp):
            if PY311:
                k = nb_op_index(ins.op, ins.inplace)
                return [_N("BINARY_OP", k, k)]
            return [_N(("INPLACE_" if ins.inplace else "BINARY_") + _BINARY_310[ins.op])]
        if isinstance(ins, CompareOp):
            v = dis.cmp_op.index(ins.op) + (16 if (PY313 and ins.to_bool) else 0)
            return [_N("COMPARE_OP", _bc.Compare(v))]
        if isinstance(ins, IsOp):
            return [_N("IS_OP", int(ins.invert), int(ins.invert))]
        if isinstance(ins, ContainsOp):
            return [_N("CONTAINS_OP", int(ins.invert), int(ins.invert))]
        if isinstance(ins, Yield):
            y = _N("YIELD_VALUE", ins.arg or 0, ins.arg or 0) if PY312 else _N("YIELD_VALUE")
            if not PY311:
                return [y]
            r = 1 if ins.resume is None else ins.resume
            return [y, _N("RESUME", r, r)]
        if isinstance(ins, PopBlock):
            if not PY310:
                raise EncodeError("POP_BLOCK is 3.10 only")
            return [_N("POP_BLOCK")]
        if isinstance(ins, JUMP_CLASSES):
            return self.jump(ins, i)
        raise EncodeError(f"cannot encode {ins!r}")

    def call(self, ins: Call) -> list[_N]:
        n = ins.argc
        if not PY311:
            virtual = ins.has_self_or_null and bool(self.slots) and self.slots[-1] == "null"
            if self.slots and ins.has_self_or_null:
                self.slots.pop()
            if ins.kwnames:
                if ins.has_self_or_null and not virtual:
                    raise EncodeError("3.10 has no method call with keyword arguments")
                return [_N("LOAD_CONST", ins.kwnames), _N("CALL_FUNCTION_KW", n, n)]
            if ins.has_self_or_null and not virtual:
                return [_N("CALL_METHOD", n, n)]
            return [_N("CALL_FUNCTION", n, n)]
        if not ins.has_self_or_null:
            raise EncodeError("calls on 3.11+ need the NULL/self slot (PushNull)")
        out = []
        if ins.kwnames:
            if PY313:
                return [_N("LOAD_CONST", ins.kwnames), _N("CALL_KW", n, n)]
            out.append(_N("KW_NAMES", ins.kwnames))
        if not PY312:
            out.append(_N("PRECALL", n, n))
        out.append(_N("CALL", n, n))
        return out

    def jump(self, ins: Instruction, i: int) -> list[_N]:
        t = ins.target  # type: ignore[attr-defined]
        key = ("L", t)
        back = t <= i
        if isinstance(ins, Jump):
            if PY310:
                return [_jump("JUMP_ABSOLUTE" if back else "JUMP_FORWARD", key)]
            if back:
                return [_jump("JUMP_BACKWARD_NO_INTERRUPT" if ins.no_interrupt else "JUMP_BACKWARD", key)]
            return [_jump("JUMP_FORWARD", key)]
        if isinstance(ins, CondJump):
            return self.cond_jump(ins, key, back, i)
        if isinstance(ins, ForIter):
            return [_jump("FOR_ITER", ("E", t) if PY312 else key)]
        if isinstance(ins, Send):
            return [_jump("SEND", key)]
        if isinstance(ins, JumpIfNotExcMatch):
            return [_jump("JUMP_IF_NOT_EXC_MATCH", key)]
        if isinstance(ins, SetupBlock):
            if not PY310:
                raise EncodeError("SETUP_* blocks are 3.10 only; use TryRegion")
            return [_jump("SETUP_" + ins.kind.upper(), key)]
        raise EncodeError(f"cannot encode {ins!r}")

    def cond_jump(self, ins: CondJump, key: Any, back: bool, i: int) -> list[_N]:
        cond = ins.cond
        if not ins.pop:
            if PY312:
                raise EncodeError("JUMP_IF_*_OR_POP does not exist on 3.12+")
            if PY311 and back:
                raise EncodeError("JUMP_IF_*_OR_POP cannot jump backward on 3.11")
            return [_jump(f"JUMP_IF_{cond.upper()}_OR_POP", key)]
        if PY310 and cond in ("none", "not_none"):
            return [
                _N("LOAD_CONST", None),
                _N("IS_OP", int(cond == "not_none"), int(cond == "not_none")),
                _jump("POP_JUMP_IF_TRUE", key),
            ]
        if PY310:
            return [_jump(f"POP_JUMP_IF_{cond.upper()}", key)]
        if not PY312:
            return [_jump(f"POP_JUMP_{'BACKWARD' if back else 'FORWARD'}_IF_{cond.upper()}", key)]
        if not back:
            return [_jump(f"POP_JUMP_IF_{cond.upper()}", key)]
        skip = ("S", i)
        return [_jump(f"POP_JUMP_IF_{_INV[cond].upper()}", skip), _jump("JUMP_BACKWARD", key), ("label", skip)]  # type: ignore[list-item]


def lower_one(ins: Instruction) -> list[tuple[str, int]]:
    """The native (opname, oparg shape) sequence of one canonical instruction, for stack effects."""
    lw = _Lowerer(None)
    if isinstance(ins, Op):
        return [(ins.name, lw.op_arg(ins.name, ins.arg)[1] if ins.arg is not None else 0)]
    return [(n.name, n.shape) for n in lw.lower(ins, 1 << 30) if isinstance(n, _N)]


def _prologue(co: CanonicalCode) -> tuple[list[_N], list[_N]]:
    """(before the region markers of instruction 0, after them)."""
    lines = {name: ln for name, _, ln in co.prologue}
    gen = bool(co.flags & GEN_FLAGS)
    before: list[_N] = []
    if PY310:
        if gen:
            kind = 0 if co.flags & 0x20 else (1 if co.flags & 0x80 else 2)  # CO_GENERATOR / CO_COROUTINE
            before.append(_N("GEN_START", kind, kind))
            before[0].lineno = lines.get("GEN_START")
        return before, []
    if co.freevars:
        before.append(_N("COPY_FREE_VARS", len(co.freevars), len(co.freevars)))
    for c in co.cellvars:
        before.append(_N("MAKE_CELL", _bc.CellVar(c)))
    if gen:
        before += [_N("RETURN_GENERATOR"), _N("POP_TOP")]
    for n in before:
        n.lineno = lines.get(n.name, co.first_lineno if n.name in ("RETURN_GENERATOR", "POP_TOP") else None)
    resume = _N("RESUME", 0)
    resume.lineno = lines.get("RESUME", co.first_lineno)
    return (before, [resume]) if gen else ([*before, resume], [])


def encode(co: CanonicalCode) -> types.CodeType:
    """Assemble ``co`` for the running interpreter."""
    instrs = co.instructions
    n = len(instrs)
    lw = _Lowerer(co)
    items: list[Any] = []
    regions = sorted(co.regions, key=lambda r: r.start) if not PY310 else []
    for a, b in itertools.pairwise(regions):
        if b.start < a.end:
            raise EncodeError(f"overlapping try regions {a} and {b}")
    starts: dict[int, list[int]] = {}
    ends: dict[int, list[int]] = {}
    for k, r in enumerate(regions):
        starts.setdefault(r.start, []).append(k)
        ends.setdefault(r.end, []).append(k)
    for_targets = {ins.target for ins in instrs if isinstance(ins, ForIter)} if PY312 else set()
    marked: set[int] = set()
    fused: set[int] = set()
    targets = co.jump_targets() if PY312 else set()

    def markers(i: int) -> None:
        if i in marked:
            return
        marked.add(i)
        items.extend(("end", k) for k in ends.get(i, ()))
        items.extend(("begin", k) for k in starts.get(i, ()))

    before, after = _prologue(co)
    items += before
    markers(0)
    items += after
    for i in range(n + 1):
        if i in for_targets:
            if i > 0 and not is_terminal(instrs[i - 1]):
                items.append(_jump("JUMP_FORWARD", ("L", i)))
            items.append(("label", ("E", i)))
            src = next(x for x in instrs if isinstance(x, ForIter) and x.target == i)
            for name in ("END_FOR", "POP_TOP") if PY313 else ("END_FOR",):
                e = _N(name)
                e.lineno, e.positions = src.lineno, src.positions
                items.append(e)
        markers(i)
        items.append(("label", ("L", i)))
        if i == n:
            break
        ins = instrs[i]
        if i in fused:
            continue
        if (
            PY312
            and isinstance(ins, Op)
            and ins.name == "LOAD_CONST"
            and i + 1 < n
            and instrs[i + 1] == Op("RETURN_VALUE", lineno=ins.lineno)
            and instrs[i + 1].positions == ins.positions
            and i + 1 not in targets
            and i + 1 not in starts
            and i + 1 not in ends
        ):
            # 3.12+ RETURN_CONST (decode splits it): keeps co_stacksize identical
            fused.add(i + 1)
            nat = lw.op("RETURN_CONST", ins.arg)
            nat.lineno, nat.positions = ins.lineno, ins.positions
            items.append(nat)
            continue
        natives = lw.lower(ins, i)
        for nat in natives:
            if isinstance(nat, _N):
                nat.lineno, nat.positions = ins.lineno, ins.positions
                if isinstance(ins, Yield) and nat.name == "RESUME":
                    markers(i + 1)
            items.append(nat)
    depths = _region_depths(co, items, regions)
    return _assemble(co, items, regions, depths)


def _region_depths(co: CanonicalCode, items: list[Any], regions: list[Any]) -> tuple[list[int], int]:
    """(depth of every region, max stack depth) from a dataflow over the native instructions."""
    natives: list[_N] = []
    label_pos: dict[Any, int] = {}
    region_of: list[int | None] = []
    region_start: dict[int, int] = {}
    cur: int | None = None
    for it in items:
        if isinstance(it, _N):
            natives.append(it)
            region_of.append(cur)
        elif it[0] == "label":
            label_pos[it[1]] = len(natives)
        elif it[0] == "begin":
            cur = it[1]
            region_start[it[1]] = len(natives)
        elif it[0] == "end" and cur == it[1]:
            cur = None
    rdepth: list[int | None] = [r.depth for r in regions]
    start = 1 if (co.flags & GEN_FLAGS and not PY313) else 0
    result: list[int | None] = []
    for _ in range(4):

        def succ(i: int, d: int) -> list[tuple[int, int]]:
            nat = natives[i]
            out = []
            r = region_of[i]
            if r is not None and rdepth[r] is not None:
                out.append((label_pos[("L", regions[r].handler)], rdepth[r] + 1 + int(regions[r].lasti)))  # type: ignore[operator]
            if nat.target is not None:
                out.append((label_pos[nat.target], d + native_stack_effect(nat.name, nat.shape, jump=True)))
            if nat.name not in _UNCOND and nat.name not in TERMINAL_NAMES:
                out.append((i + 1, d + native_stack_effect(nat.name, nat.shape, jump=False)))
            return out

        result = depth_dataflow(len(natives), start, succ)
        missing = False
        for k, d in enumerate(rdepth):
            if d is None:
                d0 = result[region_start[k]] if region_start[k] < len(result) else None
                if d0 is None:
                    missing = True
                rdepth[k] = d0
        if not missing:
            break
    maxd = 0
    for i, d in enumerate(result):
        if d is None:
            continue
        nat = natives[i]
        maxd = max(maxd, d, d + native_stack_effect(nat.name, nat.shape, jump=False))
        if nat.target is not None:
            maxd = max(maxd, d + native_stack_effect(nat.name, nat.shape, jump=True))
    return [d if d is not None else 0 for d in rdepth], maxd


def _assemble(co: CanonicalCode, items: list[Any], regions: list[Any], depths: tuple[list[int], int]) -> types.CodeType:
    rdepth, stacksize = depths
    labels: dict[Any, _bc.Label] = {}

    def label(key: Any) -> _bc.Label:
        if key not in labels:
            labels[key] = _bc.Label()
        return labels[key]

    tbs = [_bc.TryBegin(label(("L", r.handler)), bool(r.lasti), rdepth[k]) for k, r in enumerate(regions)]
    bc = _bc.Bytecode()
    for it in items:
        if isinstance(it, _N):
            arg = label(it.target) if it.target is not None else it.arg
            if arg is None and not has_arg(opcode.opmap[it.name]):
                arg = _bc.UNSET
            bc.append(_bc.Instr(it.name, arg, location=_location_of(it)))
        elif it[0] == "label":
            bc.append(label(it[1]))
        elif it[0] == "begin":
            bc.append(tbs[it[1]])
        else:
            bc.append(_bc.TryEnd(tbs[it[1]]))
    bc.argcount = co.argcount
    bc.posonlyargcount = co.posonlyargcount
    bc.kwonlyargcount = co.kwonlyargcount
    bc.argnames = list(co.varnames)
    bc.cellvars = list(co.cellvars)
    bc.freevars = list(co.freevars)
    bc.name = co.name
    if PY311:
        bc.qualname = co.qualname
    bc.filename = co.filename
    bc.first_lineno = co.first_lineno
    bc.flags = co.flags
    bc.docstring = co.consts[0] if co.consts else _bc.UNSET
    code = bc.to_code(stacksize=stacksize, compute_exception_stack_depths=False)
    if PY310:
        lines = [it.lineno for it in items if isinstance(it, _N)]
        code = code.replace(co_linetable=_linetable_310(code.co_code, lines, co.first_lineno))
    return code


def _linetable_310(co_code: bytes, lines: list[int | None], first_lineno: int) -> bytes:
    """3.10's co_linetable (Objects/lnotab_notes.txt), written here because the assembler drops
    the line change after an instruction without a line."""
    ext = opcode.opmap["EXTENDED_ARG"]
    per_unit: list[int | None] = []
    k = 0
    pending = 0
    for off in range(0, len(co_code), 2):
        if co_code[off] == ext:
            pending += 1
            continue
        line = lines[k] if k < len(lines) else None
        k += 1
        per_unit += [line] * (pending + 1)
        pending = 0
    out = bytearray()
    prev = first_lineno
    start = 0
    for u in range(1, len(per_unit) + 1):
        if u < len(per_unit) and per_unit[u] == per_unit[start]:
            continue
        line = per_unit[start]
        bdelta = (u - start) * 2
        if line is None:
            ldelta = -128
        else:
            ldelta = line - prev
            prev = line
            while ldelta > 127:
                out += bytes((0, 127))
                ldelta -= 127
            while ldelta < -127:
                out += bytes((0, (-127) & 255))
                ldelta += 127
        while bdelta > 254:
            out += bytes((254, ldelta & 255))
            ldelta = -128 if line is None else 0
            bdelta -= 254
        out += bytes((bdelta, ldelta & 255))
        start = u
    return bytes(out)


_LOCS: dict[Any, Any] = {}


def _location_of(n: _N) -> Any:
    key = n.positions if (PY311 and n.positions is not None) else n.lineno
    loc = _LOCS.get(key)
    if loc is None:
        loc = None
        if isinstance(key, tuple):
            try:
                loc = _InstrLocation(*key)
            except (ValueError, TypeError):
                key = n.lineno
        if loc is None:
            loc = _InstrLocation(n.lineno, None, None, None)
        if len(_LOCS) > 100_000:
            _LOCS.clear()
        _LOCS[key] = loc
    return loc
