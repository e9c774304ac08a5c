"""The random streams, specified: what every backend's random kernels must compute, bit for bit.

These functions are the ``reference`` of the random ops. They are written independently of the
kernels (Philox in plain Python integers, transforms in float64 numpy) and are slow; they are the
oracle, not an implementation.

Raw words. A random op with attributes ``seed`` (the 128-bit key) and ``offset`` reads the 64-bit
words ``w[0], w[1], ...`` where block ``b`` (``b = 0, 1, ...``) is
``philox4x64_10(counter=(b + 1, 0, 0, offset), key=(seed mod 2**64, seed >> 64))`` giving the
four words ``w[4b] .. w[4b+3]`` (this is numpy's ``Philox(key=seed, counter=offset << 192)``).
Element ``i`` of a result (C order) uses word ``w[i]`` unless stated otherwise.

Transforms, per element:

* ``rand`` / uniform floats: ``u = (w >> (64 - b)) * 2**-b`` with ``b`` the dtype's significand bits
  (float64 53, float32 24, float16 11, bfloat16 8): exact in the dtype, in ``[0, 1)``.
* ``uniform(minval, maxval)`` floats: ``minval + (maxval - minval) * u`` in float64, rounded to the
  dtype; a result that rounds up to ``>= maxval`` becomes the next dtype value below it.
* integers in ``[low, high)`` (``randint``, discrete ``uniform``): ``low + (w mod (high - low))``.
* normals (Box-Muller, float64, then rounded to the dtype): ``n`` values use ``m = ceil(n / 2)``
  pairs; pair ``k`` uses ``w[k]`` and ``w[m + k]``: ``r = sqrt(-2 ln(((w[k] >> 11) + 1) * 2**-53))``,
  ``t = 2 pi (w[m + k] >> 11) * 2**-53``; element ``k`` is ``r cos t``, element ``m + k`` (when
  ``< n``) is ``r sin t``. ``normal(mean, stddev) = mean + stddev * z``.
* ``bernoulli``: ``1`` where ``(w >> 11) * 2**-53 < p``.
* ``multinomial``, row ``r`` of ``C`` categories: with replacement, sample ``j`` uses
  ``w[r * num_samples + j]``: ``x = (w >> 11) * 2**-53 * cdf[-1]`` with ``cdf`` the float64
  cumulative sum of the row, the index is the count of ``cdf`` entries ``<= x`` (capped at the last
  category with a positive weight). Without replacement, category ``k`` draws the key
  ``-ln(((w[r * C + k] >> 11) + 1) * 2**-53) / p_k`` (``inf`` for ``p_k = 0``) and the samples are
  the categories of the ``num_samples`` smallest keys, smallest first (ties: lower index first).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mycelia import dtype as dt

__all__ = [
    "bernoulli_reference",
    "multinomial_reference",
    "normal_reference",
    "philox_words",
    "rand_like_reference",
    "rand_reference",
    "randint_like_reference",
    "randint_reference",
    "randn_like_reference",
    "randn_reference",
    "uniform_reference",
]

_MASK = (1 << 64) - 1
_MULTIPLIERS = (0xD2E7470EE14C6C93, 0xCA5A826395121157)
_KEY_BUMPS = (0x9E3779B97F4A7C15, 0xBB67AE8584CAA73B)
_SIGNIFICAND_BITS = {"float64": 53, "float32": 24, "float16": 11, "bfloat16": 8}


def _philox_block(counter: list[int], key: list[int]) -> list[int]:
    """Philox4x64 with 10 rounds (Salmon et al., SC'11), on Python integers."""
    c0, c1, c2, c3 = counter
    k0, k1 = key
    for round_index in range(10):
        if round_index:
            k0 = (k0 + _KEY_BUMPS[0]) & _MASK
            k1 = (k1 + _KEY_BUMPS[1]) & _MASK
        product0 = _MULTIPLIERS[0] * c0
        product1 = _MULTIPLIERS[1] * c2
        c0, c1, c2, c3 = ((product1 >> 64) ^ c1 ^ k0, product1 & _MASK,
                          (product0 >> 64) ^ c3 ^ k1, product0 & _MASK)
    return [c0, c1, c2, c3]


def philox_words(count: int, seed: int, offset: int) -> list[int]:
    """The first ``count`` raw words of the stream ``(seed, offset)``."""
    key = [seed & _MASK, (seed >> 64) & _MASK]
    words: list[int] = []
    block = 0
    while len(words) < count:
        block += 1
        words.extend(_philox_block([block & _MASK, block >> 64, 0, offset & _MASK], key))
    return words[:count]


def _size(shape: tuple[int, ...]) -> int:
    return math.prod(shape)


def _unit(words: list[int], bits: int) -> np.ndarray:
    return np.array([(w >> (64 - bits)) * 2.0 ** -bits for w in words], dtype=np.float64)


def _open_unit(words: list[int]) -> np.ndarray:
    """In (0, 1]: never 0, so its logarithm is finite."""
    return np.array([((w >> 11) + 1) * 2.0 ** -53 for w in words], dtype=np.float64)


def _normals(count: int, seed: int, offset: int) -> np.ndarray:
    pairs = (count + 1) // 2
    words = philox_words(2 * pairs, seed, offset)
    values = [0.0] * (2 * pairs)
    for k in range(pairs):
        radius = math.sqrt(-2.0 * math.log(((words[k] >> 11) + 1) * 2.0 ** -53))
        angle = 2.0 * math.pi * ((words[pairs + k] >> 11) * 2.0 ** -53)
        values[k] = radius * math.cos(angle)
        values[pairs + k] = radius * math.sin(angle)
    return np.array(values[:count], dtype=np.float64)


def _integers(count: int, low: int, high: int, seed: int, offset: int) -> np.ndarray:
    span = high - low
    return np.array([low + w % span for w in philox_words(count, seed, offset)], dtype=np.int64)


def _uniform_floats(shape: tuple[int, ...], dtype: dt.DType, seed: int, offset: int) -> np.ndarray:
    bits = _SIGNIFICAND_BITS[dtype.numpy.name]
    return _unit(philox_words(_size(shape), seed, offset), bits).reshape(shape)


def rand_reference(*, shape: tuple[int, ...], dtype: dt.DType, seed: int, offset: int) -> np.ndarray:
    return _uniform_floats(shape, dtype, seed, offset)


def rand_like_reference(input: np.ndarray, *, dtype: dt.DType, seed: int, offset: int) -> np.ndarray:
    return _uniform_floats(input.shape, dtype, seed, offset)


def randn_reference(*, shape: tuple[int, ...], dtype: dt.DType, seed: int, offset: int) -> np.ndarray:
    return _normals(_size(shape), seed, offset).reshape(shape)


def randn_like_reference(input: np.ndarray, *, dtype: dt.DType, seed: int, offset: int) -> np.ndarray:
    return _normals(input.size, seed, offset).reshape(input.shape)


def randint_reference(*, low: int, high: int, shape: tuple[int, ...], dtype: dt.DType, seed: int,
                      offset: int) -> np.ndarray:
    return _integers(_size(shape), low, high, seed, offset).reshape(shape)


def randint_like_reference(input: np.ndarray, *, low: int, high: int, dtype: dt.DType, seed: int,
                           offset: int) -> np.ndarray:
    return _integers(input.size, low, high, seed, offset).reshape(input.shape)


def uniform_reference(minval: np.ndarray, maxval: np.ndarray, *, shape: tuple[int, ...], dtype: dt.DType,
                      seed: int, offset: int) -> np.ndarray:
    out_shape = np.broadcast_shapes(shape, minval.shape, maxval.shape)
    if dtype.is_integer:
        first, last = int(minval.reshape(-1)[0]), int(maxval.reshape(-1)[0])
        return _integers(_size(out_shape), first, last, seed, offset).reshape(out_shape)
    low = np.broadcast_to(minval.astype(np.float64), out_shape)
    high = np.broadcast_to(maxval.astype(np.float64), out_shape)
    unit = _uniform_floats(out_shape, dtype, seed, offset)
    rounded = (low + (high - low) * unit).astype(dtype.numpy)
    below = np.nextafter(high.astype(dtype.numpy), np.asarray(-np.inf, dtype=dtype.numpy))
    result: np.ndarray = np.where(rounded.astype(np.float64) >= high, below, rounded).astype(np.float64)
    return result


def normal_reference(mean: np.ndarray, stddev: np.ndarray, *, shape: tuple[int, ...], dtype: dt.DType,
                     seed: int, offset: int) -> np.ndarray:
    out_shape = np.broadcast_shapes(shape, mean.shape, stddev.shape)
    normals = _normals(_size(out_shape), seed, offset).reshape(out_shape)
    result: np.ndarray = mean.astype(np.float64) + stddev.astype(np.float64) * normals
    return result


def bernoulli_reference(input: np.ndarray, *probabilities: np.ndarray, p: float | None, seed: int,
                        offset: int) -> np.ndarray:
    chance: Any = probabilities[0].astype(np.float64) if probabilities else p
    unit = _unit(philox_words(input.size, seed, offset), 53).reshape(input.shape)
    result: np.ndarray = (unit < chance).astype(input.dtype)
    return result


def multinomial_reference(input: np.ndarray, *, num_samples: int, replacement: bool, seed: int,
                          offset: int) -> np.ndarray:
    rows = np.atleast_2d(input.astype(np.float64))
    count, categories = rows.shape
    result = np.zeros((count, num_samples), dtype=np.int64)
    for r in range(count):
        weights = rows[r]
        if replacement:
            words = philox_words((r + 1) * num_samples, seed, offset)[r * num_samples:]
            cdf = np.cumsum(weights)
            last = int(np.flatnonzero(weights > 0)[-1])
            for j, word in enumerate(words):
                x = (word >> 11) * 2.0 ** -53 * cdf[-1]
                result[r, j] = min(int(np.sum(cdf <= x)), last)
        else:
            words = philox_words((r + 1) * categories, seed, offset)[r * categories:]
            keys = [(-math.log(u) / w if w > 0 else math.inf, k)
                    for k, (u, w) in enumerate(zip(_open_unit(words), weights))]
            result[r] = [k for _, k in sorted(keys)[:num_samples]]
    return result if input.ndim == 2 else result[0]
