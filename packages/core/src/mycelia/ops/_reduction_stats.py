"""Reductions, part two: std, var, norm, cumsum, cumprod (re-exported by ``_reduction``)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._errors import OpError
from mycelia._types import Dim, Symbol, TensorType
from mycelia.ops import _dispatch
from mycelia.ops._define import ALL, NUMERIC, random_array
from mycelia.ops._reduction_common import (
    axes_attr,
    check_bool,
    check_dtype_attr,
    float_result,
    int_attr,
    normalize_axis,
    ops,
    reduce_samples,
    reduce_shape,
    reduced_axes,
    single_axis,
    spread,
    sum_result,
)
from mycelia.ops._registry import OpDef, Sample, register_op

__all__ = ["cumprod", "cumsum", "norm", "std", "var"]


def _ref_axis(axis: Any) -> Any:
    if isinstance(axis, list):
        axis = tuple(axis)
    return None if axis == () else axis


# -- std / var ---------------------------------------------------------------------------------
def _moment_infer(name: str) -> Any:
    def infer(x: TensorType, *, axis: tuple[int, ...] | None, ddof: int, keepdims: bool) -> TensorType:
        return TensorType(float_result(x.dtype), reduce_shape(name, x.shape, axis, keepdims))

    return infer


def _moment_reference(root: bool) -> Any:
    def reference(input: np.ndarray, axis: Any = None, ddof: Any = 0, keepdims: bool = False) -> Any:
        x = input.astype(np.float64)
        axis = _ref_axis(axis)
        with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.mean(x, axis=axis, keepdims=True)
            count = x.size // max(mean.size, 1) if x.size else 0
            result = np.sum((x - mean) ** 2, axis=axis, keepdims=keepdims) / np.float64(count - int(ddof))
        return np.sqrt(result) if root else result

    return reference


def _moment_samples(name: str) -> Any:
    def samples(dtype: dt.DType) -> Iterable[Sample]:
        cases = [Sample((x,), attrs) for x, attrs in reduce_samples(dtype, len(name))]
        rng = np.random.default_rng(3)
        x = random_array((4, 5), dtype, rng)
        cases.append(Sample((x,), {"axis": 1, "ddof": 1}, note="ddof=1"))
        cases.append(Sample((x,), {"axis": (0, 1), "ddof": True, "keepdims": True}, note="ddof=True"))
        return cases

    return samples


def _moment_vjp(root: bool) -> Any:
    """var: ``2 (x - mean) / (N - ddof)``; std: ``(x - mean) / ((N - ddof) std)`` (0 where std is 0)."""
    def vjp(ctx: Any, grad: Any) -> tuple[Any, ...]:
        o = ops()
        x = ctx.inputs[0]
        if not x.dtype.is_floating_point:
            return (None,)
        axes = reduced_axes(x.ndim, ctx.attrs["axis"])
        divisor = math.prod(x.shape[a] for a in axes) - ctx.attrs["ddof"]
        scale = 1.0 / divisor if divisor else math.nan
        centered = x - o.mean(x, axes, True)
        upstream = spread(grad, x.shape, axes)
        if not root:
            return (upstream * centered * (2.0 * scale),)
        out = spread(ctx.output, x.shape, axes)
        return (upstream * centered * scale / o.where(out == 0, 1, out),)

    return vjp


_VAR = register_op(OpDef(
    name="var", group="reduction", inputs=("input",), infer=_moment_infer("var"), reference=_moment_reference(False),
    attrs=(("axis", None), ("ddof", 0), ("keepdims", False)), dtypes=ALL, samples=_moment_samples("var"),
    method="var", vjp=_moment_vjp(False),
    doc="Variance over ``axis`` with divisor ``N - ddof`` (MindSpore's default ddof=0: biased)."))

_STD = register_op(OpDef(
    name="std", group="reduction", inputs=("input",), infer=_moment_infer("std"), reference=_moment_reference(True),
    attrs=(("axis", None), ("ddof", 0), ("keepdims", False)), dtypes=ALL, samples=_moment_samples("std"),
    method="std", vjp=_moment_vjp(True),
    doc="Standard deviation over ``axis`` with divisor ``N - ddof`` (default ddof=0)."))


def var(input: Any, axis: Any = None, ddof: Any = 0, keepdims: Any = False) -> Any:
    """``mindspore.ops.var(input, axis=None, ddof=0, keepdims=False)``; ``ddof=True`` means 1 (Bessel)."""
    return _dispatch.apply(_VAR, (input,), {"axis": axes_attr("var", axis), "ddof": int_attr("var", "ddof", ddof),
                                            "keepdims": check_bool("var", "keepdims", keepdims)})


def std(input: Any, axis: Any = None, ddof: Any = 0, keepdims: Any = False) -> Any:
    """``mindspore.ops.std(input, axis=None, ddof=0, keepdims=False)``; ``ddof=True`` means 1 (Bessel)."""
    return _dispatch.apply(_STD, (input,), {"axis": axes_attr("std", axis), "ddof": int_attr("std", "ddof", ddof),
                                            "keepdims": check_bool("std", "keepdims", keepdims)})


# -- norm --------------------------------------------------------------------------------------
_MATRIX_ORDS = (None, "fro", "nuc", math.inf, -math.inf, 1, -1, 2, -2)


def _norm_axes(x: TensorType, ord: Any, dim: tuple[int, ...] | None) -> tuple[int, ...]:
    """The normalized axes the norm reduces; a 2-tuple means a matrix norm."""
    rank = len(x.shape)
    if dim is None:
        if ord is None:
            return tuple(range(rank)) if rank != 2 else (0, 1)
        if rank not in (1, 2):
            raise OpError("norm", f"with dim=None and ord={ord!r} the input must be 1-D or 2-D, got shape "
                                  f"{list(x.shape)}; give dim")
        return tuple(range(rank))
    if len(dim) not in (1, 2):
        raise OpError("norm", f"dim must be an int (vector norm) or a 2-tuple (matrix norm), got {dim!r}")
    axes = tuple(normalize_axis("norm", a, x.shape) for a in dim)
    if len(set(axes)) != len(axes):
        raise OpError("norm", f"dim {list(dim)} names the same axis twice (input shape {list(x.shape)})")
    return axes


def _norm_infer(x: TensorType, *, ord: Any, dim: tuple[int, ...] | None, keepdim: bool,
                dtype: dt.DType | None) -> TensorType:
    axes = _norm_axes(x, ord, dim)
    matrix = len(axes) == 2 and (dim is not None or ord is not None or len(x.shape) == 2)
    if matrix and ord not in _MATRIX_ORDS:
        raise OpError("norm", f"ord={ord!r} is not a matrix norm; accepted: None, 'fro', 'nuc', inf, -inf, 1, -1, "
                              f"2, -2")
    if not matrix and isinstance(ord, str):
        raise OpError("norm", f"ord={ord!r} is a matrix norm but a vector norm is computed (dim={dim!r}, input "
                              f"shape {list(x.shape)}); give a number, or a 2-tuple dim")
    return TensorType(float_result(dtype or x.dtype), reduce_shape("norm", x.shape, axes, keepdim))


def _vector_norm(x: np.ndarray, ord: Any, axis: Any) -> Any:
    magnitude = np.abs(x)
    if ord is None or ord == 2:
        return np.sqrt(np.sum(magnitude * magnitude, axis=axis))
    if ord == math.inf:
        return np.max(magnitude, axis=axis)
    if ord == -math.inf:
        return np.min(magnitude, axis=axis)
    if ord == 0:
        return np.sum(magnitude != 0, axis=axis).astype(np.float64)
    with np.errstate(divide="ignore"):
        return np.sum(magnitude ** ord, axis=axis) ** (1.0 / ord)


def _matrix_norm(x: np.ndarray, ord: Any) -> Any:
    """Norm over the last two axes."""
    if ord in (None, "fro"):
        return np.sqrt(np.sum(x * x, axis=(-2, -1)))
    if ord in ("nuc", 2, -2):
        singular = np.linalg.svd(x, compute_uv=False)
        pick: dict[Any, Any] = {"nuc": np.sum, 2: np.max, -2: np.min}
        return pick[ord](singular, axis=-1)
    rows = ord in (math.inf, -math.inf)  # inf: largest row sum; 1: largest column sum
    sums = np.sum(np.abs(x), axis=-1 if rows else -2)
    return (np.max if ord in (math.inf, 1) else np.min)(sums, axis=-1)


def _norm_reference(A: np.ndarray, ord: Any = None, dim: Any = None, keepdim: bool = False, *,
                    dtype: Any = None) -> Any:
    x = A.astype(np.float64)
    if isinstance(dim, int):
        dim = (dim,)
    if dim is None and (ord is None or x.ndim == 1):
        result = _vector_norm(x.reshape(-1), ord, 0)
        return np.reshape(result, (1,) * x.ndim) if keepdim else result
    axes = tuple(a % x.ndim for a in (dim if dim is not None else range(x.ndim)))
    if len(axes) == 1:
        return _vector_norm(x, ord, axes[0]) if not keepdim else np.expand_dims(_vector_norm(x, ord, axes[0]), axes)
    result = _matrix_norm(np.moveaxis(x, axes, (-2, -1)), ord)
    return np.expand_dims(result, tuple(sorted(axes))) if keepdim else result


def _norm_samples(dtype: dt.DType) -> Iterable[Sample]:
    rng = np.random.default_rng(4)
    m, v = random_array((3, 4), dtype, rng), random_array((5,), dtype, rng)
    cube = random_array((2, 3, 4), dtype, rng)
    cases = [
        Sample((m,), {}), Sample((cube,), {}, note="flattened 2-norm"), Sample((cube,), {"keepdim": True}),
        Sample((v,), {"ord": 1}), Sample((v,), {"ord": math.inf}), Sample((v,), {"ord": -math.inf}),
        Sample((v,), {"ord": 3}), Sample((v,), {"ord": 0}), Sample((m,), {"ord": 1, "dim": 1}),
        Sample((m,), {"ord": math.inf, "dim": -1, "keepdim": True}), Sample((cube,), {"ord": 2, "dim": 0}),
        Sample((m,), {"ord": "fro"}), Sample((m,), {"ord": 1}), Sample((m,), {"ord": -1}),
        Sample((m,), {"ord": math.inf}), Sample((m,), {"ord": -math.inf}),
        Sample((cube,), {"ord": "fro", "dim": (2, 0), "keepdim": True}),
        Sample((random_array((2, 1, 3, 1, 2), dtype, rng),), {"ord": None, "dim": (1, 2)}),
        Sample((random_array((), dtype, rng),), {}), Sample((random_array((0, 3), dtype, rng),), {"dim": 1}),
    ]
    cases += [Sample((m,), {"ord": "nuc"}), Sample((m,), {"ord": 2}), Sample((cube,), {"ord": -2, "dim": (1, 2)})]
    return cases


def _safe(value: Any) -> Any:
    return ops().where(value == 0, 1, value)


def _vector_norm_grad(x: Any, out: Any, ord: Any, axes: tuple[int, ...]) -> Any:
    """d norm / d x of a vector norm over ``axes`` (``out`` has the keepdims shape)."""
    o = ops()
    if ord is None or ord == 2:
        return x / _safe(out)
    if ord == 0:
        return o.zeros_like(x)
    if ord == 1:
        return o.sign(x)
    magnitude = o.abs(x)
    if ord in (math.inf, -math.inf):  # split evenly between the entries of largest (smallest) magnitude
        chosen = magnitude == out
        count = o.cast(o.sum(chosen, axes, keepdim=True), x.dtype)
        return o.where(chosen, o.sign(x) / o.maximum(count, 1), 0)
    # sign(x) |x|^(p-1) / norm^(p-1), as a ratio to avoid overflow; p < 1 has an infinite slope at 0,
    # where the gradient is 0 (as torch), computed without forming inf * 0.
    ratio = o.pow(_safe(magnitude) / _safe(out), ord - 1)
    return o.where(x == 0, 0, o.sign(x) * ratio)


def _matrix_sum_norm_grad(x: Any, ord: Any, axes: tuple[int, ...]) -> Any:
    """ord 1/-1 (largest/smallest column sum) and inf/-inf (row sum) over the 2-tuple ``axes``."""
    o = ops()
    rows, columns = axes
    summed, picked = (columns, rows) if ord in (math.inf, -math.inf) else (rows, columns)
    sums = o.sum(o.abs(x), (summed,), keepdim=True)
    best = (o.amax if ord in (math.inf, 1) else o.amin)(sums, picked, True)
    chosen = sums == best
    count = o.cast(o.sum(chosen, (picked,), keepdim=True), x.dtype)
    return o.sign(x) * o.where(chosen, 1 / o.maximum(count, 1), 0)


def _spectral_norm_grad(x: Any, ord: Any, axes: tuple[int, ...]) -> Any:
    """'nuc' (U V^T), 2 and -2 (u v^T of the largest / smallest singular value), from an SVD.

    mycelia has no SVD op, so the singular vectors are computed on the host: exact first
    derivatives, but constants to autograd, so a second derivative through them is refused."""
    from mycelia import _autograd
    from mycelia._tensor import Tensor

    if _autograd.is_recording() and x._autograd is not None:
        raise NotImplementedError(f"norm: a second derivative of the ord={ord!r} matrix norm is not supported "
                                  f"(its gradient needs singular vectors; mycelia has no SVD op)")
    data = np.moveaxis(np.asarray(x.asnumpy(), dtype=np.float64), axes, (-2, -1))
    u, _, vh = np.linalg.svd(data, full_matrices=False)
    if ord == 2:
        u, vh = u[..., :, :1], vh[..., :1, :]
    elif ord == -2:
        u, vh = u[..., :, -1:], vh[..., -1:, :]
    direction = np.moveaxis(u @ vh, (-2, -1), axes).astype(x.dtype.numpy)
    return Tensor._make(x._backend.from_numpy(np.ascontiguousarray(direction)), x.dtype, x._backend)


def _norm_vjp(ctx: Any, grad: Any) -> tuple[Any, ...]:
    o = ops()
    x = ctx.inputs[0]
    out = ctx.output
    if not out.dtype.is_floating_point or not x.dtype.is_floating_point:
        return (None,)
    if x.dtype is not out.dtype:  # dtype= casts before the norm
        x = o.cast(x, out.dtype)
    ord, dim = ctx.attrs["ord"], ctx.attrs["dim"]
    axes = _norm_axes(TensorType(x.dtype, tuple(x.shape)), ord, dim)
    kept = tuple(sorted(axes))
    upstream = spread(grad, x.shape, kept)
    matrix = len(axes) == 2 and (dim is not None or ord is not None or x.ndim == 2)
    if not matrix or ord in (None, "fro"):  # 'fro' is the 2-norm of the matrix's entries
        vector_ord = None if ord == "fro" else ord
        return (upstream * _vector_norm_grad(x, spread(out, x.shape, kept), vector_ord, kept),)
    if ord in ("nuc", 2, -2):
        return (upstream * _spectral_norm_grad(x, ord, axes),)
    return (upstream * _matrix_sum_norm_grad(x, ord, axes),)


_NORM = register_op(OpDef(
    name="norm", group="reduction", inputs=("A",), infer=_norm_infer, reference=_norm_reference,
    attrs=(("ord", None), ("dim", None), ("keepdim", False), ("dtype", None)), dtypes=NUMERIC, samples=_norm_samples,
    method="norm", vjp=_norm_vjp,
    doc="Vector norm (``dim`` an int, or None with ord None) or matrix norm (``dim`` a 2-tuple)."))


def _ord_attr(ord: Any) -> Any:
    if ord is None or (isinstance(ord, str) and ord in ("fro", "nuc")):
        return ord
    if isinstance(ord, (int, float)) and not isinstance(ord, bool):
        return float(ord) if math.isinf(ord) else ord
    raise OpError("norm", f"ord must be None, a number, inf, -inf, 'fro' or 'nuc', got {ord!r}")


def norm(A: Any, ord: Any = None, dim: Any = None, keepdim: Any = False, *, dtype: Any = None) -> Any:
    """``mindspore.ops.norm(A, ord=None, dim=None, keepdim=False, *, dtype=None)``.

    ``dim`` an int: vector norm; a 2-tuple: matrix norm; None: the 2-norm of the flattened input
    when ``ord`` is None, else ``A`` must be 1-D (vector norm) or 2-D (matrix norm)."""
    return _dispatch.apply(_NORM, (A,), {"ord": _ord_attr(ord), "dim": axes_attr("norm", dim, "dim"),
                                         "keepdim": check_bool("norm", "keepdim", keepdim),
                                         "dtype": check_dtype_attr("norm", dtype)})


# -- cumsum / cumprod --------------------------------------------------------------------------
def _scan_infer(name: str) -> Any:
    def infer(x: TensorType, *, axis: int | None, dtype: dt.DType | None) -> TensorType:
        result = sum_result(x.dtype, dtype)
        if axis is None:  # the flattened input, as numpy
            size: Dim = math.prod(d for d in x.shape if isinstance(d, int))
            if not all(isinstance(d, int) for d in x.shape):
                size = Symbol("N")
            return TensorType(result, (size,))
        normalize_axis(name, axis, x.shape)
        return TensorType(result, x.shape)

    return infer


def _scan_reference(function: Any) -> Any:
    def reference(input: np.ndarray, axis: Any = None, dtype: Any = None, **kwargs: Any) -> Any:
        axis = kwargs.get("dim", axis)
        if dtype is not None and not dtype.is_floating_point:
            input = input.astype(dtype.numpy)
        return function(input, axis=axis)

    return reference


def _scan_samples(name: str, axis_name: str, domain: tuple[float, float] | None) -> Any:
    def samples(dtype: dt.DType) -> Iterable[Sample]:
        rng = np.random.default_rng(len(name))
        span = domain if dtype.is_floating_point else None  # integers: small values of both signs
        cases = [((2, 3), 1), ((2, 3, 4), -1), ((7,), 0), ((0, 3), 0), ((2, 1, 3, 1, 2), 2), ((3, 4), -2)]
        result = [Sample((random_array(shape, dtype, rng, span),), {axis_name: axis}) for shape, axis in cases]
        target = dt.float64 if dtype is dt.float64 else dt.float32  # float32 results defeat finite differences
        result.append(Sample((random_array((3, 4), dtype, rng, span),), {axis_name: 1, "dtype": target},
                             note=f"dtype={target}"))
        if name == "cumprod":  # zeros: one in rows 0 and 2, two in row 1
            x = random_array((3, 5), dtype, rng, span)
            x[0, 2] = x[1, 1] = x[1, 3] = x[2, 0] = 0
            result.append(Sample((x,), {axis_name: 1}, note="zeros"))
        if axis_name == "axis":  # cumsum's axis may be None (flattened)
            result += [Sample((random_array((2, 3), dtype, rng, span),), {"axis": None}),
                       Sample((random_array((), dtype, rng, span),), {"axis": None})]
        return result

    return samples


def _reverse_cumsum(value: Any, axis: int) -> Any:
    o = ops()
    return o.flip(o.cumsum(o.flip(value, (axis,)), axis), (axis,))


def _cumsum_vjp(ctx: Any, grad: Any) -> tuple[Any, ...]:
    x = ctx.inputs[0]
    axis = ctx.attrs["axis"]
    if axis is None:  # the scan ran over the flattened input
        return (ops().reshape(_reverse_cumsum(grad, 0), x.shape),)
    return (_reverse_cumsum(grad, axis % x.ndim),)


def _cumprod_vjp(ctx: Any, grad: Any) -> tuple[Any, ...]:
    """d/dx_i of sum_k g_k out_k, zeros included. Before the first zero z of a line: rcumsum(g out)_i / x_i
    (out is 0 from z on); at z: out_{z-1} * sum_{k>=z} g_k prod_{z<j<=k} x_j; after z: 0."""
    o = ops()
    x = ctx.inputs[0]
    if not x.dtype.is_floating_point:
        return (None,)
    if x.dtype is not ctx.output.dtype:  # dtype= casts before the scan
        x = o.cast(x, ctx.output.dtype)
    axis = ctx.attrs["axis"] % x.ndim
    zero = x == 0
    seen = o.cumsum(zero, axis)  # zeros up to and including each position
    before = seen == 0
    first = o.logical_and(zero, seen == 1)
    safe = o.where(before, x, 1)
    head = _reverse_cumsum(grad * ctx.output, axis) / safe
    lead = o.prod(safe, (axis,), True)  # the product before the first zero
    tail = o.cumprod(o.where(o.logical_or(before, first), 1, x), axis)  # prod_{z<j<=k} x_j from z on
    at_zero = lead * o.sum(o.where(before, 0, grad * tail), (axis,), keepdim=True)
    return (o.where(before, head, o.where(first, at_zero, 0)),)


_CUMSUM = register_op(OpDef(
    name="cumsum", group="reduction", inputs=("x",), infer=_scan_infer("cumsum"), reference=_scan_reference(np.cumsum),
    attrs=(("axis", None), ("dtype", None)), dtypes=ALL, samples=_scan_samples("cumsum", "axis", None),
    method="cumsum", vjp=_cumsum_vjp,
    doc="Cumulative sum along ``axis`` (None: of the flattened input); bool gives int64."))

_CUMPROD = register_op(OpDef(
    name="cumprod", group="reduction", inputs=("input",), infer=_scan_infer("cumprod"),
    reference=_scan_reference(np.cumprod), attrs=(("axis", None), ("dtype", None)), dtypes=NUMERIC,
    samples=_scan_samples("cumprod", "dim", (0.5, 1.5)), method="cumprod", vjp=_cumprod_vjp,
    doc="Cumulative product along ``dim``."))


def cumsum(x: Any, axis: Any = None, dtype: Any = None) -> Any:
    """``mindspore.ops.cumsum(x, axis, dtype=None)``; ``axis=None`` (the ``Tensor.cumsum`` default)
    scans the flattened input."""
    return _dispatch.apply(_CUMSUM, (x,), {"axis": single_axis("cumsum", axis),
                                           "dtype": check_dtype_attr("cumsum", dtype)})


def cumprod(input: Any, dim: Any, dtype: Any = None) -> Any:
    """``mindspore.ops.cumprod(input, dim, dtype=None)``."""
    return _dispatch.apply(_CUMPROD, (input,), {"axis": single_axis("cumprod", dim, "dim", allow_none=False),
                                                "dtype": check_dtype_attr("cumprod", dtype)})
