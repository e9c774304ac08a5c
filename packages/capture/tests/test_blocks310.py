"""3.10's block stack (``bytecode.stack.block_stacks``): a static property of each instruction, which the
tracer's exception unwinding (``_blocks310``) and graph breaks inside try/with blocks rely on."""

from __future__ import annotations

import importlib
import sys
import types

import pytest

from mycelia_capture.bytecode import JumpIfNotExcMatch, Op, SetupBlock, decode
from mycelia_capture.bytecode.stack import block_stacks

pytestmark = pytest.mark.skipif(sys.version_info[:2] != (3, 10), reason="3.10's SETUP_*/POP_BLOCK blocks")


def nested(x):
    try:
        v = g(x)  # noqa: F821 - never called
    except KeyError:
        v = 2
    finally:
        h()  # noqa: F821
    return v


def with_block(m, items):
    out = []
    for item in items:
        with m as v:
            out.append((item, v))
    return out


async def async_loop(items):
    async for item in items:
        try:
            await item
        except ValueError:
            pass
    return 0


def test_handler_blocks_and_levels() -> None:
    code = decode(nested.__code__)
    stacks = block_stacks(code, strict=True)
    match = next(i for i, ins in enumerate(code.instructions) if isinstance(ins, JumpIfNotExcMatch))
    (outer_kind, outer_handler, outer_level), (kind, handler, level) = stacks[match]
    assert (outer_kind, kind, outer_level, level) == ("finally", "except", 0, 0)
    setups = [ins for ins in code.instructions if isinstance(ins, SetupBlock)]
    assert outer_handler == setups[0].target and handler == setups[1].target
    returns = [i for i, ins in enumerate(code.instructions) if isinstance(ins, Op) and ins.name == "RETURN_VALUE"]
    assert all(stacks[i] == () for i in returns)


def test_with_block_level_is_above_exit() -> None:
    code = decode(with_block.__code__)
    stacks = block_stacks(code, strict=True)
    setup = next(i for i, ins in enumerate(code.instructions) if isinstance(ins, SetupBlock))
    assert stacks[setup] == ()
    # the block's level: the loop's iterator and the bound __exit__ stay below it
    assert stacks[setup + 1] == (("finally", code.instructions[setup].target, 2),)


def test_async_for_closes_its_handler_block() -> None:
    stacks = block_stacks(decode(async_loop.__code__), strict=True)
    assert stacks[-1] == () or stacks[-1] is None


@pytest.mark.parametrize("module", ["contextlib", "asyncio.tasks", "unittest.case", "tempfile", "subprocess",
                                    "threading", "logging", "zipfile"])
def test_every_path_agrees_in_the_stdlib(module: str) -> None:
    todo = [v.__code__ for v in vars(importlib.import_module(module)).values() if isinstance(v, types.FunctionType)]
    for klass in (v for v in vars(importlib.import_module(module)).values() if isinstance(v, type)):
        todo.extend(v.__code__ for v in vars(klass).values() if isinstance(v, types.FunctionType))
    checked = 0
    while todo:
        code = todo.pop()
        todo.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
        canonical = decode(code)
        if any(isinstance(ins, SetupBlock) for ins in canonical.instructions):
            block_stacks(canonical, strict=True)
            checked += 1
    assert checked > 0
