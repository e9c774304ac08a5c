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


@reg((X0,), (X3,), breaks=2)  # + a break where Python code uses the value read from the tensor
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


@reg((X0,), (X3,), breaks=2)  # + a break where Python code uses the value read from the tensor
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


@reg((X0,), (X1,), breaks=3)  # + each print site
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


@reg((P0,), (N0,), breaks=1)
def while_inside_with(x):
    with Recorder("w"):
        while x.sum() < 10:
            x = ops.abs(x) * 2 + 0.1
    return x


# -- the exception machinery itself (3.10's block stack: SETUP_FINALLY/SETUP_WITH, POP_EXCEPT, RERAISE,
#    WITH_EXCEPT_START, JUMP_IF_NOT_EXC_MATCH), with and without breaks -------------------------------------
class RaisingExit(Recorder):
    """``__exit__`` raises (its error replaces the body's, which becomes its ``__context__``)."""

    def __exit__(self, exc_type, exc, tb):
        super().__exit__(exc_type, exc, tb)
        raise RuntimeError(f"exit of {self.name} saw {exc_type.__name__ if exc_type else None}")


class SwallowKeyError(Recorder):
    def __exit__(self, exc_type, exc, tb):
        super().__exit__(exc_type, exc, tb)
        return exc_type is not None and issubclass(exc_type, KeyError)


@reg((X0,), (X3,), breaks=1)
def nested_try_in_with(x):
    with Recorder("outer"):
        try:
            v = x.sum().item()
            if v > 1:
                raise KeyError("big")
            LOG.append("no raise")
        except KeyError as e:
            LOG.append(f"caught {e}")
            v = -v
        finally:
            LOG.append("inner finally")
    return x * v


@reg((X0,), (X1,))
def nested_try_in_with_no_break(x):
    with Recorder("outer"):
        try:
            with Recorder("inner"):
                raise ValueError("deep")
        except ValueError as e:
            LOG.append(str(e))
        y = x + 1
    return y


@reg((X0,), (X1,))
def exception_in_exit_caught(x):
    try:
        with RaisingExit("r"):
            LOG.append("body")
            raise ValueError("body error")
    except RuntimeError as e:
        return x * 2, str(e), type(e.__context__).__name__, str(e.__context__)


@reg((X0,), (X1,), compiles=None)
def exception_in_exit_escapes(x):
    with RaisingExit("escape"):
        y = x + 1
    return y


@reg((X0,), (X3,), breaks=1)
def exception_in_exit_after_break(x):
    try:
        with RaisingExit("late"):
            if x.sum().item() > 1:
                raise ValueError("big")
    except RuntimeError as e:
        LOG.append(str(e))
    return x - 1


@reg((X0,), (X1,))
def with_suppressing_exception(x):
    with SwallowKeyError("s"):
        LOG.append("before")
        raise KeyError("swallowed")
    LOG.append("after")
    return x * 3


@reg((X0,), (X1,), compiles=None)
def with_not_suppressing_other_exception(x):
    with SwallowKeyError("s"):
        raise IndexError("kept")
    return x


@reg((X0,), (X3,), breaks=1)
def with_suppressing_after_break_then_more(x):
    with SwallowKeyError("s2"):
        if x.sum().item() > 1:
            raise KeyError("swallowed")
        x = x + 1
    with Recorder("second"):
        y = x * 2
    return y


@reg((X0,), (X1,))
def break_in_finally_while_raising(x):
    for i in range(3):
        try:
            LOG.append(i)
            raise ValueError("dropped by break")
        finally:
            break  # noqa: B012 - on purpose: the exception is discarded
    return x + i


@reg((X0,), (X3,), breaks=1)
def break_in_finally_while_raising_after_break(x):
    out = x
    for i in range(3):
        try:
            if out.sum().item() > 1:
                raise ValueError("dropped")
            out = out + 1
        finally:
            if i == 1:
                break  # noqa: B012
    return out


@reg((X0,), (X1,))
def continue_in_finally_while_raising(x):
    total = 0
    for i in range(3):
        try:
            if i % 2:
                raise KeyError(i)
            total += i
        finally:
            continue  # noqa: B012
    return x * total


@reg((X0,), (X1,))
def return_inside_try_with_finally(x):
    try:
        LOG.append("try")
        return x * 2
    finally:
        LOG.append("finally runs after the return value is computed")


@reg((X0,), (X1,))
def return_in_finally_overrides(x):
    try:
        return x * 2
    finally:
        return x * 3  # noqa: B012


@reg((X0,), (X3,), breaks=1)
def return_inside_try_finally_after_break(x):
    try:
        v = x.sum().item()
        if v > 1:
            return x * 0
        LOG.append("small")
    finally:
        LOG.append("finally")
    return x * v


@reg((X0,), (X3,), breaks=1)
def reraise_after_break_keeps_type(x):
    try:
        if x.sum().item() > 1:
            raise OverflowError(f"big {x.shape}")
        y = x
    except ArithmeticError:
        LOG.append("re-raising")
        raise
    return y


@reg((X0,), (X1,))
def raise_from_sets_cause(x):
    try:
        try:
            {}["missing"]
        except KeyError as e:
            raise ValueError("converted") from e
    except ValueError as e:
        return x + 1, str(e), type(e.__cause__).__name__, e.__suppress_context__, type(e.__context__).__name__


@reg((X0,), (X3,), breaks=1)
def with_inside_except_after_break(x):
    try:
        raise KeyError("k")
    except KeyError as e:
        with Recorder(f"in handler {e}"):
            v = x.max().item()
        y = x * v
    return y


@reg((X0,), (X3,), breaks=1)
def raise_in_handler_inside_with_after_break(x):
    try:
        with Recorder("h"):
            try:
                raise KeyError("first")
            except KeyError:
                if x.sum().item() > 1:
                    raise ValueError("second")  # noqa: B904
                LOG.append("small")
    except ValueError as e:
        LOG.append((str(e), type(e.__context__).__name__))
    return x
