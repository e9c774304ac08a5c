"""Elementwise arithmetic with attributes or more than two operands: div (rounding_mode),
floor_divide, fmod, remainder, pow, round, clamp/clip, lerp, addcmul, isnan/isinf/isfinite,
nan_to_num. Part of the elementwise family (re-exported by ``_elementwise``)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._errors import OpError
from mycelia._tensor import Tensor
from mycelia._types import TensorType
from mycelia.ops import _dispatch, _elementwise
from mycelia.ops._comparison import equal, greater, greater_equal, less, less_equal, logical_and, logical_or, where
from mycelia.ops._define import ALL, FLOATS, NUMERIC, UNARY_SHAPES, random_array
from mycelia.ops._elementwise_factory import (
    TERNARY_SHAPES,
    away_from_zero,
    check_number,
    elementwise_binary,
    elementwise_unary,
    fast_binary,
    fast_unary,
    no_gradient,
    result_dtype,
    uniform,
    wants_gradient,
    with_specials,
)
from mycelia.ops._registry import OpDef, Sample, register_op
from mycelia.ops._shapes import broadcast_shapes

__all__ = [
    "addcmul", "clamp", "clip", "div", "divide", "floor_divide", "fmod", "isfinite", "isinf", "isnan", "lerp",
    "nan_to_num", "pow", "remainder", "round", "true_divide",
]

_DIVISOR = away_from_zero(0.5, 3.0)


# -- div ----------------------------------------------------------------------------------------
def _check_rounding(rounding_mode: str | None = None) -> None:
    if rounding_mode not in (None, "trunc", "floor"):
        raise OpError("div", f"rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")


def _div_result(dtype: dt.DType, rounding_mode: str | None = None) -> dt.DType:
    return result_dtype("float", dtype) if rounding_mode is None else dtype


def _div_reference(input: Any, other: Any, rounding_mode: str | None = None) -> Any:
    quotient = np.true_divide(input, other)
    if rounding_mode == "trunc":
        return np.trunc(quotient)
    if rounding_mode == "floor":
        return np.floor(quotient)
    return quotient


def _div_vjp(ctx: Any, g: Any) -> tuple[Any, Any]:
    """True division: d(x/y) = dx / y - (x/y) dy / y. Rounded quotients are piecewise constant: zero."""
    if ctx.attrs.get("rounding_mode") is not None:
        return None, None
    x, y = ctx.inputs
    want_y = wants_gradient(y)
    if not (wants_gradient(x) or want_y):
        return None, None
    gx = g / y
    return gx, (-(gx * ctx.output) if want_y else None)


_DIV = elementwise_binary(
    "div", _div_reference, dtypes=NUMERIC, result=_div_result, other_values=_DIVISOR,
    attrs=(("rounding_mode", None),), check=_check_rounding,
    attr_samples=({"rounding_mode": "trunc"}, {"rounding_mode": "floor"}),
    doc="``input / other``. rounding_mode None: true division (integers give float32); 'trunc': "
        "rounded toward zero; 'floor': rounded toward -inf (both keep the input dtype); their gradient is 0.",
    vjp=_div_vjp)
_div_fast = fast_binary(_DIV)


def div(input: Any, other: Any, *, rounding_mode: str | None = None) -> Any:
    if rounding_mode is None:
        return _div_fast(input, other)
    return _dispatch.apply(_DIV, (input, other), {"rounding_mode": rounding_mode})


div.__doc__ = _DIV.doc
divide = div


def true_divide(dividend: Any, divisor: Any) -> Any:
    """``dividend / divisor`` (true division; integers give float32)."""
    return _div_fast(dividend, divisor)


def _floor_divide_reference(input: Any, other: Any) -> Any:
    if np.result_type(input, other).kind in "biu":
        return np.floor_divide(input, other)
    return np.floor(np.true_divide(input, other))


def _remainder_vjp(rounding_mode: str) -> Any:
    """``x - round(x / y) * y``: 1 for ``input``, ``-round(x / y)`` for ``other`` (trunc: fmod, floor: %)."""

    def vjp(ctx: Any, g: Any) -> tuple[Any, Any]:
        x, y = ctx.inputs
        gy = -(g * div(x, y, rounding_mode=rounding_mode)) if wants_gradient(y) else None
        return (g if wants_gradient(x) else None), gy

    return vjp


floor_divide = fast_binary(elementwise_binary(
    "floor_divide", _floor_divide_reference, dtypes=NUMERIC, other_values=_DIVISOR,
    doc="``floor(input / other)`` in the input dtype (Python's ``//`` for integers); its gradient is 0.",
    vjp=no_gradient))
fmod = fast_binary(elementwise_binary(
    "fmod", np.fmod, dtypes=NUMERIC, other_values=_DIVISOR,
    doc="Remainder of truncated division: the result has the sign of ``input``.", vjp=_remainder_vjp("trunc")))
remainder = fast_binary(elementwise_binary(
    "remainder", np.remainder, dtypes=NUMERIC, other_values=_DIVISOR,
    doc="Remainder of floor division (Python's ``%``): the result has the sign of ``other``.",
    vjp=_remainder_vjp("floor")))


# -- pow ----------------------------------------------------------------------------------------
def _pow_vjp(ctx: Any, g: Any) -> tuple[Any, Any]:
    """d(x^e) = e x^(e-1) dx + x^e log(x) de. The exponent's gradient is defined where x > 0 (0
    elsewhere); an exponent of 0 gives the base a zero gradient (also at x = 0)."""
    x, e = ctx.inputs
    gx = ge = None
    if wants_gradient(x):
        if isinstance(e, Tensor):
            # where e == 0 the power is x^1 (times e = 0), so x = 0 gives 0 rather than 0 * inf
            gx = g * (e * pow(x, where(equal(e, 0), 1.0, _elementwise.sub(e, 1.0))))
        elif e != 0:
            gx = g * (pow(x, e - 1) * e)
    if wants_gradient(e):
        out = ctx.output
        if isinstance(x, Tensor):
            positive = greater(x, 0)
            ge = where(positive, g * out * _elementwise.log(where(positive, x, 1.0)), 0.0)
        elif x > 0:
            ge = g * out * math.log(x)
    return gx, ge


_POW = elementwise_binary(
    "pow", np.power, dtypes=NUMERIC, values=uniform(0.2, 2.5, -5, 6), other_values=uniform(-2.0, 2.0, 0, 4),
    inputs=("input", "exponent"), vjp=_pow_vjp,
    doc="``input ** exponent`` with broadcasting (an integer base needs non-negative integer exponents). "
        "The exponent's gradient ``x ** e * log(x)`` is taken where the base is positive, 0 elsewhere.")
_pow_fast = fast_binary(_POW)


def pow(input: Any, exponent: Any) -> Any:
    return _pow_fast(input, exponent)


pow.__doc__ = _POW.doc


# -- round ----------------------------------------------------------------------------------------
def _check_decimals(decimals: int = 0) -> None:
    if isinstance(decimals, bool) or not isinstance(decimals, int):
        raise OpError("round", f"decimals must be an int, got {type(decimals).__name__} {decimals!r}")


_ROUND = elementwise_unary(
    "round", lambda x, decimals=0: np.round(x, decimals), dtypes=NUMERIC, values=uniform(-5.0, 5.0),
    specials=(0.5, 1.5, 2.5, -0.5, -2.5, np.nan, np.inf), attrs=(("decimals", 0),), check=_check_decimals,
    attr_samples=({"decimals": 1}, {"decimals": -1}), vjp=no_gradient,
    doc="Round to ``decimals`` places, halves to even (``round(2.5) == 2``); its gradient is 0.")
_round_fast = fast_unary(_ROUND)


def round(input: Any, *, decimals: int = 0) -> Any:
    _check_decimals(decimals)  # here too: the infer cache would take decimals=1.0 for a cached 1
    if decimals == 0:
        return _round_fast(input)
    return _dispatch.apply(_ROUND, (input,), {"decimals": decimals})


round.__doc__ = _ROUND.doc

# -- classification -------------------------------------------------------------------------------
_CLASSIFY = with_specials(None, (np.nan, np.inf, -np.inf, 0.0, 1.0))
isnan = fast_unary(elementwise_unary("isnan", np.isnan, dtypes=ALL, result="bool", values=_CLASSIFY,
                                     doc="True where the element is NaN.", vjp=no_gradient, differentiable=False))
isinf = fast_unary(elementwise_unary("isinf", np.isinf, dtypes=ALL, result="bool", values=_CLASSIFY,
                                     doc="True where the element is +inf or -inf.", vjp=no_gradient,
                                     differentiable=False))
isfinite = fast_unary(elementwise_unary("isfinite", np.isfinite, dtypes=ALL, result="bool", values=_CLASSIFY,
                                        doc="True where the element is neither inf nor NaN.", vjp=no_gradient,
                                        differentiable=False))


# -- nan_to_num ----------------------------------------------------------------------------------
def _check_nan_to_num(nan: float | None = None, posinf: float | None = None, neginf: float | None = None) -> None:
    for name, value in (("nan", nan), ("posinf", posinf), ("neginf", neginf)):
        check_number("nan_to_num", name, value, allow_none=True)


def _nan_to_num_reference(x: Any, nan: float | None = None, posinf: float | None = None,
                          neginf: float | None = None) -> Any:
    if x.dtype.kind in "biu":
        return x
    largest = np.finfo(np.float64).max  # only meaningful for float64 samples (others pass bounds)
    out = np.where(np.isnan(x), 0.0 if nan is None else nan, x)
    out = np.where(np.isposinf(out), largest if posinf is None else posinf, out)
    return np.where(np.isneginf(out), -largest if neginf is None else neginf, out)


def _nan_to_num_samples(dtype: dt.DType) -> Iterable[Sample]:
    rng = np.random.default_rng(7)
    plain = with_specials(None, (np.nan, 0.0, -1.5))
    everything = with_specials(None, (np.nan, np.inf, -np.inf, 0.0))
    cases = [Sample((plain(shape, dtype, rng),), note="nan only, default replacements") for shape in UNARY_SHAPES]
    bounds = {"nan": 0.5, "posinf": 100.0, "neginf": -100.0}
    cases += [Sample((everything(shape, dtype, rng),), dict(bounds), note="explicit replacements")
              for shape in ((3, 4), (), (0, 2))]
    cases.append(Sample((everything((4, 4), dtype, rng),), {"nan": -1.0, "posinf": 7.0, "neginf": -7.0}))
    if dtype is dt.float64:
        cases.append(Sample((everything((4, 4), dtype, rng),),
                            note="special values: default bounds are float64's max (no finite differences)"))
    return cases


def _nan_to_num_infer(x: TensorType, **attrs: Any) -> TensorType:
    _check_nan_to_num(**attrs)
    return x


def _nan_to_num_vjp(ctx: Any, g: Any) -> tuple[Any]:
    """Finite elements pass through; replaced ones are constants (gradient 0)."""
    return (where(isfinite(ctx.inputs[0]), g, 0.0),)


_NAN_TO_NUM = register_op(OpDef(
    name="nan_to_num", group="elementwise", inputs=("input",), infer=_nan_to_num_infer,
    reference=_nan_to_num_reference, attrs=(("nan", None), ("posinf", None), ("neginf", None)), dtypes=NUMERIC,
    samples=_nan_to_num_samples, method="nan_to_num", vjp=_nan_to_num_vjp,
    doc="Replace NaN with ``nan`` (default 0), +inf with ``posinf`` and -inf with ``neginf`` (default: the "
        "largest / lowest finite value of the dtype). Integer tensors are returned unchanged."))
_nan_to_num_fast = fast_unary(_NAN_TO_NUM)


def nan_to_num(input: Any, nan: float | None = None, posinf: float | None = None,
               neginf: float | None = None) -> Any:
    if nan is None and posinf is None and neginf is None:
        return _nan_to_num_fast(input)
    return _dispatch.apply(_NAN_TO_NUM, (input,), {"nan": nan, "posinf": posinf, "neginf": neginf})


nan_to_num.__doc__ = _NAN_TO_NUM.doc


# -- ops of three or four operands ----------------------------------------------------------------
def _broadcast_infer(name: str, rule: str = "same") -> Any:
    def infer(*types: TensorType) -> TensorType:
        return TensorType(result_dtype(rule, types[0].dtype), broadcast_shapes(name, *(t.shape for t in types)))

    return infer


def _bounds(shape: tuple[int, ...], dtype: dt.DType, rng: np.random.Generator, low: bool) -> np.ndarray:
    if dtype.is_integer:
        return random_array(shape, dtype, rng, (-2, 1) if low else (1, 4))
    return random_array(shape, dtype, rng, (-2.0, 0.0) if low else (0.0, 2.0))


def _clamp_reference(x: Any, min: Any = None, max: Any = None) -> Any:
    if min is not None:
        x = np.maximum(x, min)
    if max is not None:
        x = np.minimum(x, max)
    return x


def _clamp_samples(dtype: dt.DType) -> Iterable[Sample]:
    rng = np.random.default_rng(11)
    values = uniform(-3.0, 3.0, -3, 4)
    cases = [Sample((values(a, dtype, rng), _bounds(b, dtype, rng, True), _bounds(c, dtype, rng, False)))
             for a, b, c in TERNARY_SHAPES]
    specials = with_specials(values, (np.nan, np.inf, -np.inf))
    cases.append(Sample((specials((3, 4), dtype, rng), _bounds((4,), dtype, rng, True),
                         _bounds((3, 1), dtype, rng, False)), note="special values: nan and infinities"))
    scalar_low, scalar_high = (-1, 2) if dtype.is_integer else (-0.5, 1.5)
    if dtype is dt.uint8:
        scalar_low = 1
    cases += [
        Sample((values((3, 4), dtype, rng), scalar_low, scalar_high), note="python scalar bounds"),
        Sample((values((3, 4), dtype, rng),), {"min": scalar_low}, note="min only"),
        Sample((values((3, 4), dtype, rng),), {"max": scalar_high}, note="max only"),
        Sample((values((3, 4), dtype, rng), None, _bounds((4,), dtype, rng, False)), note="tensor max only"),
        Sample((values((3, 4), dtype, rng), _bounds((3, 1), dtype, rng, True), None), note="tensor min only"),
        Sample((values((3, 4), dtype, rng), scalar_high, scalar_low), note="min > max gives max"),
    ]
    return cases


def _unbounded(bound: Any) -> bool:
    """A Python infinity standing in for a missing bound: it never clamps."""
    return isinstance(bound, float) and math.isinf(bound)


def _clamp_vjp(ctx: Any, g: Any) -> tuple[Any, Any, Any]:
    """``input`` gets the gradient where ``min <= input <= max``; ``min`` where it was picked
    (``input < min`` and ``min < max``); ``max`` where it was picked (``input > max`` or ``max < min``)."""
    x, low, high = ctx.inputs
    gx = glow = ghigh = None
    if wants_gradient(x):
        mask = None if _unbounded(low) else greater_equal(x, low)
        if not _unbounded(high):
            below = less_equal(x, high)
            mask = below if mask is None else logical_and(mask, below)
        gx = g if mask is None else where(mask, g, 0.0)
    if wants_gradient(low):
        glow = where(logical_and(less(x, low), less(low, high)), g, 0.0)
    if wants_gradient(high):
        ghigh = where(logical_or(greater(x, high), less(high, low)), g, 0.0)
    return gx, glow, ghigh


def _declare_clamp(name: str) -> OpDef:
    return register_op(OpDef(
        name=name, group="elementwise", inputs=("input", "min", "max"), infer=_broadcast_infer(name),
        reference=_clamp_reference, dtypes=NUMERIC, promote=(0, 1, 2), samples=_clamp_samples, method=name,
        vjp=_clamp_vjp,
        doc="Limit ``input`` to ``[min, max]`` (scalars or tensors, broadcast; either may be None, not both); "
            "where min > max the result is max. Tensor or float bounds promote the result dtype."))


_CLAMP = _declare_clamp("clamp")
_CLIP = _declare_clamp("clip")


def _extreme(dtype: dt.DType, lowest: bool) -> int | float:
    """A bound that clamps nothing, representable in ``dtype`` (so it never widens the result)."""
    if dtype.is_floating_point:
        return -float("inf") if lowest else float("inf")
    info = np.iinfo(dtype.numpy) if dtype.is_integer else np.iinfo(np.uint8)
    return int(info.min if lowest else info.max)


def _clamp_call(op: OpDef, input: Any, min: Any, max: Any) -> Any:
    if min is None and max is None:
        raise OpError(op.name, "min and max cannot both be None")
    if not isinstance(input, Tensor):
        raise OpError(op.name, f"input must be a Tensor, got {type(input).__name__}")
    if min is None:
        min = _extreme(input.dtype, lowest=True)
    if max is None:
        max = _extreme(input.dtype, lowest=False)
    return _dispatch.apply(op, (input, min, max), {})


def clamp(input: Any, min: Any = None, max: Any = None) -> Any:
    return _clamp_call(_CLAMP, input, min, max)


def clip(input: Any, min: Any = None, max: Any = None) -> Any:
    return _clamp_call(_CLIP, input, min, max)


clamp.__doc__ = _CLAMP.doc
clip.__doc__ = _CLIP.doc


def _lerp_reference(input: Any, end: Any, weight: Any) -> Any:
    return input + weight * (end - input)


def _lerp_samples(dtype: dt.DType) -> Iterable[Sample]:
    rng = np.random.default_rng(13)
    cases = [Sample((random_array(a, dtype, rng), random_array(b, dtype, rng), random_array(c, dtype, rng, (0, 1))))
             for a, b, c in TERNARY_SHAPES]
    cases.append(Sample((random_array((3, 4), dtype, rng), random_array((4,), dtype, rng), 0.25),
                        note="python float weight"))
    cases.append(Sample((random_array((2, 2), dtype, rng), random_array((2, 2), dtype, rng), 1.5),
                        note="extrapolation"))
    return cases


def _lerp_vjp(ctx: Any, g: Any) -> tuple[Any, Any, Any]:
    x, end, weight = ctx.inputs
    return (g * (1.0 - weight) if wants_gradient(x) else None,
            g * weight if wants_gradient(end) else None,
            g * (end - x) if wants_gradient(weight) else None)


_LERP = register_op(OpDef(
    name="lerp", group="elementwise", inputs=("input", "end", "weight"), infer=_broadcast_infer("lerp"),
    reference=_lerp_reference, dtypes=FLOATS, promote=(0, 1, 2), samples=_lerp_samples, method="lerp",
    vjp=_lerp_vjp,
    doc="Linear interpolation ``input + weight * (end - input)`` (weight a float or a tensor), broadcast."))


def lerp(input: Any, end: Any, weight: Any) -> Any:
    return _dispatch.apply(_LERP, (input, end, weight), {})


lerp.__doc__ = _LERP.doc


def _addcmul_reference(input: Any, tensor1: Any, tensor2: Any, value: Any) -> Any:
    return input + value * tensor1 * tensor2


def _addcmul_samples(dtype: dt.DType) -> Iterable[Sample]:
    rng = np.random.default_rng(17)
    small = (0, 4) if dtype.is_integer else None
    cases = [Sample((random_array(a, dtype, rng), random_array(b, dtype, rng, small),
                     random_array(c, dtype, rng, small), 1)) for a, b, c in TERNARY_SHAPES]
    value = 2 if dtype.is_integer else 0.5
    cases.append(Sample((random_array((2, 3), dtype, rng), random_array((2, 3), dtype, rng, small),
                         random_array((3,), dtype, rng, small), value), note="python scalar value"))
    cases.append(Sample((random_array((2, 3), dtype, rng), random_array((2, 1), dtype, rng, small),
                         random_array((3,), dtype, rng, small), random_array((1,), dtype, rng, small)),
                        note="tensor value"))
    return cases


def _addcmul_vjp(ctx: Any, g: Any) -> tuple[Any, Any, Any, Any]:
    x, t1, t2, value = ctx.inputs
    return (g if wants_gradient(x) else None,
            g * (t2 * value) if wants_gradient(t1) else None,
            g * (t1 * value) if wants_gradient(t2) else None,
            g * (t1 * t2) if wants_gradient(value) else None)


_ADDCMUL = register_op(OpDef(
    name="addcmul", group="elementwise", inputs=("input", "tensor1", "tensor2", "value"),
    infer=_broadcast_infer("addcmul"), reference=_addcmul_reference, dtypes=NUMERIC, promote=(0, 1, 2, 3),
    samples=_addcmul_samples, method="addcmul", vjp=_addcmul_vjp,
    doc="``input + value * tensor1 * tensor2`` (value a number or a tensor), broadcast."))


def addcmul(input: Any, tensor1: Any, tensor2: Any, value: Any = 1) -> Any:
    return _dispatch.apply(_ADDCMUL, (input, tensor1, tensor2, value), {})


addcmul.__doc__ = _ADDCMUL.doc
