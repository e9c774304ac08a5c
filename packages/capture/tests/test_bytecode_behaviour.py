"""decode -> encode of hand-written functions; the re-encoded functions must behave the same."""

from __future__ import annotations

import asyncio
import sys
import types
from typing import Any

import pytest

from mycelia_capture.bytecode import Op, decode, encode


def deep_round_trip(code: types.CodeType) -> types.CodeType:
    """Round-trip ``code`` and, recursively, the code objects it creates (nested functions,
    comprehensions, lambdas, generator expressions)."""
    canon = decode(code)
    canon.instructions = [
        i.replace(arg=deep_round_trip(i.arg))
        if isinstance(i, Op) and i.name == "LOAD_CONST" and isinstance(i.arg, types.CodeType)
        else i
        for i in canon.instructions
    ]
    return encode(canon)


def rebuilt(fn: Any) -> Any:
    new = types.FunctionType(deep_round_trip(fn.__code__), fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
    new.__kwdefaults__ = fn.__kwdefaults__
    return new


def outcome(fn: Any, *args: Any, **kwargs: Any) -> tuple[str, Any]:
    try:
        return "ok", fn(*args, **kwargs)
    except Exception as e:
        return "raised", (type(e), str(e))


# --- the functions -------------------------------------------------------------------------
G = 10


def loops(n):
    total = 0
    for i in range(n):
        if i % 3 == 0:
            continue
        if i > 50:
            break
        total += i * G
    else:
        total -= 1
    j = 0
    while j < n:
        j += 2
    return total, j


def try_except_finally(x):
    log = []
    try:
        log.append("try")
        if x == 0:
            raise ValueError("zero")
        if x == 1:
            return log
        r = 10 // (x - 2)
    except ValueError as e:
        log.append(f"value {e}")
    except ZeroDivisionError:
        log.append("zdiv")
        raise
    else:
        log.append(f"else {r}")
    finally:
        log.append("finally")
    return log


def nested_try(x):
    try:
        try:
            return 1 / x
        finally:
            x += 1
    except (TypeError, ZeroDivisionError) as e:
        return type(e).__name__, x


class CM:
    def __init__(self, log, swallow=False):
        self.log, self.swallow = log, swallow

    def __enter__(self):
        self.log.append("enter")
        return self

    def __exit__(self, *exc):
        self.log.append(("exit", exc[0]))
        return self.swallow


def with_statement(x, swallow):
    log = []
    with CM(log, swallow) as cm, CM(log):
        log.append(cm is not None)
        if x:
            raise KeyError(x)
    return log


def comprehensions(xs):
    a = [x * 2 for x in xs if x]
    b = {x: x**2 for x in xs}
    c = {x % 3 for x in xs}
    d = sum(x for x in xs if x > 1)
    e = [(x, y) for x in xs for y in xs if x < y]
    return a, b, c, d, e


def closures(n):
    k = n + 1

    def inner(m):
        nonlocal k
        k += m
        return k

    f = lambda z: z + k  # noqa: E731
    return inner(2), f(3), k


def gen(n):
    for i in range(n):
        received = yield i
        if received:
            yield -received
    yield from range(2)
    return "done"


def f_strings(x, y):
    return f"{x!r:>10}|{y:.2f}|{x}{y!s}|{x=}"


def star_args(*args, **kwargs):
    return args, sorted(kwargs.items())


def calls(a, b=2, *rest, k, **kw):
    s = "a,b"
    return (
        star_args(a, b, *rest, k=k, **kw),
        star_args(*[a, b], **{"z": k}),
        sorted([b, a], reverse=True),
        s.split(","),
        max(a, b, key=lambda v: -v),
        dict(x=1, **kw),
    )


def walrus(xs):
    out = []
    while (n := len(xs)) > 2:
        out.append(n)
        xs = xs[1:]
    return out, [y for x in xs if (y := x * 2)]


def matching(v):
    match v:
        case 0 | 1:
            return "small"
        case [x, y, *rest]:
            return ("seq", x, y, rest)
        case {"k": val, **others}:
            return ("map", val, others)
        case str() as s if len(s) > 2:
            return ("str", s)
        case CM(log=log):
            return ("cm", log)
        case None:
            return "none"
        case _:
            return "other"


def misc_ops(a, b):
    r = [a + b, a - b, a * b, a / b, a // b, a % b, a**2, a << 1, a >> 1, a & b, a | b, a ^ b, -a, ~a, not a]
    r += [a < b, a <= b, a == b, a != b, a > b, a >= b, a is b, a is not b, a in [b], a not in [b]]
    x = a
    x += b
    x *= 2
    x //= 3
    d = {"a": a}
    d["b"] = b
    del d["a"]
    t = (a, b)
    p, q = t
    first, *tail = [1, 2, 3]
    s = [1, 2, 3, 4][1:3]
    return r, x, d, p, q, first, tail, s, (a and b), (a or b), (None if a else b)


EXC_GROUP_SRC = """
def exc_group():
    try:
        raise ExceptionGroup("eg", [ValueError(1), TypeError(2)])
    except* ValueError as e:
        v = len(e.exceptions)
    except* TypeError:
        v2 = 1
    return v, v2
"""


class Base:
    def who(self):
        return "base"


class Derived(Base):
    def who(self):
        return "derived+" + super().who()


async def coro(n):
    await asyncio.sleep(0)
    total = 0
    async with ACM() as x:
        total += x
    async for v in AIter(n):
        total += v
    return total


class ACM:
    async def __aenter__(self):
        return 5

    async def __aexit__(self, *exc):
        return False


class AIter:
    def __init__(self, n):
        self.i, self.n = 0, n

    def __aiter__(self):
        return self

    async def __anext__(self):
        if self.i >= self.n:
            raise StopAsyncIteration
        self.i += 1
        return self.i


async def agen(n):
    for i in range(n):
        yield i
        await asyncio.sleep(0)


CASES: list[tuple[Any, list[tuple[tuple[Any, ...], dict[str, Any]]]]] = [
    (loops, [((0,), {}), ((10,), {}), ((100,), {})]),
    (try_except_finally, [((0,), {}), ((1,), {}), ((2,), {}), ((4,), {})]),
    (nested_try, [((0,), {}), ((2,), {}), (("s",), {})]),
    (with_statement, [((0, False), {}), ((1, False), {}), ((1, True), {})]),
    (comprehensions, [(([0, 1, 2, 3],), {}), (([],), {})]),
    (closures, [((1,), {})]),
    (f_strings, [(("ab", 1.5), {}), ((3, 2), {})]),
    (star_args, [((1, 2), {"z": 3})]),
    (calls, [((1,), {"k": 3}), ((1, 5, 6, 7), {"k": 3, "w": 4})]),
    (walrus, [(([1, 2, 3, 4, 5],), {}), (([0, 0],), {})]),
    (
        matching,
        [
            ((0,), {}),
            (([1, 2, 3, 4],), {}),
            (({"k": 1, "j": 2},), {}),
            (("abc",), {}),
            ((None,), {}),
            ((CM([7]),), {}),
            ((2.5,), {}),
        ],
    ),
    (misc_ops, [((5, 3), {}), ((0, 1), {}), ((1, 0), {})]),
]


@pytest.mark.parametrize(("fn", "calls_"), CASES, ids=[c[0].__name__ for c in CASES])
def test_same_behaviour(fn: Any, calls_: list[tuple[tuple[Any, ...], dict[str, Any]]]) -> None:
    new = rebuilt(fn)
    assert new.__code__ is not fn.__code__
    for args, kwargs in calls_:
        assert outcome(new, *args, **kwargs) == outcome(fn, *args, **kwargs)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="except* is 3.11+")
def test_exception_groups() -> None:
    ns: dict[str, Any] = {}
    exec(compile(EXC_GROUP_SRC, "<exc_group>", "exec"), ns)
    fn = ns["exc_group"]
    assert rebuilt(fn)() == fn() == (1, 1)


def test_generator_send_and_return() -> None:
    def drive(g):
        out = [next(g), next(g), g.send(7), next(g)]
        try:
            while True:
                out.append(next(g))
        except StopIteration as e:
            out.append(("stop", e.value))
        return out

    assert drive(rebuilt(gen)(3)) == drive(gen(3))


def test_generator_throw_and_close() -> None:
    def drive(g):
        next(g)
        try:
            g.throw(ValueError("boom"))
        except ValueError as e:
            return str(e)

    assert drive(rebuilt(gen)(3)) == drive(gen(3))
    g = rebuilt(gen)(3)
    next(g)
    g.close()


def test_coroutine_and_async_generator() -> None:
    assert asyncio.run(rebuilt(coro)(3)) == asyncio.run(coro(3))

    async def collect(f):
        return [x async for x in f(4)]

    assert asyncio.run(collect(rebuilt(agen))) == asyncio.run(collect(agen))


def test_methods_and_super() -> None:
    new = rebuilt(Derived.who)
    # zero-argument super() needs the __class__ cell of the original
    assert new(Derived()) == Derived().who() == "derived+base"


def test_docstring_and_metadata_survive() -> None:
    def documented(a, /, b, *, c=1):
        """Doc."""
        return a + b + c

    new = rebuilt(documented)
    assert new.__doc__ == "Doc."
    assert new(1, 2) == 4
    import inspect

    assert inspect.signature(new) == inspect.signature(documented)
