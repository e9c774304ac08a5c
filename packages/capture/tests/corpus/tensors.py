"""Tensor code: ``ms.ops`` calls, Tensor methods and operators, comparisons (bool tensors), reductions,
reshape/transpose/indexing, ``shape``/``dtype``/``ndim`` used in Python, op errors."""

from __future__ import annotations

import numpy as np
from differential import a23, a44, arr, registrar

import mycelia as ms

CASES: list = []
case = registrar(CASES, "tensors")
ops = ms.ops
X0, X1, Y0, Y1 = a23(0), a23(1), a23(2), a23(3)
M0, M1, N0, N1 = a44(0), a44(1), a44(2), a44(3)
P0, P1 = np.abs(a23(4)) + 0.5, np.abs(a23(5)) + 0.5  # positive
I0, I1 = arr(2, 3, seed=6, dtype=np.int32), arr(2, 3, seed=7, dtype=np.int32)
XY = ((X0, Y0), (X1, Y1))


@case(*XY)
def add_sub_mul_div(x, y):
    return x + y, x - y, x * y, x / (y + 3)


@case(*XY)
def reflected_scalar_ops(x, y):
    return 2 + x, 2 - x, 2 * y, 1 / (y + 3), x + 0.5, x - 1


@case((M0, N0), (M1, N1))
def matmul_operator(a, b):
    return a @ b, a @ b @ a


@case((P0,), (P1,))
def power_and_neg(x):
    return x ** 2, x ** 0.5, -x, 2 ** x, abs(-x)


@case(*XY)
def comparisons_give_bool_tensors(x, y):
    return x < y, x <= y, x > y, x >= y, x == y, x != y


@case(*XY)
def logical_and_where(x, y):
    mask = ops.logical_and(x > 0, y > 0)
    return ops.where(mask, x, y), ops.logical_not(mask)


@case((X0,), (X1,))
def reductions(x):
    return x.sum(), x.mean(), x.sum(axis=1), x.mean(axis=0, keep_dims=True), x.max(), x.min(), x.prod()


@case((X0,), (X1,))
def ops_reductions(x):
    return ops.sum(x, 0), ops.mean(x), ops.amax(x, 1), ops.amin(x, 0), ops.argmax(x, 1)


@case((X0,), (X1,))
def reshape_transpose(x):
    return x.reshape(3, 2), x.reshape((6,)), x.transpose(1, 0), x.T, ops.reshape(x, (1, 6)), x.flatten()


@case((X0,), (X1,))
def reshape_with_minus_one(x):
    return x.reshape(-1), x.reshape(3, -1), ops.expand_dims(x, 0).shape, x.unsqueeze(1).squeeze(1)


@case((X0,), (X1,))
def indexing_ints_and_slices(x):
    return x[0], x[1, 2], x[:, 1], x[0, 1:], x[-1], x[:, ::2], x[1:2]


@case((M0,), (M1,))
def indexing_2d_blocks(m):
    return m[1:3, 1:3], m[:2], m[..., 0], m[None].shape, m[:, None, 0].shape


@case((X0,), (X1,))
def shape_in_python_arithmetic(x):
    rows, cols = x.shape
    n = rows * cols
    return x / n, n, x.ndim * 10, len(x.shape), x.shape[-1] + 1


@case((X0,), (X1,))
def dtype_checks(x):
    is_f32 = x.dtype == ms.float32
    return is_f32, str(x.dtype), x.astype(ms.float64).dtype, x.astype(ms.int32), ops.cast(x, ms.float16).dtype


@case((I0,), (I1,))
def int_tensor_ops(x):
    return x + 1, x * 2, x // 2, x % 3, x.sum(), (x > 0).sum()


@case((X0,), (X1,))
def unary_math(x):
    return ops.exp(x), ops.sin(x), ops.cos(x), ops.tanh(x), ops.sigmoid(x), ops.relu(x), ops.abs(x)


@case((P0,), (P1,))
def unary_math_positive(x):
    return ops.log(x), ops.sqrt(x), ops.rsqrt(x), x.log(), x.sqrt(), ops.reciprocal(x)


@case((X0,), (X1,))
def softmax_family(x):
    return ops.softmax(x, axis=-1), ops.log_softmax(x, axis=1), ops.logsumexp(x, 1)


@case(*XY)
def concat_stack_split(x, y):
    c = ops.concat((x, y), axis=0)
    s = ops.stack([x, y])
    parts = ops.split(c, 2, axis=0)
    return c, s, parts[0], len(parts)


@case((X0,), (X1,))
def creation_ops(x):
    z = ops.zeros((2, 3), ms.float32)
    o = ops.ones_like(x)
    f = ops.full((2, 3), 1.5, dtype=ms.float32)
    return x + z + o + f, ops.zeros_like(x), ops.arange(0, 6, 1).reshape(2, 3)


@case((X0,), (X1,))
def tensor_from_python_list(x):
    t = ms.Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], ms.float32)
    return x * t


@case((X0,), (X1,))
def clamp_and_minmax(x):
    return ops.clamp(x, -0.5, 0.5), ops.maximum(x, 0.0 * x), ops.minimum(x, x * 0), x.clip(-0.1, 0.1)


@case((M0, N0), (M1, N1))
def ops_matmul_and_linear(a, b):
    w = b.T
    return ops.matmul(a, w) + 1, ops.matmul(a, b).sum(axis=0)


@case((X0,), (X1,))
def broadcast_with_row_and_col(x):
    row = x[0]
    col = x[:, 0:1]
    return x - row, x * col, ops.broadcast_to(row, (4, 3))


@case((X0,), (X1,))
def chained_methods(x):
    return x.abs().sum(axis=1).mean().sqrt()


@case(*XY)
def mse_by_hand(x, y):
    d = x - y
    return (d * d).mean(), ops.mse_loss(x, y)


@case((X0,), (X1,))
def tensor_size_numel(x):
    return x.size, x.numel(), x.shape == (2, 3), tuple(x.shape) + (1,)  # noqa: RUF005


@case((X0,), (X1,))
def permute_and_swap(x):
    t = x.reshape(1, 2, 3)
    return t.permute(2, 0, 1).shape, ops.swapaxes(t, 0, 2), ops.transpose(t, (0, 2, 1))


@case((X0,), (X1,))
def tile_flip_roll(x):
    return ops.tile(x, (2, 1)), ops.flip(x, (1,)), ops.roll(x, 1, 1)


@case((X0,), (X1,))
def cumulative_and_sort(x):
    values, idx = ops.sort(x, axis=1)
    return ops.cumsum(x, 1), values, idx, ops.topk(x, 2)[0]


@case((X0,), (X1,))
def masked_fill_op(x):
    return ops.masked_fill(x, x < 0, 0.0)


@case((X0,), (X1,))
def return_tensor_and_scalars(x):
    return x.sum(), x.shape[0], 1.5, "ok", None


@case(*XY, compiles=None)
def shape_mismatch_error(x, y):
    return ops.matmul(x, y)


@case((X0, M0), (X1, M1), compiles=None)
def broadcast_error(x, m):
    return x + m


@case((X0,), (X1,), compiles=None)
def reshape_error(x):
    return x.reshape(4, 2)


@case((X0,), (X1,), compiles=None)
def value_error_with_computed_message(x):
    n = x.shape[0] * x.shape[1]
    if n != 8:
        raise ValueError(f"expected 8 elements, got {n} from shape {x.shape}")
    return x


@case((X0,), (X1,))
def stop_gradient_and_identity(x):
    return ops.stop_gradient(x) + x, x.copy()


@case((X0,), (X1,))
def dtype_promotion(x):
    i = ops.ones((2, 3), ms.int32)
    return (x + i).dtype, (i + 1).dtype, (i * 1.5).dtype, (i / 2).dtype


@case((X0,), (X1,))
def in_place_style_rebind(x):
    y = x
    y = y + 1
    return x, y


@case((X0,), (X1,))
def tensor_in_tuple_return_order(x):
    a = x * 2
    return (a, x, a)


@case((X0,), (X1,))
def same_tensor_returned_twice_identity(x):
    y = x + 1
    pair = (y, y)
    return pair, pair[0] is pair[1]


@case((X0,), (X1,))
def iterate_over_tensor_rows(x):
    rows = []
    for row in x:
        rows.append(row * 2)
    return rows
