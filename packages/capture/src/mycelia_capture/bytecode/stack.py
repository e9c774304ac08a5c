"""Stack effects of canonical instructions, stack-depth dataflow, and 3.10 block regions."""

from __future__ import annotations

import opcode
from collections.abc import Callable, Sequence

from ._native import PY310, EncodeError, native_stack_effect
from .instructions import (
    JUMP_CLASSES,
    Call,
    CallFunctionEx,
    CanonicalCode,
    CondJump,
    ForIter,
    Instruction,
    Jump,
    LoadGlobal,
    LoadMethod,
    LoadSuperAttr,
    Op,
    PopBlock,
    PushNull,
    SetupBlock,
    TryRegion,
)

__all__ = ["stack_effect", "is_terminal", "depth_dataflow", "canonical_depths", "block_stacks", "blocks_to_regions"]

_ARGVAL_OPS = frozenset(set(opcode.hasconst) | set(opcode.hasname) | set(opcode.haslocal) | set(opcode.hasfree))
TERMINAL_NAMES = frozenset({"RETURN_VALUE", "RETURN_CONST", "RAISE_VARARGS", "RERAISE"})


def stack_effect(instr: Instruction, jump: bool | None = None) -> int:
    """Net stack effect of a canonical instruction (``jump``: along the jump edge or not; None:
    the larger of the two, like :func:`dis.stack_effect`). Uses ``dis.stack_effect`` of the
    encoded form on the running interpreter, except for the NULL-slot conventions that the
    canonical model defines itself (see :mod:`.instructions`)."""
    if jump is None and isinstance(instr, JUMP_CLASSES):
        return max(stack_effect(instr, True), stack_effect(instr, False))
    if isinstance(instr, PushNull):
        return 1
    if isinstance(instr, LoadGlobal):
        return 1 + int(instr.push_null)
    if isinstance(instr, LoadMethod):
        return 1
    if isinstance(instr, LoadSuperAttr):
        return -2 + int(instr.load_method)
    if isinstance(instr, Call):
        return -instr.argc - int(instr.has_self_or_null)
    if isinstance(instr, CallFunctionEx):
        return -1 - int(instr.has_kwargs) - int(instr.has_null)
    if isinstance(instr, ForIter):
        return -1 if jump else 1
    if isinstance(instr, Jump):
        return 0
    if isinstance(instr, CondJump):
        return 0 if (jump and not instr.pop) else -1
    if isinstance(ins := instr, Op):
        op = opcode.opmap[ins.name]
        shape = ins.arg if (op not in _ARGVAL_OPS and isinstance(ins.arg, int)) else 0
        return native_stack_effect(ins.name, shape, jump=jump)
    from .encode import lower_one  # local import: encode imports this module

    total = 0
    natives = lower_one(instr)
    for k, (name, shape) in enumerate(natives):
        last = k == len(natives) - 1
        total += native_stack_effect(name, shape, jump=bool(jump) if last else False)
    return total


def is_terminal(instr: Instruction) -> bool:
    """No fall-through successor."""
    if isinstance(instr, Jump):
        return True
    return isinstance(instr, Op) and instr.name in TERMINAL_NAMES


def depth_dataflow(
    n: int,
    start_depth: int,
    succ: Callable[[int, int], Sequence[tuple[int, int]]],
) -> list[int | None]:
    """Generic forward dataflow: ``succ(i, depth_before)`` yields ``(j, depth_at_j)`` edges."""
    depth: list[int | None] = [None] * n
    if n == 0:
        return depth
    depth[0] = start_depth
    work = [0]
    while work:
        i = work.pop()
        d = depth[i]
        assert d is not None
        for j, dj in succ(i, d):
            if j >= n:
                continue
            if depth[j] is None:
                depth[j] = dj
                work.append(j)
            elif depth[j] != dj and dj > depth[j]:  # type: ignore[operator]
                depth[j] = dj
                work.append(j)
    return depth


def canonical_depths(co: CanonicalCode, start_depth: int = 0) -> list[int | None]:
    """Stack depth before each canonical instruction (None: unreachable). 3.11+ regions feed
    their handlers at ``depth + 1 + lasti``; 3.10 handlers come from SetupBlock's jump edge."""
    instrs = co.instructions
    handler_in: dict[int, tuple[int, int]] = {}
    for r in co.regions:
        if r.depth is not None and not PY310:
            for i in range(r.start, r.end):
                handler_in[i] = (r.handler, r.depth + 1 + int(r.lasti))

    def succ(i: int, d: int) -> list[tuple[int, int]]:
        ins = instrs[i]
        out = []
        if i in handler_in:
            out.append(handler_in[i])
        if isinstance(ins, JUMP_CLASSES):
            out.append((ins.target, d + stack_effect(ins, True)))  # type: ignore[attr-defined]
        if not is_terminal(ins):
            out.append((i + 1, d + stack_effect(ins, False)))
        return out

    return depth_dataflow(len(instrs), start_depth, succ)


#: a 3.10 block: ("finally", handler, level) for SETUP_FINALLY/SETUP_WITH, ("except", handler, level) for the
#: EXCEPT_HANDLER block the interpreter pushes on entering ``handler`` (the saved exception triple starts
#: at ``level``)
Block = tuple[str, int, int]


def block_stacks(co: CanonicalCode, strict: bool = False) -> list[tuple[Block, ...] | None]:
    """3.10: the block stack before each instruction (None: unreachable), outermost block first. The
    compiler keeps it (and the stack depth) the same on every path to an instruction, so it is a static
    property of the index; ``strict`` checks that (EncodeError on two paths that disagree)."""
    instrs = co.instructions
    n = len(instrs)
    # state before instruction i: (depth, blocks)
    state: list[tuple[int, tuple[Block, ...]] | None] = [None] * n
    if n == 0:
        return []
    from ._native import GEN_FLAGS

    state[0] = (1 if co.flags & GEN_FLAGS else 0, ())
    work = [0]
    while work:
        i = work.pop()
        st = state[i]
        assert st is not None
        d, blocks = st
        ins = instrs[i]
        edges: list[tuple[int, tuple[int, tuple[Block, ...]]]] = []
        if isinstance(ins, SetupBlock):
            jd = d + stack_effect(ins, True)
            level = jd - 6
            edges.append((ins.target, (jd, (*blocks, ("except", ins.target, level)))))
            edges.append((i + 1, (d + stack_effect(ins, False), (*blocks, ("finally", ins.target, level)))))
        elif isinstance(ins, PopBlock):
            if not blocks or blocks[-1][0] == "except":
                raise EncodeError(f"POP_BLOCK without a block at {i}")
            edges.append((i + 1, (d, blocks[:-1])))
        elif isinstance(ins, Op) and ins.name in ("POP_EXCEPT", "END_ASYNC_FOR"):  # both close a handler block
            if not blocks or blocks[-1][0] != "except":
                raise EncodeError(f"{ins.name} without a handler block at {i}")
            edges.append((i + 1, (d + stack_effect(ins, False), blocks[:-1])))
        else:
            if isinstance(ins, JUMP_CLASSES):
                edges.append((ins.target, (d + stack_effect(ins, True), blocks)))  # type: ignore[attr-defined]
            if not is_terminal(ins):
                edges.append((i + 1, (d + stack_effect(ins, False), blocks)))
        for j, sj in edges:
            if j < n and state[j] is None:
                state[j] = sj
                work.append(j)
            elif strict and j < n and state[j] != sj:
                raise EncodeError(f"{co.qualname}: instruction {j} reached with {state[j]} and with {sj}")
    return [None if st is None else st[1] for st in state]


def blocks_to_regions(co: CanonicalCode) -> list[TryRegion]:
    """3.10: derive flat exception regions from the SETUP_*/POP_BLOCK block stack."""
    regions: list[TryRegion] = []
    for i, blocks in enumerate(block_stacks(co)):
        inner = [b for b in blocks or () if b[0] != "except"]
        if inner:
            _kind, h, level = inner[-1]
            regions.append(TryRegion(i, i + 1, h, level, False))
    from .decode import normalise_regions

    return normalise_regions(regions)
