"""Facts about the running interpreter's bytecode, read from ``dis``/``opcode`` (never a table of
sizes or cache counts: those come from the interpreter; only operator *spellings* are listed)."""

from __future__ import annotations

import dis
import opcode
import sys

__all__ = [
    "PY",
    "PY310",
    "PY311",
    "PY312",
    "PY313",
    "GEN_FLAGS",
    "BINARY_SYMBOLS_310",
    "JUMP_OPCODES",
    "has_arg",
    "native_stack_effect",
    "nb_op_index",
    "nb_op_symbol",
    "inline_cache_entries",
    "DecodeError",
    "EncodeError",
]

PY = sys.version_info[:2]
if not ((3, 10) <= PY <= (3, 13)):  # pragma: no cover - guarded by requires-python and CI matrix
    raise ImportError(f"mycelia_capture.bytecode supports CPython 3.10-3.13, not {PY}")
PY310 = PY == (3, 10)
PY311 = PY >= (3, 11)
PY312 = PY >= (3, 12)
PY313 = PY >= (3, 13)

# CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR, read from inspect's constants
import inspect as _inspect  # noqa: E402

GEN_FLAGS = _inspect.CO_GENERATOR | _inspect.CO_COROUTINE | _inspect.CO_ASYNC_GENERATOR

#: 3.10's BINARY_*/INPLACE_* suffix -> operator symbol (3.11+ reads ``dis._nb_ops``).
BINARY_SYMBOLS_310 = {
    "POWER": "**",
    "MULTIPLY": "*",
    "MATRIX_MULTIPLY": "@",
    "FLOOR_DIVIDE": "//",
    "TRUE_DIVIDE": "/",
    "MODULO": "%",
    "ADD": "+",
    "SUBTRACT": "-",
    "LSHIFT": "<<",
    "RSHIFT": ">>",
    "AND": "&",
    "XOR": "^",
    "OR": "|",
}

JUMP_OPCODES: frozenset[int] = frozenset(
    set(getattr(opcode, "hasjump", ())) | set(opcode.hasjrel) | set(opcode.hasjabs)
)


class DecodeError(ValueError):
    """The code object uses bytecode this layer does not understand."""


class EncodeError(ValueError):
    """The canonical code cannot be expressed on the running interpreter."""


def has_arg(op: int) -> bool:
    if hasattr(dis, "hasarg"):
        return op in dis.hasarg
    return op >= opcode.HAVE_ARGUMENT


def native_stack_effect(name: str, arg: int | None, jump: bool | None = None) -> int:
    op = opcode.opmap[name]
    a = (arg or 0) if has_arg(op) else None
    if jump is None:
        return dis.stack_effect(op, a)
    return dis.stack_effect(op, a, jump=jump)


def _nb_ops() -> list[tuple[str, str]]:
    return list(getattr(dis, "_nb_ops", None) or getattr(opcode, "_nb_ops", None) or [])


def nb_op_symbol(index: int) -> tuple[str, bool]:
    """BINARY_OP oparg -> (symbol without '=', inplace)."""
    name, sym = _nb_ops()[index]
    inplace = name.startswith("NB_INPLACE_")
    return (sym[:-1] if inplace else sym), inplace


def nb_op_index(symbol: str, inplace: bool) -> int:
    want = symbol + ("=" if inplace else "")
    for i, (name, sym) in enumerate(_nb_ops()):
        if sym == want and name.startswith("NB_INPLACE_") == inplace:
            return i
    raise EncodeError(f"no BINARY_OP for {want!r} on {PY}")


def inline_cache_entries(name: str) -> int:
    """Number of inline CACHE entries after ``name`` on the running interpreter."""
    table = getattr(dis, "_inline_cache_entries", None)
    if table is None:
        return 0
    if isinstance(table, dict):
        return int(table.get(name, 0))
    return int(table[opcode.opmap[name]])
