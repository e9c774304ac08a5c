"""Normalization: batch_norm (updates running stats in place when training), layer_norm, group_norm."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._errors import OpError
from mycelia._tensor import Tensor
from mycelia._types import TensorType
from mycelia.ops import _dispatch
from mycelia.ops._define import FLOATS
from mycelia.ops._nn_util import (
    check_float,
    expect_vector,
    int_tuple,
    known,
    require_tensor,
    sample_array,
    shape_text,
    sum_except,
)
from mycelia.ops._registry import OpDef, Sample, register_op

__all__ = ["batch_norm", "group_norm", "layer_norm"]


def _ones(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Ones on ``x``'s backend, standing in for an omitted weight when a bias is given."""
    return Tensor._make(x._backend.from_numpy(np.ones(shape, dtype=x._dtype.numpy)), x._dtype, x._backend)


def _affine_args(x: Tensor, weight: Any, bias: Any, shape: tuple[int, ...]) -> tuple[Any, ...]:
    if weight is None and bias is not None:
        weight = _ones(x, shape)
    return tuple(t for t in (weight, bias) if t is not None)


def _rng_arrays(dtype: dt.DType, seed: int) -> Any:
    rng = np.random.default_rng(seed)

    def array(*shape: int, low: float = -2.0, high: float = 2.0) -> np.ndarray:
        return sample_array(shape, dtype, rng, low, high)

    return array


def _check_parameter(op: str, name: str, t: TensorType | None) -> None:
    """Statistics and affine parameters keep their own float dtype (float32 parameters with a float16
    input give a float16 output, as MindSpore's mixed-precision normalization)."""
    if t is not None and not t.dtype.is_floating_point:
        raise OpError(op, f"{name} must be a floating-point tensor, got {t.dtype}")


# -- batch_norm -----------------------------------------------------------------------------------
def _batch_norm_infer(x: TensorType, mean: TensorType, var: TensorType, w: TensorType | None = None,
                      b: TensorType | None = None, *, training: bool, momentum: float, eps: float) -> Any:
    op = "batch_norm"
    if x.rank < 2:
        raise OpError(op, f"input_x must be (N, C, *) with rank >= 2, got shape {shape_text(x.shape)}")
    channels = x.shape[1]
    for name, t in (("running_mean", mean), ("running_var", var), ("weight", w), ("bias", b)):
        _check_parameter(op, name, t)
        expect_vector(op, name, t, channels)
    out = TensorType(x.dtype, x.shape)
    if training:
        return out, TensorType(mean.dtype, (channels,)), TensorType(var.dtype, (channels,))
    return out


def _batch_norm_reference(x: np.ndarray, running_mean: np.ndarray, running_var: np.ndarray,
                          weight: np.ndarray | None = None, bias: np.ndarray | None = None, training: bool = False,
                          momentum: float = 0.1, eps: float = 1e-5) -> np.ndarray:
    channels = x.shape[1]
    out = np.empty(x.shape)
    for c in range(channels):
        values = x[:, c]
        if training:
            mean, var = values.mean(), ((values - values.mean()) ** 2).mean()
        else:
            mean, var = running_mean[c], running_var[c]
        scale = 1.0 if weight is None else weight[c]
        shift = 0.0 if bias is None else bias[c]
        out[:, c] = (values - mean) / np.sqrt(var + eps) * scale + shift
    return out


def _batch_norm_samples(dtype: dt.DType) -> Iterable[Sample]:
    a = _rng_arrays(dtype, 7)
    return [
        Sample((a(4, 3), a(3), a(3, low=0.5), a(3), a(3))),
        Sample((a(2, 3, 4, 5), a(3), a(3, low=0.5), a(3), a(3)), {"training": True}),
        Sample((a(2, 3, 4, 5), a(3), a(3, low=0.5), a(3), a(3)), {"training": True, "momentum": 0.3, "eps": 1e-3}),
        Sample((a(2, 3, 4), a(3), a(3, low=0.5)), {"eps": 1e-2}, note="no affine"),
        Sample((a(3, 2, 2, 2, 2), a(2), a(2, low=0.5), a(2), a(2)), {"training": True}, note="rank 5"),
        Sample((a(0, 3), a(3), a(3, low=0.5), a(3), a(3)), note="empty batch, inference"),
    ]


def _normalized(x: Any, axes: tuple[int, ...], eps: float) -> tuple[Any, Any, Any]:
    """(x - mean, 1 / sqrt(var + eps), normalized x) over ``axes`` (kept), biased variance, in mycelia ops."""
    from mycelia import ops

    centered = x - ops.mean(x, axes, True)
    rstd = ops.rsqrt(ops.mean(centered * centered, axes, True) + eps)
    return centered, rstd, centered * rstd


def _normalization_grad(grad: Any, xhat: Any, rstd: Any, axes: tuple[int, ...]) -> Any:
    """d/dx of normalize(x) (batch statistics over ``axes``) applied to ``grad`` (the gradient at x-hat)."""
    from mycelia import ops

    return rstd * (grad - ops.mean(grad, axes, True) - xhat * ops.mean(grad * xhat, axes, True))


def _batch_norm_vjp(ctx: Any, grad: Any) -> tuple[Any, ...]:
    from mycelia import ops

    x, mean, var = ctx.inputs[:3]
    weight = ctx.inputs[3] if len(ctx.inputs) > 3 else None
    attrs = ctx.attrs
    axes = (0, *range(2, x.ndim))
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    scale = None if weight is None else ops.reshape(weight, shape)
    grads: list[Any] = [None] * len(ctx.inputs)
    if not attrs["training"]:
        rstd = ops.rsqrt(ops.reshape(var, shape) + attrs["eps"])
        xhat = (x - ops.reshape(mean, shape)) * rstd
        factor = rstd if scale is None else rstd * scale
        grads[0] = grad * factor
        grads[1] = -sum_except(grad * factor, 1)
        grads[2] = sum_except(grad * xhat * factor * rstd, 1) * -0.5
    else:
        grad, grad_mean, grad_var = grad
        centered, rstd, xhat = _normalized(x, axes, attrs["eps"])
        momentum, count = attrs["momentum"], x.size // x.shape[1] if x.shape[1] else 0
        total = None
        if grad is not None:
            total = _normalization_grad(grad if scale is None else grad * scale, xhat, rstd, axes)
        if grad_mean is not None:  # running_mean' = (1 - momentum) * running_mean + momentum * batch mean
            grads[1] = grad_mean * (1.0 - momentum)
            term = ops.reshape(grad_mean, shape) * (momentum / count)
            total = term if total is None else total + term
        if grad_var is not None:  # running_var' = (1 - momentum) * running_var + momentum * biased batch var
            grads[2] = grad_var * (1.0 - momentum)
            term = ops.reshape(grad_var, shape) * centered * (2.0 * momentum / count)
            total = term if total is None else total + term
        grads[0] = total
        if grad is None:
            return tuple(grads)
    if len(ctx.inputs) > 3:
        grads[3] = sum_except(grad * xhat, 1)
    if len(ctx.inputs) > 4:
        grads[4] = sum_except(grad, 1)
    return tuple(grads)


_BATCH_NORM = register_op(OpDef(
    name="batch_norm", group="nn", inputs=("input_x", "running_mean", "running_var", "weight", "bias"),
    updated_in_place=(1, 2),
    infer=_batch_norm_infer, reference=_batch_norm_reference,
    attrs=(("training", False), ("momentum", 0.1), ("eps", 1e-5)), dtypes=FLOATS, promote=(0,),
    samples=_batch_norm_samples, vjp=_batch_norm_vjp,
    doc="Batch normalization over (N, C, *). Training: batch statistics; the op's extra outputs are the updated "
        "running mean and variance ((1 - momentum) * running + momentum * batch, with the biased batch variance "
        "as MindSpore's CPU kernel), which ops.batch_norm writes back into running_mean / running_var."))


def _write_back(target: Tensor, value: Tensor) -> None:
    """Replace ``target``'s data by ``value``'s (in-place update with value semantics: arrays are never
    mutated, so other holders of the old array are unaffected)."""
    data = value._data
    if value._dtype is not target._dtype:
        data = target._backend.cast(data, target._dtype)
    target._data = data


def batch_norm(input_x: Any, running_mean: Any, running_var: Any, weight: Any = None, bias: Any = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Any:
    """Batch normalization (MindSpore ``ops.batch_norm``) over (N, C, *), statistics per channel.

    ``training=True`` normalizes with the batch mean and biased variance and updates ``running_mean`` and
    ``running_var`` in place: ``running = (1 - momentum) * running + momentum * batch_stat``.
    ``training=False`` normalizes with the running statistics. ``weight`` / ``bias`` (shape (C,)) may be
    ``None`` (ones / zeros).
    """
    op = "batch_norm"
    x = require_tensor(op, "input_x", input_x)
    mean = require_tensor(op, "running_mean", running_mean)
    var = require_tensor(op, "running_var", running_var)
    if not isinstance(training, (bool, np.bool_)):
        raise OpError(op, f"training must be a bool, got {type(training).__name__}")
    attrs = {"training": bool(training), "momentum": check_float(op, "momentum", momentum, minimum=0.0, maximum=1.0),
             "eps": check_float(op, "eps", eps, minimum=0.0, open_minimum=True)}
    channels = x.shape[1] if x.ndim >= 2 else 0
    result = _dispatch.apply(_BATCH_NORM, (x, mean, var, *_affine_args(x, weight, bias, (channels,))), attrs)
    if not training:
        return result
    out, new_mean, new_var = result
    _write_back(mean, new_mean)
    _write_back(var, new_var)
    return out


# -- layer_norm -----------------------------------------------------------------------------------
def _layer_norm_infer(x: TensorType, w: TensorType | None = None, b: TensorType | None = None, *,
                      normalized_shape: tuple[int, ...], eps: float) -> TensorType:
    op = "layer_norm"
    count = len(normalized_shape)
    tail = x.shape[x.rank - count:] if count else ()
    if count > x.rank or (known(*tail) and tail != normalized_shape):
        raise OpError(op, f"normalized_shape {list(normalized_shape)} must match the last dims of the input, "
                          f"got input shape {shape_text(x.shape)}")
    for name, t in (("weight", w), ("bias", b)):
        _check_parameter(op, name, t)
        if t is not None and known(*t.shape) and t.shape != normalized_shape:
            raise OpError(op, f"{name} must have shape {list(normalized_shape)}, got {shape_text(t.shape)}")
    return TensorType(x.dtype, x.shape)


def _layer_norm_reference(x: np.ndarray, w: np.ndarray | None = None, b: np.ndarray | None = None, *,
                          normalized_shape: Any, eps: float = 1e-5) -> np.ndarray:
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    rows = x.reshape(-1, int(np.prod(shape))) if x.size else x.reshape(0, int(np.prod(shape)))
    normalized = np.empty(rows.shape)
    for i, row in enumerate(rows):
        normalized[i] = (row - row.mean()) / np.sqrt(((row - row.mean()) ** 2).mean() + eps)
    out: np.ndarray = normalized.reshape(x.shape)
    if w is not None:
        out = out * w
    if b is not None:
        out = out + b
    return out


def _call_layer_norm(x: Any, *affine: Any, normalized_shape: Any, **attrs: Any) -> Any:
    from mycelia import ops

    return ops.layer_norm(x, normalized_shape, *affine, **attrs)


def _layer_norm_samples(dtype: dt.DType) -> Iterable[Sample]:
    a = _rng_arrays(dtype, 8)
    call = _call_layer_norm
    return [
        Sample((a(2, 3, 4), a(4), a(4)), {"normalized_shape": (4,)}, call=call),
        Sample((a(2, 3, 4), a(3, 4), a(3, 4)), {"normalized_shape": [3, 4], "eps": 1e-3}, call=call),
        Sample((a(5, 6),), {"normalized_shape": 6}, call=call, note="no affine"),
        Sample((a(2, 1, 3, 1, 2), a(1, 2)), {"normalized_shape": (1, 2)}, call=call, note="rank 5, weight only"),
        Sample((a(0, 4), a(4), a(4)), {"normalized_shape": (4,)}, call=call, note="empty batch"),
    ]


def _layer_norm_vjp(ctx: Any, grad: Any) -> tuple[Any, ...]:
    x = ctx.inputs[0]
    axes = tuple(range(x.ndim - len(ctx.attrs["normalized_shape"]), x.ndim))
    if not axes:  # every element normalized alone: x-hat is 0 (and mean over no axes would mean over all)
        zero = grad * 0.0
        return (zero, zero, grad)[:len(ctx.inputs)]
    _, rstd, xhat = _normalized(x, axes, ctx.attrs["eps"])
    weighted = grad if len(ctx.inputs) == 1 else grad * ctx.inputs[1]
    grads = [_normalization_grad(weighted, xhat, rstd, axes), grad * xhat, grad]
    return tuple(grads[:len(ctx.inputs)])  # the engine sums weight / bias gradients over the leading axes


_LAYER_NORM = register_op(OpDef(
    name="layer_norm", group="nn", inputs=("input", "weight", "bias"), infer=_layer_norm_infer,
    reference=_layer_norm_reference, attrs=(("normalized_shape", ()), ("eps", 1e-5)), dtypes=FLOATS,
    promote=(0,), samples=_layer_norm_samples, vjp=_layer_norm_vjp,
    doc="Layer normalization over the trailing normalized_shape dims (biased variance)."))


def layer_norm(input: Any, normalized_shape: Any, weight: Any = None, bias: Any = None, eps: float = 1e-5) -> Any:
    """Layer normalization (MindSpore ``ops.layer_norm``) over the last ``len(normalized_shape)`` dims;
    ``weight`` / ``bias`` have shape ``normalized_shape``."""
    op = "layer_norm"
    x = require_tensor(op, "input", input)
    if isinstance(normalized_shape, (int, np.integer)) and not isinstance(normalized_shape, bool):
        shape: tuple[int, ...] = (int(normalized_shape),)
    elif isinstance(normalized_shape, (tuple, list)):
        shape = int_tuple(op, "normalized_shape", tuple(normalized_shape), len(normalized_shape)) \
            if normalized_shape else ()
    else:
        raise OpError(op, f"normalized_shape must be an int or a tuple/list of ints, got {normalized_shape!r}")
    attrs = {"normalized_shape": shape, "eps": check_float(op, "eps", eps, minimum=0.0, open_minimum=True)}
    return _dispatch.apply(_LAYER_NORM, (x, *_affine_args(x, weight, bias, shape)), attrs)


# -- group_norm -----------------------------------------------------------------------------------
def _group_norm_infer(x: TensorType, w: TensorType | None = None, b: TensorType | None = None, *,
                      num_groups: int, eps: float) -> TensorType:
    op = "group_norm"
    if x.rank < 2:
        raise OpError(op, f"input must be (N, C, *) with rank >= 2, got shape {shape_text(x.shape)}")
    channels = x.shape[1]
    if isinstance(channels, int) and channels % num_groups:
        raise OpError(op, f"the channel dim ({channels}) must be divisible by num_groups ({num_groups})")
    for name, t in (("weight", w), ("bias", b)):
        _check_parameter(op, name, t)
        expect_vector(op, name, t, channels)
    return TensorType(x.dtype, x.shape)


def _group_norm_reference(x: np.ndarray, w: np.ndarray | None = None, b: np.ndarray | None = None, *,
                          num_groups: int, eps: float = 1e-5) -> np.ndarray:
    n_batch, channels = x.shape[:2]
    size = channels // num_groups
    out = np.empty(x.shape)
    for n in range(n_batch):
        for g in range(num_groups):
            block = x[n, g * size:(g + 1) * size]
            out[n, g * size:(g + 1) * size] = (block - block.mean()) / np.sqrt(block.var() + eps)
    channel_shape = (1, channels) + (1,) * (x.ndim - 2)
    if w is not None:
        out = out * w.reshape(channel_shape)
    if b is not None:
        out = out + b.reshape(channel_shape)
    return out


def _call_group_norm(x: Any, *affine: Any, num_groups: int, **attrs: Any) -> Any:
    from mycelia import ops

    return ops.group_norm(x, num_groups, *affine, **attrs)


def _group_norm_samples(dtype: dt.DType) -> Iterable[Sample]:
    a = _rng_arrays(dtype, 9)
    call = _call_group_norm
    return [
        Sample((a(2, 4, 3, 3), a(4), a(4)), {"num_groups": 2}, call=call),
        Sample((a(2, 6, 5), a(6), a(6)), {"num_groups": 3, "eps": 1e-3}, call=call),
        Sample((a(3, 4),), {"num_groups": 4}, call=call, note="no spatial dims, no affine"),
        Sample((a(1, 4, 2, 2, 2), a(4)), {"num_groups": 1}, call=call, note="rank 5, one group"),
        Sample((a(0, 4, 3), a(4), a(4)), {"num_groups": 2}, call=call, note="empty batch"),
    ]


def _group_norm_vjp(ctx: Any, grad: Any) -> tuple[Any, ...]:
    from mycelia import ops

    x = ctx.inputs[0]
    groups = ctx.attrs["num_groups"]
    grouped = (x.shape[0], groups, x.size // x.shape[0] // groups if x.shape[0] else 0)
    channel_shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    _, rstd, xhat = _normalized(ops.reshape(x, grouped), (2,), ctx.attrs["eps"])
    weighted = grad if len(ctx.inputs) == 1 else grad * ops.reshape(ctx.inputs[1], channel_shape)
    grads = [ops.reshape(_normalization_grad(ops.reshape(weighted, grouped), xhat, rstd, (2,)), x.shape)]
    if len(ctx.inputs) > 1:
        grads.append(sum_except(grad * ops.reshape(xhat, x.shape), 1))
    if len(ctx.inputs) > 2:
        grads.append(sum_except(grad, 1))
    return tuple(grads)


_GROUP_NORM = register_op(OpDef(
    name="group_norm", group="nn", inputs=("input", "weight", "bias"), infer=_group_norm_infer,
    reference=_group_norm_reference, attrs=(("num_groups", 1), ("eps", 1e-5)), dtypes=FLOATS, promote=(0,),
    samples=_group_norm_samples, vjp=_group_norm_vjp,
    doc="Group normalization over (N, C, *): statistics per (sample, group of C / num_groups channels)."))


def group_norm(input: Any, num_groups: int, weight: Any = None, bias: Any = None, eps: float = 1e-5) -> Any:
    """Group normalization (MindSpore ``ops.group_norm``); ``weight`` / ``bias`` have shape (C,)."""
    op = "group_norm"
    x = require_tensor(op, "input", input)
    if isinstance(num_groups, bool) or not isinstance(num_groups, (int, np.integer)) or num_groups < 1:
        raise OpError(op, f"num_groups must be a positive int, got {num_groups!r}")
    attrs = {"num_groups": int(num_groups), "eps": check_float(op, "eps", eps, minimum=0.0, open_minimum=True)}
    channels = x.shape[1] if x.ndim >= 2 else 0
    return _dispatch.apply(_GROUP_NORM, (x, *_affine_args(x, weight, bias, (channels,))), attrs)
