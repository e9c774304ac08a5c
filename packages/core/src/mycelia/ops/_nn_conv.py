"""Convolutions: conv1d, conv2d, conv_transpose2d (MindSpore signatures; NCHW layout), and their gradient ops
conv_backward_input / conv_backward_weight (1-D and 2-D), each linear in both inputs, so gradients of any order
are convolutions again."""

from __future__ import annotations

import operator
from collections.abc import Iterable
from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._errors import OpError
from mycelia._types import Dim, TensorType
from mycelia.ops import _dispatch
from mycelia.ops._define import FLOATS
from mycelia.ops._nn_util import (
    ceil_div,
    derived_dim,
    expect_rank,
    expect_vector,
    int_tuple,
    known,
    needed,
    require_tensor,
    same_padding,
    sample_array,
    shape_text,
    sum_except,
)
from mycelia.ops._registry import OpDef, Sample, register_op

__all__ = ["conv1d", "conv2d", "conv_backward_input", "conv_backward_weight", "conv_transpose2d"]


# -- shared shape rules ---------------------------------------------------------------------------
def _check_groups(op: str, channels: Dim, weight: TensorType, groups: int, transposed: bool) -> None:
    if not known(channels, *weight.shape):
        return
    assert isinstance(channels, int)
    if channels % groups:
        raise OpError(op, f"input channels ({channels}) must be divisible by groups ({groups})")
    if transposed:
        if weight.shape[0] != channels:
            raise OpError(op, f"weight shape {shape_text(weight.shape)} expects {weight.shape[0]} input channels "
                              f"(weight is (C_in, C_out / groups, kH, kW)), got {channels}")
        return
    out_channels = weight.shape[0]
    assert isinstance(out_channels, int)
    if weight.shape[1] != channels // groups:
        raise OpError(op, f"weight shape {shape_text(weight.shape)} expects C_in / groups = {weight.shape[1]}, "
                          f"but the input has {channels} channels and groups={groups}")
    if out_channels % groups:
        raise OpError(op, f"output channels ({out_channels}) must be divisible by groups ({groups})")


def _conv_length(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    return (size + padding - dilation * (kernel - 1) - 1) // stride + 1


def _transposed_length(size: int, kernel: int, stride: int, padding: int, extra: int, dilation: int) -> int:
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + extra + 1


def _conv_infer(op: str, nd: int, x: TensorType, w: TensorType, b: TensorType | None, *,
                stride: tuple[int, ...], padding: tuple[int, ...], dilation: tuple[int, ...], groups: int,
                pad_mode: str) -> TensorType:
    layout = "(N, C_in, L)" if nd == 1 else "(N, C_in, H, W)"
    expect_rank(op, "input", x, (nd + 1, nd + 2), layout)
    expect_rank(op, "weight", w, (nd + 2,), "(C_out, C_in / groups, " + ("kL)" if nd == 1 else "kH, kW)"))
    _check_groups(op, x.shape[-nd - 1], w, groups, transposed=False)
    expect_vector(op, "bias", b, w.shape[0])
    spatial: list[Dim] = []
    for axis in range(nd):
        size, kernel = x.shape[x.rank - nd + axis], w.shape[2 + axis]
        s, d = stride[axis], dilation[axis]
        if pad_mode == "same":
            spatial.append(derived_dim("same", (size, s), ceil_div))
            continue
        before, after = padding[2 * axis], padding[2 * axis + 1]
        if known(size, kernel):
            assert isinstance(size, int) and isinstance(kernel, int)
            span = d * (kernel - 1) + 1
            if size + before + after < span:
                raise OpError(op, f"the padded input size {size + before + after} (size {size}, padding "
                                  f"{before}+{after}) is smaller than the dilated kernel size {span}; "
                                  f"input shape {shape_text(x.shape)}, weight shape {shape_text(w.shape)}")
        spatial.append(derived_dim("conv", (size, kernel, s, before + after, d), _conv_length))
    return TensorType(x.dtype, (*x.shape[:x.rank - nd - 1], w.shape[0], *spatial))


def _conv_attrs(op: str, nd: int, stride: Any, pad_mode: Any, padding: Any, dilation: Any,
                groups: Any) -> dict[str, Any]:
    if isinstance(padding, str):
        if isinstance(pad_mode, str) and pad_mode.lower() not in ("valid", padding.lower()):
            raise OpError(op, f"padding={padding!r} conflicts with pad_mode={pad_mode!r}; give the mode once")
        pad_mode, padding = padding, 0
    if not isinstance(pad_mode, str) or pad_mode.lower() not in ("valid", "same", "pad"):
        raise OpError(op, f"pad_mode must be 'valid', 'same' or 'pad', got {pad_mode!r}")
    mode = pad_mode.lower()
    pads = int_tuple(op, "padding", padding, nd, lengths=(2 * nd,))
    if len(pads) == nd:
        pads = tuple(p for p in pads for _ in range(2))
    if mode == "same" and any(pads):
        raise OpError(op, f"padding must be 0 when pad_mode is 'same', got {padding!r}")
    # 'valid' with explicit padding is treated as 'pad' (MindSpore raises here; torch code passes padding alone)
    return {**_grad_attrs(op, nd, stride, 0, dilation, groups), "padding": pads,
            "pad_mode": "same" if mode == "same" else "pad"}


# -- references (the spec; direct loops over output positions) -----------------------------------
def _reference_pads(pad_mode: str, padding: Any, x: np.ndarray, w: np.ndarray, stride: tuple[int, int],
                    dilation: tuple[int, int]) -> list[int]:
    if isinstance(padding, str):
        pad_mode, padding = padding, 0
    if pad_mode.lower() == "same":
        return [p for axis in range(2)
                for p in same_padding(x.shape[2 + axis], w.shape[2 + axis], stride[axis], dilation[axis])]
    if isinstance(padding, int):
        return [padding] * 4
    if len(padding) == 2:
        return [padding[0], padding[0], padding[1], padding[1]]
    return list(padding)


def _pair(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[-1])


def _conv2d_reference(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, stride: Any = 1,
                      pad_mode: str = "valid", padding: Any = 0, dilation: Any = 1, groups: int = 1) -> np.ndarray:
    unbatched = x.ndim == 3
    x = x[None] if unbatched else x
    s, d = _pair(stride), _pair(dilation)
    top, bottom, left, right = _reference_pads(pad_mode, padding, x, w, s, d)
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    n_batch, channels = x.shape[:2]
    out_channels, kh, kw = w.shape[0], w.shape[2], w.shape[3]
    per_group_in, per_group_out = channels // groups, out_channels // groups
    out_h = (xp.shape[2] - d[0] * (kh - 1) - 1) // s[0] + 1
    out_w = (xp.shape[3] - d[1] * (kw - 1) - 1) // s[1] + 1
    out = np.zeros((n_batch, out_channels, out_h, out_w))
    for n in range(n_batch):
        for o in range(out_channels):
            g = o // per_group_out
            for i in range(out_h):
                for j in range(out_w):
                    patch = xp[n, g * per_group_in:(g + 1) * per_group_in,
                               i * s[0]:i * s[0] + d[0] * (kh - 1) + 1:d[0],
                               j * s[1]:j * s[1] + d[1] * (kw - 1) + 1:d[1]]
                    out[n, o, i, j] = np.sum(patch * w[o]) + (b[o] if b is not None else 0.0)
    return out[0] if unbatched else out


def _conv1d_reference(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, stride: Any = 1,
                      pad_mode: str = "valid", padding: Any = 0, dilation: Any = 1, groups: int = 1) -> np.ndarray:
    if not isinstance(padding, str):
        padding = (0, 0, padding, padding) if isinstance(padding, int) else (0, 0, padding[0], padding[-1])
    stride = stride if isinstance(stride, int) else stride[0]
    dilation = dilation if isinstance(dilation, int) else dilation[0]
    out = _conv2d_reference(x[..., None, :], w[:, :, None, :], b, (1, stride), pad_mode, padding, (1, dilation),
                            groups)
    return out[..., 0, :]


def _rng_arrays(dtype: dt.DType, seed: int) -> Any:
    rng = np.random.default_rng(seed)

    def array(*shape: int) -> np.ndarray:
        return sample_array(shape, dtype, rng, -1.0, 1.0)

    return array


def _conv2d_samples(dtype: dt.DType) -> Iterable[Sample]:
    a = _rng_arrays(dtype, 1)
    return [
        Sample((a(2, 3, 5, 5), a(4, 3, 3, 3), a(4))),
        Sample((a(1, 2, 6, 7), a(3, 2, 3, 3)), {"stride": 2, "pad_mode": "pad", "padding": 1}),
        Sample((a(1, 2, 7, 7), a(2, 2, 3, 2), a(2)), {"dilation": 2, "pad_mode": "pad", "padding": (1, 2)}),
        Sample((a(2, 4, 5, 4), a(6, 2, 3, 2), a(6)), {"groups": 2, "stride": (2, 1)}, note="groups"),
        Sample((a(1, 2, 7, 6), a(3, 2, 4, 3)), {"pad_mode": "same", "stride": 2}, note="same, stride 2"),
        Sample((a(1, 3, 5, 5), a(2, 3, 3, 3)), {"pad_mode": "same", "dilation": (1, 2)}, note="same, dilated"),
        Sample((a(1, 2, 5, 6), a(2, 2, 3, 3)), {"pad_mode": "pad", "padding": (1, 0, 2, 1)}, note="4-sided pad"),
        Sample((a(1, 3, 5, 5), a(2, 3, 3, 3)), {"padding": 1}, note="padding without pad_mode"),
        Sample((a(1, 3, 4, 5), a(2, 3, 3, 3)), {"padding": "same"}, note="padding='same'"),
        Sample((a(0, 3, 4, 4), a(2, 3, 3, 3), a(2)), note="empty batch"),
        Sample((a(3, 5, 5), a(2, 3, 3, 3)), note="unbatched"),
        Sample((a(2, 3, 4, 4), a(5, 3, 1, 1), a(5)), note="1x1"),
        Sample((a(5, 4, 4, 3), a(6, 2, 3, 2), a(6)), {"groups": 2, "stride": (2, 1), "padding": (1, 0, 1, 1)},
               note="batch-last layout (batch >= output width)"),
    ]


def _conv1d_samples(dtype: dt.DType) -> Iterable[Sample]:
    a = _rng_arrays(dtype, 2)
    return [
        Sample((a(2, 3, 7), a(4, 3, 3), a(4))),
        Sample((a(1, 2, 9), a(3, 2, 2)), {"stride": 2, "pad_mode": "pad", "padding": 1, "dilation": 2}),
        Sample((a(2, 4, 6), a(4, 2, 3)), {"groups": 2, "pad_mode": "same"}),
        Sample((a(1, 2, 5), a(2, 2, 3)), {"pad_mode": "pad", "padding": (2, 0)}, note="two-sided pad"),
        Sample((a(3, 6), a(2, 3, 2), a(2)), note="unbatched"),
        Sample((a(0, 3, 5), a(2, 3, 3)), note="empty batch"),
        Sample((a(4, 2, 3), a(3, 2, 2)), note="batch-last layout"),
    ]


def _conv2d_infer(x: TensorType, w: TensorType, b: TensorType | None = None, **attrs: Any) -> TensorType:
    return _conv_infer("conv2d", 2, x, w, b, **attrs)


def _conv1d_infer(x: TensorType, w: TensorType, b: TensorType | None = None, **attrs: Any) -> TensorType:
    return _conv_infer("conv1d", 1, x, w, b, **attrs)


# -- gradient rules (the backward ops are declared at the end of this file) --------------------------
def _common(attrs: dict[str, Any], padding: tuple[int, ...]) -> dict[str, Any]:
    return {"stride": attrs["stride"], "padding": padding, "dilation": attrs["dilation"], "groups": attrs["groups"]}


def _windows(u: Any, w: Any, out_size: tuple[int, ...], *, stride: tuple[int, ...], padding: tuple[int, ...],
             dilation: tuple[int, ...], groups: int) -> Any:
    """The convolution of ``u`` with ``w`` whose windows start at ``i * stride - padding`` for the ``out_size``
    output positions (trailing padding as needed; input rows no window reaches are dropped)."""
    from mycelia import ops

    nd = len(out_size)
    pads: list[int] = []
    for axis in range(nd):
        dim = u.ndim - nd + axis
        size = u.shape[dim]
        span = dilation[axis] * (w.shape[2 + axis] - 1) + 1
        after = (out_size[axis] - 1) * stride[axis] + span - size - padding[axis]
        if after < 0:
            u = ops.narrow(u, dim, 0, size + after)
            after = 0
        pads += [padding[axis], after]
    attrs = {"stride": stride, "padding": tuple(pads), "dilation": dilation, "groups": groups, "pad_mode": "pad"}
    return _dispatch.apply(_CONV2D if nd == 2 else _CONV1D, (u, w), attrs)


def _conv_vjp(ctx: Any, grad: Any) -> tuple[Any, ...]:
    x, w = ctx.inputs[0], ctx.inputs[1]
    attrs = ctx.attrs
    nd = w.ndim - 2
    spatial = tuple(x.shape[x.ndim - nd:])
    if attrs["pad_mode"] == "same":
        leading = tuple(same_padding(spatial[a], w.shape[2 + a], attrs["stride"][a], attrs["dilation"][a])[0]
                        for a in range(nd))
    else:
        leading = attrs["padding"][0::2]
    common = _common(attrs, leading)
    grad_x = _dispatch.apply(_CONV_BACKWARD_INPUT, (grad, w), {"input_size": spatial, **common}) \
        if needed(x) else None
    grad_w = _dispatch.apply(_CONV_BACKWARD_WEIGHT, (x, grad), {"weight_size": tuple(w.shape[2:]), **common}) \
        if needed(w) else None
    if len(ctx.inputs) == 2:
        return grad_x, grad_w
    return grad_x, grad_w, sum_except(grad, grad.ndim - nd - 1)


def _conv_transpose2d_vjp(ctx: Any, grad: Any) -> tuple[Any, ...]:
    # conv_transpose2d(x, w) is conv_backward_input(x, w) for an input of the output's size
    x, w = ctx.inputs[0], ctx.inputs[1]
    common = _common(ctx.attrs, ctx.attrs["padding"])
    grad_x = _windows(grad, w, tuple(x.shape[-2:]), **common) if needed(x) else None
    grad_w = _dispatch.apply(_CONV_BACKWARD_WEIGHT, (grad, x), {"weight_size": tuple(w.shape[2:]), **common}) \
        if needed(w) else None
    if len(ctx.inputs) == 2:
        return grad_x, grad_w
    return grad_x, grad_w, sum_except(grad, grad.ndim - 3)


def _conv_backward_input_vjp(ctx: Any, grad: Any) -> tuple[Any, Any]:
    g, w = ctx.inputs
    nd = len(ctx.attrs["input_size"])
    common = _common(ctx.attrs, ctx.attrs["padding"])
    grad_g = _windows(grad, w, tuple(g.shape[g.ndim - nd:]), **common) if needed(g) else None
    grad_w = _dispatch.apply(_CONV_BACKWARD_WEIGHT, (grad, g), {"weight_size": tuple(w.shape[2:]), **common}) \
        if needed(w) else None
    return grad_g, grad_w


def _conv_backward_weight_vjp(ctx: Any, grad: Any) -> tuple[Any, Any]:
    x, g = ctx.inputs
    nd = len(ctx.attrs["weight_size"])
    common = _common(ctx.attrs, ctx.attrs["padding"])
    grad_x = _dispatch.apply(_CONV_BACKWARD_INPUT, (g, grad), {"input_size": tuple(x.shape[x.ndim - nd:]), **common}) \
        if needed(x) else None
    grad_g = _windows(x, grad, tuple(g.shape[g.ndim - nd:]), **common) if needed(g) else None
    return grad_x, grad_g


_CONV_ATTRS = (("stride", (1, 1)), ("padding", (0, 0, 0, 0)), ("dilation", (1, 1)), ("groups", 1), ("pad_mode", "pad"))
_CONV2D = register_op(OpDef(
    name="conv2d", group="nn", inputs=("input", "weight", "bias"), infer=_conv2d_infer,
    reference=_conv2d_reference, attrs=_CONV_ATTRS, dtypes=FLOATS, promote=(0, 1, 2), samples=_conv2d_samples,
    vjp=_conv_vjp,
    doc="2-D cross-correlation over (N, C_in, H, W) (or unbatched (C_in, H, W)) with weight "
        "(C_out, C_in / groups, kH, kW)."))
_CONV1D = register_op(OpDef(
    name="conv1d", group="nn", inputs=("input", "weight", "bias"), infer=_conv1d_infer,
    reference=_conv1d_reference, attrs=(("stride", (1,)), ("padding", (0, 0)), ("dilation", (1,)), ("groups", 1),
                                        ("pad_mode", "pad")),
    dtypes=FLOATS, promote=(0, 1, 2), samples=_conv1d_samples, vjp=_conv_vjp,
    doc="1-D cross-correlation over (N, C_in, L) (or unbatched (C_in, L)) with weight (C_out, C_in / groups, kL)."))


def conv2d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, pad_mode: str = "valid", padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Any:
    """2-D convolution (MindSpore ``ops.conv2d``).

    ``pad_mode``: ``"valid"`` (no padding), ``"same"`` (output ``ceil(size / stride)``, extra padding at the
    bottom/right) or ``"pad"`` (``padding``: an int, ``(pad_h, pad_w)`` or ``(top, bottom, left, right)``).
    ``padding`` may also be the string ``"same"`` or ``"valid"``; a nonzero ``padding`` with the default
    ``pad_mode="valid"`` pads (MindSpore would raise). ``bias`` is ``None`` or shape ``(C_out,)``.
    """
    attrs = _conv_attrs("conv2d", 2, stride, pad_mode, padding, dilation, groups)
    return _dispatch.apply(_CONV2D, (input, weight) if bias is None else (input, weight, bias), attrs)


def conv1d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, pad_mode: str = "valid", padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Any:
    """1-D convolution (MindSpore ``ops.conv1d``); ``padding`` is an int or ``(left, right)``."""
    attrs = _conv_attrs("conv1d", 1, stride, pad_mode, padding, dilation, groups)
    return _dispatch.apply(_CONV1D, (input, weight) if bias is None else (input, weight, bias), attrs)


# -- conv_transpose2d -----------------------------------------------------------------------------
def _conv_transpose2d_infer(x: TensorType, w: TensorType, b: TensorType | None = None, *, stride: tuple[int, int],
                            padding: tuple[int, int], output_padding: tuple[int, int], groups: int,
                            dilation: tuple[int, int]) -> TensorType:
    op = "conv_transpose2d"
    expect_rank(op, "input", x, (3, 4), "(N, C_in, H, W)")
    expect_rank(op, "weight", w, (4,), "(C_in, C_out / groups, kH, kW)")
    _check_groups(op, x.shape[-3], w, groups, transposed=True)
    out_channels = derived_dim("groups", (w.shape[1], groups), operator.mul)
    expect_vector(op, "bias", b, out_channels)
    spatial: list[Dim] = []
    for axis in range(2):
        s, p, extra, d = stride[axis], padding[axis], output_padding[axis], dilation[axis]
        if extra >= s and extra >= d:
            raise OpError(op, f"output_padding must be smaller than stride or dilation, got output_padding="
                              f"{output_padding}, stride={stride}, dilation={dilation}")
        size, kernel = x.shape[x.rank - 2 + axis], w.shape[2 + axis]
        if known(size, kernel):
            assert isinstance(size, int) and isinstance(kernel, int)
            length = (size - 1) * s - 2 * p + d * (kernel - 1) + extra + 1
            if length < 1:
                raise OpError(op, f"the output size would be {length} (input shape {shape_text(x.shape)}, weight "
                                  f"shape {shape_text(w.shape)}, padding {padding}); it must be positive")
        spatial.append(derived_dim("convT", (size, kernel, s, p, extra, d), _transposed_length))
    return TensorType(x.dtype, (*x.shape[:x.rank - 3], out_channels, *spatial))


def _conv_transpose2d_reference(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, stride: Any = 1,
                                padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                                dilation: Any = 1) -> np.ndarray:
    unbatched = x.ndim == 3
    x = x[None] if unbatched else x
    s, p, e, d = _pair(stride), _pair(padding), _pair(output_padding), _pair(dilation)
    n_batch, in_channels, height, width = x.shape
    per_group_out, kh, kw = w.shape[1:]
    per_group_in = in_channels // groups
    out_h = (height - 1) * s[0] - 2 * p[0] + d[0] * (kh - 1) + e[0] + 1
    out_w = (width - 1) * s[1] - 2 * p[1] + d[1] * (kw - 1) + e[1] + 1
    out = np.zeros((n_batch, per_group_out * groups, out_h, out_w))
    for n in range(n_batch):
        for c in range(in_channels):
            g = c // per_group_in
            for i in range(height):
                for j in range(width):
                    for ki in range(kh):
                        for kj in range(kw):
                            row, col = i * s[0] - p[0] + ki * d[0], j * s[1] - p[1] + kj * d[1]
                            if 0 <= row < out_h and 0 <= col < out_w:
                                out[n, g * per_group_out:(g + 1) * per_group_out, row, col] += \
                                    x[n, c, i, j] * w[c, :, ki, kj]
    if b is not None:
        out += b[:, None, None]
    return out[0] if unbatched else out


def _conv_transpose2d_samples(dtype: dt.DType) -> Iterable[Sample]:
    a = _rng_arrays(dtype, 3)
    return [
        Sample((a(1, 2, 3, 3), a(2, 3, 3, 3), a(3))),
        Sample((a(2, 4, 3, 2), a(4, 1, 2, 3)), {"stride": 2, "padding": 1, "groups": 2, "output_padding": 1}),
        Sample((a(1, 2, 3, 3), a(2, 2, 3, 3)), {"dilation": 2, "stride": (2, 1), "padding": (0, 1)}),
        Sample((a(0, 2, 3, 3), a(2, 2, 2, 2)), note="empty batch"),
        Sample((a(2, 3, 3), a(2, 3, 2, 2), a(3)), note="unbatched"),
        Sample((a(4, 2, 2, 3), a(2, 3, 3, 3)), {"stride": 2, "padding": 1, "output_padding": 1}, note="batch-last"),
    ]


_CONV_TRANSPOSE2D = register_op(OpDef(
    name="conv_transpose2d", group="nn", inputs=("input", "weight", "bias"), infer=_conv_transpose2d_infer,
    reference=_conv_transpose2d_reference,
    attrs=(("stride", (1, 1)), ("padding", (0, 0)), ("output_padding", (0, 0)), ("groups", 1), ("dilation", (1, 1))),
    dtypes=FLOATS, promote=(0, 1, 2), samples=_conv_transpose2d_samples, vjp=_conv_transpose2d_vjp,
    doc="2-D transposed convolution over (N, C_in, H, W) with weight (C_in, C_out / groups, kH, kW)."))


def conv_transpose2d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Any:
    """2-D transposed convolution (``mindspore.mint.nn.functional.conv_transpose2d``'s signature).

    Output size per spatial dim: ``(in - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1``.
    """
    op = "conv_transpose2d"
    attrs = {**_grad_attrs(op, 2, stride, padding, dilation, groups),
             "output_padding": int_tuple(op, "output_padding", output_padding, 2)}
    return _dispatch.apply(_CONV_TRANSPOSE2D, (input, weight) if bias is None else (input, weight, bias), attrs)


# -- conv_backward_input / conv_backward_weight ---------------------------------------------------
def _check_grad_groups(op: str, name: str, channels: Dim, groups: int) -> None:
    if isinstance(channels, int) and channels % groups:
        raise OpError(op, f"{name} ({channels}) must be divisible by groups ({groups})")


def _conv_backward_input_infer(g: TensorType, w: TensorType, *, input_size: tuple[int, ...], stride: tuple[int, ...],
                               padding: tuple[int, ...], dilation: tuple[int, ...], groups: int) -> TensorType:
    op = "conv_backward_input"
    nd = len(input_size)
    expect_rank(op, "weight", w, (nd + 2,), "(C_out, C_in / groups, *kernel)")
    expect_rank(op, "grad_output", g, (nd + 1, nd + 2), "(N, C_out, *spatial)")
    channels = g.shape[g.rank - nd - 1]
    if known(channels, w.shape[0]) and channels != w.shape[0]:
        raise OpError(op, f"grad_output has {channels} channels but weight shape {shape_text(w.shape)} has "
                          f"{w.shape[0]} output channels")
    _check_grad_groups(op, "output channels", w.shape[0], groups)
    in_channels = derived_dim("groups", (w.shape[1], groups), operator.mul)
    return TensorType(g.dtype, (*g.shape[:g.rank - nd - 1], in_channels, *input_size))


def _conv_backward_weight_infer(x: TensorType, g: TensorType, *, weight_size: tuple[int, ...],
                                stride: tuple[int, ...], padding: tuple[int, ...], dilation: tuple[int, ...],
                                groups: int) -> TensorType:
    op = "conv_backward_weight"
    nd = len(weight_size)
    expect_rank(op, "input", x, (nd + 1, nd + 2), "(N, C_in, *spatial)")
    if g.rank != x.rank or (x.rank == nd + 2 and known(x.shape[0], g.shape[0]) and x.shape[0] != g.shape[0]):
        raise OpError(op, f"grad_output shape {shape_text(g.shape)} does not match input shape {shape_text(x.shape)} "
                          f"(same rank and batch size expected)")
    channels, out_channels = x.shape[x.rank - nd - 1], g.shape[g.rank - nd - 1]
    _check_grad_groups(op, "input channels", channels, groups)
    _check_grad_groups(op, "output channels", out_channels, groups)
    per_group = derived_dim("groups", (channels, groups), operator.floordiv)
    return TensorType(x.dtype, (out_channels, per_group, *weight_size))


def _as_2d(nd: int, *values: Any) -> list[tuple[int, int]]:
    """Reference helper: ints / tuples of ``nd`` entries as pairs (1-D adds a leading axis of size 1)."""
    pairs = []
    for value, fill in zip(values, (1, 1, 0, 1)):
        items = (value,) * nd if isinstance(value, int) else tuple(value)
        pairs.append((fill, items[0]) if nd == 1 else (items[0], items[1]))
    return pairs


def _conv_backward_input_reference(g: np.ndarray, w: np.ndarray, input_size: Any, stride: Any = 1,
                                   padding: Any = 0, dilation: Any = 1, groups: int = 1) -> np.ndarray:
    nd = w.ndim - 2
    size, s, p, d = _as_2d(nd, input_size, stride, padding, dilation)
    if nd == 1:
        g, w = g[..., None, :], w[:, :, None, :]
    unbatched = g.ndim == 3
    g = g[None] if unbatched else g
    out_channels, per_group, kh, kw = w.shape
    out = np.zeros((g.shape[0], per_group * groups, *size))
    for o in range(out_channels):
        group = slice((o // (out_channels // groups)) * per_group, (o // (out_channels // groups) + 1) * per_group)
        for i, j, ki, kj in np.ndindex(g.shape[2], g.shape[3], kh, kw):
            row, col = i * s[0] - p[0] + ki * d[0], j * s[1] - p[1] + kj * d[1]
            if 0 <= row < size[0] and 0 <= col < size[1]:
                out[:, group, row, col] += g[:, o, i, j, None] * w[o, :, ki, kj]
    out = out[0] if unbatched else out
    return out[..., 0, :] if nd == 1 else out


def _conv_backward_weight_reference(x: np.ndarray, g: np.ndarray, weight_size: Any, stride: Any = 1,
                                    padding: Any = 0, dilation: Any = 1, groups: int = 1) -> np.ndarray:
    nd = len(weight_size)
    k, s, p, d = _as_2d(nd, weight_size, stride, padding, dilation)
    if nd == 1:
        x, g = x[..., None, :], g[..., None, :]
    if x.ndim == 3:
        x, g = x[None], g[None]
    out_channels, channels = g.shape[1], x.shape[1]
    per_group = channels // groups
    out = np.zeros((out_channels, per_group, *k))
    for o in range(out_channels):
        first = (o // (out_channels // groups)) * per_group
        for i, j, ki, kj in np.ndindex(g.shape[2], g.shape[3], *k):
            row, col = i * s[0] - p[0] + ki * d[0], j * s[1] - p[1] + kj * d[1]
            if 0 <= row < x.shape[2] and 0 <= col < x.shape[3]:
                out[o, :, ki, kj] += np.sum(g[:, o, i, j, None] * x[:, first:first + per_group, row, col], axis=0)
    return out[:, :, 0, :] if nd == 1 else out


def _conv_backward_input_samples(dtype: dt.DType) -> Iterable[Sample]:
    a = _rng_arrays(dtype, 31)
    return [
        Sample((a(2, 4, 3, 3), a(4, 3, 3, 3)), {"input_size": (5, 5)}),
        Sample((a(1, 3, 3, 4), a(3, 2, 3, 3)), {"input_size": (6, 7), "stride": 2, "padding": 1}),
        Sample((a(1, 2, 5, 9), a(2, 2, 3, 2)), {"input_size": (7, 7), "dilation": 2, "padding": (1, 2)}),
        Sample((a(2, 6, 2, 3), a(6, 2, 3, 2)), {"input_size": (5, 4), "groups": 2, "stride": (2, 1)}, note="groups"),
        Sample((a(1, 2, 2, 2), a(2, 1, 3, 3)), {"input_size": (6, 6), "stride": 2}, note="rows no window reaches"),
        Sample((a(1, 2, 4, 3), a(2, 2, 3, 3)), {"input_size": (5, 6), "stride": 2, "padding": 1},
               note="windows past the input's end"),
        Sample((a(2, 4, 5), a(4, 3, 3)), {"input_size": (7,)}, note="1-D"),
        Sample((a(1, 4, 5), a(4, 1, 2)), {"input_size": 9, "stride": 2, "padding": 1, "dilation": 2, "groups": 2},
               note="1-D, strided, dilated, groups"),
        Sample((a(2, 3, 3), a(2, 3, 3, 3)), {"input_size": (5, 5)}, note="unbatched"),
        Sample((a(2, 5, 4, 4), a(5, 3, 1, 1)), {"input_size": (4, 4)}, note="1x1"),
        Sample((a(0, 2, 2, 2), a(2, 3, 3, 3)), {"input_size": (4, 4)}, note="empty batch"),
        Sample((a(5, 6, 2, 4), a(6, 2, 3, 2)), {"input_size": (4, 3), "groups": 2, "stride": (2, 1), "padding": 1},
               note="batch-last layout"),
    ]


def _conv_backward_weight_samples(dtype: dt.DType) -> Iterable[Sample]:
    a = _rng_arrays(dtype, 32)
    return [
        Sample((a(2, 3, 5, 5), a(2, 4, 3, 3)), {"weight_size": (3, 3)}),
        Sample((a(1, 2, 6, 7), a(1, 3, 3, 4)), {"weight_size": (3, 3), "stride": 2, "padding": 1}),
        Sample((a(1, 2, 7, 7), a(1, 2, 5, 9)), {"weight_size": (3, 2), "dilation": 2, "padding": (1, 2)}),
        Sample((a(2, 4, 5, 4), a(2, 6, 2, 3)), {"weight_size": (3, 2), "groups": 2, "stride": (2, 1)}, note="groups"),
        Sample((a(1, 1, 6, 6), a(1, 2, 2, 2)), {"weight_size": [3, 3], "stride": 2}, note="rows no window reaches"),
        Sample((a(1, 2, 6, 5), a(1, 2, 3, 3)), {"weight_size": (3, 3), "stride": 2, "padding": 1},
               note="transposed-conv shape (windows past the input)"),
        Sample((a(2, 3, 7), a(2, 4, 5)), {"weight_size": (3,)}, note="1-D"),
        Sample((a(1, 2, 9), a(1, 4, 5)), {"weight_size": (2,), "stride": 2, "padding": 1, "dilation": 2, "groups": 2},
               note="1-D, strided, dilated, groups"),
        Sample((a(3, 5, 5), a(2, 3, 3)), {"weight_size": (3, 3)}, note="unbatched"),
        Sample((a(2, 3, 4, 4), a(2, 5, 4, 4)), {"weight_size": (1, 1)}, note="1x1"),
        Sample((a(0, 3, 4, 4), a(0, 2, 2, 2)), {"weight_size": (3, 3)}, note="empty batch"),
        Sample((a(5, 4, 4, 3), a(5, 6, 2, 4)), {"weight_size": (3, 2), "groups": 2, "stride": (2, 1), "padding": 1},
               note="batch-last layout"),
    ]


_GRAD_ATTRS = (("stride", (1, 1)), ("padding", (0, 0)), ("dilation", (1, 1)), ("groups", 1))
_CONV_BACKWARD_INPUT = register_op(OpDef(
    name="conv_backward_input", group="nn", inputs=("grad_output", "weight"), infer=_conv_backward_input_infer,
    reference=_conv_backward_input_reference, attrs=(("input_size", (1, 1)), *_GRAD_ATTRS), dtypes=FLOATS,
    promote=(0, 1), samples=_conv_backward_input_samples, vjp=_conv_backward_input_vjp,
    doc="Gradient of conv1d / conv2d with respect to the input (a transposed convolution cropped to input_size): "
        "out[n, c, h] = sum of grad_output[n, o, i] * weight[o, c', k] over h = i * stride - padding + k * dilation."))
_CONV_BACKWARD_WEIGHT = register_op(OpDef(
    name="conv_backward_weight", group="nn", inputs=("input", "grad_output"), infer=_conv_backward_weight_infer,
    reference=_conv_backward_weight_reference, attrs=(("weight_size", (1, 1)), *_GRAD_ATTRS), dtypes=FLOATS,
    promote=(0, 1), samples=_conv_backward_weight_samples, vjp=_conv_backward_weight_vjp,
    doc="Gradient of conv1d / conv2d with respect to the weight: out[o, c', k] = sum over n, i of "
        "grad_output[n, o, i] * input[n, c, i * stride - padding + k * dilation] (0 outside the input)."))


def _grad_attrs(op: str, nd: int, stride: Any, padding: Any, dilation: Any, groups: Any) -> dict[str, Any]:
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise OpError(op, f"groups must be a positive int, got {groups!r}")
    return {"stride": int_tuple(op, "stride", stride, nd, minimum=1), "padding": int_tuple(op, "padding", padding, nd),
            "dilation": int_tuple(op, "dilation", dilation, nd, minimum=1), "groups": int(groups)}


def conv_backward_input(grad_output: Any, weight: Any, input_size: Any, stride: Any = 1, padding: Any = 0,
                        dilation: Any = 1, groups: int = 1) -> Any:
    """Gradient of ``conv1d`` / ``conv2d`` with respect to their input (a mycelia extension, used by autograd).

    ``weight`` is the convolution's weight (C_out, C_in / groups, *kernel); ``input_size`` the input's spatial
    size; ``padding`` the leading padding per spatial dim (windows start at ``i * stride - padding``).
    """
    op = "conv_backward_input"
    w = require_tensor(op, "weight", weight)
    nd = w.ndim - 2
    if nd not in (1, 2):
        raise OpError(op, f"weight must be 3-D or 4-D (C_out, C_in / groups, *kernel), got shape {shape_text(w.shape)}")
    attrs = {"input_size": int_tuple(op, "input_size", input_size, nd, minimum=1),
             **_grad_attrs(op, nd, stride, padding, dilation, groups)}
    return _dispatch.apply(_CONV_BACKWARD_INPUT, (grad_output, w), attrs)


def conv_backward_weight(input: Any, grad_output: Any, weight_size: Any, stride: Any = 1, padding: Any = 0,
                         dilation: Any = 1, groups: int = 1) -> Any:
    """Gradient of ``conv1d`` / ``conv2d`` with respect to their weight (a mycelia extension, used by autograd).

    ``weight_size`` is the kernel's spatial size, a tuple of 1 or 2 ints (it sets the dimensionality);
    ``padding`` the leading padding per spatial dim. Returns shape (C_out, C_in / groups, *weight_size).
    """
    op = "conv_backward_weight"
    if not isinstance(weight_size, (tuple, list)) or len(weight_size) not in (1, 2):
        raise OpError(op, f"weight_size must be a tuple of 1 or 2 ints (the kernel size), got {weight_size!r}")
    nd = len(weight_size)
    attrs = {"weight_size": int_tuple(op, "weight_size", tuple(weight_size), nd, minimum=1),
             **_grad_attrs(op, nd, stride, padding, dilation, groups)}
    return _dispatch.apply(_CONV_BACKWARD_WEIGHT, (input, grad_output), attrs)
