"""decode -> encode round trip over code objects of the standard library (every version)."""

from __future__ import annotations

import functools
import importlib
import sys
import types

import pytest

from mycelia_capture.bytecode import decode, encode

# ~2200 code objects in all; parametrised by module so xdist spreads them and failures name it.
MODULES = [
    "json.decoder", "json.encoder", "textwrap", "collections", "functools", "dataclasses", "enum",
    "inspect", "argparse", "email.message", "email.feedparser", "email.utils",
    "asyncio.base_events", "asyncio.tasks", "asyncio.streams",
    "asyncio.locks", "contextlib", "typing", "shutil", "logging",
    "fractions", "difflib", "calendar", "string", "copy",
]  # fmt: skip


# the raw dis streams are compared too (slower) for these
NATIVE_CHECKED = {"json.decoder", "textwrap", "functools", "contextlib", "asyncio.locks", "string", "copy"}


@functools.cache
def _codes(module: str) -> list[types.CodeType]:
    try:
        mod = importlib.import_module(module)
    except ImportError:  # pragma: no cover - optional stdlib parts
        pytest.skip(f"{module} not importable")
    path = mod.__spec__.origin if mod.__spec__ else None
    if not path or not path.endswith(".py"):
        pytest.skip(f"{module} has no Python source")
    with open(path, encoding="utf-8") as f:
        top = compile(f.read(), path, "exec")
    out: list[types.CodeType] = []
    stack = [top]
    while stack:
        c = stack.pop()
        out.append(c)
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    return out


def _native_stream(code: types.CodeType) -> list[tuple[str, object]]:
    """dis stream modulo what encode may legitimately change (caches, EXTENDED_ARG, NOP,
    raw jump offsets, 3.12+ RETURN_CONST vs LOAD_CONST+RETURN_VALUE, 3.13 superinstructions)."""
    import dis

    out = []
    for ins in dis.get_instructions(code):
        if ins.opname in ("CACHE", "EXTENDED_ARG", "NOP"):
            continue
        arg = "<jump>" if ins.opcode in dis.hasjrel + dis.hasjabs else ins.argval
        if ins.opname in ("JUMP_FORWARD", "JUMP_ABSOLUTE", "JUMP_BACKWARD"):
            out.append(("JUMP", "<jump>"))
        elif ins.opname == "RETURN_CONST":
            out += [("LOAD_CONST", ins.argval), ("RETURN_VALUE", None)]
        elif ins.opname in ("LOAD_FAST_LOAD_FAST", "STORE_FAST_LOAD_FAST", "STORE_FAST_STORE_FAST"):
            a, b = ins.opname.split("_FAST_", 1)
            out += [(a + "_FAST", ins.argval[0]), (b, ins.argval[1])]
        else:
            out.append((ins.opname, arg if not isinstance(arg, types.CodeType) else arg.co_name))
    return out


@pytest.mark.parametrize("module", MODULES)
def test_stdlib_round_trip(module: str) -> None:
    codes = _codes(module)
    failures = []
    for code in codes:
        a = decode(code)
        new = encode(a)
        b = decode(new)
        problems = []
        if a.instructions != b.instructions:
            problems.append("instructions (opname/arg/line)")
        if [i.positions for i in a.instructions] != [i.positions for i in b.instructions]:
            problems.append("positions")
        if a.regions != b.regions:
            problems.append(f"try regions {a.regions} != {b.regions}")
        if [p[:2] for p in a.prologue] != [p[:2] for p in b.prologue]:
            problems.append(f"prologue {a.prologue} != {b.prologue}")
        if new.co_stacksize != code.co_stacksize:
            problems.append(f"stacksize {code.co_stacksize} -> {new.co_stacksize}")
        for attr in ("co_argcount", "co_posonlyargcount", "co_kwonlyargcount", "co_flags", "co_varnames",
                     "co_cellvars", "co_freevars", "co_name", "co_filename", "co_firstlineno"):  # fmt: skip
            if getattr(new, attr) != getattr(code, attr):
                problems.append(attr)
        if sys.version_info >= (3, 11) and new.co_qualname != code.co_qualname:
            problems.append("co_qualname")
        if module in NATIVE_CHECKED and not _same_native_stream(code, new):
            problems.append("native instruction stream")
        if problems:
            failures.append(f"{code.co_name} ({code.co_filename}:{code.co_firstlineno}): {problems}")
    assert not failures, "\n".join(failures[:20])
    assert len(codes) > 5


def _same_native_stream(code: types.CodeType, new: types.CodeType) -> bool:
    """3.11's forward/backward POP_JUMP variants may differ (the direction follows the layout)."""
    norm = lambda s: [(n.replace("FORWARD_", "").replace("BACKWARD_", ""), a) for n, a in s]  # noqa: E731
    return norm(_native_stream(code)) == norm(_native_stream(new))


def test_sample_is_large() -> None:
    total = sum(len(_codes(m)) for m in MODULES)
    assert total > 2000
