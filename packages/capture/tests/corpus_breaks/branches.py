"""Branches on tensor values break the graph: ``if``/``elif``/``else``, conditional expressions,
``and``/``or``/``not`` on tensor comparisons, a tensor-dependent ``return`` in the middle, asserts; the
inputs change so that different calls take different paths."""

from __future__ import annotations

import types

import mycelia as ms
from corpus_breaks.common import N0, N1, P0, P1, X0, X1, X2, X3, registry

CASES: list = []
ops = ms.ops
LOG: list = []
TABLE: dict = {}
OBJ = types.SimpleNamespace(path="")


def _reset():
    LOG.clear()
    TABLE.clear()
    OBJ.path = ""


def _state():
    return list(LOG), dict(TABLE), OBJ.path


reg = registry(CASES, "branches", _reset, _state)


@reg((X0,), (X1,), (X3,), breaks=1)
def if_sum_positive(x):
    if x.sum() > 0:
        return x * 2
    return x - 2


@reg((X0,), (X1,), breaks=1)
def if_else_assign(x):
    if x.sum() > 0:
        y = x + 1
    else:
        y = x - 1
    return y * 3


@reg((P0,), (N0,), (X0,), breaks=2)
def if_elif_else(x):
    if x.min() > 0:
        y = x * 2
    elif x.max() < 0:
        y = x * -3
    else:
        y = x
    return y + 1


@reg((P0,), (N0,), (X1,), (X0,), breaks=3)
def if_elif_elif_else(x):
    m = x.mean()
    if m > 0.5:
        return x, "big"
    elif m > 0:
        return x * 2, "small"
    elif m > -0.5:
        return x * 3, "negative"
    else:
        return x * 4, "very negative"


@reg((X0,), (X1,), breaks=1)
def if_without_else(x):
    y = x * 2
    if y.sum() < 0:
        y = -y
    return y


@reg((X0,), (X1,), breaks=1)
def conditional_expression(x):
    return x * 2 if x.sum() > 0 else -x


@reg((X0,), (X1,), breaks=1)
def conditional_expression_value(x):
    k = 10 if x.mean() > 0 else 20
    return x + k, k


@reg((P0,), (N0,), (X0,), (X1,), breaks=1)
def and_of_two_comparisons(x):
    if (x.sum() > 0) and (x.max() < 1.0):
        return x * 2
    return x


@reg((P0,), (N0,), (X0,), (X1,), breaks=1)
def or_of_two_comparisons(x):
    if (x.min() > 0) or (x.sum() < -1):
        return x + 10
    return x


@reg((P0,), (N0,), (X0,), breaks=1)
def not_of_comparison(x):
    if not (x > 0).all():
        return x * -1
    return x


@reg((P0,), (N0,), (X0,), (X1,), breaks=1)  # only the left operand is tested
def and_returns_tensor_value(x):
    r = (x.sum() > 0) and (x * 2)
    return r


@reg((P0,), (N0,), breaks=1)
def or_returns_tensor_value(x):
    r = (x.min() > 0) or (x - 1).sum()
    return r


@reg((P0,), (N0,), (X0,), breaks=2)
def nested_ifs(x):
    if x.sum() > 0:
        if x.min() > 0:
            return x * 4
        return x * 3
    return x * 2


@reg((P0,), (N0,), (X0,), breaks=2)
def two_sequential_ifs(x):
    y = x
    if y.sum() > 0:
        y = y - 1
    if y.max() > 0:
        y = y * 0.5
    return y


@reg((X0,), (X1,), breaks=1)
def if_on_python_and_tensor(x, flag=True):
    if flag and x.sum() > 0:
        return x + 1
    return x - 1


@reg((X0,), (X1,), breaks=0, compiles=1)
def python_only_branch_does_not_break(x):
    if x.shape[0] == 2:
        return x + 1
    return x - 1


@reg((X0,), (X1,), breaks=1)
def early_return_in_middle(x):
    y = x * 2
    if y.sum() > 0:
        return y
    z = y - 1
    z = z * z
    return z


@reg((X0,), (X1,), breaks=1)
def early_return_tuple(x):
    if x.max() > 0.435:
        return x, "early"
    return x * 2, "late"


@reg((X0,), (X1,), breaks=1)
def branch_with_side_effects(x):
    LOG.append("before")
    if x.sum() > 0:
        LOG.append("then")
    else:
        LOG.append("else")
    LOG.append("after")
    return x


@reg((X0,), (X1,), breaks=1)
def branch_sets_attribute(x):
    OBJ.path = "pos" if x.sum() > 0 else "neg"
    return x


@reg((X0,), (X1,), breaks=1)
def branch_stores_tensor_in_dict(x):
    if x.sum() > 0:
        TABLE["branch"] = x * 2
    else:
        TABLE["branch"] = x * -2
    return x


@reg((X0,), (X1,), breaks=3)  # + each print site
def branch_with_print(x):
    if x.mean() > 0:
        print("mean is positive")
    else:
        print("mean is not positive")
    return x


@reg((X0,), (X3,), breaks=1)
def branch_raises(x):
    if x.sum() > 1.5:
        raise ValueError("sum too large")
    return x * 2


@reg((X0,), (X3,), breaks=3)  # the branch, float() in the message, the message
def branch_raises_after_effect(x):
    LOG.append("checked")
    if x.sum() > 1.5:
        raise ValueError(f"sum {float(x.sum()):.3f} too large")
    return x


@reg((X0,), (X1,), breaks=1)
def assert_on_tensor(x):
    assert x.sum() > 0, "must be positive"
    return x


@reg((X0,), (X1,), breaks=1)
def branch_on_elementwise_any(x):
    if (x < -0.9).any():
        return ops.relu(x)
    return x


@reg((X0,), (X1,), breaks=1)
def branch_on_bool_tensor_directly(x):
    c = x.sum() > 0
    if c:
        return x
    return -x


@reg((X0,), (X1,), breaks=1)
def branch_on_scalar_tensor_truthiness(x):
    if (x > 0).sum():
        return x + 1
    return x


@reg((X0,), (X1,), breaks=1)
def branch_in_helper(x):
    def pick(t):
        if t.sum() > 0:
            return t * 2
        return t * -2

    return pick(x) + 1


@reg((X0,), (X1,), breaks=1)
def branch_result_is_used_after(x):
    scale = 2.0 if x.sum() > 0 else 0.5
    y = x * scale
    z = ops.exp(y)
    return z / z.sum()


@reg((X0,), (X1,), breaks=1)
def branch_on_comparison_of_two_tensors(x):
    a = x.sum(axis=1)
    if a[0] > a[1]:
        return x[0]
    return x[1]


@reg((P0, P1), (N0, P1), (P0, N1), breaks=2)
def branch_on_two_arguments(x, y):
    if x.sum() > 0:
        if y.sum() > 0:
            return x + y
        return x - y
    return x * y


@reg((X0,), (X1,), (X0,), breaks=1)
def same_path_twice_reuses_entry(x):
    if x.sum() > 0:
        return x + 1
    return x - 1


@reg((X0,), (N0,), (X2,), breaks=1)
def branch_with_locals_on_both_paths(x):
    a = x + 1
    b = x * 2
    if x.sum() > 0:
        c = a + b
    else:
        c = a - b
    return a, b, c


@reg((X0,), (X1,), breaks=1)
def branch_keyword_argument(x, *, bias=1.0):
    if x.sum() > 0:
        return x + bias
    return x - bias


@reg((P0,), (N0,), (X0,), breaks=1)
def chained_conditional_expressions(x):
    return x * 3 if x.min() > 0 else (x * -3 if x.max() < 0 else x)


@reg((P0,), (N0,), breaks=1)
def branch_then_host_read_in_one_place(x):
    return x * 2 if bool((x > 0).all()) else x


@reg((X0,), (X1,), breaks=1)
def branch_picks_which_op(x):
    op = ops.exp if x.sum() > 0 else ops.abs
    return op(x)


@reg((X0,), (X1,), breaks=1)
def branch_picks_container(x):
    out = [] if x.sum() > 0 else [x]
    out.append(x * 2)
    return out


@reg((X0, X1), (X1, X0), breaks=1)
def branch_on_comparison_between_args(x, y):
    if x.sum() > y.sum():
        return x
    return y


@reg((X0, 0.5), (X0, -5.0), (X1, 0.5), breaks=1)
def branch_on_tensor_vs_python_threshold(x, t):
    if x.mean() > t:
        return x - t
    return x + t
