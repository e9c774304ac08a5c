"""CPU kernels: nn ops (dropout, embedding, interpolate here; convolutions, pooling and normalization in
``nn_conv``, ``nn_pool`` and ``nn_norm``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mycelia.backends import Kernel
from mycelia_backend_cpu._kernels import nn_conv, nn_norm, nn_pool
from mycelia_backend_cpu._kernels.nn_conv import work

__all__ = ["KERNELS"]


def _dropout(x: np.ndarray, *, p: float, seed: int, offset: int) -> np.ndarray:
    if p >= 1.0:
        return np.zeros(x.shape, dtype=x.dtype)
    # the raw Philox words w[0..n) (integers over the full uint64 range returns them unchanged, and is
    # faster than random_raw)
    generator = np.random.Generator(np.random.Philox(key=seed, counter=offset << 192))
    words = generator.integers(0, 2 ** 64, size=x.size, dtype=np.uint64)
    # keep where (w >> 11) * 2**-53 >= p, i.e. (w >> 11) >= ceil(p * 2**53): integer compare, no float temp
    words >>= np.uint64(11)
    keep = words >= np.uint64(math.ceil(p * 2.0 ** 53))
    out: np.ndarray = work(x) * keep.reshape(x.shape)
    out *= 1.0 / (1.0 - p)
    return out


def _embedding(indices: np.ndarray, weight: np.ndarray, *, max_norm: float | None, norm_type: float,
               padding_idx: int | None = None,
               scale_grad_by_freq: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    rows = weight.shape[0]
    if indices.size:
        low, high = int(indices.min()), int(indices.max())
        if low < 0 or high >= rows:
            bad = low if low < 0 else high
            raise ValueError(f"index {bad} is out of range [0, {rows})")
    if max_norm is None:
        return np.take(weight, indices, axis=0)  # type: ignore[no-any-return]
    used = np.unique(indices)
    selected = work(weight[used])
    norms = np.sum(np.abs(selected) ** norm_type, axis=1) ** (1.0 / norm_type)
    factor = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(selected.dtype)
    renormed = weight.copy()
    renormed[used] = (selected * factor[:, None]).astype(weight.dtype)
    return np.take(renormed, indices, axis=0), renormed  # type: ignore[no-any-return]


def _nearest_index(in_size: int, out_size: int, scale: float | None) -> np.ndarray:
    step = in_size / out_size if scale is None else scale
    index: np.ndarray = np.minimum(np.floor(np.arange(out_size) * step).astype(np.int64), in_size - 1)
    return index


def _linear_weights(in_size: int, out_size: int, align_corners: bool,
                    scale: float | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    positions = np.arange(out_size, dtype=np.float64)
    if align_corners:
        source = positions * ((in_size - 1) / (out_size - 1)) if out_size > 1 else np.zeros(out_size)
    else:
        step = in_size / out_size if scale is None else scale
        source = np.maximum((positions + 0.5) * step - 0.5, 0.0)
    low = np.minimum(np.floor(source).astype(np.int64), in_size - 1)
    high = np.minimum(low + 1, in_size - 1)
    return low, high, source - low


def _interpolate(x: np.ndarray, *, size: tuple[int, ...], mode: str, align_corners: bool,
                 scales: tuple[float | None, ...]) -> np.ndarray:
    spatial = x.shape[2:]
    if mode == "nearest":
        out = x
        for axis, (n, o, s) in enumerate(zip(spatial, size, scales)):
            out = np.take(out, _nearest_index(n, o, s), axis=2 + axis)  # one axis at a time: faster than np.ix_
        return out
    out = work(x)
    # linear modes are separable: interpolate one spatial axis at a time
    for axis, (n, o, s) in enumerate(zip(spatial, size, scales)):
        low, high, frac = _linear_weights(n, o, align_corners, s)
        shape = (o,) + (1,) * (len(spatial) - axis - 1)
        weight = frac.astype(out.dtype).reshape(shape)
        lower = np.take(out, low, axis=2 + axis)
        upper = np.take(out, high, axis=2 + axis)
        upper -= lower
        upper *= weight
        lower += upper
        out = lower
    return out


def _scatter_sorted(values: np.ndarray, index: np.ndarray, size: int, axis: int) -> np.ndarray:
    """out[..., k, ...] = sum of values[..., o, ...] over o with index[o] == k (index nondecreasing)."""
    starts = np.flatnonzero(np.concatenate(([True], index[1:] != index[:-1])))
    shape = list(values.shape)
    shape[axis] = size
    out = np.zeros(shape, dtype=values.dtype)
    where: list[Any] = [slice(None)] * values.ndim
    where[axis] = index[starts]
    out[tuple(where)] = np.add.reduceat(values, starts, axis=axis) if values.size else 0
    return out


def _interpolate_backward(g: np.ndarray, *, input_size: tuple[int, ...], mode: str, align_corners: bool,
                          scales: tuple[float | None, ...]) -> np.ndarray:
    out = work(g)
    for axis, (n, s) in enumerate(zip(input_size, scales)):
        o = out.shape[2 + axis]
        if mode == "nearest":
            out = _scatter_sorted(out, _nearest_index(n, o, s), n, 2 + axis)
            continue
        low, high, frac = _linear_weights(n, o, align_corners, s)
        weight = frac.astype(out.dtype).reshape((o,) + (1,) * (len(input_size) - axis - 1))
        upper = out * weight
        lower = out - upper
        out = _scatter_sorted(lower, low, n, 2 + axis)
        out += _scatter_sorted(upper, high, n, 2 + axis)
    return out


KERNELS: dict[str, Kernel] = {
    "dropout": _dropout,
    "embedding": _embedding,
    "interpolate": _interpolate,
    "interpolate_backward": _interpolate_backward,
    **nn_conv.KERNELS,
    **nn_norm.KERNELS,
    **nn_pool.KERNELS,
}
