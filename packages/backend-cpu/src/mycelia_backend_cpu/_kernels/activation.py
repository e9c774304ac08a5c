"""CPU kernels: activations and softmax.

Each kernel allocates its result once and works in place on it (float16/bfloat16 in float32),
never writing into its input. Formulations avoid overflow instead of silencing it: sigmoid clamps
``-x`` below exp's overflow point, softplus and logsigmoid use ``exp(-|x|)``, mish uses
``n(n+2) / (n(n+2)+2)`` with ``n = exp(min(x, 20))`` (= tanh(softplus(x))).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import ml_dtypes
import numpy as np

from mycelia.backends import Kernel
from mycelia_backend_cpu._kernels import _special
from mycelia_backend_cpu._kernels.elementwise import float_dtypes

__all__ = ["KERNELS"]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_SQRT_HALF = math.sqrt(0.5)
_SQRT_TWO_OVER_PI = math.sqrt(2.0 / math.pi)
_EXP_LIMIT = {np.dtype(np.float32): 88.0, np.dtype(np.float64): 709.0}  # exp(limit) is finite


def _float_kernel(compute: Callable[..., np.ndarray]) -> Kernel:
    """Run ``compute(x, **attrs)`` on a float32/float64 array of rank >= 1 (0-d inputs are viewed
    as one element so in-place ufuncs keep working) and return the input's dtype and shape."""

    def kernel(x: Any, **attrs: Any) -> Any:
        work, result = float_dtypes(x.dtype)
        data = np.asarray(x, dtype=work)
        if data.ndim == 0:
            data = data.reshape(1)
        out = compute(data, **attrs)
        if out.shape != np.shape(x):
            out = out.reshape(np.shape(x))
        return out if result == work else out.astype(result)

    return kernel


# 0-d constants of each dtype: the cheapest second operand for a ufunc (no scalar conversion)
_ZERO = {dtype: np.zeros((), dtype) for dtype in map(np.dtype, (ml_dtypes.bfloat16, np.float16, np.float32, np.float64,
                                                                   np.uint8, np.int8, np.int16, np.int32, np.int64))}
_SIX = {dtype: np.full((), 6, dtype) for dtype in _ZERO}


def _relu(x: Any) -> Any:
    return np.maximum(x, _ZERO[x.dtype])


def _relu6(x: Any) -> Any:
    out = np.maximum(x, _ZERO[x.dtype])
    six = _SIX[x.dtype]
    return np.minimum(out, six, out=out) if type(out) is np.ndarray else np.minimum(out, six)


def _leaky_relu(x: np.ndarray, alpha: float = 0.2) -> Any:
    scaled = np.multiply(x, alpha)
    # alpha <= 1: max(x, alpha x) picks x for x >= 0 and alpha x below; alpha > 1 flips to min
    return np.maximum(x, scaled, out=scaled) if alpha <= 1 else np.minimum(x, scaled, out=scaled)


def _elu(x: np.ndarray, alpha: float = 1.0) -> Any:
    negative = np.minimum(x, 0)
    np.expm1(negative, out=negative)
    negative *= alpha
    out = np.maximum(x, 0)
    out += negative
    return out


def _selu(x: np.ndarray) -> Any:
    out = _elu(x, _SELU_ALPHA)
    out *= _SELU_SCALE
    return out


def _gelu(x: np.ndarray, approximate: str = "none") -> Any:
    if approximate == "tanh":
        out = np.multiply(x, x)
        out *= 0.044715
        out += 1.0
        out *= x
        out *= _SQRT_TWO_OVER_PI
        np.tanh(out, out=out)
    else:
        out = _special.erf(np.multiply(x, _SQRT_HALF))
    out += 1.0
    out *= x
    out *= 0.5
    return out


def _sigmoid(x: np.ndarray) -> Any:
    out = np.negative(x)
    np.minimum(out, _EXP_LIMIT[x.dtype], out=out)
    np.exp(out, out=out)
    out += 1.0
    np.reciprocal(out, out=out)
    return out


def _silu(x: np.ndarray) -> Any:
    out = _sigmoid(x)
    out *= x
    return out


def _log1p_exp_negative_abs(x: np.ndarray) -> Any:
    """log(1 + exp(-|x|)), a fresh array (never overflows)."""
    out = np.abs(x)
    np.negative(out, out=out)
    np.exp(out, out=out)
    np.log1p(out, out=out)
    return out


def _logsigmoid(x: np.ndarray) -> Any:
    # log(sigmoid(x)) = min(x, 0) - log(1 + exp(-|x|))
    out = np.minimum(x, 0)
    out -= _log1p_exp_negative_abs(x)
    return out


def _softplus(x: np.ndarray, beta: float = 1, threshold: float = 20) -> Any:
    scaled = x if beta == 1 else np.multiply(x, beta)
    out = np.maximum(scaled, 0)
    out += _log1p_exp_negative_abs(scaled)
    if beta != 1:
        out /= beta
    linear = np.greater(scaled, threshold)
    if linear.any():
        np.copyto(out, x, where=linear)
    return out


def _mish(x: np.ndarray) -> Any:
    grown = np.minimum(x, 20)  # tanh(softplus(20)) is 1 in float32 and float64 alike
    np.exp(grown, out=grown)
    numerator = np.add(grown, 2.0)
    numerator *= grown
    grown = np.add(numerator, 2.0, out=grown)
    numerator /= grown
    numerator *= x
    return numerator


def _softsign(x: np.ndarray) -> Any:
    out = np.abs(x)
    out += 1.0
    return np.divide(x, out, out=out)


def _hardswish(x: np.ndarray) -> Any:
    out = np.add(x, 3.0)
    np.clip(out, 0.0, 6.0, out=out)
    out *= x
    out /= 6.0
    return out


def _hardsigmoid(x: np.ndarray) -> Any:
    out = np.divide(x, 6.0)
    out += 0.5
    return np.clip(out, 0.0, 1.0, out=out)


def _softmax_kernel(log: bool) -> Kernel:
    def kernel(x: Any, axis: Any = -1, dtype: Any = None) -> Any:
        if dtype is not None:
            x = np.asarray(x, dtype=dtype.numpy)
        work, result = float_dtypes(x.dtype)
        data = np.asarray(x, dtype=work)
        if data.ndim == 0:
            return np.asarray(0.0 if log else 1.0, dtype=result)
        if data.size == 0:
            return np.empty(data.shape, dtype=result)
        out = np.subtract(data, np.max(data, axis=axis, keepdims=True))
        if log:
            total = np.sum(np.exp(out), axis=axis, keepdims=True)
            out -= np.log(total, out=total)
        else:
            np.exp(out, out=out)
            out /= np.sum(out, axis=axis, keepdims=True)
        return out if result == work else out.astype(result)

    return kernel


KERNELS: dict[str, Kernel] = {
    "relu": _relu,
    "relu6": _relu6,
    "leaky_relu": _float_kernel(_leaky_relu),
    "elu": _float_kernel(_elu),
    "selu": _float_kernel(_selu),
    "gelu": _float_kernel(_gelu),
    "sigmoid": _float_kernel(_sigmoid),
    "silu": _float_kernel(_silu),
    "logsigmoid": _float_kernel(_logsigmoid),
    "softplus": _float_kernel(_softplus),
    "mish": _float_kernel(_mish),
    "softsign": _float_kernel(_softsign),
    "hardswish": _float_kernel(_hardswish),
    "hardsigmoid": _float_kernel(_hardsigmoid),
    "softmax": _softmax_kernel(log=False),
    "log_softmax": _softmax_kernel(log=True),
}
