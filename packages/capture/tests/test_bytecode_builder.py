"""The canonical view (same on every version), the builder, and stack effects."""

from __future__ import annotations

import dis
import sys
from typing import Any

import pytest

from mycelia_capture.bytecode import (
    JUMP_CLASSES,
    BinaryOp,
    Call,
    CodeBuilder,
    CompareOp,
    CondJump,
    ForIter,
    Jump,
    LoadGlobal,
    LoadMethod,
    Op,
    call_target,
    canonical_depths,
    decode,
    encode,
    stack_effect,
)

G = 3


def sample(a, b):
    x = helper(a, k=b)  # noqa: F821 - resolved at call time
    y = a.upper()
    for c in b:
        if c < a:
            x += c
    try:
        y = a + b
    except TypeError:
        y = None
    return x, y


def kinds(code: Any) -> list[str]:
    return [type(i).__name__ if not isinstance(i, Op) else i.name for i in decode(code).instructions]


def test_canonical_calls_and_ops_are_version_neutral() -> None:
    co = decode(sample.__code__)
    ins = co.instructions
    assert LoadGlobal("helper", push_null=sys.version_info >= (3, 11)) in [
        LoadGlobal(i.name, i.push_null) for i in ins if isinstance(i, LoadGlobal)
    ]
    calls = [(i.argc, i.kwnames) for i in ins if isinstance(i, Call)]
    assert (2, ("k",)) in calls and (0, ()) in calls
    assert [i.name for i in ins if isinstance(i, LoadMethod)] == ["upper"]
    assert {(i.op, i.inplace) for i in ins if isinstance(i, BinaryOp)} == {("+", True), ("+", False)}
    assert [i.op for i in ins if isinstance(i, CompareOp)] == ["<"]
    assert any(isinstance(i, ForIter) for i in ins)
    names = {type(i).__name__ if not isinstance(i, Op) else i.name for i in ins}
    banned = {"RESUME", "NOP", "CACHE", "EXTENDED_ARG", "PRECALL", "KW_NAMES", "CALL_KW", "CALL_FUNCTION_KW",
              "LOAD_FAST_LOAD_FAST", "STORE_FAST_LOAD_FAST", "RETURN_CONST", "END_FOR", "BINARY_OP", "CALL",
              "COPY_FREE_VARS", "MAKE_CELL"}  # fmt: skip
    assert not names & banned


def test_jump_targets_are_indices_and_lines_present() -> None:
    co = decode(sample.__code__)
    n = len(co.instructions)
    for i in co.instructions:
        if isinstance(i, JUMP_CLASSES):
            assert isinstance(i.target, int) and 0 <= i.target <= n
    lines = {i.lineno for i in co.instructions if i.lineno is not None}
    first = sample.__code__.co_firstlineno
    # every statement line but ``try:`` (a NOP on 3.11+, dropped) is on some instruction
    assert set(range(first + 1, first + 11)) - {first + 6} <= lines
    assert co.regions, "try/except gives a try region on every version"
    handlers = {r.handler for r in co.regions}
    assert all(0 <= h < n for h in handlers)
    assert co.argnames == ("a", "b") and co.name == "sample"


def test_try_region_covers_the_try_body() -> None:
    co = decode(sample.__code__)
    add = next(k for k, i in enumerate(co.instructions) if isinstance(i, BinaryOp) and not i.inplace)
    region = co.region_at(add)
    assert region is not None
    handler = co.instructions[region.handler]
    assert handler.lineno is None or handler.lineno >= sample.__code__.co_firstlineno + 7


def test_builder_global_call_with_locals() -> None:
    def target(x, y, scale=1):
        return (x + y) * scale

    b = CodeBuilder("made", argnames=("x", "y"))
    b.load_global_callable("target")
    b.load_fast("x").load_fast("y").load_const(10)
    b.call(3, kwnames=("scale",))
    b.store_fast("r")
    b.load_fast("r").return_value()
    fn = b.to_function({"target": target})
    assert fn(1, 2) == 30
    assert fn.__code__.co_varnames == ("x", "y", "r")


def test_builder_method_call_loop_and_branch() -> None:
    # def f(xs): out = []; for v in xs: if v > 1: out.append(v * G); return out
    b = CodeBuilder("loop", argnames=("xs",))
    top, done, skip = b.new_label("top"), b.new_label("done"), b.new_label("skip")
    b.op("BUILD_LIST", 0).store_fast("out")
    b.load_fast("xs").get_iter()
    b.place(top).for_iter(done)
    b.store_fast("v")
    b.load_fast("v").load_const(1).compare(">")
    b.pop_jump_if("false", skip)
    b.load_fast("out").load_method("append")
    b.load_fast("v").load_global("G").binary("*")
    b.call(1).pop_top()
    b.place(skip).jump(top)
    b.place(done).load_fast("out").return_value()
    fn = b.to_function(globals())
    assert fn([0, 1, 2, 5]) == [6, 15]
    co = decode(fn.__code__)
    assert sum(isinstance(i, Jump) for i in co.instructions) == 1
    assert any(isinstance(i, CondJump) for i in co.instructions)


def test_builder_non_global_callable_and_none_jump() -> None:
    # def g(f, v): return f(v) if v is not None else "none"
    b = CodeBuilder("g", argnames=("f", "v"))
    other = b.new_label()
    b.load_fast("v").pop_jump_if("none", other)
    b.push_null_before().load_fast("f").push_null_after()
    b.load_fast("v").call(1).return_value()
    b.place(other).load_const("none").return_value()
    fn = b.to_function({})
    assert fn(str, 5) == "5"
    assert fn(str, None) == "none"


@pytest.mark.skipif(sys.version_info < (3, 11), reason="3.10 expresses try with SetupBlock instructions")
def test_builder_try_region() -> None:
    # def h(x): try: return 1 / x  except: return "err"
    b = CodeBuilder("h", argnames=("x",))
    start, end, handler = b.new_label(), b.new_label(), b.new_label()
    b.place(start).load_const(1).load_fast("x").binary("/").return_value()
    b.place(end).place(handler).op("PUSH_EXC_INFO").pop_top().op("POP_EXCEPT").load_const("err").return_value()
    b.add_region(start, end, handler)
    fn = b.to_function({})
    assert fn(4) == 0.25
    assert fn(0) == "err"
    assert decode(fn.__code__).regions[0].depth == 0


def test_stack_effects_match_dis() -> None:
    assert stack_effect(Call(2, ("k",))) == -3
    assert stack_effect(LoadGlobal("x", push_null=True)) == 2
    assert stack_effect(BinaryOp("+")) == -1
    assert stack_effect(ForIter(0), jump=False) == 1 and stack_effect(ForIter(0), jump=True) == -1
    assert stack_effect(Op("BUILD_TUPLE", 3)) == -2
    assert stack_effect(Op("LOAD_CONST", 1)) == 1
    # summing canonical effects along the code reproduces the interpreter's stack size
    co = decode(sample.__code__)
    depths = canonical_depths(co)
    assert max(d for d in depths if d is not None) <= sample.__code__.co_stacksize
    assert depths[-1] is not None


def test_call_target_rule() -> None:
    assert call_target(None, "f") == ("f", None)
    assert call_target("f", None) == ("f", None)
    assert call_target("m", "self") == ("m", "self")


def test_encode_uses_interpreter_cache_counts() -> None:
    code = encode(decode(sample.__code__))
    # same length as the original modulo the NOPs that decode drops: caches were re-inserted
    # and plus one code unit per 3.13 superinstruction that decode splits
    orig = list(dis.get_instructions(sample.__code__))
    nops = sum(i.opname == "NOP" for i in orig)
    supers = sum(i.opname.count("_FAST_") == 1 and i.opname.endswith("_FAST") for i in orig)
    assert len(code.co_code) == len(sample.__code__.co_code) - 2 * nops + 2 * supers
    assert "CACHE" not in [i.opname for i in dis.get_instructions(code)]
