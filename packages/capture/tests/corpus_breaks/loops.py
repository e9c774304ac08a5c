"""Breaks inside loops: ``while`` on a tensor condition (the test is also compiled at the loop's end:
two break locations), host reads and tensor branches inside ``for`` loops over ``range`` (one location
reused by every iteration), ``break``/``continue`` decided by tensors, effects inside such loops."""

from __future__ import annotations

import types

import mycelia as ms
from corpus_breaks.common import N0, P0, SMALL, X0, X1, X3, registry

CASES: list = []
ops = ms.ops
LOG: list = []
OBJ = types.SimpleNamespace(steps=0)


def _reset():
    LOG.clear()
    OBJ.steps = 0


def _state():
    return list(LOG), OBJ.steps


reg = registry(CASES, "loops", _reset, _state)


@reg((P0,), (SMALL + 0.5,), breaks=1)
def while_max_below_k(x):
    while x.max() < 8:
        x = x * 2
    return x


@reg((P0,), (P0 * 100,), breaks=1)  # the loop test at the top, and its copy at the end of the body
def while_entered_at_most_once(x):
    while x.min() < 0.2:
        x = x + 0.5
    return x


@reg((P0,), (P0 * 0.01,), breaks=1)
def while_counts_iterations(x):
    n = 0
    while x.sum() < 100:
        x = x * 3
        n += 1
    return x, n


@reg((X0,), (X1,), breaks=1)
def while_with_python_bound(x):
    n = 0
    while n < 5 and x.sum() < 50:
        x = x + 1
        n += 1
    return x, n


@reg((P0,), (P0 * 0.01,), breaks=1)
def while_appends_each_iteration(x):
    while x.sum() < 10:
        LOG.append("iter")
        x = x * 4
    return x


@reg((P0,), (P0 * 0.01,), breaks=2)  # + each print site
def while_prints_each_iteration(x):
    i = 0
    while x.max() < 5:
        print("iteration", i)
        x = x * 3
        i += 1
    return x


@reg((X0,), (X1,), breaks=1)
def for_range_with_item(x):
    total = 0.0
    for i in range(3):
        total += (x * (i + 1)).sum().item()
    return x + total, round(total, 4)


@reg((X0,), (X1,), breaks=1)
def for_range_with_branch(x):
    for _ in range(4):
        if x.sum() > 0:
            x = x - 1
        else:
            x = x + 2
    return x


@reg((X0,), (X1,), breaks=1)
def for_range_break_on_tensor(x):
    for i in range(10):  # noqa: B007 - i is returned after the loop
        x = x + 1
        if x.min() > 0:
            break
    return x, i


@reg((X0,), (X1,), breaks=1)
def for_range_continue_on_tensor(x):
    acc = x * 0
    for i in range(4):
        row = x * i - 1
        if row.sum() < 0:
            continue
        acc = acc + row
    return acc


@reg((X0,), (X1,), breaks=1)
def for_over_rows_with_host_read(x):
    vals = []
    for row in x:
        vals.append(round(float(row.sum()), 4))
    return vals


@reg((X0,), (X1,), breaks=1)
def for_loop_effects_each_iteration(x):
    for i in range(3):
        LOG.append(i)
        v = int((x > i * 0.2).sum())
        LOG.append(v)
    return x


@reg((X0,), (X1,), breaks=1)
def for_loop_attribute_counter(x):
    for _ in range(3):
        OBJ.steps = OBJ.steps + 1
        x = x * float(x.max())
    return x


@reg((X0,), (X1,), breaks=2)
def for_loop_two_breaks_per_iteration(x):
    for _ in range(2):
        a = x.sum().item()
        x = x + a
        if x.max() > 1:
            x = x * 0.5
    return x


@reg((X0,), (X1,), breaks=1)
def nested_for_loops_with_break(x):
    out = []
    for i in range(2):
        for j in range(3):
            out.append(x[i, j].item() > 0)
    return out


@reg((X0,), (X1,), breaks=1)
def loop_else_clause_with_tensor_break(x):
    for _ in range(3):
        if x.sum() > 10:
            break
        x = x + 1
    else:
        LOG.append("loop completed")
    return x


@reg((P0,), (N0,), breaks=1)  # only the tensor operand of ``or`` breaks
def while_true_with_tensor_break(x):
    n = 0
    while True:
        n += 1
        if x.max() > 4 or n > 6:
            break
        x = x * 2
    return x, n


@reg((X0,), (X1,), breaks=1)
def for_loop_early_return(x):
    for i in range(5):
        x = x * 2
        if x.max() > 3:
            return x, i
    return x, -1


@reg((X0,), (X1,), breaks=1)
def for_enumerate_list_with_host_read(x):
    weights = [0.5, 1.0, 2.0]
    total = 0.0
    for i, w in enumerate(weights):
        total += w * x[:, i].sum().item()
    return round(total, 4)


@reg((X0,), (X1,), breaks=1)
def loop_in_helper_with_break(x):
    def count_positive_rows(t):
        n = 0
        for r in range(2):
            if t[r].sum() > 0:
                n += 1
        return n

    return x * count_positive_rows(x)


@reg((X0,), (X1,), breaks=1)
def while_loop_newton_sqrt(x):
    a = ops.abs(x) + 1
    g = a
    it = 0
    while float(ops.abs(g * g - a).max()) > 1e-3:
        g = (g + a / g) / 2
        it += 1
    return g, it


@reg((P0,), (N0,), breaks=2)  # + each print site
def while_with_side_effect_and_exit_print(x):
    while x.sum() < 20:
        x = ops.abs(x) * 2 + 0.1
        OBJ.steps = OBJ.steps + 1
    print("done after loop")
    return x


@reg((X0,), (X1,), breaks=1)
def for_loop_break_then_raise(x):
    for i in range(3):
        if x.sum() > 5:
            raise ValueError(f"overflow at {i}")
        x = x + 1
    return x


@reg((X0,), (X1,), (X3,), breaks=1)
def for_loop_with_reused_break_different_calls(x):
    s = 0
    for i in range(2):
        s += int(x[i].sum() > 0)
    return x * s, s


@reg((X0,), (X1,), breaks=1)
def list_built_in_loop_from_items(x):
    out = []
    for i in range(3):
        out.append(x[0, i].item())
    return x * sum(out), [round(v, 4) for v in out]


@reg((X0,), (X1,), breaks=1)
def for_over_tensor_rows_with_branch(x):
    out = []
    for row in x:
        out.append(row * 2 if row.sum() > 0 else row * -1)
    return out


@reg((X0,), (X1,), breaks=1)
def for_over_list_of_tensors_host_read(x):
    parts = [x[0], x[1], x + 1]
    vals = []
    for p in parts:
        vals.append(round(p.max().item(), 4))
    return vals


@reg((X0,), (X1,), breaks=1)
def for_over_zip_with_host_read(x):
    total = 0.0
    for a, b in zip([x, x * 2], [1.0, -1.0]):
        total += b * a.sum().item()
    return round(total, 4)


@reg((X0,), (X1,), breaks=1)
def for_range_break_with_accumulating_list(x):
    acc = []
    for i in range(3):
        acc.append(x * i)
        if acc[-1].sum() > 1:
            break
    return acc


@reg((X0,), (X1,), breaks=1)
def for_loop_new_local_after_break(x):
    for i in range(3):
        v = x[0, i].item()
        w = v * 2
        x = x + w
    return x


@reg((X0,), (X1,), breaks=2)  # + each print site
def for_loop_print_each_break(x):
    for i in range(3):
        print("i", i, round(float(x[0, i]), 4))
    return x


@reg((P0,), (N0,), breaks=1)
def while_with_else_clause(x):
    n = 0
    while x.sum() < 5:
        x = ops.abs(x) + 1
        n += 1
    else:
        LOG.append(n)
    return x


@reg((X0,), (X1,), breaks=1)
def loop_calls_helper_that_branches(x):
    def step(t):
        if t.mean() > 0:
            return t - 0.5
        return t + 0.5

    for _ in range(4):
        x = step(x)
    return x


@reg((X0,), (X1,), breaks=1)
def reversed_range_with_host_read(x):
    out = []
    for i in reversed(range(3)):
        out.append(int(x[1, i] > 0))
    return out


@reg((X0,), (X1,), breaks=1)
def dict_iteration_with_host_read(x):
    weights = {"a": 1.0, "b": 2.0}
    res = {}
    for k, w in weights.items():
        res[k] = round((x * w).sum().item(), 4)
    return res


@reg((X0,), (X1,), breaks=1)
def loop_counter_attribute_and_break(x):
    for _ in range(3):
        OBJ.steps = OBJ.steps + 1
        if x.max() > 0.44:
            break
    return x


@reg((X0,), (X1,), breaks=1)
def for_range_len_of_list_mutated_locally(x):
    items = [x]
    for _ in range(3):
        if items[-1].sum() > -10:
            items.append(items[-1] + 1)
    return len(items), items[-1]
