"""Host reads break the graph: ``.asnumpy()``, ``.item()``, ``float(t)``, ``int(t)``, ``bool(t)``,
``.tolist()``; the value flows into Python arithmetic and back into tensors, with data that changes."""

from __future__ import annotations

import types

import numpy as np

import mycelia as ms
from corpus_breaks.common import BIG, N0, P0, SMALL, X0, X1, X2, X3, registry

CASES: list = []
ops = ms.ops
LOG: list = []
OBJ = types.SimpleNamespace(total=0.0)


def _reset():
    LOG.clear()
    OBJ.total = 0.0


def _state():
    return list(LOG), OBJ.total


reg = registry(CASES, "host_reads", _reset, _state)


@reg((X0,), (X1,), (X2,), breaks=1)
def asnumpy_sum_scales(x):
    s = float(x.sum().asnumpy())
    return x * s


@reg((X0,), (X1,), breaks=3)  # + a break where Python code uses the value read from the tensor
def asnumpy_whole_array(x):
    a = x.asnumpy()
    return x + float(np.abs(a).max()), a.shape


@reg((X0,), (X1,), breaks=2)  # + a break where Python code uses the value read from the tensor
def asnumpy_returned(x):  # (the harness compares lists, not numpy arrays)
    return (x * 2).asnumpy().tolist()


@reg((X0,), (X1,), breaks=2)  # + a break where Python code uses the value read from the tensor
def asnumpy_then_numpy_math(x):
    a = (x + 1).asnumpy()
    m = float(np.median(a))
    return x - m, round(m, 4)


@reg((X0,), (X1,), breaks=1)
def item_in_python_arithmetic(x):
    v = x.sum().item()
    w = v * 2 + 1
    return x * w, round(w, 4)


@reg((X0,), (X1,), breaks=1)
def item_type_is_python_float(x):
    v = x.mean().item()
    return type(v).__name__, x + v


@reg((X0,), (X1,), breaks=1)
def item_of_int_tensor(x):
    n = (x > 0).sum().item()
    return x * n, n


@reg((X0,), (X1,), breaks=1)
def item_python_comparison(x):
    v = x.max().item()
    flag = v > 0.44
    return x * (2 if flag else 3), flag


@reg((X0,), (X1,), breaks=1)
def item_round_and_abs(x):
    v = abs(x.min().item())
    return x / (v + 1), round(v, 3)


@reg((X0,), (X1,), (X3,), breaks=1)
def float_of_sum(x):
    s = float(x.sum())
    return x * s


@reg((X0,), (X1,), breaks=1)
def float_of_mean_formatted(x):
    s = float(x.mean())
    return f"{s:.2f}", x - s


@reg((X0,), (X1,), breaks=1)
def int_of_count(x):
    n = int((x > 0).sum())
    return x[:, :1] * n, n


@reg((X0,), (X1,), breaks=2)  # + a break where Python code uses the value read from the tensor
def int_used_as_range_bound(x):
    n = int((x > 0).sum())
    for _ in range(n):
        x = x + 1
    return x, n


@reg((X0,), (X1,), breaks=2)  # + a break where Python code uses the value read from the tensor
def int_used_as_index(x):
    i = int(ops.argmax(x.sum(axis=1), 0))
    return x[i], i


@reg((X0,), (X1,), breaks=2)  # + a break where Python code uses the value read from the tensor
def int_used_for_slicing(x):
    k = int((x[0] > 0).sum())
    return x[:, :k]


@reg((P0,), (N0,), (X0,), breaks=1)
def bool_of_all(x):
    b = bool((x > 0).all())
    return x * 2 if b else -x, b


@reg((P0,), (N0,), breaks=1)
def bool_stored_in_list(x):
    LOG.append(bool((x > 0).any()))
    return x


@reg((X0,), (X1,), breaks=1)
def tolist_returned(x):
    return (x * 10).tolist()


@reg((X0,), (X1,), breaks=1)
def tolist_python_sum(x):
    rows = x.tolist()
    total = sum(sum(r) for r in rows)
    return x * total, round(total, 4)


@reg((X0,), (X1,), breaks=1)
def tolist_twice(x):
    return x.tolist(), len(x.tolist())


@reg((X0,), (X1,), breaks=2)
def two_host_reads(x):
    a = x.sum().item()
    y = x * a
    b = float(y.max())
    return y + b, round(a + b, 4)


@reg((X0,), (X1,), breaks=3)
def three_host_reads(x):
    a = float(x.sum())
    b = int((x > 0).sum())
    c = x.max().item()
    return x * a + b - c


@reg((X0,), (X1,), breaks=1)
def host_read_then_more_tensor_work(x):
    y = ops.exp(x)
    s = y.sum().item()
    z = y / s
    return ops.log(z) * 2, z.sum()


@reg((X0,), (X1,), breaks=1)
def host_read_result_unused(x):
    x.sum().item()
    return x + 1


@reg((X0,), (X1,), breaks=2)  # + a break where Python code uses the value read from the tensor
def host_read_of_input_directly(x):
    a = x.asnumpy()
    return a.sum() > 0, x * 2


@reg((X0,), (X1,), breaks=1)
def host_read_accumulated_on_object(x):
    OBJ.total = OBJ.total + x.sum().item()
    return x * 2


@reg((X0,), (X1,), breaks=1)
def host_read_logged(x):
    LOG.append(round(float(x.mean()), 5))
    return x


@reg((X0,), (X1,), breaks=2)  # + a break where Python code uses the value read from the tensor
def host_read_into_new_tensor(x):
    v = x.sum().item()
    t = ms.Tensor(np.full((2, 3), v, np.float32))
    return x + t


@reg((X0,), (X1,), breaks=2)  # + a break where Python code uses the value read from the tensor
def host_read_in_helper(x):
    def norm(t):
        return float((t * t).sum()) ** 0.5

    return x / norm(x)


@reg((X0,), (X1,), breaks=1)
def host_read_in_nested_helper(x):
    def inner(t):
        return t.max().item()

    def outer(t):
        return inner(t + 1) * 2

    return x - outer(x)


@reg((SMALL,), (BIG,), breaks=1)
def host_read_scale_clip(x):
    m = float(ops.abs(x).max())
    scale = 1.0 if m < 1 else 1.0 / m
    return x * scale, scale < 1


@reg((X0,), (X1,), breaks=1)
def host_read_then_return_early_shape(x):
    n = int((x > 0).sum())
    return x.reshape(3, 2) if n % 2 == 0 else x.reshape(6)


@reg((X0,), (X1,), breaks=1)
def host_read_keeps_locals_alive(x):
    a = x + 1
    b = a * 2
    c = b - 3
    v = c.sum().item()
    return a, b, c, v > 0


@reg((X0,), (X1,), breaks=1)
def host_read_with_kwarg_default(x, scale=3.0):
    return x * scale + x.sum().item()


@reg((X0, 2.0), (X1, 2.0), breaks=1)
def host_read_scalar_arg_unchanged(x, k):
    return x * (k + x.min().item())


@reg((X0,), (X1,), breaks=3)  # + a break where Python code uses the value read from the tensor
def host_read_then_exception(x):
    v = x.sum().item()
    return x.reshape(int(abs(v) * 100) + 7, 1)


@reg((X0,), (X1,), breaks=1)
def host_read_in_comparison_chain(x):
    v = float(x.mean())
    return -1 < v < 0, x


@reg((X0,), (X1,), breaks=1)
def host_read_to_string_key(x):
    key = "pos" if x.sum().item() > 0 else "neg"
    return {key: x * 2}


@reg((X0,), (X1,), breaks=2)  # + a break where Python code uses the value read from the tensor
def host_read_of_reduction_tuple(x):
    col = (x.sum(axis=0)).asnumpy()
    return x * ms.Tensor(col), [round(float(v), 4) for v in col]


@reg((X0,), (X1,), since=(3, 12), breaks=1)  # a comprehension's own frame before 3.12
def list_comprehension_with_item(x):
    vals = [x[i].sum().item() for i in range(2)]
    return x * vals[0] - vals[1], [round(v, 4) for v in vals]


@reg((X0,), (X1,), eager=True)  # a generator expression frame cannot be saved: the call runs eagerly
def generator_expression_with_item(x):
    total = sum(x[i].max().item() for i in range(2))
    return x + total


@reg((X0,), (X1,), breaks=2)  # + a break where Python code uses the value read from the tensor
def numpy_array_of_tensor(x):
    a = np.asarray(x.asnumpy()) * 2
    return ms.Tensor(a) + x
