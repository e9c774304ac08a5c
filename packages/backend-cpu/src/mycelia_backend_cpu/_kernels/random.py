"""CPU kernels: random ops. Each is a pure function of its attributes ``seed`` (the 128-bit Philox
key) and ``offset``; the streams are specified in ``mycelia.ops._random_spec`` (numpy's Philox is
Philox4x64-10; its counter ``offset << 192`` makes block ``b`` use counter ``(b + 1, 0, 0, offset)``).

``bernoulli_mask``, ``uniform01`` and ``philox_words`` are also for other families' kernels (dropout).
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np

from mycelia.backends import Kernel

__all__ = ["KERNELS", "bernoulli_mask", "philox_words", "standard_normal", "uniform01"]

_MASK = (1 << 64) - 1
_SIGNIFICAND_BITS = {np.dtype(name): bits for name, bits in
                     (("float64", 53), ("float32", 24), ("float16", 11), ("bfloat16", 8))}
_local = threading.local()
_EMPTY_BUFFER = np.zeros(4, dtype=np.uint64)


def philox_words(count: int, seed: int, offset: int) -> np.ndarray:
    """The first ``count`` raw 64-bit words of the stream ``(seed, offset)``."""
    generator = getattr(_local, "generator", None)
    if generator is None:
        generator = _local.generator = np.random.Philox(key=0)
    # Setting the state of a per-thread generator is ~5x cheaper than building a new one.
    generator.state = {
        "bit_generator": "Philox",
        "state": {"counter": np.array([0, 0, 0, offset & _MASK], dtype=np.uint64),
                  "key": np.array([seed & _MASK, (seed >> 64) & _MASK], dtype=np.uint64)},
        "buffer": _EMPTY_BUFFER, "buffer_pos": 4, "has_uint32": 0, "uinteger": 0,
    }
    return generator.random_raw(count)  # type: ignore[no-any-return]


def _unit_float64(words: np.ndarray) -> np.ndarray:
    """``(w >> 11) * 2**-53``: float64 in [0, 1), computed in place on the words buffer."""
    words >>= np.uint64(11)
    unit: np.ndarray = np.multiply(words, 2.0 ** -53)
    return unit


def uniform01(shape: tuple[int, ...], dtype: Any, seed: int, offset: int) -> np.ndarray:
    """Uniform [0, 1) of numpy ``dtype`` (float), every value exact in the dtype."""
    dtype = np.dtype(dtype)
    bits = _SIGNIFICAND_BITS[dtype]
    words = philox_words(math.prod(shape), seed, offset)
    words >>= np.uint64(64 - bits)
    # The products are exact: float32 holds up to 24 significand bits and is the cheaper one.
    unit: np.ndarray = np.multiply(words, 2.0 ** -bits, dtype=np.float32 if bits <= 24 else np.float64,
                                   casting="unsafe")
    return unit.reshape(shape).astype(dtype, copy=False)


def standard_normal(count: int, seed: int, offset: int) -> np.ndarray:
    """``count`` float64 standard normals: Box-Muller on words ``k`` and ``m + k`` (``m`` pairs)."""
    pairs = (count + 1) // 2
    words = philox_words(2 * pairs, seed, offset)
    radius = words[:pairs]
    radius >>= np.uint64(11)
    radius += np.uint64(1)
    out = np.empty(2 * pairs, dtype=np.float64)
    scale = out[:pairs]  # radius first, cosines written over it below
    np.multiply(radius, 2.0 ** -53, out=scale, casting="unsafe")
    np.log(scale, out=scale)
    scale *= -2.0
    np.sqrt(scale, out=scale)
    angle = _unit_float64(words[pairs:])
    angle *= 2.0 * np.pi
    np.sin(angle, out=out[pairs:])
    out[pairs:] *= scale
    np.cos(angle, out=angle)
    np.multiply(scale, angle, out=out[:pairs])
    return out[:count]


def _integers(shape: tuple[int, ...], low: int, high: int, dtype: Any, seed: int, offset: int) -> np.ndarray:
    if high <= low:
        raise ValueError(f"needs low < high, got low={low}, high={high}")
    info = np.iinfo(dtype)
    if low < info.min or high - 1 > info.max:
        raise ValueError(f"[{low}, {high}) does not fit {np.dtype(dtype).name} ([{info.min}, {info.max}])")
    words = philox_words(math.prod(shape), seed, offset)
    words %= np.uint64(high - low)
    words += np.uint64(low & _MASK)  # wraps modulo 2**64: the int64 view is low + r exactly
    return words.view(np.int64).reshape(shape).astype(dtype, copy=False)


def _rand(*, shape: tuple[int, ...], dtype: Any, seed: int, offset: int) -> np.ndarray:
    return uniform01(shape, dtype.numpy, seed, offset)


def _rand_like(x: np.ndarray, *, dtype: Any, seed: int, offset: int) -> np.ndarray:
    return uniform01(x.shape, dtype.numpy, seed, offset)


def _randn(*, shape: tuple[int, ...], dtype: Any, seed: int, offset: int) -> np.ndarray:
    count = math.prod(shape)
    return standard_normal(count, seed, offset).reshape(shape).astype(dtype.numpy, copy=False)


def _randn_like(x: np.ndarray, *, dtype: Any, seed: int, offset: int) -> np.ndarray:
    return standard_normal(x.size, seed, offset).reshape(x.shape).astype(dtype.numpy, copy=False)


def _randint(*, low: int, high: int, shape: tuple[int, ...], dtype: Any, seed: int, offset: int) -> np.ndarray:
    return _integers(shape, low, high, dtype.numpy, seed, offset)


def _randint_like(x: np.ndarray, *, low: int, high: int, dtype: Any, seed: int, offset: int) -> np.ndarray:
    return _integers(x.shape, low, high, dtype.numpy, seed, offset)


def _uniform(minval: np.ndarray, maxval: np.ndarray, *, shape: tuple[int, ...], dtype: Any, seed: int,
             offset: int) -> np.ndarray:
    out_shape = np.broadcast_shapes(shape, minval.shape, maxval.shape)
    target = dtype.numpy
    if dtype.is_integer:
        if minval.size != 1 or maxval.size != 1:
            raise ValueError(f"an integer dtype needs one number for minval and maxval, got shapes "
                             f"{list(minval.shape)} and {list(maxval.shape)}")
        return _integers(out_shape, int(minval.reshape(-1)[0]), int(maxval.reshape(-1)[0]), target, seed, offset)
    low = minval.astype(np.float64)
    high = maxval.astype(np.float64)
    if np.any(low >= high) or not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
        raise ValueError("needs finite minval < maxval everywhere")
    out = uniform01(out_shape, target, seed, offset).astype(np.float64)
    out *= high - low
    out += low
    rounded = out.astype(target)
    # Rounding to the dtype may reach maxval: use the next value below it, keeping [minval, maxval).
    too_high = rounded.astype(np.float64) >= high
    if too_high.any():
        below = np.nextafter(np.broadcast_to(high, out_shape).astype(target), np.asarray(-np.inf, dtype=target))
        rounded[too_high] = below[too_high]
    return rounded


def _normal(mean: np.ndarray, stddev: np.ndarray, *, shape: tuple[int, ...], dtype: Any, seed: int,
            offset: int) -> np.ndarray:
    out_shape = np.broadcast_shapes(shape, mean.shape, stddev.shape)
    scale = stddev.astype(np.float64)
    if np.any(scale < 0) or not np.all(np.isfinite(scale)):
        raise ValueError("stddev must be finite and >= 0")
    out = standard_normal(math.prod(out_shape), seed, offset).reshape(out_shape)
    out *= scale
    out += mean.astype(np.float64)
    return out.astype(dtype.numpy, copy=False)


def _bernoulli(x: np.ndarray, *probabilities: np.ndarray, p: float | None, seed: int, offset: int) -> np.ndarray:
    if probabilities:
        chance: Any = probabilities[0].astype(np.float64)
        if not np.all((chance >= 0) & (chance <= 1)):
            raise ValueError("probabilities p must lie in [0, 1]")
        hits: np.ndarray = np.less(_unit_float64(philox_words(x.size, seed, offset)).reshape(x.shape), chance)
        return hits.astype(x.dtype, copy=False)
    return bernoulli_mask(x.shape, float(p), seed, offset).astype(x.dtype, copy=False)  # type: ignore[arg-type]


def bernoulli_mask(shape: tuple[int, ...], p: float, seed: int, offset: int) -> np.ndarray:
    """Bool array, True where ``(w >> 11) * 2**-53 < p``: the ``bernoulli`` stream for a scalar ``p``
    (dropout: drop where True with ``p`` the drop probability)."""
    # (w >> 11) * 2**-53 < p  <=>  w < ceil(p * 2**53) * 2**11: one integer compare per element.
    threshold = math.ceil(p * 2.0 ** 53) << 11
    if threshold <= 0:
        return np.zeros(shape, dtype=bool)
    if threshold >= 1 << 64:
        return np.ones(shape, dtype=bool)
    hits: np.ndarray = np.less(philox_words(math.prod(shape), seed, offset).reshape(shape), np.uint64(threshold))
    return hits


def _check_weights(rows: np.ndarray) -> None:
    if not np.all(np.isfinite(rows)) or np.any(rows < 0):
        raise ValueError("probabilities must be finite and >= 0")
    if rows.shape[0] and not np.all(rows.sum(axis=1) > 0):
        raise ValueError("every row of probabilities needs a positive sum")


def _multinomial(x: np.ndarray, *, num_samples: int, replacement: bool, seed: int, offset: int) -> np.ndarray:
    rows = np.atleast_2d(x).astype(np.float64)
    count, categories = rows.shape
    _check_weights(rows)
    if replacement:
        unit = _unit_float64(philox_words(count * num_samples, seed, offset)).reshape(count, num_samples)
        cdf = np.cumsum(rows, axis=1)
        unit *= cdf[:, -1:]
        last = categories - 1 - np.argmax(rows[:, ::-1] > 0, axis=1)  # last positive category per row
        result = np.empty((count, num_samples), dtype=np.int64)
        for r in range(count):
            np.minimum(np.searchsorted(cdf[r], unit[r], side="right"), last[r], out=result[r])
    else:
        positive = np.count_nonzero(rows > 0, axis=1)
        if count and num_samples > positive.min():
            raise ValueError(f"cannot draw {num_samples} samples without replacement from a row with "
                             f"{int(positive.min())} positive probabilities")
        words = philox_words(count * categories, seed, offset)
        words >>= np.uint64(11)
        words += np.uint64(1)
        keys = words.astype(np.float64).reshape(count, categories)
        keys *= 2.0 ** -53
        np.log(keys, out=keys)
        keys *= -1.0
        with np.errstate(divide="ignore", invalid="ignore"):  # weight 0: key inf (or nan), never drawn
            keys /= rows
        result = np.argsort(keys, axis=1, kind="stable")[:, :num_samples].astype(np.int64, copy=False)
    return result if x.ndim == 2 else result[0]


KERNELS: dict[str, Kernel] = {
    "rand": _rand,
    "rand_like": _rand_like,
    "randn": _randn,
    "randn_like": _randn_like,
    "randint": _randint,
    "randint_like": _randint_like,
    "uniform": _uniform,
    "normal": _normal,
    "bernoulli": _bernoulli,
    "multinomial": _multinomial,
}
