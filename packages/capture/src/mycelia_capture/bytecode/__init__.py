"""The bytecode layer of PIJit: the only code that knows CPython 3.10-3.13 bytecode differ.

``decode(code)`` turns a code object into a :class:`CanonicalCode` (version-neutral
instructions with jump targets as instruction indices, try regions, line numbers, metadata);
``encode(canonical)`` assembles one for the running interpreter; :class:`CodeBuilder` emits
canonical code from scratch; :func:`stack_effect` gives canonical stack effects.
"""

from __future__ import annotations

from typing import Any

from ._native import PY, DecodeError, EncodeError
from .decode import decode, normalise_regions
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
    Label,
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
    call_target,
)
from .stack import canonical_depths, stack_effect

__all__ = [
    "PY",
    "decode",
    "encode",
    "stack_effect",
    "canonical_depths",
    "normalise_regions",
    "CodeBuilder",
    "CanonicalCode",
    "TryRegion",
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
    "call_target",
    "DecodeError",
    "EncodeError",
]


def __getattr__(name: str) -> Any:
    """``encode`` and ``CodeBuilder`` load the assembler (the ``bytecode`` package) on first use: tracing
    only decodes, and importing the assembler costs tens of milliseconds on a cold start."""
    if name == "encode":
        from .encode import encode as value
    elif name == "CodeBuilder":
        from .builder import CodeBuilder as value
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # replaces the submodule the import bound to the same name
    return value
