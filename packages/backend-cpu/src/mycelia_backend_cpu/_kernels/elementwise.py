"""CPU kernels: elementwise math (numpy ufuncs; float16/bfloat16 math runs in float32).

Float-valued math on integer inputs runs in float32 (the op's result type), never in the half
precision numpy would pick for int8/uint8. Kernels never write into their inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ml_dtypes
import numpy as np

from mycelia._errors import OpError
from mycelia.backends import Kernel
from mycelia_backend_cpu._kernels import _special

__all__ = ["KERNELS", "float_dtypes", "float_math", "quiet_bfloat16", "via_float32"]

_F32 = np.dtype(np.float32)
_LOW_PRECISION = {np.dtype(np.float16), np.dtype(ml_dtypes.bfloat16)}
_BFLOAT16 = {np.dtype(ml_dtypes.bfloat16)}
_INTEGRAL = {np.dtype(t) for t in (np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64)}
# input dtype -> (dtype the math runs in, dtype of a float-valued result); float32/float64 are absent.
_FLOAT_PLAN: dict[np.dtype, tuple[np.dtype, np.dtype]] = {
    **{dtype: (_F32, dtype) for dtype in _LOW_PRECISION},
    **{dtype: (_F32, _F32) for dtype in _INTEGRAL},
}


def float_dtypes(dtype: np.dtype) -> tuple[np.dtype, np.dtype]:
    """(dtype to compute in, dtype of a float-valued result) for an input dtype."""
    return _FLOAT_PLAN.get(dtype, (dtype, dtype))


def via_float32(function: Callable[..., Any]) -> Kernel:
    """Run ``function`` in float32 for float16/bfloat16 inputs (more accurate, and numpy's
    half-precision transcendental loops are slow), returning the input's dtype."""

    def kernel(x: np.ndarray, *rest: Any, **attrs: Any) -> Any:
        if x.dtype in _LOW_PRECISION:
            upcast = [r.astype(np.float32) if isinstance(r, np.ndarray) and r.dtype in _LOW_PRECISION else r
                      for r in rest]
            return function(x.astype(np.float32), *upcast, **attrs).astype(x.dtype)
        return function(x, *rest, **attrs)

    return kernel


def float_math(ufunc: np.ufunc) -> Kernel:
    """A float-valued ufunc: float32/float64 as they are; float16/bfloat16 computed in float32 and
    rounded back; integers and bool computed and returned in float32."""

    if ufunc.nin == 1:
        def unary(x: Any) -> Any:
            plan = _FLOAT_PLAN.get(x.dtype)
            if plan is None:
                return ufunc(x)
            work = np.asarray(x, dtype=_F32)
            ufunc(work, out=work)
            return work if plan[1] is _F32 else work.astype(plan[1])

        return unary

    def binary(x: Any, y: Any) -> Any:
        plan = _FLOAT_PLAN.get(x.dtype)
        if plan is None:
            return ufunc(x, y)
        result = ufunc(x, y, dtype=_F32, casting="unsafe")
        return result if plan[1] is _F32 else np.asarray(result).astype(plan[1])

    return binary


def quiet_bfloat16(ufunc: np.ufunc) -> Kernel:
    """ml_dtypes' bfloat16 comparison loops warn on NaN where numpy's float loops stay quiet."""

    def kernel(x: Any, y: Any) -> Any:
        if x.dtype in _BFLOAT16:
            with np.errstate(invalid="ignore"):
                return ufunc(x, y)
        return ufunc(x, y)

    return kernel


def quiet_bfloat16_ternary(function: Callable[..., Any]) -> Kernel:
    """:func:`quiet_bfloat16` for a kernel of any arity (clamp)."""

    def kernel(x: Any, *rest: Any) -> Any:
        if x.dtype in _BFLOAT16:
            with np.errstate(invalid="ignore"):
                return function(x, *rest)
        return function(x, *rest)

    return kernel


def _same_via_float32(ufunc: np.ufunc) -> Kernel:
    """A same-dtype binary ufunc whose half-precision loops are slow or inexact: halves in float32."""

    def kernel(x: Any, y: Any) -> Any:
        if x.dtype in _LOW_PRECISION:
            return np.asarray(ufunc(x, y, dtype=_F32, casting="unsafe")).astype(x.dtype)
        return ufunc(x, y)

    return kernel


# -- float-valued special cases ---------------------------------------------------------------
def _rsqrt(x: Any) -> Any:
    work, result = float_dtypes(x.dtype)
    out = np.sqrt(x, out=np.empty(np.shape(x), work), dtype=work, casting="unsafe")
    np.reciprocal(out, out=out)
    return out if result == work else out.astype(result)


def _special_function(function: Callable[[np.ndarray], np.ndarray]) -> Kernel:
    def kernel(x: Any) -> Any:
        work, result = float_dtypes(x.dtype)
        out = function(np.asarray(x, dtype=work).reshape(-1)).reshape(np.shape(x))
        return out if result == work else out.astype(result)

    return kernel


# -- division family ----------------------------------------------------------------------------
def _true_divide(x: Any, y: Any) -> Any:
    plan = _FLOAT_PLAN.get(x.dtype)
    if plan is None:
        return np.true_divide(x, y)
    result = np.true_divide(x, y, dtype=_F32, casting="unsafe")
    return result if plan[1] is _F32 else np.asarray(result).astype(plan[1])


def _floor_divide(x: Any, y: Any) -> Any:
    """floor(x / y): Python's ``//`` for integers, the floor of the true quotient for floats."""
    dtype = x.dtype
    if dtype in _INTEGRAL:
        return np.floor_divide(x, y)
    work = _F32 if dtype in _LOW_PRECISION else dtype
    out = np.true_divide(x, y, dtype=work, casting="unsafe")
    out = np.floor(out, out=out) if isinstance(out, np.ndarray) else np.floor(out)
    return out if work == dtype else np.asarray(out).astype(dtype)


def _trunc_divide(x: Any, y: Any) -> Any:
    dtype = x.dtype
    if dtype in _INTEGRAL:
        quotient = np.floor_divide(x, y)
        # floor and trunc differ by one where the division is inexact and the signs differ
        inexact = np.not_equal(np.remainder(x, y), 0)
        return quotient + (inexact & np.not_equal(np.less(x, 0), np.less(y, 0)))
    work = _F32 if dtype in _LOW_PRECISION else dtype
    out = np.trunc(np.true_divide(x, y, dtype=work, casting="unsafe"))
    return out if work == dtype else np.asarray(out).astype(dtype)


def _div(x: Any, y: Any, rounding_mode: str | None = None) -> Any:
    if rounding_mode is None:
        return _true_divide(x, y)
    if rounding_mode == "floor":
        return _floor_divide(x, y)
    return _trunc_divide(x, y)


def _pow(x: Any, y: Any) -> Any:
    if x.dtype in _LOW_PRECISION:
        return np.asarray(np.power(x, y, dtype=_F32, casting="unsafe")).astype(x.dtype)
    if x.dtype in _INTEGRAL and np.any(np.less(y, 0)):
        # raised here, not left to numpy, so the fast path's error names the op as apply's does
        raise OpError("pow", f"an integer base ({x.dtype}) needs non-negative exponents; use a floating-point "
                             f"base for negative powers", "cpu")
    return np.power(x, y)


# -- rounding -----------------------------------------------------------------------------------
def _round(x: Any, decimals: int = 0) -> Any:
    if decimals == 0:
        return np.rint(x) if x.dtype not in _INTEGRAL else np.array(x)
    if x.dtype in _INTEGRAL:
        return np.round(x, decimals) if decimals < 0 else np.array(x)
    if x.dtype in _LOW_PRECISION:
        return np.round(np.asarray(x, dtype=_F32), decimals).astype(x.dtype)
    return np.round(x, decimals)


def _integral_identity(ufunc: np.ufunc) -> Kernel:
    """floor/ceil/trunc: integers are already integral (a copy, never the input itself)."""

    def kernel(x: Any) -> Any:
        return np.array(x) if x.dtype in _INTEGRAL else ufunc(x)

    return kernel


# -- clamp, lerp, addcmul, nan_to_num -----------------------------------------------------------
def _result_shape(*operands: Any) -> tuple[int, ...]:
    """Broadcast shape; cheap in the common case of equal shapes and scalars
    (np.broadcast_shapes costs microseconds)."""
    shapes = [shape for shape in map(np.shape, operands) if shape]
    if not shapes:
        return ()
    if all(shape == shapes[0] for shape in shapes):
        return shapes[0]  # type: ignore[no-any-return]
    return np.broadcast_shapes(*shapes)


def _clamp(x: Any, low: Any, high: Any) -> Any:
    # minimum(maximum(x, low), high): where low > high the result is high, as in MindSpore and torch;
    # NaN in x stays NaN
    out = np.maximum(x, low)
    if type(out) is np.ndarray and out.shape == _result_shape(out, high):
        return np.minimum(out, high, out=out)
    return np.minimum(out, high)


def _lerp(start: Any, end: Any, weight: Any) -> Any:
    dtype = start.dtype
    work = _F32 if dtype in _LOW_PRECISION else dtype
    out = np.empty(_result_shape(start, end, weight), work)
    np.subtract(end, start, out=out, dtype=work, casting="unsafe")
    np.multiply(out, weight, out=out, dtype=work, casting="unsafe")
    np.add(out, start, out=out, dtype=work, casting="unsafe")
    return out if work == dtype else out.astype(dtype)


def _addcmul(input: Any, tensor1: Any, tensor2: Any, value: Any) -> Any:
    dtype = input.dtype
    work = _F32 if dtype in _LOW_PRECISION else dtype
    out = np.empty(_result_shape(input, tensor1, tensor2, value), work)
    np.multiply(tensor1, tensor2, out=out, dtype=work, casting="unsafe")
    np.multiply(out, value, out=out, dtype=work, casting="unsafe")
    np.add(out, input, out=out, dtype=work, casting="unsafe")
    return out if work == dtype else out.astype(dtype)


def _nan_to_num(x: Any, nan: float | None = None, posinf: float | None = None,
                neginf: float | None = None) -> Any:
    out = np.array(x)
    if x.dtype in _INTEGRAL:
        return out
    info = ml_dtypes.finfo(x.dtype) if x.dtype in _LOW_PRECISION else np.finfo(x.dtype)  # type: ignore[no-untyped-call]
    out[np.isnan(out)] = 0.0 if nan is None else nan
    infinite = np.isinf(out)
    if infinite.any():
        positive = np.greater(out, 0)
        out[infinite & positive] = info.max if posinf is None else posinf
        out[infinite & ~positive] = info.min if neginf is None else neginf
    return out


KERNELS: dict[str, Kernel] = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": _div,
    "neg": np.negative,
    "abs": np.abs,
    "pow": _pow,
    "sqrt": float_math(np.sqrt),
    "rsqrt": _rsqrt,
    "square": np.square,
    "exp": float_math(np.exp),
    "expm1": float_math(np.expm1),
    "log": float_math(np.log),
    "log1p": float_math(np.log1p),
    "log2": float_math(np.log2),
    "sin": float_math(np.sin),
    "cos": float_math(np.cos),
    "tan": float_math(np.tan),
    "asin": float_math(np.arcsin),
    "acos": float_math(np.arccos),
    "atan": float_math(np.arctan),
    "atan2": float_math(np.arctan2),
    "sinh": float_math(np.sinh),
    "cosh": float_math(np.cosh),
    "tanh": float_math(np.tanh),
    "asinh": float_math(np.arcsinh),
    "acosh": float_math(np.arccosh),
    "atanh": float_math(np.arctanh),
    "erf": _special_function(_special.erf),
    "erfc": _special_function(_special.erfc),
    "floor": _integral_identity(np.floor),
    "ceil": _integral_identity(np.ceil),
    "trunc": _integral_identity(np.trunc),
    "round": _round,
    "sign": np.sign,
    "reciprocal": float_math(np.reciprocal),
    "maximum": quiet_bfloat16(np.maximum),
    "minimum": quiet_bfloat16(np.minimum),
    "clamp": quiet_bfloat16_ternary(_clamp),
    "clip": quiet_bfloat16_ternary(_clamp),
    "floor_divide": _floor_divide,
    "fmod": _same_via_float32(np.fmod),
    "remainder": _same_via_float32(np.remainder),
    "lerp": _lerp,
    "addcmul": _addcmul,
    "isnan": np.isnan,
    "isinf": np.isinf,
    "isfinite": np.isfinite,
    "nan_to_num": _nan_to_num,
}
