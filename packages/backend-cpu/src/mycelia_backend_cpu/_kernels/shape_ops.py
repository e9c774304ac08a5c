"""CPU kernels: shape and movement ops.

Where numpy gives a view (reshape, transpose, squeeze, expand_dims, flip, broadcast_to, split,
narrow, slice ...) the kernel returns it: no kernel writes into its inputs, and Tensor.__setitem__
copies before it writes, so sharing a buffer is safe and saves a copy of the data.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mycelia.backends import Kernel

__all__ = ["KERNELS"]

_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def cast(x: np.ndarray, *, dtype: Any) -> np.ndarray:
    return x.astype(dtype.numpy)


def reshape(x: np.ndarray, *, shape: tuple[int, ...]) -> np.ndarray:
    return x.reshape(shape)


def transpose(x: np.ndarray, *, input_perm: tuple[int, ...]) -> np.ndarray:
    return x.transpose(input_perm)


def swapaxes(x: np.ndarray, *, axis0: int, axis1: int) -> np.ndarray:
    return x.swapaxes(axis0, axis1)


def squeeze(x: np.ndarray, *, axis: tuple[int, ...] | None) -> np.ndarray:
    if x.ndim == 0:
        return x
    return x.squeeze() if axis is None else x.squeeze(axis)


def expand_dims(x: np.ndarray, *, axis: int) -> np.ndarray:
    return np.expand_dims(x, axis)


def flatten(x: np.ndarray, *, order: str, start_dim: int, end_dim: int) -> np.ndarray:
    if x.ndim <= 1:
        return x.reshape(x.size)
    if order == "F":
        x = x.transpose()
    first, last = start_dim % x.ndim, end_dim % x.ndim
    merged = 1
    for dim in x.shape[first:last + 1]:
        merged *= dim
    return x.reshape((*x.shape[:first], merged, *x.shape[last + 1:]))


def broadcast_to(x: np.ndarray, *, shape: tuple[int, ...]) -> np.ndarray:
    lead = len(shape) - x.ndim
    return np.broadcast_to(x, tuple(x.shape[i - lead] if d == -1 else d for i, d in enumerate(shape)))


def tile(x: np.ndarray, *, dims: tuple[int, ...]) -> np.ndarray:
    return np.tile(x, dims)


def roll(x: np.ndarray, *, shifts: tuple[int, ...], dims: tuple[int, ...] | None) -> np.ndarray:
    if dims is None:
        return np.roll(x, shifts[0])
    return np.roll(x, shifts, axis=dims)


def flip(x: np.ndarray, *, dims: tuple[int, ...]) -> np.ndarray:
    return np.flip(x, dims) if dims else x


def tril(x: np.ndarray, *, diagonal: int) -> np.ndarray:
    return np.tril(x, diagonal)


def triu(x: np.ndarray, *, diagonal: int) -> np.ndarray:
    return np.triu(x, diagonal)


def repeat_interleave(x: np.ndarray, *, repeats: int | tuple[int, ...], axis: int | None) -> np.ndarray:
    if axis is None or x.ndim == 0:
        return np.repeat(x.reshape(-1), repeats)
    return np.repeat(x, repeats, axis=axis)


def _along(x: np.ndarray, axis: int, part: slice) -> np.ndarray:
    return x[(slice(None),) * axis + (part,)]


def narrow(x: np.ndarray, *, axis: int, start: int, length: int) -> np.ndarray:
    axis %= x.ndim
    first = start + x.shape[axis] if start < 0 else start
    return _along(x, axis, slice(first, first + length))


def slice_(x: np.ndarray, *, begin: tuple[int, ...], size: tuple[int, ...]) -> np.ndarray:
    return x[tuple(slice(b, None if s == -1 else b + s) for b, s in zip(begin, size))]


def concat(tensors: list[np.ndarray], *, axis: int) -> np.ndarray:
    return np.concatenate(tensors, axis=axis)


def stack(tensors: list[np.ndarray], *, axis: int) -> np.ndarray:
    return np.stack(tensors, axis=axis)


def _cut(x: np.ndarray, axis: int, size: int) -> tuple[np.ndarray, ...]:
    return tuple(np.split(x, list(range(size, x.shape[axis], size)), axis=axis))


def split(x: np.ndarray, *, split_size_or_sections: int | tuple[int, ...], axis: int) -> tuple[np.ndarray, ...]:
    if isinstance(split_size_or_sections, int):
        return _cut(x, axis, split_size_or_sections)
    bounds = np.cumsum(split_size_or_sections)[:-1]
    return tuple(np.split(x, [int(b) for b in bounds], axis=axis))


def chunk(x: np.ndarray, *, chunks: int, axis: int) -> tuple[np.ndarray, ...]:
    dim = x.shape[axis]
    return _cut(x, axis, max(-(-dim // chunks), 1))


def pad(x: np.ndarray, *, padding: tuple[int, ...], mode: str, value: bool | int | float | None) -> np.ndarray:
    pairs = [(0, 0)] * x.ndim
    for pair in range(len(padding) // 2):
        pairs[x.ndim - 1 - pair] = (padding[2 * pair], padding[2 * pair + 1])
    if mode != "constant":
        return np.pad(x, pairs, mode=_PAD_MODES[mode])  # type: ignore[call-overload]
    shape = tuple(d + lo + hi for d, (lo, hi) in zip(x.shape, pairs))
    out = np.full(shape, np.asarray(0 if value is None else value).astype(x.dtype), dtype=x.dtype)
    source = tuple(slice(max(-lo, 0), d - max(-hi, 0)) for d, (lo, hi) in zip(x.shape, pairs))
    target = tuple(slice(max(lo, 0), max(lo, 0) + max(d - max(-lo, 0) - max(-hi, 0), 0))
                   for d, (lo, hi) in zip(x.shape, pairs))
    out[target] = x[source]
    return out


def meshgrid(tensors: list[np.ndarray], *, indexing: str) -> tuple[np.ndarray, ...]:
    return tuple(np.meshgrid(*(t.reshape(-1) for t in tensors), indexing=indexing, copy=False))


KERNELS: dict[str, Kernel] = {
    "broadcast_to": broadcast_to,
    "cast": cast,
    "chunk": chunk,
    "concat": concat,
    "expand_dims": expand_dims,
    "flatten": flatten,
    "flip": flip,
    "meshgrid": meshgrid,
    "narrow": narrow,
    "pad": pad,
    "repeat_interleave": repeat_interleave,
    "reshape": reshape,
    "roll": roll,
    "slice": slice_,
    "split": split,
    "squeeze": squeeze,
    "stack": stack,
    "swapaxes": swapaxes,
    "tile": tile,
    "transpose": transpose,
    "tril": tril,
    "triu": triu,
}
