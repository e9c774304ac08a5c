"""Breaks and side effects together: ``nn.Cell`` attribute counters (``self.count += 1``), Parameter
updates with ``ops.assign``/``assign_add`` in training steps, ``nonlocal`` counters, global tensors,
two breaks in one function, break then effects, and the same function with data that changes its path."""

from __future__ import annotations

import types

import numpy as np
from differential import arr

import mycelia as ms
from corpus_breaks.common import N0, P0, X0, X1, X2, X3, registry

CASES: list = []
nn, ops = ms.nn, ms.ops
LOG: list = []
S: dict = {}
OBJ = types.SimpleNamespace(n=0)
TOTAL = None


def _reset():
    global TOTAL
    LOG.clear()
    S.clear()
    OBJ.n = 0
    TOTAL = None


def _state():
    cell = S.get("cell")
    extra = None
    if cell is not None:
        extra = (getattr(cell, "count", None), list(cell.trainable_params()))
    getter = S.get("get")
    return list(LOG), OBJ.n, TOTAL, extra, getter() if getter else None


reg = registry(CASES, "mixed", _reset, _state)


class Point:
    def __init__(self, v):
        self.v = v


class Counting(nn.Cell):
    def __init__(self):
        super().__init__()
        self.w = ms.Parameter(ms.Tensor(arr(3, seed=60)), name="w")
        self.count = 0

    def construct(self, x):
        self.count += 1
        return x * self.w


class CountingBreak(Counting):
    def construct(self, x):
        self.count += 1
        y = x * self.w
        if y.sum() > 0:
            return y
        return -y


class Accumulator(nn.Cell):
    def __init__(self):
        super().__init__()
        self.acc = ms.Parameter(ms.Tensor(np.zeros(3, np.float32)), name="acc")
        self.steps = ms.Parameter(ms.Tensor(np.zeros((), np.float32)), name="steps")

    def construct(self, x):
        ops.assign_add(self.acc, x.sum(axis=0))
        ops.assign_add(self.steps, ms.Tensor(np.ones((), np.float32)))
        return self.acc * 1


def _net(seed):
    return nn.Dense(3, 2, weight_init=ms.Tensor(arr(2, 3, seed=seed)), bias_init=ms.Tensor(arr(2, seed=seed + 1)))


def _step(net, with_break=False, log=False):
    params = net.trainable_params()

    def loss_fn(x, t):
        return ((net(x) - t) ** 2).mean()

    grad_fn = ms.value_and_grad(loss_fn, None, params)

    def step(x, t):
        loss, grads = grad_fn(x, t)
        lr = 0.1
        if with_break:
            lr = 0.1 if loss.item() > 0.5 else 0.05
        for p, g in zip(params, grads):
            ops.assign(p, p - lr * g)
        if log:
            LOG.append("stepped")
            print("step done")
        return loss

    return step


@reg((X0,), (X1,), (X0,), made=True, compiles=None)
def cell_self_count_increment():
    S["cell"] = Counting()
    return S["cell"]


@reg((X0,), (X1,), (N0,), made=True, breaks=1)
def cell_self_count_with_branch():
    S["cell"] = CountingBreak()
    return S["cell"]


@reg((X0,), (X1,), made=True, compiles=None)
def cell_called_from_function_counts():
    net = S["cell"] = Counting()

    def f(x):
        return net(x) + net(x * 2)

    return f


@reg((X0,), (X1,), (X2,), made=True)
def cell_assign_add_accumulates():
    S["cell"] = Accumulator()
    return S["cell"]


@reg((X0, arr(2, 2, seed=82)), (X1, arr(2, 2, seed=83)), made=True)
def training_step_assign():
    net = S["cell"] = _net(90)
    return _step(net)


@reg((X0, arr(2, 2, seed=82)), (X1, arr(2, 2, seed=83)), (X0, arr(2, 2, seed=82)), made=True, breaks=1)
def training_step_with_loss_item_branch():
    net = S["cell"] = _net(92)
    return _step(net, with_break=True)


@reg((X0, arr(2, 2, seed=82)), (X1, arr(2, 2, seed=83)), made=True, breaks=1)  # + each print site
def training_step_with_log_and_print():
    net = S["cell"] = _net(94)
    return _step(net, log=True)


@reg((X0,), (X1,), made=True)
def assign_parameter_directly():
    net = S["cell"] = Counting()

    def f(x):
        ops.assign(net.w, net.w * 0.5 + x.mean(axis=0))
        return net.w * 1

    return f


@reg((X0,), (X1,), made=True, breaks=1)
def assign_parameter_after_host_read():
    net = S["cell"] = Counting()

    def f(x):
        s = float(x.sum())
        ops.assign(net.w, net.w + s)
        return net(x)

    return f


@reg((X0,), (X1,), made=True, breaks=1)
def assign_parameter_before_host_read():
    net = S["cell"] = Counting()

    def f(x):
        ops.assign_add(net.w, x[0])
        v = net.w.sum().item()
        return x * v

    return f


@reg((X0,), (X1,), (X3,), made=True, compiles=None)
def nonlocal_counter():
    n = 0

    def get():
        return n

    def f(x):
        nonlocal n
        n += 1
        return x * n

    S["get"] = get
    return f


@reg((X0,), (X1,), (X3,), made=True, breaks=1)
def nonlocal_counter_with_break():
    n = 0

    def get():
        return n

    def f(x):
        nonlocal n
        n += 1
        if x.sum() > 0:
            n += 10
        return x * n

    S["get"] = get
    return f


@reg((X0,), (X1,), made=True)
def nonlocal_tensor_store():
    last = None

    def get():
        return last

    def f(x):
        nonlocal last
        last = x * 3
        return x

    S["get"] = get
    return f


@reg((X0,), (X1,), made=True, breaks=1)
def nonlocal_list_append_with_break():
    seen = []

    def get():
        return list(seen)

    def f(x):
        seen.append(round(x.sum().item(), 4))
        return x

    S["get"] = get
    return f


@reg((X0,), (X1,), compiles=None)
def global_tensor_accumulate(x):
    global TOTAL
    TOTAL = x if TOTAL is None else TOTAL + x
    return TOTAL * 1


@reg((X0,), (X1,), breaks=2)
def two_breaks_host_read_and_branch(x):
    v = x.sum().item()
    y = x * v
    if y.max() > 0.2:
        return y
    return -y


@reg((X0,), (X1,), (X3,), breaks=2)
def two_breaks_with_effects_between(x):
    LOG.append("a")
    a = float(x.min())
    LOG.append("b")
    b = float(x.max())
    LOG.append("c")
    return x * (b - a)


@reg((X0,), (X1,), breaks=2)  # + each print site
def break_then_side_effects(x):
    v = int((x > 0).sum())
    LOG.append(v)
    OBJ.n = OBJ.n + v
    print("positives", v)
    return x * v


@reg((X0,), (X1,), breaks=2)  # + each print site
def break_then_many_effect_kinds(x):
    global TOTAL
    s = x.sum().item()
    TOTAL = x * s
    LOG.extend(["x", "y"])
    OBJ.n = 3
    print("s>0" if s > 0 else "s<=0")
    return x


@reg((X0,), (X1,), (N0,), breaks=1)
def tensor_dependent_return_in_middle_with_effects(x):
    LOG.append("entered")
    if x.mean() < 0:
        LOG.append("early exit")
        return x * 0
    LOG.append("full path")
    y = ops.exp(x)
    return y / y.sum()


@reg((X0,), (X3,), breaks=2)  # + a break where Python code uses the value read from the tensor
def exception_after_break_same_message(x):
    v = x.max().item()
    if v > 0.5:
        raise ValueError(f"max {v:.4f} over limit")
    return x


@reg((X0,), (X1,), breaks=1)
def exception_from_op_after_break(x):
    v = x.sum().item()
    y = x * v
    return y @ y


@reg((X0,), (X1,), breaks=1)
def attribute_error_after_break(x):
    x.sum().item()
    return OBJ.missing


@reg((X0,), (X1,), (X0,), breaks=1)
def data_changes_path_each_call(x):
    if x.sum() > 0:
        LOG.append("pos")
        return x + 1
    LOG.append("neg")
    return x - 1


@reg((P0,), (N0,), (X0,), (X1,), breaks=3)
def three_breaks_mixed_kinds(x):
    a = float(x.mean())
    if x.min() > 0:
        return x * a
    b = int((x > 0).sum())
    return x * b


@reg((X0,), (X1,), made=True, breaks=1)
def closure_cell_and_global_effects_with_break():
    box = {"k": 0}

    def get():
        return dict(box)

    def f(x):
        box["k"] = 1
        v = x.sum().item()
        box["v"] = round(v, 4)
        LOG.append("done")
        return x * v

    S["get"] = get
    return f


@reg((X0,), (X1,), made=True, breaks=1)
def object_created_inside_stored_after_break():
    def f(x):
        v = round(x.sum().item(), 4)
        LOG.append(Point(v))
        return x

    return f


@reg((X0,), (X1,), breaks=1)  # two id() calls on one line: one break location
def input_untraceable_builtin(x):
    h = hash(id(x)) == hash(id(x))
    return x + 1, h


@reg((X0,), (X1,), breaks=3)  # + each print site
def print_tensor_then_break_then_tensor(x):
    y = x * 2
    print(y)
    s = float(y.sum())
    z = y + s
    print(z)
    return z


@reg((X0,), (X1,), breaks=1)
def sum_in_graph_equals_eager_sum(x):
    y = x * 2
    s = float(y.sum())
    return repr(s)
