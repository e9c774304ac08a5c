"""Breaks inside callees: a break two calls down (f1 -> f2 -> f3) is one break of the jitted function;
helpers called in loops, helpers that break and have effects, methods of plain objects and Cells, and
callees whose caller goes on with their results."""

from __future__ import annotations

import types

import mycelia as ms
from corpus_breaks.common import N0, P0, X0, X1, X3, registry

CASES: list = []
nn, ops = ms.nn, ms.ops
LOG: list = []
OBJ = types.SimpleNamespace(calls=0)
S: dict = {}


def _reset():
    LOG.clear()
    OBJ.calls = 0
    S.clear()


def _state():
    return list(LOG), OBJ.calls


def f3_host(t):
    return t.sum().item()


def f2_host(t):
    return f3_host(t * 2) + 1


def f3_branch(t):
    if t.sum() > 0:
        return t * 2
    return t - 2


def f2_branch(t):
    return f3_branch(t + 1) * 3


def logging_helper(t):
    LOG.append("enter helper")
    v = float(t.max())
    LOG.append("leave helper")
    return t * v


def counting_helper(t):
    OBJ.calls = OBJ.calls + 1
    return t + int((t > 0).sum())


def raising_helper(t):
    if t.sum() > 1.5:
        raise ValueError("helper rejects large sums")
    return t


def printing_helper(t, label):
    print("helper", label)
    return t * float(t.mean())


class Scaler:
    def __init__(self, k):
        self.k = k
        self.used = 0

    def apply(self, t):
        self.used += 1
        return t * self.k * t.max().item()


SCALER = Scaler(2.0)


class GateCell(nn.Cell):
    def __init__(self):
        super().__init__()
        self.w = ms.Parameter(ms.Tensor(X3), name="w")

    def construct(self, x):
        y = x * self.w
        if y.sum() > 0:
            return y
        return -y


reg = registry(CASES, "callees", _reset, _state)


@reg((X0,), (X1,), breaks=1)
def f1_calls_f2_calls_f3_host_read(x):
    return x + f2_host(x)


@reg((X0,), (X1,), (N0,), breaks=1)
def f1_calls_f2_calls_f3_branch(x):
    return f2_branch(x) - 1


@reg((X0,), (X1,), breaks=1)
def callee_called_twice_same_location(x):
    def helper(t):
        return t * t.sum().item()

    return helper(x) + helper(x + 1)


@reg((X0,), (X1,), breaks=2)
def two_different_callees_break(x):
    return x + f2_host(x) + f3_host(x * 3)


@reg((X0,), (X1,), breaks=1)
def callee_in_loop(x):
    for _ in range(3):
        x = x + f3_host(x) * 0.1
    return x


@reg((X0,), (X1,), breaks=1)
def callee_with_effects_around_break(x):
    LOG.append("caller before")
    y = logging_helper(x)
    LOG.append("caller after")
    return y


@reg((X0,), (X1,), breaks=1)
def callee_counts_calls(x):
    return counting_helper(counting_helper(x))


@reg((X0,), (X3,), breaks=1)
def callee_raises_after_break(x):
    LOG.append("start")
    return raising_helper(x) * 2


@reg((X0,), (X3,), breaks=1)
def callee_raise_caught_by_caller(x):
    try:
        return raising_helper(x), "ok"
    except ValueError as e:
        return x * 0, str(e)


@reg((X0,), (X1,), breaks=4)  # + each print site
def callee_prints_around_break(x):
    print("caller")
    y = printing_helper(x, "a")
    print("caller again")
    return y


@reg((X0,), (X1,), breaks=1)
def method_of_global_object_breaks(x):
    return SCALER.apply(x) + 1


@reg((X0,), (X1,), breaks=1, made=True)
def method_of_object_made_before(x=None):
    sc = Scaler(3.0)
    S["sc"] = sc

    def f(x):
        return sc.apply(x) - sc.apply(x * 2)

    return f


@reg((X0,), (X1,), (N0,), breaks=1, made=True)
def cell_with_branch_called_from_function():
    net = GateCell()

    def f(x):
        return net(x) * 2

    return f


@reg((X0,), (X1,), (N0,), breaks=1, made=True)
def jit_cell_with_branch():
    return GateCell()


@reg((X0,), (X1,), breaks=1)
def lambda_with_host_read(x):
    g = lambda t: t * t.max().item()  # noqa: E731
    return g(x)


@reg((X0,), (X1,), breaks=1)
def callee_returns_python_value_used_in_branch(x):
    def positive(t):
        return bool(t.sum() > 0)

    if positive(x):
        return x
    return -x


@reg((X0,), (X1,), breaks=1)
def deep_chain_four_levels(x):
    def d(t):
        return float(t.min())

    def c(t):
        return d(t + 1) * 2

    def b(t):
        return c(t * 2) + 1

    def a(t):
        return t + b(t)

    return a(x)


@reg((X0,), (X1,), breaks=1)
def callee_keyword_arguments(x):
    def scale(t, *, k=1.0, shift=0.0):
        return t * k * t.mean().item() + shift

    return scale(x, k=2.0, shift=1.0)


@reg((X0,), (X1,), breaks=1)  # two host reads on one line: one break location (file, line, reason)
def callee_star_args(x):
    def total(*ts):
        return sum(t.sum().item() for t in ts) if False else ts[0].sum().item() + ts[1].sum().item()

    return x * total(x, x + 1)


@reg((X0,), (X1,), breaks=1)  # two host reads on one line: one break location
def callee_result_unpacked(x):
    def stats(t):
        return t.min().item(), t.max().item()

    lo, hi = stats(x)
    return (x - lo) / (hi - lo)


@reg((X0,), (X1,), breaks=1)
def callee_mutates_argument_list(x):
    def fill(t, out):
        out.append(float(t.sum()))
        return t

    acc = []
    fill(x, acc)
    return x * len(acc), [round(v, 4) for v in acc]


@reg((X0,), (X1,), breaks=1)
def closure_over_tensor_breaks(x):
    scale = x.max()

    def use(t):
        return t * scale.item()

    return use(x + 1)


@reg((P0,), (N0,), breaks=2)
def callee_branch_and_caller_host_read(x):
    y = f3_branch(x)
    return y * float(y.sum())


@reg((X0,), (X1,), breaks=1)
def recursive_helper_with_break(x):
    def rec(t, n):
        if n == 0:
            return t.sum().item()
        return rec(t * 2, n - 1)

    return x + rec(x, 2)


@reg((X0,), (X1,), breaks=1)
def builtin_id_is_untraceable(x):
    tag = id(x) > 0
    return x * 2, tag


@reg((X0,), (X1,), breaks=1)
def callee_with_default_tensor_arg(x):
    def helper(t, w=ms.Tensor(X3)):  # noqa: B008 - a tensor default is the point
        return t * w * (t * w).sum().item()

    return helper(x)
