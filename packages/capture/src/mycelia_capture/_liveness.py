"""Which locals a resume needs (DESIGN §4.1 item 2): a local is *live* before an instruction when some
path from it reads the local (``LOAD_FAST``, ``DELETE_FAST``) before writing it. A graph break saves
only the live locals, so dead tensors are neither guarded, passed along nor kept alive by the state.

Paths follow fall-through, jumps and exception handlers (an instruction inside a try region can
continue in its handler). Code that can read its frame by name (``locals()``, ``vars()``, ``eval``,
``exec``, ``dir()``) keeps every local live.
"""

from __future__ import annotations

from typing import Any

from mycelia_capture.bytecode import JUMP_CLASSES, LoadGlobal, Op
from mycelia_capture.bytecode.stack import is_terminal

__all__ = ["FRAME_READERS", "live_locals"]

_READS = frozenset({"LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_FAST_AND_CLEAR", "DELETE_FAST"})
# Builtins that read the calling frame by name (with no arguments, for vars/dir).
FRAME_READERS = frozenset({"exec", "eval", "globals", "locals", "vars", "dir", "breakpoint"})
_CACHE_ATTRIBUTE = "_mycelia_live_locals"


def live_locals(code: Any, index: int) -> frozenset[str] | None:
    """The locals read on some path from instruction ``index`` before being written; None when every
    local must be kept (the code can read its frame by name)."""
    table = getattr(code, _CACHE_ATTRIBUTE, None)
    if table is None:
        table = _analyse(code)
        setattr(code, _CACHE_ATTRIBUTE, table)
    return table[index] if table else None


def _analyse(code: Any) -> list[frozenset[str]]:
    instructions = code.instructions
    uses: list[frozenset[str]] = []
    kills: list[str | None] = []
    for instruction in instructions:
        name = getattr(instruction, "name", None)
        reads_frame = name in FRAME_READERS if type(instruction) is LoadGlobal else \
            type(instruction) is Op and name in ("LOAD_NAME", "LOAD_GLOBAL") and instruction.arg in FRAME_READERS
        if reads_frame:
            return []
        if type(instruction) is Op and name in _READS:
            uses.append(frozenset((instruction.arg,)))
            kills.append(None)
        elif type(instruction) is Op and name == "STORE_FAST":
            uses.append(frozenset())
            kills.append(instruction.arg)
        else:
            uses.append(frozenset())
            kills.append(None)
    successors: list[list[int]] = []
    for position, instruction in enumerate(instructions):
        following = []
        if not is_terminal(instruction) and position + 1 < len(instructions):
            following.append(position + 1)
        if isinstance(instruction, JUMP_CLASSES):
            following.append(instruction.target)
        region = code.region_at(position)
        if region is not None:
            following.append(region.handler)
        successors.append(following)
    live: list[frozenset[str]] = [frozenset()] * len(instructions)
    changed = True
    while changed:  # backward dataflow to a fixed point (a few passes: loops add one each)
        changed = False
        for position in range(len(instructions) - 1, -1, -1):
            after: frozenset[str] = frozenset().union(*(live[s] for s in successors[position]))
            kill = kills[position]
            before = uses[position] | (after - {kill} if kill is not None else after)
            if before != live[position]:
                live[position] = before
                changed = True
    return live
