"""CPU kernels: normalization (statistics and math in float32 for float16/bfloat16 inputs)."""

from __future__ import annotations

import numpy as np

from mycelia.backends import Kernel
from mycelia_backend_cpu._kernels.nn_conv import work

__all__ = ["KERNELS"]


def _normalize_rows(rows: np.ndarray, eps: float) -> np.ndarray:
    """(rows - mean) / sqrt(var + eps) along the last axis, into a fresh array (biased variance)."""
    mean = rows.mean(axis=-1, keepdims=True) if rows.shape[-1] else np.zeros((*rows.shape[:-1], 1), rows.dtype)
    centered: np.ndarray = rows - mean
    if rows.shape[-1]:
        var = np.einsum("...i,...i->...", centered, centered)[..., None]
        var /= rows.shape[-1]
    else:
        var = np.zeros_like(mean)
    var += eps
    np.sqrt(var, out=var)
    centered /= var
    return centered


def _batch_norm(x: np.ndarray, running_mean: np.ndarray, running_var: np.ndarray, weight: np.ndarray | None = None,
                bias: np.ndarray | None = None, *, training: bool, momentum: float,
                eps: float) -> np.ndarray | tuple[np.ndarray, ...]:
    xw = work(x)
    channels = x.shape[1]
    shape = (1, channels) + (1,) * (x.ndim - 2)
    rm, rv = work(running_mean), work(running_var)
    scale = np.ones(channels, dtype=xw.dtype) if weight is None else work(weight).astype(xw.dtype, copy=True)
    if training:
        axes = (0, *range(2, x.ndim))
        count = x.size // channels if channels else 0
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = xw.sum(axis=axes) / count if count else np.full(channels, np.nan, dtype=xw.dtype)
            out = xw - mean.reshape(shape)
            # per-channel sum of squares without a temporary the size of the input
            flat = out.reshape(x.shape[0], channels, -1) if count else out
            var = np.einsum("ncl,ncl->c", flat, flat) / count if count else np.full(channels, np.nan, dtype=xw.dtype)
        scale /= np.sqrt(var + eps)
        out *= scale.reshape(shape)
        if bias is not None:
            out += work(bias).reshape(shape)
        new_mean = rm * (1.0 - momentum) + mean * momentum
        new_var = rv * (1.0 - momentum) + var * momentum
        return out, new_mean, new_var
    scale /= np.sqrt(rv + eps)
    shift = -rm * scale
    if bias is not None:
        shift += work(bias)
    out = xw * scale.reshape(shape)
    out += shift.reshape(shape)
    return out


def _layer_norm(x: np.ndarray, weight: np.ndarray | None = None, bias: np.ndarray | None = None, *,
                normalized_shape: tuple[int, ...], eps: float) -> np.ndarray:
    size = int(np.prod(normalized_shape, dtype=np.int64))
    xw = work(x)
    out = _normalize_rows(xw.reshape(-1, size) if x.size else xw.reshape(0, size), eps).reshape(x.shape)
    if weight is not None:
        out *= work(weight)
    if bias is not None:
        out += work(bias)
    return out


def _group_norm(x: np.ndarray, weight: np.ndarray | None = None, bias: np.ndarray | None = None, *,
                num_groups: int, eps: float) -> np.ndarray:
    n, channels = x.shape[:2]
    spatial = int(np.prod(x.shape[2:], dtype=np.int64))
    xw = work(x)
    out = _normalize_rows(xw.reshape(n, num_groups, (channels // num_groups) * spatial), eps).reshape(x.shape)
    shape = (1, channels) + (1,) * (x.ndim - 2)
    if weight is not None:
        out *= work(weight).reshape(shape)
    if bias is not None:
        out += work(bias).reshape(shape)
    return out


KERNELS: dict[str, Kernel] = {
    "batch_norm": _batch_norm,
    "group_norm": _group_norm,
    "layer_norm": _layer_norm,
}
