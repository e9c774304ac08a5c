"""Exceptions raised and handled inside the jitted function, with and without graph breaks: re-raise (bare
``raise`` keeps the exception itself), ``raise X from Y`` and implicit chaining (``__cause__``,
``__context__``, ``__suppress_context__``), ``except`` clauses in order, the exception being handled
restored after nested handlers and seen by callees, errors raised by builtins (with real tracebacks).
On 3.10 this is the block machinery (SETUP_FINALLY, POP_EXCEPT, RERAISE, JUMP_IF_NOT_EXC_MATCH); on 3.11+
the exception table."""

from __future__ import annotations

from corpus_breaks.common import X0, X1, X3, registry

CASES: list = []
LOG: list = []


def _reset():
    LOG.clear()


def _state():
    return list(LOG)


reg = registry(CASES, "exceptions", _reset, _state)


@reg((X0,), (X1,), compiles=None)
def reraise_keeps_type_and_message(x):
    try:
        y = x + 1
        raise LookupError(f"shape {tuple(y.shape)}")
    except LookupError:
        LOG.append("logged")
        raise


@reg((X0,), (X1,))
def reraise_caught_outside_keeps_identity(x):
    original = ValueError("original")
    try:
        try:
            raise original
        except ValueError:
            raise
    except ValueError as e:
        return x, e is original, str(e), type(e).__name__


@reg((X0,), (X1,))
def raise_from_none_suppresses(x):
    try:
        try:
            raise KeyError("k")
        except KeyError:
            raise ValueError("clean") from None
    except ValueError as e:
        return x, e.__cause__ is None, e.__suppress_context__, type(e.__context__).__name__


@reg((X0,), (X1,))
def implicit_context_in_handler(x):
    try:
        try:
            raise KeyError("first")
        except KeyError:
            raise IndexError("second")  # noqa: B904 - the implicit context is what is tested
    except IndexError as e:
        return x, str(e), repr(e.__context__), e.__cause__ is None


@reg((X0,), (X3,), compiles=None)
def raise_from_escapes_after_work(x):
    try:
        y = x * 2
        raise KeyError(f"k{y.shape[0]}")
    except KeyError as e:
        raise TypeError("escaped") from e


@reg((X0,), (X1,))
def except_tuple_and_order(x):
    out = []
    for error in (KeyError("a"), IndexError("b"), ZeroDivisionError("c"), ValueError("d")):
        try:
            raise error
        except (KeyError, IndexError) as e:
            out.append(("lookup", str(e)))
        except ArithmeticError:
            out.append("arith")
        except Exception as e:
            out.append(("other", type(e).__name__))
        else:
            out.append("none")
    return x, out


@reg((X0,), (X1,))
def handled_exception_restored_after_nested(x):
    try:
        raise KeyError("outer")
    except KeyError:
        try:
            raise ValueError("inner")
        except ValueError:
            pass
        try:
            raise  # the outer exception again, after the inner handler
        except KeyError as e:
            return x, str(e)


def _reraise_helper():
    LOG.append("helper re-raises")
    raise  # the caller's handled exception (thread state, not the frame's)


@reg((X0,), (X1,))
def callee_bare_raise_reraises_callers_exception(x):
    try:
        try:
            raise KeyError("from caller")
        except KeyError:
            _reraise_helper()
    except KeyError as e:
        return x + 1, str(e)


@reg((X0,), (X1,))
def handler_raise_unwinds_to_outer_and_restores(x):
    out = []
    try:
        try:
            raise KeyError("a")
        except KeyError:
            raise IndexError("b")  # noqa: B904
    except IndexError as e:
        out.append(str(e))
    try:
        raise  # nothing is handled any more
    except RuntimeError as e:
        out.append(str(e))
    return x, out


@reg((X0,), (X3,), breaks=1)
def break_in_except_inside_loop_with_continue(x):
    total = x * 0
    for i in range(3):
        try:
            if i == 1:
                raise ValueError(i)
            total = total + i
        except ValueError:
            if total.sum().item() > 1:
                continue
            total = total - 1
    return total


EMPTY: dict = {}


@reg((X0,), (X3,), breaks=1)
def break_in_finally_while_builtin_error_propagates(x):
    try:
        EMPTY["missing"]  # raised by the dict (a real traceback), not by a raise statement
    finally:
        LOG.append(round(x.sum().item(), 3))


@reg((X0,), (X3,), breaks=1)
def break_in_handler_of_builtin_error(x):
    try:
        EMPTY["missing"]
    except KeyError as e:
        LOG.append((str(e), round(float(x.max()), 3)))
        y = x * 2
    return y
