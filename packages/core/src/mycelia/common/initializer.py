"""Parameter initializers with MindSpore's names (``mycelia.common.initializer``).

``initializer(init, shape, dtype)`` makes a Tensor from an :class:`Initializer`, an alias string
(``"normal"``, ``"zeros"``, ``"ones"``, ``"xavier_uniform"``, ``"he_uniform"``, ``"truncatedNormal"``...,
any case), a number (a constant) or a Tensor (returned as is after a shape check).

Random initializers draw from the framework's global random stream, so ``mycelia.set_seed(s)`` followed
by building the same network gives the same weights (the numbers do not depend on ``numpy.random``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._tensor import Tensor

__all__ = [
    "Initializer",
    "initializer",
    "Constant",
    "HeNormal",
    "HeUniform",
    "Identity",
    "Normal",
    "One",
    "Orthogonal",
    "TruncatedNormal",
    "Uniform",
    "VarianceScaling",
    "XavierNormal",
    "XavierUniform",
    "Zero",
]

_INITIALIZER_ALIAS: dict[str, type[Initializer]] = {}


def _register(*aliases: str) -> Callable[[type[Initializer]], type[Initializer]]:
    """Register a class under its lower-case name and the given aliases (looked up lower-cased)."""

    def register(cls: type[Initializer]) -> type[Initializer]:
        for name in (cls.__name__.lower(), *aliases):
            _INITIALIZER_ALIAS.setdefault(name.lower(), cls)
        return cls

    return register


# -- random draws from the framework stream (float64 on the host) ----------------------------------------
def _uniform(low: float, high: float, shape: tuple[int, ...]) -> np.ndarray:
    from mycelia import ops

    unit = np.asarray(ops.rand(shape, dtype=dt.float64).asnumpy(), dtype=np.float64)
    return low + (high - low) * unit


def _normal(mean: float, sigma: float, shape: tuple[int, ...]) -> np.ndarray:
    from mycelia import ops

    if sigma < 0:
        raise ValueError(f"initializer: sigma must be >= 0, got {sigma}")
    return mean + sigma * np.asarray(ops.randn(shape, dtype=dt.float64).asnumpy(), dtype=np.float64)


def _truncated_normal(mean: float, sigma: float, low: float, high: float, shape: tuple[int, ...]) -> np.ndarray:
    """Normal(mean, sigma) restricted to [mean + low * sigma, mean + high * sigma], by redrawing the
    values outside (each redraw takes the next numbers of the stream, so the result stays reproducible)."""
    if not low < high:
        raise ValueError(f"TruncatedNormal: needs a < b, got a={low}, b={high}")
    standard = _normal(0.0, 1.0, shape)
    for _ in range(64):
        outside = (standard < low) | (standard > high)
        count = int(outside.sum())
        if count == 0:
            break
        standard[outside] = _normal(0.0, 1.0, (count,))
    # A bound far in a tail could leave a few values out after 64 rounds: clip them to the interval.
    return np.asarray(mean + sigma * np.clip(standard, low, high), dtype=np.float64)


# -- fans and gains ------------------------------------------------------------------------------------
def _calculate_fan_in_and_fan_out(shape: Sequence[int]) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight: (in, out) for (out, in); times the receptive field for conv weights."""
    if len(shape) < 2:
        raise ValueError(f"'fan_in' and 'fan_out' can not be computed for a tensor with fewer than 2 dimensions, "
                         f"got shape {tuple(shape)}")
    receptive = 1
    for size in shape[2:]:
        receptive *= int(size)
    return int(shape[1]) * receptive, int(shape[0]) * receptive


def _calculate_correct_fan(shape: Sequence[int], mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(shape)
    return fan_in if mode == "fan_in" else fan_out


def _calculate_gain(nonlinearity: str, param: Any = None) -> float:
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
    if nonlinearity in linear or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"negative_slope must be an int or float, got {param!r}")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"nonlinearity must be one of 'linear', 'conv*', 'sigmoid', 'tanh', 'relu', 'leaky_relu', "
                     f"'selu', got {nonlinearity!r}")


def _fill(arr: np.ndarray, values: Any) -> None:
    """Write ``values`` into ``arr`` in place (0-d arrays included)."""
    arr[...] = values


# -- initializers --------------------------------------------------------------------------------------
class Initializer:
    """Base class. Subclasses fill an array in place in ``_initialize(arr)`` (MindSpore's protocol).

    Calling an initializer with a numpy array fills it and returns it; calling it with a shape (and an
    optional dtype, as ``Tensor(shape=..., init=...)`` does) returns a new float64 array of that shape.
    """

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = kwargs

    def _initialize(self, arr: np.ndarray) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define _initialize(arr)")

    def __call__(self, arr: Any, dtype: Any = None) -> np.ndarray:
        if isinstance(arr, np.ndarray):
            self._initialize(arr)
            return arr
        values = np.zeros(_check_shape(arr), dtype=np.float64)
        self._initialize(values)
        return values

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self._kwargs.items())
        return f"{type(self).__name__}({args})"


@_register("zeros")
class Zero(Initializer):
    """All zeros (``'zeros'``)."""

    def _initialize(self, arr: np.ndarray) -> None:
        _fill(arr, 0)


@_register("ones")
class One(Initializer):
    """All ones (``'ones'``)."""

    def _initialize(self, arr: np.ndarray) -> None:
        _fill(arr, 1)


class Constant(Initializer):
    """A constant ``value`` (a number, or an array broadcast to the shape)."""

    def __init__(self, value: Any) -> None:
        super().__init__(value=value)
        self.value = value

    def _initialize(self, arr: np.ndarray) -> None:
        _fill(arr, np.asarray(self.value))


@_register()
class Normal(Initializer):
    """Normal distribution N(mean, sigma**2) (``'normal'``; defaults sigma=0.01, mean=0)."""

    def __init__(self, sigma: float = 0.01, mean: float = 0.0) -> None:
        super().__init__(sigma=sigma, mean=mean)
        self.sigma = sigma
        self.mean = mean

    def _initialize(self, arr: np.ndarray) -> None:
        _fill(arr, _normal(self.mean, self.sigma, arr.shape))


@_register()
class Uniform(Initializer):
    """Uniform distribution U(-scale, scale) (``'uniform'``; default scale 0.07)."""

    def __init__(self, scale: float = 0.07) -> None:
        super().__init__(scale=scale)
        self.scale = scale

    def _initialize(self, arr: np.ndarray) -> None:
        _fill(arr, _uniform(-self.scale, self.scale, arr.shape))


@_register("truncatednormal")
class TruncatedNormal(Initializer):
    """Normal(mean, sigma**2) truncated to [mean + a*sigma, mean + b*sigma] (``'truncatedNormal'``).

    The defaults keep values within two standard deviations of the mean, as MindSpore documents.
    """

    def __init__(self, sigma: float = 0.01, mean: float = 0.0, a: float = -2.0, b: float = 2.0) -> None:
        super().__init__(sigma=sigma, mean=mean, a=a, b=b)
        self.sigma = sigma
        self.mean = mean
        self.a = a
        self.b = b

    def _initialize(self, arr: np.ndarray) -> None:
        _fill(arr, _truncated_normal(self.mean, self.sigma, self.a, self.b, arr.shape))


@_register("xavier_uniform")
class XavierUniform(Initializer):
    """Glorot uniform: U(-bound, bound), bound = gain * sqrt(6 / (fan_in + fan_out)) (``'xavier_uniform'``)."""

    def __init__(self, gain: float = 1) -> None:
        super().__init__(gain=gain)
        self.gain = gain

    def _initialize(self, arr: np.ndarray) -> None:
        fan_in, fan_out = _calculate_fan_in_and_fan_out(arr.shape)
        bound = self.gain * math.sqrt(6.0 / (fan_in + fan_out))
        _fill(arr, _uniform(-bound, bound, arr.shape))


@_register("xavier_normal")
class XavierNormal(Initializer):
    """Glorot normal: N(0, std**2), std = gain * sqrt(2 / (fan_in + fan_out)) (``'xavier_normal'``)."""

    def __init__(self, gain: float = 1) -> None:
        super().__init__(gain=gain)
        self.gain = gain

    def _initialize(self, arr: np.ndarray) -> None:
        fan_in, fan_out = _calculate_fan_in_and_fan_out(arr.shape)
        _fill(arr, _normal(0.0, self.gain * math.sqrt(2.0 / (fan_in + fan_out)), arr.shape))


@_register("he_uniform")
class HeUniform(Initializer):
    """Kaiming uniform: U(-bound, bound), bound = gain * sqrt(3 / fan) (``'he_uniform'``).

    ``HeUniform(math.sqrt(5))`` (the default of Dense and the convolutions) gives bound = 1 / sqrt(fan_in).
    """

    def __init__(self, negative_slope: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> None:
        super().__init__(negative_slope=negative_slope, mode=mode, nonlinearity=nonlinearity)
        self.negative_slope = negative_slope
        self.mode = mode
        self.nonlinearity = nonlinearity

    def _initialize(self, arr: np.ndarray) -> None:
        fan = _calculate_correct_fan(arr.shape, self.mode)
        bound = math.sqrt(3.0) * _calculate_gain(self.nonlinearity, self.negative_slope) / math.sqrt(fan)
        _fill(arr, _uniform(-bound, bound, arr.shape))


@_register("he_normal")
class HeNormal(Initializer):
    """Kaiming normal: N(0, std**2), std = gain / sqrt(fan) (``'he_normal'``)."""

    def __init__(self, negative_slope: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> None:
        super().__init__(negative_slope=negative_slope, mode=mode, nonlinearity=nonlinearity)
        self.negative_slope = negative_slope
        self.mode = mode
        self.nonlinearity = nonlinearity

    def _initialize(self, arr: np.ndarray) -> None:
        fan = _calculate_correct_fan(arr.shape, self.mode)
        _fill(arr, _normal(0.0, _calculate_gain(self.nonlinearity, self.negative_slope) / math.sqrt(fan), arr.shape))


@_register()
class Identity(Initializer):
    """A 2-D identity matrix (``'identity'``)."""

    def _initialize(self, arr: np.ndarray) -> None:
        if arr.ndim != 2:
            raise ValueError(f"Identity initializer needs a 2-D shape, got {arr.shape}")
        _fill(arr, np.eye(arr.shape[0], arr.shape[1]))


@_register()
class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix times ``gain``; trailing dims are flattened (``'orthogonal'``)."""

    def __init__(self, gain: float = 1.0) -> None:
        super().__init__(gain=gain)
        self.gain = gain

    def _initialize(self, arr: np.ndarray) -> None:
        if arr.ndim < 2:
            raise ValueError(f"Orthogonal initializer needs at least 2 dims, got shape {arr.shape}")
        rows = arr.shape[0]
        cols = arr.size // rows if rows else 0
        data = _normal(0.0, 1.0, (rows, cols))
        if rows < cols:
            data = data.T
        q, r = np.linalg.qr(data)
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        _fill(arr, (self.gain * q).reshape(arr.shape))


@_register()
class VarianceScaling(Initializer):
    """std = sqrt(scale / n), n the fan given by ``mode`` ('fan_in', 'fan_out', 'fan_avg'); ``distribution``
    'truncated_normal', 'untruncated_normal' or 'uniform' (``'variancescaling'``)."""

    def __init__(self, scale: float = 1.0, mode: str = "fan_in", distribution: str = "truncated_normal") -> None:
        super().__init__(scale=scale, mode=mode, distribution=distribution)
        if scale <= 0:
            raise ValueError(f"VarianceScaling: scale must be > 0, got {scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"VarianceScaling: mode must be 'fan_in', 'fan_out' or 'fan_avg', got {mode!r}")
        if distribution not in ("uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError(f"VarianceScaling: distribution must be 'uniform', 'truncated_normal' or "
                             f"'untruncated_normal', got {distribution!r}")
        self.scale = scale
        self.mode = mode
        self.distribution = distribution

    def _initialize(self, arr: np.ndarray) -> None:
        fan_in, fan_out = _calculate_fan_in_and_fan_out(arr.shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, fan)
        if self.distribution == "truncated_normal":
            # 0.8796... is the std of a standard normal truncated to [-2, 2].
            _fill(arr, _truncated_normal(0.0, math.sqrt(scale) / 0.87962566103423978, -2.0, 2.0, arr.shape))
        elif self.distribution == "untruncated_normal":
            _fill(arr, _normal(0.0, math.sqrt(scale), arr.shape))
        else:
            limit = math.sqrt(3.0 * scale)
            _fill(arr, _uniform(-limit, limit, arr.shape))


# -- the factory ---------------------------------------------------------------------------------------
def _check_shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (int(shape),)
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"initializer: shape must be an int or a tuple/list of ints, got {type(shape).__name__}")
    for size in shape:
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 0:
            raise ValueError(f"initializer: shape must hold non-negative ints, got {tuple(shape)!r}")
    return tuple(int(size) for size in shape)


def initializer(init: Any, shape: Any = None, dtype: dt.DType = dt.float32) -> Tensor:
    """A Tensor of ``shape`` and ``dtype`` initialized by ``init``: an Initializer, an alias string
    (``'normal'``, ``'zeros'``, ``'he_uniform'``...), a number (constant) or a Tensor (checked and returned)."""
    if not isinstance(init, (Tensor, numbers.Number, str, Initializer)):
        raise TypeError(f"initializer: init must be a Tensor, number, string or Initializer, got "
                        f"{type(init).__name__}")
    if not isinstance(dtype, dt.DType):
        raise TypeError(f"initializer: dtype must be a mycelia dtype such as mycelia.float32, got {dtype!r}")
    if isinstance(init, Tensor):
        if shape is not None and tuple(init.shape) != _check_shape(shape):
            raise ValueError(f"initializer: the init Tensor has shape {list(init.shape)} but shape is "
                             f"{list(_check_shape(shape))}")
        return init
    if shape is None:
        raise ValueError("initializer: shape is required unless init is a Tensor")
    dims = _check_shape(shape)
    if isinstance(init, str):
        cls = _INITIALIZER_ALIAS.get(init.lower())
        if cls is None:
            raise ValueError(f"initializer: unknown initializer {init!r}; known: {sorted(_INITIALIZER_ALIAS)}")
        init = cls()
    elif isinstance(init, numbers.Number):
        init = Constant(init)
    values = np.zeros(dims, dtype=np.float64)
    init._initialize(values)
    return Tensor(values.astype(dtype.numpy), dtype=dtype)
