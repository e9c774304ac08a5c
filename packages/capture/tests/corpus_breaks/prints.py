"""``print`` replayed after the graph (``print_breaks=False``): strings, ints, floats, tensors, shapes,
f-strings, ``sep``/``end``, prints in callees and loops, and prints interleaved with list appends and breaks
(same text, same order)."""

from __future__ import annotations

import sys
import types

from corpus_breaks.common import N0, P0, X0, X1, X3, registry

CASES: list = []
LOG: list = []
OBJ = types.SimpleNamespace(n=0)


class Tap:
    """A global sink whose ``append`` prints: the order of prints and appends is visible in stdout."""

    def __init__(self):
        self.items = []

    def append(self, value):
        print("tap <-", value)
        self.items.append(value)


TAP = Tap()


def _reset():
    LOG.clear()
    TAP.items = []
    OBJ.n = 0


def _state():
    return list(LOG), list(TAP.items), OBJ.n


# The replay of prints (jit_config print_breaks=False); prints as graph breaks (the default) are
# covered by the other modules and test_resume.py.
reg = registry(CASES, "prints", _reset, _state, jit_kwargs={"jit_config": {"print_breaks": False}})


@reg((X0,), (X1,))
def print_string(x):
    print("hello")
    return x + 1


@reg((X0,), (X1,))
def print_several_values(x):
    print("values", 1, 2.5, None, True, [1, "a"], (2,), {"k": 3})
    return x


@reg((X0,), (X1,))
def print_with_sep(x):
    print("a", "b", "c", sep="--")
    return x * 2


@reg((X0,), (X1,))
def print_with_end(x):
    print("no newline", end="")
    print(" continued", end="!\n")
    return x


@reg((X0,), (X1,))
def print_with_sep_and_end(x):
    print(1, 2, 3, sep=", ", end=" .\n")
    return x - 1


@reg((X0,), (X1,))
def print_empty(x):
    print()
    return x


@reg((X0,), (X1,))
def print_tensor_result(x):
    y = x * 2 + 1
    print(y)
    return y


@reg((X0,), (X1,))
def print_input_tensor(x):
    print(x)
    return x + 1


@reg((X0,), (X1,))
def print_tensor_with_label_and_sep(x):
    y = x.sum(axis=0)
    print("colsum", y, sep=": ")
    return y


@reg((X0,), (X1,))
def print_scalar_tensor(x):
    print("mean", x.mean())
    return x


@reg((X0,), (X1,))
def print_shape_dtype(x):
    print(x.shape, x.dtype, x.ndim)
    return x


@reg((X0,), (X1,))
def print_fstring_ints(x):
    n = x.shape[0] * 10
    print(f"rows={x.shape[0]} cols={x.shape[1]} n={n:04d}")
    return x * n


@reg((X0,), (X1,))
def print_fstring_float_format(x):
    scale = 2.5
    print(f"scale {scale:.3f} {scale!r} {'tag':>6}")
    return x * scale


@reg((X0,), (X1,))
def print_fstring_of_shape(x):
    y = x.transpose(1, 0)
    print(f"shape {y.shape} dtype {y.dtype}")
    return y


@reg((X0,), (X1,), breaks=1)  # formatting a tensor reads its value on the host
def print_fstring_of_tensor(x):
    y = x + 1
    print(f"y = {y}")
    return y


@reg((X0,), (X1,))
def print_two_tensors_in_order(x):
    a = x * 2
    b = a - 1
    print("b", b)
    print("a", a)
    return a + b


@reg((X0,), (X1,))
def print_tensor_before_it_changes(x):
    y = x + 1
    print(y)
    y = y * 10
    print(y)
    return y


@reg((X0,), (X1,))
def print_in_loop(x):
    for i in range(3):
        print("step", i)
        x = x + i
    return x


@reg((X0,), (X1,))
def print_in_helper(x):
    def show(t, label):
        print(label, t.shape)
        return t * 2

    return show(show(x, "first"), "second")


@reg((X0,), (X1,), compiles=2)  # the harness swaps sys.stdout between calls: the guard on it notices
def print_to_stdout_file_kwarg(x):
    print("to stdout", file=sys.stdout)
    return x


@reg((X0,), (X1,))
def print_then_append_then_print(x):
    print("a")
    LOG.append("b")
    print("c")
    return x


@reg((X0,), (X1,))
def print_interleaved_with_tap(x):
    print("one")
    TAP.append(1)
    print("two")
    TAP.append(x.shape)
    print("three")
    return x


@reg((X0,), (X1,))
def tap_in_loop_with_prints(x):
    for i in range(3):
        TAP.append(i)
        print("after", i)
    return x * 3


@reg((X0,), (X1,))
def tap_tensor_value(x):
    TAP.append(x * 2)
    print("done")
    return x


@reg((X0,), (X1,), compiles=None)
def print_then_raise(x):
    print("about to fail")
    LOG.append("appended")
    raise ValueError("failed after print")


@reg((X0,), (X1,), compiles=None)
def print_then_op_error(x):
    print("before bad op")
    return x @ x


@reg((X0,), (X1,), breaks=1)
def print_before_and_after_item(x):
    print("before")
    v = x.sum().item()
    print("after", round(v, 4))
    return x * v


@reg((X0,), (N0,), (P0,), breaks=1)
def print_in_tensor_branches(x):
    print("enter")
    if x.sum() > 0:
        print("positive branch")
        y = x * 2
    else:
        print("negative branch")
        y = -x
    print("leave")
    return y


@reg((X0,), (X1,), breaks=1)
def tap_and_print_around_break(x):
    TAP.append("first")
    v = int((x > 0).sum())
    print("positives", v)
    TAP.append(v)
    return x * v


@reg((X0,), (X3,), breaks=1)
def print_then_raise_after_break(x):
    print("start")
    v = x.sum().item()
    print("value", round(v, 3))
    if v > 1:
        raise RuntimeError("value too large")
    return x


@reg((X0,), (X1,), compiles=None)
def print_and_attribute_count(x):
    OBJ.n = OBJ.n + 1
    print("count", OBJ.n)
    return x * OBJ.n


@reg((X0,), (X1,))
def print_list_built_inside(x):
    items = [x.shape[0], "s", 2.0]
    print(items, len(items))
    return x


@reg((X0,), (X1,))
def print_repr_and_str(x):
    print(repr("quoted"), str(3), repr(1.5))
    return x


@reg((X0,), (X1,))
def print_bool_tensor(x):
    print(x > 0)
    return x


@reg((X0,), (X1,))
def print_int_tensor(x):
    print((x * 10).astype("int32") if hasattr(x, "astype") else x)
    return x
