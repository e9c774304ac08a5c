"""Linear algebra ops with MindSpore 2.x names and signatures (numpy references are the spec).

dtypes: every numeric dtype (MindSpore's CPU kernels take float16/float32 for dot and
tensor_dot; integers follow numpy here, wrapping on overflow like the integer dtype does).
Operands are promoted to one dtype first (MindSpore requires them equal). float16/bfloat16
products are computed in float32 by the CPU kernels and rounded once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._autograd import needs_gradient
from mycelia._errors import OpError
from mycelia._types import Dim, Shape, TensorType
from mycelia.ops import _dispatch
from mycelia.ops._define import NUMERIC, random_array
from mycelia.ops._einsum import einsum_operand_grads, einsum_shape, sublist_equation
from mycelia.ops._registry import OpDef, Sample, register_op
from mycelia.ops._shapes import broadcast_shapes

__all__ = ["bmm", "dot", "einsum", "matmul", "outer", "tensor_dot"]


def _shown(shape: Shape) -> str:
    return str(list(shape))


def _matmul_shape(op: str, a: Shape, b: Shape, names: tuple[str, str] = ("input", "other")) -> Shape:
    """numpy matmul: 1-D operands are promoted to a row / column, batch dims broadcast."""
    if not a or not b:
        raise OpError(op, f"does not take 0-d (scalar) operands: {names[0]} has shape {_shown(a)} and {names[1]} "
                          f"has shape {_shown(b)}; use mul for scaling")
    rows: tuple[Dim, ...] = (a[-2],) if len(a) > 1 else ()
    columns: tuple[Dim, ...] = (b[-1],) if len(b) > 1 else ()
    inner_a, inner_b = a[-1], b[-2] if len(b) > 1 else b[0]
    if inner_a != inner_b:
        raise OpError(op, f"inner dimensions do not match: {names[0]} has shape {_shown(a)} and {names[1]} has "
                          f"shape {_shown(b)} ({inner_a} != {inner_b}); the last dim of {names[0]} must equal the "
                          f"{'second-to-last' if len(b) > 1 else 'only'} dim of {names[1]}")
    try:
        batch = broadcast_shapes(op, a[:-2], b[:-2])
    except OpError:
        raise OpError(op, f"batch dimensions do not broadcast: {names[0]} has shape {_shown(a)} and {names[1]} has "
                          f"shape {_shown(b)}") from None
    return batch + rows + columns


def _low_rank_matmul_samples(dtype: dt.DType, pairs: Iterable[tuple[tuple[int, ...], tuple[int, ...]]],
                             seed: int) -> list[Sample]:
    rng = np.random.default_rng(seed)
    return [Sample((random_array(a, dtype, rng), random_array(b, dtype, rng))) for a, b in pairs]


def _ops() -> Any:
    """``mycelia.ops``, looked up when a vjp runs (it imports this module)."""
    from mycelia import ops

    return ops


def _contraction_vjp(a_labels: str, b_labels: str, out_labels: str, a: Any, b: Any, grad: Any) -> tuple[Any, Any]:
    """Gradients of ``einsum(f"{a},{b}->{out}", a, b)`` when every label of a (of b) is in out or b (a)."""
    ops = _ops()
    return (ops.einsum(f"{out_labels},{b_labels}->{a_labels}", grad, b),
            ops.einsum(f"{a_labels},{out_labels}->{b_labels}", a, grad))


# -- matmul / bmm ----------------------------------------------------------------------------------
def _matmul_vjp(ctx: Any, grad: Any) -> tuple[Any, Any]:
    """``g @ b^T`` and ``a^T @ g``, with 1-D operands as a row (a) / column (b); the engine sums the
    broadcast batch dims back to each operand's shape."""
    ops = _ops()
    a, b = ctx.inputs
    inner = a.shape[-1]
    if a.ndim == 1 or b.ndim == 1:  # put back the row / column dims the result dropped
        batch_rank = grad.ndim - (a.ndim > 1) - (b.ndim > 1)
        rows = grad.shape[batch_rank:batch_rank + 1] if a.ndim > 1 else (1,)
        columns = grad.shape[-1:] if b.ndim > 1 else (1,)
        grad = ops.reshape(grad, (*grad.shape[:batch_rank], *rows, *columns))
    b_t = ops.reshape(b, (1, inner)) if b.ndim == 1 else ops.swapaxes(b, -1, -2)
    a_t = ops.reshape(a, (inner, 1)) if a.ndim == 1 else ops.swapaxes(a, -1, -2)
    # Only what is differentiated: a network's input needs no (large) gradient.
    grad_a = ops.matmul(grad, b_t) if needs_gradient(a) else None
    grad_b = ops.matmul(a_t, grad) if needs_gradient(b) else None
    if a.ndim == 1 and grad_a is not None:  # drop the row a was promoted to
        grad_a = ops.reshape(grad_a, (*grad_a.shape[:-2], inner))
    if b.ndim == 1 and grad_b is not None:  # drop the column b was promoted to
        grad_b = ops.reshape(grad_b, grad_b.shape[:-1])
    return grad_a, grad_b


def _matmul_infer(x: TensorType, y: TensorType) -> TensorType:
    return TensorType(x.dtype, _matmul_shape("matmul", x.shape, y.shape))


def _matmul_reference(input: np.ndarray, other: np.ndarray) -> Any:
    a, b = np.asarray(input), np.asarray(other)
    if a.dtype.kind == "f":
        a, b = a.astype(np.float64), b.astype(np.float64)
    squeeze_rows, squeeze_columns = a.ndim == 1, b.ndim == 1
    a = a[None, :] if squeeze_rows else a
    b = b[:, None] if squeeze_columns else b
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = np.broadcast_to(a, batch + a.shape[-2:])
    b = np.broadcast_to(b, batch + b.shape[-2:])
    out = np.einsum("...ij,...jk->...ik", a, b)
    if squeeze_columns:
        out = out[..., 0]
    if squeeze_rows:
        out = out[..., 0, :] if not squeeze_columns else out[..., 0]
    return out


_MATMUL_PAIRS = (((2, 3), (3, 4)), ((3,), (3, 2)), ((2, 3), (3,)), ((4,), (4,)), ((2, 1, 3, 4), (5, 4, 2)),
                 ((0, 3), (3, 2)), ((2, 0), (0, 3)), ((3, 2, 4), (4,)), ((5,), (2, 5, 3)),
                 ((1, 2, 1, 2, 3), (2, 1, 3, 3, 2)), ((1, 1), (1, 1)))

_MATMUL = register_op(OpDef(
    name="matmul", group="linalg", inputs=("input", "other"), infer=_matmul_infer, reference=_matmul_reference,
    dtypes=NUMERIC, promote=(0, 1), samples=lambda dtype: _low_rank_matmul_samples(dtype, _MATMUL_PAIRS, 5),
    method="matmul", vjp=_matmul_vjp,
    doc="Matrix product with numpy semantics: 1-D operands, batched and broadcast (``@``)."))


def matmul(input: Any, other: Any) -> Any:
    """``mindspore.ops.matmul(input, other)``: numpy's matmul (1-D operands promoted, batch dims broadcast)."""
    return _dispatch.apply(_MATMUL, (input, other), {})


def _bmm_infer(x: TensorType, y: TensorType) -> TensorType:
    if len(x.shape) < 3 or len(y.shape) < 2:
        raise OpError("bmm", f"needs input_x of rank >= 3 and mat2 of rank >= 2, got shapes {_shown(x.shape)} and "
                             f"{_shown(y.shape)}; use matmul for plain matrices")
    return TensorType(x.dtype, _matmul_shape("bmm", x.shape, y.shape, ("input_x", "mat2")))


def _bmm_reference(input_x: np.ndarray, mat2: np.ndarray) -> Any:
    return _matmul_reference(input_x, mat2)


_BMM_PAIRS = (((2, 3, 4), (2, 4, 5)), ((2, 4, 1, 3), (2, 4, 3, 3)), ((3, 2, 4), (4, 2)), ((2, 1, 3), (1, 3, 2)),
              ((0, 2, 3), (0, 3, 4)), ((2, 2, 0), (2, 0, 3)), ((1, 2, 1, 2, 3), (2, 1, 3, 3, 2)))

_BMM = register_op(OpDef(
    name="bmm", group="linalg", inputs=("input_x", "mat2"), infer=_bmm_infer, reference=_bmm_reference,
    dtypes=NUMERIC, promote=(0, 1), samples=lambda dtype: _low_rank_matmul_samples(dtype, _BMM_PAIRS, 6),
    method="bmm", vjp=_matmul_vjp,
    doc="Batched matrix product of ``(*B, N, C)`` and ``(*B, C, M)``; batch dims broadcast."))


def bmm(input_x: Any, mat2: Any) -> Any:
    """``mindspore.ops.bmm(input_x, mat2)``: input_x of rank >= 3, mat2 of rank >= 2."""
    return _dispatch.apply(_BMM, (input_x, mat2), {})


# -- dot / outer ---------------------------------------------------------------------------------
def _dot_infer(x: TensorType, y: TensorType) -> TensorType:
    a, b = x.shape, y.shape
    if not a or not b:
        raise OpError("dot", f"does not take 0-d (scalar) operands: input has shape {_shown(a)} and other has "
                             f"shape {_shown(b)}")
    contracted = b[-2] if len(b) > 1 else b[0]
    if a[-1] != contracted:
        raise OpError("dot", f"inner dimensions do not match: input has shape {_shown(a)} and other has shape "
                             f"{_shown(b)} ({a[-1]} != {contracted}); the last dim of input must equal the "
                             f"{'second-to-last' if len(b) > 1 else 'only'} dim of other")
    return TensorType(x.dtype, a[:-1] + b[:-2] + b[-1:] if len(b) > 1 else a[:-1])


def _dot_reference(input: np.ndarray, other: np.ndarray) -> Any:
    a, b = np.asarray(input), np.asarray(other)
    letters = "abcdefghijklmnopqrstuvwxy"
    a_labels = letters[:a.ndim - 1] + "z"
    if b.ndim == 1:
        return np.einsum(f"{a_labels},z->{a_labels[:-1]}", a, b)
    b_free = letters[a.ndim - 1:a.ndim + b.ndim - 2]
    return np.einsum(f"{a_labels},{b_free[:-1]}z{b_free[-1]}->{a_labels[:-1]}{b_free}", a, b)


def _dot_labels(a_rank: int, b_rank: int) -> tuple[str, str, str]:
    letters = "abcdefghijklmnopqrstuvwxy"
    a_labels = letters[:a_rank - 1] + "z"
    if b_rank == 1:
        return a_labels, "z", a_labels[:-1]
    b_free = letters[a_rank - 1:a_rank + b_rank - 2]
    return a_labels, f"{b_free[:-1]}z{b_free[-1]}", a_labels[:-1] + b_free


def _dot_vjp(ctx: Any, grad: Any) -> tuple[Any, Any]:
    a, b = ctx.inputs
    return _contraction_vjp(*_dot_labels(a.ndim, b.ndim), a, b, grad)


_DOT_PAIRS = (((2, 3), (3, 4)), ((2, 3), (1, 3, 2)), ((1, 2, 3), (2, 3, 2)), ((3, 2, 3), (2, 1, 3, 2)), ((4,), (4,)),
              ((2, 4), (4,)), ((4,), (4, 3)), ((0, 3), (3, 2)), ((2, 0), (0, 3)))

_DOT = register_op(OpDef(
    name="dot", group="linalg", inputs=("input", "other"), infer=_dot_infer, reference=_dot_reference,
    dtypes=NUMERIC, promote=(0, 1), samples=lambda dtype: _low_rank_matmul_samples(dtype, _DOT_PAIRS, 7),
    method="dot", vjp=_dot_vjp, doc="numpy.dot: sums the last axis of input against the second-to-last axis of other."))


def dot(input: Any, other: Any) -> Any:
    """``mindspore.ops.dot(input, other)``: numpy.dot semantics (MindSpore needs rank >= 2; 1-D is accepted here)."""
    return _dispatch.apply(_DOT, (input, other), {})


def _outer_infer(x: TensorType, y: TensorType) -> TensorType:
    if len(x.shape) != 1 or len(y.shape) != 1:
        raise OpError("outer", f"needs two 1-D tensors, got shapes {_shown(x.shape)} and {_shown(y.shape)}")
    return TensorType(x.dtype, (x.shape[0], y.shape[0]))


def _outer_reference(input: np.ndarray, vec2: np.ndarray) -> Any:
    return np.asarray(input)[:, None] * np.asarray(vec2)[None, :]


def _outer_vjp(ctx: Any, grad: Any) -> tuple[Any, Any]:
    ops = _ops()
    a, b = ctx.inputs
    return ops.matmul(grad, b), ops.matmul(a, grad)


_OUTER = register_op(OpDef(
    name="outer", group="linalg", inputs=("input", "vec2"), infer=_outer_infer, reference=_outer_reference,
    dtypes=NUMERIC, promote=(0, 1), method="outer", vjp=_outer_vjp,
    doc="Outer product of two 1-D tensors: shape (n, m).",
    samples=lambda dtype: _low_rank_matmul_samples(dtype, (((3,), (4,)), ((1,), (5,)), ((0,), (2,))), 8)))


def outer(input: Any, vec2: Any) -> Any:
    """``mindspore.ops.outer(input, vec2)``: no broadcasting, both must be 1-D."""
    return _dispatch.apply(_OUTER, (input, vec2), {})


# -- tensor_dot ------------------------------------------------------------------------------------
def _axes_attr(axes: Any) -> Any:
    """An int, or a pair of (int | sequence of ints), as a hashable attribute."""
    def is_int(v: Any) -> bool:
        return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))

    if is_int(axes):
        return int(axes)
    if isinstance(axes, (tuple, list)) and len(axes) == 2:
        pair: list[tuple[int, ...]] = []
        for side in axes:
            if is_int(side):
                pair.append((int(side),))
            elif isinstance(side, (tuple, list)) and all(is_int(v) for v in side):
                pair.append(tuple(int(v) for v in side))
            else:
                break
        else:
            return tuple(pair)
    raise OpError("tensor_dot", f"axes must be an int or a pair (axes of x1, axes of x2) of ints or int sequences, "
                                f"got {axes!r}")


def _resolve_axes(a: Shape, b: Shape, axes: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    if isinstance(axes, int):
        if not 0 <= axes <= min(len(a), len(b)):
            raise OpError("tensor_dot", f"axes={axes} is out of range for shapes {_shown(a)} and {_shown(b)}; "
                                        f"accepted: 0..{min(len(a), len(b))}")
        return tuple(range(len(a) - axes, len(a))), tuple(range(axes))
    if len(axes[0]) != len(axes[1]):
        raise OpError("tensor_dot", f"axes {axes!r} name {len(axes[0])} axes of x1 but {len(axes[1])} of x2")
    resolved = []
    for side, shape, name in ((axes[0], a, "x1"), (axes[1], b, "x2")):
        normalized = []
        for axis in side:
            if not -len(shape) <= axis < len(shape):
                raise OpError("tensor_dot", f"axis {axis} is out of range for {name} of shape {_shown(shape)}")
            normalized.append(axis % len(shape))
        if len(set(normalized)) != len(normalized):
            raise OpError("tensor_dot", f"axes {list(side)} of {name} name an axis twice")
        resolved.append(tuple(normalized))
    return resolved[0], resolved[1]


def _tensor_dot_infer(x: TensorType, y: TensorType, *, axes: Any) -> TensorType:
    a_axes, b_axes = _resolve_axes(x.shape, y.shape, axes)
    for i, j in zip(a_axes, b_axes):
        if x.shape[i] != y.shape[j]:
            raise OpError("tensor_dot", f"contracted dims differ: x1 has shape {_shown(x.shape)} (axis {i}: "
                                        f"{x.shape[i]}) and x2 has shape {_shown(y.shape)} (axis {j}: {y.shape[j]})")
    free = tuple(d for i, d in enumerate(x.shape) if i not in a_axes) + tuple(
        d for j, d in enumerate(y.shape) if j not in b_axes)
    return TensorType(x.dtype, free)


def _tensor_dot_labels(a: Shape, b: Shape, axes: Any) -> tuple[str, str, str]:
    a_axes, b_axes = _resolve_axes(a, b, axes)
    letters = iter("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    a_labels = [next(letters) for _ in range(len(a))]
    b_labels = [next(letters) for _ in range(len(b))]
    for i, j in zip(a_axes, b_axes):
        b_labels[j] = a_labels[i]
    out = [c for i, c in enumerate(a_labels) if i not in a_axes]
    out += [c for j, c in enumerate(b_labels) if j not in b_axes]
    return "".join(a_labels), "".join(b_labels), "".join(out)


def _tensor_dot_reference(x1: np.ndarray, x2: np.ndarray, axes: Any) -> Any:
    a_labels, b_labels, out = _tensor_dot_labels(x1.shape, x2.shape, _axes_attr(axes))
    return np.einsum(f"{a_labels},{b_labels}->{out}", x1, x2)


def _tensor_dot_vjp(ctx: Any, grad: Any) -> tuple[Any, Any]:
    a, b = ctx.inputs
    return _contraction_vjp(*_tensor_dot_labels(a.shape, b.shape, ctx.attrs["axes"]), a, b, grad)


def _tensor_dot_samples(dtype: dt.DType) -> Iterable[Sample]:
    rng = np.random.default_rng(9)
    cases = [((1, 2, 3), (3, 1, 2), ((0, 1), (1, 2))), ((2, 3), (3, 4), 1), ((2, 3, 4), (3, 4, 5), 2),
             ((2, 3), (4,), 0), ((3, 4), (4, 3), ((1, 0), (0, 1))), ((2, 3), (2, 5), (0, 0)),
             ((3, 4, 2), (2, 4), [[-1, -2], [0, 1]]), ((0, 3), (3, 2), 1), ((2, 1, 2, 1, 2), (2, 2), ((0, 4), (1, 0)))]
    return [Sample((random_array(a, dtype, rng), random_array(b, dtype, rng)), {"axes": axes})
            for a, b, axes in cases]


_TENSOR_DOT = register_op(OpDef(
    name="tensor_dot", group="linalg", inputs=("x1", "x2"), infer=_tensor_dot_infer, reference=_tensor_dot_reference,
    attrs=(("axes", None),), dtypes=NUMERIC, promote=(0, 1), samples=_tensor_dot_samples, vjp=_tensor_dot_vjp,
    doc="Sum of products over ``axes`` (k: last k of x1 with first k of x2; or a pair of axis lists)."))


def tensor_dot(x1: Any, x2: Any, axes: Any) -> Any:
    """``mindspore.ops.tensor_dot(x1, x2, axes)``."""
    return _dispatch.apply(_TENSOR_DOT, (x1, x2), {"axes": _axes_attr(axes)})


# -- einsum ----------------------------------------------------------------------------------------
def _einsum_infer(xs: tuple[TensorType, ...], *, equation: str) -> TensorType:
    return TensorType(xs[0].dtype, einsum_shape(equation, tuple(x.shape for x in xs)))


def _einsum_reference(*operands: Any, equation: str) -> Any:
    return np.einsum(equation, *operands)


def _einsum_vjp(ctx: Any, grad: Any) -> tuple[Any, ...]:
    return (einsum_operand_grads(ctx.attrs["equation"], list(ctx.inputs[0]), grad),)


def _einsum_samples(dtype: dt.DType) -> Iterable[Sample]:
    rng = np.random.default_rng(10)
    cases: list[tuple[str, tuple[tuple[int, ...], ...]]] = [
        ("ij,jk->ik", ((2, 3), (3, 4))), ("i->", ((5,),)), ("ii->i", ((3, 3),)), ("ij->ji", ((2, 3),)),
        ("bij,bjk->bik", ((2, 2, 3), (2, 3, 2))), ("i,j->ij", ((3,), (2,))),
        ("...ij,...jk->...ik", ((2, 1, 2, 3), (4, 3, 2))), ("ij,ij->", ((2, 3), (2, 3))), ("ij,jk", ((2, 3), (3, 2))),
        ("ij,jk,kl->il", ((2, 3), (3, 4), (4, 2))), ("ij,jk->ik", ((0, 3), (3, 2))), (",ij->ij", ((), (2, 2))),
        ("abcde->edcba", ((2, 1, 3, 1, 2),)), ("ij,j->i", ((2, 1), (3,))), ("Ab,ab", ((2, 3), (4, 3))),
        ("ii", ((3, 3),)), ("i...->...", ((2, 3, 1),)),
        ("a...b,...b->a...", ((2, 3, 4), (5, 1, 4))), ("iji,j->ij", ((3, 2, 3), (2,))),
    ]
    return [Sample(tuple(random_array(shape, dtype, rng) for shape in shapes), {"equation": equation},
                   call=lambda *tensors, equation: einsum(equation, *tensors)) for equation, shapes in cases]


_EINSUM = register_op(OpDef(
    name="einsum", group="linalg", inputs=("operands",), infer=_einsum_infer, reference=_einsum_reference,
    attrs=(("equation", ""),), dtypes=NUMERIC, variadic=True, samples=_einsum_samples, vjp=_einsum_vjp,
    doc="Einstein summation over ``operands`` as ``equation`` says (letters, ``,``, ``...``, ``->``)."))


def einsum(equation: Any, *operands: Any) -> Any:
    """``mindspore.ops.einsum(equation, *operands)``; the sublist form ``einsum(op1, sublist1, op2, sublist2,
    ..., [sublist_out])`` is accepted too."""
    if not isinstance(equation, str):
        equation, operands = sublist_equation((equation, *operands))
    tensors: Sequence[Any] = operands[0] if len(operands) == 1 and isinstance(operands[0], (list, tuple)) else operands
    return _dispatch.apply(_EINSUM, (list(tensors),), {"equation": equation.replace(" ", "")})
