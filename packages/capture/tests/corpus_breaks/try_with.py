"""Breaks inside ``try``/``except``/``else``/``finally`` and inside ``with`` blocks of user context
managers (enter/exit recorded in a global log: they run exactly as eagerly), exceptions after breaks
(same type and message), on every Python (3.10's block stack included)."""

from __future__ import annotations

import types

import mycelia as ms
from corpus_breaks.common import N0, P0, X0, X1, X3, registry

CASES: list = []
ops = ms.ops
LOG: list = []
OBJ = types.SimpleNamespace(depth=0)


def _reset():
    LOG.clear()
    OBJ.depth = 0


def _state():
    return list(LOG), OBJ.depth


class Recorder:
    """A user context manager: enter and exit are logged, exit sees the exception type."""

    def __init__(self, name, swallow=False):
        self.name = name
        self.swallow = swallow

    def __enter__(self):
        LOG.append(f"enter {self.name}")
        return self

    def __exit__(self, exc_type, exc, tb):
        LOG.append(f"exit {self.name} {exc_type.__name__ if exc_type else None}")
        return self.swallow


RECORDER = Recorder("global")


class Depth:
    def __enter__(self):
        OBJ.depth = OBJ.depth + 1
        return OBJ.depth

    def __exit__(self, *exc):
        OBJ.depth = OBJ.depth - 1
        return False


reg = registry(CASES, "try_with", _reset, _state)


@reg((X0,), (X1,), breaks=1)
def break_inside_try(x):
    try:
        v = x.sum().item()
    except ValueError:
        v = 0.0
    return x * v


@reg((X0,), (X3,), breaks=1)
def break_inside_try_then_raise_caught(x):
    try:
        v = x.sum().item()
        if v > 1:
            raise ValueError("big")
        r = x * v
    except ValueError as e:
        r = x * 0
        LOG.append(str(e))
    return r


@reg((X0,), (X3,), breaks=1)
def break_inside_except(x):
    try:
        raise KeyError("k")
    except KeyError:
        v = float(x.max())
    return x - v


@reg((X0,), (X1,), breaks=1)
def break_inside_else(x):
    try:
        y = x * 2
    except Exception:
        y = x
    else:
        y = y + y.sum().item()
    return y


@reg((X0,), (X1,), breaks=1)
def break_inside_finally(x):
    try:
        y = x + 1
    finally:
        LOG.append(round(float(x.sum()), 4))
    return y


@reg((X0,), (X3,), breaks=1)
def break_inside_finally_while_raising(x):
    try:
        LOG.append("body")
        raise RuntimeError("from body")
    finally:
        LOG.append(int((x > 0).sum()))


@reg((X0,), (X1,), (N0,), breaks=1)
def tensor_branch_inside_try(x):
    try:
        if x.sum() > 0:
            y = x * 2
        else:
            y = -x
    finally:
        LOG.append("finally ran")
    return y


@reg((X0,), (X1,), breaks=1)
def break_in_try_and_return_in_finally_order(x):
    try:
        LOG.append("try")
        return x * x.mean().item()
    finally:
        LOG.append("finally")


@reg((X0,), (X3,), breaks=1)
def exception_type_kept_after_break(x):
    v = x.sum().item()
    if v > 1:
        raise KeyError(f"key {v:.2f}")
    try:
        return x
    finally:
        LOG.append("done")


@reg((X0,), (X3,), breaks=1)
def except_reraises_with_new_type(x):
    try:
        if x.sum() > 1:
            raise ValueError("inner")
        return x
    except ValueError as e:
        raise TypeError(f"wrapped: {e}") from e


@reg((X0,), (X1,), breaks=2)
def nested_try_two_breaks(x):
    try:
        a = x.sum().item()
        try:
            b = float(x.max())
        finally:
            LOG.append("inner finally")
    finally:
        LOG.append("outer finally")
    return x * (a + b)


@reg((X0,), (X1,), breaks=1)
def break_in_loop_inside_try(x):
    try:
        for _ in range(3):
            x = x + x.max().item()
    except ZeroDivisionError:
        pass
    return x


@reg((X0,), (X1,), breaks=1)
def try_in_loop_with_break(x):
    for i in range(3):
        try:
            x = x * float(x.min() < 0) + 1
        finally:
            LOG.append(i)
    return x


@reg((X0,), (X1,), breaks=1)
def break_in_function_with_try_elsewhere(x):
    v = x.sum().item()
    try:
        y = x * v
    except Exception:
        y = x
    return y


@reg((X0,), (X1,), breaks=1)
def with_user_context_manager_break(x):
    with Recorder("a"):
        v = x.sum().item()
        LOG.append("inside")
    return x * v


@reg((X0,), (X1,), breaks=1)
def with_global_context_manager_break(x):
    with RECORDER as r:
        y = x * float(x.mean())
        LOG.append(r.name)
    return y


@reg((X0,), (X1,), (N0,), breaks=1)
def with_tensor_branch_inside(x):
    with Recorder("branch"):
        if x.sum() > 0:
            y = x + 1
        else:
            y = x - 1
    return y


@reg((X0,), (X3,), breaks=1)
def with_exception_after_break_propagates(x):
    with Recorder("raising"):
        v = x.sum().item()
        if v > 1:
            raise ValueError(f"too big {v:.2f}")
    return x


@reg((X0,), (X3,), breaks=1)
def with_swallowing_exit_after_break(x):
    with Recorder("swallow", swallow=True):
        v = x.sum().item()
        if v > 1:
            raise ValueError("swallowed")
        LOG.append("not raised")
    return x + 1


@reg((X0,), (X1,), breaks=2)
def nested_withs_with_two_breaks(x):
    with Recorder("outer"):
        a = x.sum().item()
        with Recorder("inner"):
            b = x.max().item()
        LOG.append("between")
    return x * a + b


@reg((X0,), (X1,), breaks=1)
def with_returns_from_inside_after_break(x):
    with Recorder("ret"):
        return x * x.min().item()


@reg((X0,), (X1,), breaks=1)
def with_value_from_enter_used(x):
    with Depth() as d:
        y = x * d * float(x.sum())
    return y


@reg((X0,), (X1,), breaks=1)
def with_in_loop_break_each_iteration(x):
    for i in range(2):
        with Recorder(f"loop{i}"):
            x = x + x.sum().item()
    return x


@reg((X0,), (X1,), breaks=1)
def with_in_callee_breaks(x):
    def helper(t):
        with Recorder("callee"):
            return t * t.mean().item()

    LOG.append("caller")
    return helper(x) + 1


@reg((X0,), (X1,), breaks=1)
def with_print_inside_break(x):
    with Recorder("p"):
        print("inside with")
        v = float(x.max())
        print("value", round(v, 4))
    return x


@reg((X0,), (X1,))
def with_no_break_effects_only(x):
    with Recorder("plain"):
        y = x * 2
    return y


@reg((X0,), (X1,), compiles=None)
def with_raise_no_break(x):
    with Recorder("boom"):
        raise ValueError("inside with")


@reg((X0,), (X1,))
def try_no_break_effects(x):
    try:
        LOG.append("t")
        y = x + 1
    finally:
        LOG.append("f")
    return y


@reg((X0,), (X1,), breaks=1)
def break_after_try_block_done(x):
    try:
        y = x * 2
    finally:
        LOG.append("cleanup")
    return y * y.sum().item()


@reg((X0,), (X3,), breaks=2)
def break_in_except_handler_then_reraise(x):
    try:
        raise ValueError("first")
    except ValueError:
        LOG.append(round(x.sum().item(), 3))
        if x.sum().item() > 1:
            raise
    return x


@reg((P0,), (N0,), breaks=2)
def while_inside_with(x):
    with Recorder("w"):
        while x.sum() < 10:
            x = ops.abs(x) * 2 + 0.1
    return x
