"""Pooling: max_pool2d, avg_pool2d, adaptive_avg_pool2d (MindSpore signatures; NCHW or unbatched CHW), and the
gradient ops max_pool2d_backward (scatter-add by argmax index) and avg_pool2d_backward (its adjoint pair)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._errors import OpError
from mycelia._types import Dim, TensorType
from mycelia.ops import _dispatch
from mycelia.ops._define import FLOATS, INTEGERS
from mycelia.ops._nn_util import (
    ceil_div,
    constant,
    derived_dim,
    expect_rank,
    int_tuple,
    known,
    require_tensor,
    sample_array,
    shape_text,
)
from mycelia.ops._registry import OpDef, Sample, register_op

__all__ = ["adaptive_avg_pool2d", "avg_pool2d", "avg_pool2d_backward", "max_pool2d", "max_pool2d_backward"]


def _pool_out(size: int, kernel: int, stride: int, before: int, after: int, dilation: int, ceil_mode: bool) -> int:
    """torch/MindSpore pooling output size; in ceil mode the last window must start inside the input
    or the leading padding."""
    span = size + before + after - dilation * (kernel - 1) - 1
    out = (ceil_div(span, stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + before:
        out -= 1
    return out


def _pool_infer(op: str, x: TensorType, kernel: tuple[int, int], stride: tuple[int, int], pads: tuple[int, ...],
                dilation: tuple[int, int], ceil_mode: bool) -> tuple[Dim, ...]:
    expect_rank(op, "input", x, (3, 4), "(N, C, H, W)")
    for axis in range(2):
        before, after = pads[2 * axis], pads[2 * axis + 1]
        if max(before, after) > kernel[axis] // 2:
            raise OpError(op, f"padding must be at most half the kernel size, got padding {pads} for kernel_size "
                              f"{kernel}")
    spatial: list[Dim] = []
    for axis in range(2):
        size = x.shape[x.rank - 2 + axis]
        before, after = pads[2 * axis], pads[2 * axis + 1]
        if known(size):
            assert isinstance(size, int)
            span = dilation[axis] * (kernel[axis] - 1) + 1
            if size + before + after < span:
                raise OpError(op, f"the padded input size {size + before + after} is smaller than the (dilated) "
                                  f"kernel size {span}; input shape {shape_text(x.shape)}")
        spatial.append(derived_dim("pool", (size, kernel[axis], stride[axis], before, after, dilation[axis],
                                            ceil_mode), _pool_out))
    return (*x.shape[:-2], *spatial)


def _pair(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[-1])


def _rng_arrays(dtype: dt.DType, seed: int) -> Any:
    rng = np.random.default_rng(seed)

    def array(*shape: int) -> np.ndarray:
        return sample_array(shape, dtype, rng)

    return array


# -- max_pool2d -----------------------------------------------------------------------------------
def _max_pool2d_infer(x: TensorType, *, kernel_size: tuple[int, int], stride: tuple[int, int],
                      padding: tuple[int, int], dilation: tuple[int, int], ceil_mode: bool,
                      return_indices: bool) -> Any:
    pads = (padding[0], padding[0], padding[1], padding[1])
    shape = _pool_infer("max_pool2d", x, kernel_size, stride, pads, dilation, ceil_mode)
    out = TensorType(x.dtype, shape)
    return (out, TensorType(dt.int64, shape)) if return_indices else out


def _max_pool2d_reference(x: np.ndarray, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                          return_indices: bool = False, ceil_mode: bool = False) -> Any:
    unbatched = x.ndim == 3
    x = x[None] if unbatched else x
    k = _pair(kernel_size)
    s = _pair(stride if stride is not None else kernel_size)
    p, d = _pair(padding), _pair(dilation)
    n_batch, channels, height, width = x.shape
    out_h = _pool_out(height, k[0], s[0], p[0], p[0], d[0], ceil_mode)
    out_w = _pool_out(width, k[1], s[1], p[1], p[1], d[1], ceil_mode)
    out = np.zeros((n_batch, channels, out_h, out_w), dtype=x.dtype)
    indices = np.zeros((n_batch, channels, out_h, out_w), dtype=np.int64)
    for i in range(out_h):
        for j in range(out_w):
            positions = [(i * s[0] - p[0] + a * d[0], j * s[1] - p[1] + b * d[1])
                         for a in range(k[0]) for b in range(k[1])]
            positions = [(r, c) for r, c in positions if 0 <= r < height and 0 <= c < width]
            values = np.stack([x[:, :, r, c] for r, c in positions], axis=-1)
            best = np.argmax(values, axis=-1)
            out[:, :, i, j] = np.take_along_axis(values, best[..., None], axis=-1)[..., 0]
            flat = np.array([r * width + c for r, c in positions])
            indices[:, :, i, j] = flat[best]
    if unbatched:
        out, indices = out[0], indices[0]
    return (out, indices) if return_indices else out


def _max_pool2d_samples(dtype: dt.DType) -> Iterable[Sample]:
    a = _rng_arrays(dtype, 4)
    return [
        Sample((a(2, 3, 6, 6),), {"kernel_size": 2}),
        Sample((a(1, 2, 7, 5),), {"kernel_size": 3, "stride": 2, "padding": 1}),
        Sample((a(1, 2, 7, 7),), {"kernel_size": (3, 2), "stride": (2, 1), "dilation": (1, 2), "padding": (1, 1)}),
        Sample((a(1, 2, 6, 7),), {"kernel_size": 3, "stride": 2, "ceil_mode": True}, note="ceil_mode"),
        Sample((a(1, 2, 5, 5),), {"kernel_size": 2, "return_indices": True}, note="indices"),
        Sample((a(2, 5, 6),), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True,
                               "return_indices": True}, note="unbatched, ceil, indices"),
        Sample((a(0, 2, 4, 4),), {"kernel_size": 2}, note="empty batch"),
    ]


def _max_pool2d_vjp(ctx: Any, grad: Any) -> tuple[Any]:
    x = ctx.inputs[0]
    indices = None
    if ctx.attrs["return_indices"]:
        grad, indices = grad[0], ctx.outputs[1]
    if grad is None:
        return (None,)
    if indices is None:  # recompute the argmax (the first maximum of each window gets the gradient)
        indices = _dispatch.apply(_MAX_POOL2D, (x,), {**ctx.attrs, "return_indices": True})[1]
    return (_dispatch.apply(_MAX_POOL2D_BACKWARD, (grad, indices), {"input_size": tuple(x.shape[-2:])}),)


_MAX_POOL2D = register_op(OpDef(
    name="max_pool2d", group="nn", inputs=("x",), infer=_max_pool2d_infer, reference=_max_pool2d_reference,
    attrs=(("kernel_size", (1, 1)), ("stride", (1, 1)), ("padding", (0, 0)), ("dilation", (1, 1)),
           ("ceil_mode", False), ("return_indices", False)),
    dtypes=FLOATS | INTEGERS, samples=_max_pool2d_samples, vjp=_max_pool2d_vjp,
    doc="2-D max pooling over (N, C, H, W); with return_indices also the argmax as flat indices into H * W."))


def max_pool2d(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               return_indices: bool = False, ceil_mode: bool = False) -> Any:
    """2-D max pooling (MindSpore ``ops.max_pool2d``). ``stride`` defaults to ``kernel_size``; ``padding``
    (an int or ``(pad_h, pad_w)``, at most half the kernel) pads with -inf. With ``return_indices`` returns
    ``(output, argmax)``, argmax int64 flat indices into each input plane (H * W)."""
    op = "max_pool2d"
    kernel = int_tuple(op, "kernel_size", kernel_size, 2, minimum=1)
    attrs = {"kernel_size": kernel,
             "stride": kernel if stride is None else int_tuple(op, "stride", stride, 2, minimum=1),
             "padding": int_tuple(op, "padding", padding, 2),
             "dilation": int_tuple(op, "dilation", dilation, 2, minimum=1),
             "ceil_mode": bool(ceil_mode), "return_indices": bool(return_indices)}
    return _dispatch.apply(_MAX_POOL2D, (x,), attrs)


# -- avg_pool2d -----------------------------------------------------------------------------------
def _avg_pool2d_infer(x: TensorType, *, kernel_size: tuple[int, int], stride: tuple[int, int],
                      padding: tuple[int, int, int, int], ceil_mode: bool, count_include_pad: bool,
                      divisor_override: int) -> TensorType:
    return TensorType(x.dtype, _pool_infer("avg_pool2d", x, kernel_size, stride, padding, (1, 1), ceil_mode))


def _avg_pool2d_reference(x: np.ndarray, kernel_size: Any = 1, stride: Any = 1, padding: Any = 0,
                          ceil_mode: bool = False, count_include_pad: bool = True,
                          divisor_override: int | None = 0) -> np.ndarray:
    unbatched = x.ndim == 3
    x = x[None] if unbatched else x
    k, s = _pair(kernel_size), _pair(stride)
    if isinstance(padding, int):
        pads = (padding,) * 4
    elif len(padding) == 2:
        pads = (padding[0], padding[0], padding[1], padding[1])
    else:
        pads = tuple(padding)
    top, bottom, left, right = pads
    height, width = x.shape[2:]
    out_h = _pool_out(height, k[0], s[0], top, bottom, 1, ceil_mode)
    out_w = _pool_out(width, k[1], s[1], left, right, 1, ceil_mode)
    out = np.zeros((*x.shape[:2], out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            h0, w0 = i * s[0] - top, j * s[1] - left
            h1, w1 = min(h0 + k[0], height + bottom), min(w0 + k[1], width + right)
            padded_count = (h1 - h0) * (w1 - w0)
            h0, w0, h1, w1 = max(h0, 0), max(w0, 0), min(h1, height), min(w1, width)
            total = x[:, :, h0:h1, w0:w1].sum(axis=(2, 3))
            if divisor_override:
                out[:, :, i, j] = total / divisor_override
            else:
                out[:, :, i, j] = total / (padded_count if count_include_pad else (h1 - h0) * (w1 - w0))
    return out[0] if unbatched else out


def _avg_pool2d_samples(dtype: dt.DType) -> Iterable[Sample]:
    a = _rng_arrays(dtype, 5)
    return [
        Sample((a(2, 3, 6, 6),), {"kernel_size": 2, "stride": 2}),
        Sample((a(1, 2, 7, 5),), {"kernel_size": 3, "stride": 2, "padding": 1}),
        Sample((a(1, 2, 7, 5),), {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False}),
        Sample((a(1, 2, 6, 7),), {"kernel_size": (3, 2), "stride": 2, "ceil_mode": True, "padding": (1, 0)}),
        Sample((a(1, 2, 6, 7),), {"kernel_size": 3, "stride": 2, "ceil_mode": True, "padding": 1,
                                  "count_include_pad": False}, note="ceil, exclude pad"),
        Sample((a(1, 2, 5, 5),), {"kernel_size": 2, "divisor_override": 3}),
        Sample((a(1, 2, 6, 6),), {"kernel_size": 3, "padding": (1, 0, 0, 1)}, note="4-sided padding"),
        Sample((a(2, 5, 6),), {"kernel_size": 2}, note="unbatched, stride 1"),
        Sample((a(0, 2, 4, 4),), {"kernel_size": 2, "stride": 2}, note="empty batch"),
    ]


def _avg_pool2d_vjp(ctx: Any, grad: Any) -> tuple[Any]:
    size = tuple(ctx.inputs[0].shape[-2:])
    return (_dispatch.apply(_AVG_POOL2D_BACKWARD, (grad,), {"input_size": size, **ctx.attrs}),)


_AVG_POOL2D = register_op(OpDef(
    name="avg_pool2d", group="nn", inputs=("input_x",), infer=_avg_pool2d_infer, reference=_avg_pool2d_reference,
    attrs=(("kernel_size", (1, 1)), ("stride", (1, 1)), ("padding", (0, 0, 0, 0)), ("ceil_mode", False),
           ("count_include_pad", True), ("divisor_override", 0)),
    dtypes=FLOATS, samples=_avg_pool2d_samples, vjp=_avg_pool2d_vjp, doc="2-D average pooling over (N, C, H, W)."))


def avg_pool2d(input_x: Any, kernel_size: Any = 1, stride: Any = 1, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = 0) -> Any:
    """2-D average pooling (MindSpore ``ops.avg_pool2d``; note ``stride`` defaults to 1). ``padding``: an int,
    ``(pad_h, pad_w)`` or ``(top, bottom, left, right)``. ``divisor_override`` 0/None: divide by the window
    size (clipped to the padded input; without the padding when ``count_include_pad`` is False)."""
    attrs = _avg_pool_attrs("avg_pool2d", kernel_size, stride, padding, ceil_mode, count_include_pad,
                            divisor_override)
    return _dispatch.apply(_AVG_POOL2D, (input_x,), attrs)


def _avg_pool_attrs(op: str, kernel_size: Any, stride: Any, padding: Any, ceil_mode: bool, count_include_pad: bool,
                    divisor_override: int | None) -> dict[str, Any]:
    """avg_pool2d's arguments, checked and normalised (shared with its backward op)."""
    pads = int_tuple(op, "padding", padding, 2, lengths=(4,))
    if divisor_override is None:
        divisor_override = 0
    if isinstance(divisor_override, bool) or not isinstance(divisor_override, (int, np.integer)):
        raise OpError(op, f"divisor_override must be an int, got {divisor_override!r}")
    return {"kernel_size": int_tuple(op, "kernel_size", kernel_size, 2, minimum=1),
            "stride": int_tuple(op, "stride", stride, 2, minimum=1),
            "padding": pads if len(pads) == 4 else (pads[0], pads[0], pads[1], pads[1]),
            "ceil_mode": bool(ceil_mode), "count_include_pad": bool(count_include_pad),
            "divisor_override": int(divisor_override)}


# -- adaptive_avg_pool2d --------------------------------------------------------------------------
def _adaptive_avg_pool2d_infer(x: TensorType, *, output_size: tuple[int, int]) -> TensorType:
    op = "adaptive_avg_pool2d"
    expect_rank(op, "input", x, (3, 4), "(N, C, H, W)")
    if any(isinstance(d, int) and d == 0 for d in x.shape[-2:]):
        raise OpError(op, f"input spatial dims must be non-empty, got shape {shape_text(x.shape)}")
    return TensorType(x.dtype, (*x.shape[:-2], *output_size))


def _adaptive_avg_pool2d_reference(x: np.ndarray, output_size: Any) -> np.ndarray:
    height, width = x.shape[-2:]
    sizes = (output_size, output_size) if isinstance(output_size, int) else tuple(output_size)
    out_h = height if sizes[0] is None else sizes[0]
    out_w = width if sizes[1] is None else sizes[1]
    out = np.zeros((*x.shape[:-2], out_h, out_w))
    for i in range(out_h):
        h0, h1 = (i * height) // out_h, -((-(i + 1) * height) // out_h)
        for j in range(out_w):
            w0, w1 = (j * width) // out_w, -((-(j + 1) * width) // out_w)
            out[..., i, j] = x[..., h0:h1, w0:w1].mean(axis=(-2, -1))
    return out


def _adaptive_avg_pool2d_samples(dtype: dt.DType) -> Iterable[Sample]:
    a = _rng_arrays(dtype, 6)
    return [
        Sample((a(2, 3, 6, 6),), {"output_size": 2}),
        Sample((a(1, 2, 7, 5),), {"output_size": (3, 2)}),
        Sample((a(1, 2, 5, 7),), {"output_size": (None, 3)}, note="None keeps the input size"),
        Sample((a(2, 5, 6),), {"output_size": (4, 1)}, note="unbatched"),
        Sample((a(1, 1, 3, 4),), {"output_size": (5, 6)}, note="output larger than input"),
        Sample((a(1, 3, 4, 4),), {"output_size": 1}, note="global"),
        Sample((a(0, 2, 4, 4),), {"output_size": 2}, note="empty batch"),
    ]


@functools.lru_cache(maxsize=256)
def _averaging(in_size: int, out_size: int) -> np.ndarray:
    """(in_size, out_size): column i averages the input range of adaptive output cell i."""
    matrix = np.zeros((in_size, out_size))
    for i in range(out_size):
        start, stop = (i * in_size) // out_size, -((-(i + 1) * in_size) // out_size)
        matrix[start:stop, i] = 1.0 / (stop - start)
    return matrix


def _adaptive_avg_pool2d_vjp(ctx: Any, grad: Any) -> tuple[Any]:
    # the op is rows^T @ x @ columns with averaging matrices: the gradient is rows @ grad @ columns^T
    from mycelia import ops

    height, width = ctx.inputs[0].shape[-2:]
    out_h, out_w = ctx.attrs["output_size"]
    rows = constant(grad, _averaging(height, out_h))
    columns = constant(grad, _averaging(width, out_w).T)
    return (ops.matmul(ops.matmul(rows, grad), columns),)


_ADAPTIVE_AVG_POOL2D = register_op(OpDef(
    name="adaptive_avg_pool2d", group="nn", inputs=("input",), infer=_adaptive_avg_pool2d_infer,
    reference=_adaptive_avg_pool2d_reference, attrs=(("output_size", (1, 1)),), dtypes=FLOATS,
    samples=_adaptive_avg_pool2d_samples, vjp=_adaptive_avg_pool2d_vjp,
    doc="2-D adaptive average pooling: output cell (i, j) averages rows floor(i*H/Ho)..ceil((i+1)*H/Ho) "
        "and the same for columns."))


def adaptive_avg_pool2d(input: Any, output_size: Any) -> Any:
    """2-D adaptive average pooling (MindSpore ``ops.adaptive_avg_pool2d``). ``output_size``: an int, or
    ``(H_out, W_out)`` where ``None`` keeps that input dim."""
    op = "adaptive_avg_pool2d"
    x = require_tensor(op, "input", input)
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            raise OpError(op, f"output_size must be an int or a tuple of 2 (int or None), got {output_size!r}")
        sizes = tuple(x.shape[-2 + i] if v is None else v for i, v in enumerate(output_size))
    else:
        sizes = (output_size, output_size)
    attrs = {"output_size": int_tuple(op, "output_size", sizes, 2, minimum=1)}
    return _dispatch.apply(_ADAPTIVE_AVG_POOL2D, (x,), attrs)


# -- max_pool2d_backward --------------------------------------------------------------------------
def _max_pool2d_backward_infer(g: TensorType, indices: TensorType, *, input_size: tuple[int, int]) -> TensorType:
    op = "max_pool2d_backward"
    expect_rank(op, "grad_output", g, (3, 4), "(N, C, H_out, W_out)")
    if not indices.dtype.is_integer:
        raise OpError(op, f"indices must be integer (flat positions in H * W), got {indices.dtype}")
    if indices.rank != g.rank or (known(*indices.shape, *g.shape) and indices.shape != g.shape):
        raise OpError(op, f"indices shape {shape_text(indices.shape)} must equal grad_output's {shape_text(g.shape)}")
    return TensorType(g.dtype, (*g.shape[:-2], *input_size))


def _max_pool2d_backward_reference(g: np.ndarray, indices: np.ndarray, input_size: Any) -> np.ndarray:
    height, width = _pair(input_size)
    out = np.zeros((*g.shape[:-2], height * width))
    for position in np.ndindex(*g.shape):
        target = (*position[:-2], indices[position])
        out[target] += g[position]
    return out.reshape(*g.shape[:-2], height, width)


def _max_pool2d_backward_samples(dtype: dt.DType) -> Iterable[Sample]:
    a = _rng_arrays(dtype, 14)
    rng = np.random.default_rng(15)
    return [
        Sample((a(2, 3, 3, 3), rng.integers(0, 36, (2, 3, 3, 3))), {"input_size": (6, 6)}, note="collisions add"),
        Sample((a(1, 2, 2, 3), rng.integers(0, 20, (1, 2, 2, 3)).astype(np.int32)), {"input_size": (4, 5)}),
        Sample((a(2, 2, 2), rng.integers(0, 9, (2, 2, 2))), {"input_size": 3}, note="unbatched"),
        Sample((a(0, 2, 2, 2), np.zeros((0, 2, 2, 2), dtype=np.int64)), {"input_size": (4, 4)}, note="empty batch"),
    ]


def _max_pool2d_backward_vjp(ctx: Any, grad: Any) -> tuple[Any, None]:
    from mycelia import ops

    g, indices = ctx.inputs
    lead = tuple(grad.shape[:-2])
    flat = ops.reshape(grad, (*lead, grad.shape[-2] * grad.shape[-1]))
    picked = ops.gather_elements(flat, -1, ops.reshape(indices, (*lead, g.shape[-2] * g.shape[-1])))
    return ops.reshape(picked, g.shape), None


_MAX_POOL2D_BACKWARD = register_op(OpDef(
    name="max_pool2d_backward", group="nn", inputs=("grad_output", "indices"), infer=_max_pool2d_backward_infer,
    reference=_max_pool2d_backward_reference, attrs=(("input_size", (1, 1)),), dtypes=FLOATS,
    samples=_max_pool2d_backward_samples, vjp=_max_pool2d_backward_vjp,
    doc="Gradient of max_pool2d: grad_output scattered (and summed) into zeros of input_size at the flat argmax "
        "indices (as max_pool2d's return_indices gives them)."))


def max_pool2d_backward(grad_output: Any, indices: Any, input_size: Any) -> Any:
    """Gradient of ``max_pool2d`` (a mycelia extension, used by autograd): each ``grad_output`` element is added
    at its flat ``indices`` position (into H * W, as ``max_pool2d(..., return_indices=True)`` returns them) of a
    zero tensor with spatial size ``input_size``."""
    op = "max_pool2d_backward"
    attrs = {"input_size": int_tuple(op, "input_size", input_size, 2, minimum=1)}
    return _dispatch.apply(_MAX_POOL2D_BACKWARD, (grad_output, indices), attrs)


# -- avg_pool2d_backward --------------------------------------------------------------------------
def _avg_pool2d_backward_infer(g: TensorType, *, input_size: tuple[int, int], **attrs: Any) -> TensorType:
    op = "avg_pool2d_backward"
    expect_rank(op, "grad_output", g, (3, 4), "(N, C, H_out, W_out)")
    source = TensorType(g.dtype, (*g.shape[:-2], *input_size))
    expected = _avg_pool2d_infer(source, **attrs).shape
    if known(*g.shape) and tuple(g.shape) != tuple(expected):
        raise OpError(op, f"grad_output shape {shape_text(g.shape)} is not avg_pool2d's output shape "
                          f"{shape_text(expected)} for input size {list(input_size)}")
    return source


def _avg_pool2d_backward_reference(g: np.ndarray, input_size: Any, kernel_size: Any = 1, stride: Any = 1,
                                   padding: Any = 0, ceil_mode: bool = False, count_include_pad: bool = True,
                                   divisor_override: int | None = 0) -> np.ndarray:
    # the adjoint of avg_pool2d, column by column: the gradient of sum(avg_pool2d(x) * g) with respect to x
    height, width = _pair(input_size)
    basis = np.eye(height * width).reshape(height * width, height, width)
    out = np.zeros((*g.shape[:-2], height, width))
    for k in range(height * width):
        pooled = _avg_pool2d_reference(basis[k][None, None], kernel_size, stride, padding, ceil_mode,
                                       count_include_pad, divisor_override)[0, 0]
        out[..., k // width, k % width] = np.sum(g * pooled, axis=(-2, -1))
    return out


def _avg_pool2d_backward_samples(dtype: dt.DType) -> Iterable[Sample]:
    a = _rng_arrays(dtype, 16)
    return [
        Sample((a(2, 3, 3, 3),), {"input_size": (6, 6), "kernel_size": 2, "stride": 2}),
        Sample((a(1, 2, 4, 3),), {"input_size": (7, 5), "kernel_size": 3, "stride": 2, "padding": 1}),
        Sample((a(1, 2, 4, 3),), {"input_size": (7, 5), "kernel_size": 3, "stride": 2, "padding": 1,
                                  "count_include_pad": False}),
        Sample((a(1, 2, 4, 4),), {"input_size": (6, 7), "kernel_size": 3, "stride": 2, "ceil_mode": True,
                                  "padding": 1, "count_include_pad": False}, note="ceil, exclude pad"),
        Sample((a(1, 2, 4, 4),), {"input_size": (5, 5), "kernel_size": 2, "divisor_override": 3}),
        Sample((a(1, 2, 5, 5),), {"input_size": (6, 6), "kernel_size": 3, "padding": (1, 0, 0, 1)},
               note="4-sided padding, overlapping windows"),
        Sample((a(2, 4, 5),), {"input_size": (5, 6), "kernel_size": 2}, note="unbatched"),
        Sample((a(0, 2, 2, 2),), {"input_size": (4, 4), "kernel_size": 2, "stride": 2}, note="empty batch"),
    ]


def _avg_pool2d_backward_vjp(ctx: Any, grad: Any) -> tuple[Any]:
    attrs = {name: value for name, value in ctx.attrs.items() if name != "input_size"}
    return (_dispatch.apply(_AVG_POOL2D, (grad,), attrs),)


_AVG_POOL2D_BACKWARD = register_op(OpDef(
    name="avg_pool2d_backward", group="nn", inputs=("grad_output",), infer=_avg_pool2d_backward_infer,
    reference=_avg_pool2d_backward_reference,
    attrs=(("input_size", (1, 1)), *(item for item in _AVG_POOL2D.attrs)), dtypes=FLOATS,
    samples=_avg_pool2d_backward_samples, vjp=_avg_pool2d_backward_vjp,
    doc="Gradient of avg_pool2d (its adjoint): each grad_output element divided by its window's divisor and "
        "added over the window's input positions."))


def avg_pool2d_backward(grad_output: Any, input_size: Any, kernel_size: Any = 1, stride: Any = 1, padding: Any = 0,
                        ceil_mode: bool = False, count_include_pad: bool = True,
                        divisor_override: int | None = 0) -> Any:
    """Gradient of ``avg_pool2d`` (a mycelia extension, used by autograd) for an input of spatial size
    ``input_size``; the other arguments are ``avg_pool2d``'s."""
    op = "avg_pool2d_backward"
    attrs = {"input_size": int_tuple(op, "input_size", input_size, 2, minimum=1),
             **_avg_pool_attrs(op, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)}
    return _dispatch.apply(_AVG_POOL2D_BACKWARD, (grad_output,), attrs)
