"""Elementwise math declarations (references are numpy; the oracle of the conformance suite).

Float-valued math (exp, log, sqrt, trigonometry, erf, ...) accepts integer inputs and returns
float32 for them, as MindSpore does; float16/bfloat16 stay in their dtype. Ops with attributes,
division-like ops and multi-operand ops are in ``_arithmetic``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from mycelia.ops._arithmetic import *  # noqa: F403
from mycelia.ops._arithmetic import __all__ as _arithmetic_all
from mycelia.ops._comparison import greater_equal, less_equal, where
from mycelia.ops._define import ALL, NUMERIC, SIGNED, binary_op, unary_op
from mycelia.ops._elementwise_factory import (
    Values,
    away_from_zero,
    elementwise_binary,
    elementwise_unary,
    fast_binary,
    fast_unary,
    no_gradient,
    uniform,
    wants_gradient,
)

__all__ = [
    "abs", "absolute", "acos", "acosh", "add", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2",
    "arctanh", "asin", "asinh", "atan", "atan2", "atanh", "ceil", "cos", "cosh", "erf", "erfc", "exp", "expm1",
    "floor", "log", "log1p", "log2", "maximum", "minimum", "mul", "multiply", "neg", "negative", "reciprocal",
    "rsqrt", "sign", "sin", "sinh", "sqrt", "square", "sub", "subtract", "tan", "tanh", "trunc",
    *_arithmetic_all,
]

_LN2 = math.log(2.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


# -- gradient rules (vjp): written in mycelia ops so that they differentiate again ------------------
# ``x``: the input, ``y``: the output, ``g``: the upstream gradient. Inputs that are Python scalars,
# untracked or integer get no gradient (``wants_gradient``), so nothing is computed for them.
def _add_vjp(ctx: Any, g: Any) -> tuple[Any, Any]:
    x, y = ctx.inputs
    return (g if wants_gradient(x) else None), (g if wants_gradient(y) else None)


def _sub_vjp(ctx: Any, g: Any) -> tuple[Any, Any]:
    x, y = ctx.inputs
    return (g if wants_gradient(x) else None), (neg(g) if wants_gradient(y) else None)


def _mul_vjp(ctx: Any, g: Any) -> tuple[Any, Any]:
    x, y = ctx.inputs
    return (mul(g, y) if wants_gradient(x) else None), (mul(g, x) if wants_gradient(y) else None)


def _unary_vjp(rule: Callable[[Any, Any, Any], Any]) -> Callable[[Any, Any], tuple[Any]]:
    """A unary op's vjp from ``rule(g, x, y) -> gradient of x``."""

    def vjp(ctx: Any, g: Any) -> tuple[Any]:
        return (rule(g, ctx.inputs[0], ctx.outputs[0]),)

    return vjp


def _sqrt_rule(g: Any, x: Any, y: Any) -> Any:
    return g / (y + y)


def _rsqrt_rule(g: Any, x: Any, y: Any) -> Any:
    return g * (y * y * y) * -0.5  # d x^-1/2 = -x^-3/2 / 2


def _asin_rule(g: Any, x: Any, y: Any) -> Any:
    return g * rsqrt(1.0 - x * x)


def _acos_rule(g: Any, x: Any, y: Any) -> Any:
    return g * neg(rsqrt(1.0 - x * x))


# Rules that name an op declared further down are functions (mypy types module-level lambdas eagerly).
def _neg_rule(g: Any, x: Any, y: Any) -> Any:
    return neg(g)


def _abs_rule(g: Any, x: Any, y: Any) -> Any:
    return g * sign(x)


def _sin_rule(g: Any, x: Any, y: Any) -> Any:
    return g * cos(x)


def _sinh_rule(g: Any, x: Any, y: Any) -> Any:
    return g * cosh(x)


def _erf_rule(g: Any, x: Any, y: Any) -> Any:
    return g * (exp(x * x * -1.0) * _TWO_OVER_SQRT_PI)


def _erfc_rule(g: Any, x: Any, y: Any) -> Any:
    return g * (exp(x * x * -1.0) * -_TWO_OVER_SQRT_PI)


add = binary_op("add", np.add, doc="``input + other`` with broadcasting.", vjp=_add_vjp)
sub = binary_op("sub", np.subtract, doc="``input - other`` with broadcasting.", vjp=_sub_vjp)
mul = binary_op("mul", np.multiply, dtypes=ALL, doc="``input * other`` with broadcasting.", vjp=_mul_vjp)
neg = unary_op("neg", np.negative, dtypes=SIGNED, doc="``-input``.", vjp=_unary_vjp(_neg_rule))
abs = unary_op("abs", np.abs, dtypes=NUMERIC, doc="Absolute value (gradient ``sign(input)``: 0 at 0).",
               vjp=_unary_vjp(_abs_rule))


def _float_unary(name: str, reference: Callable[..., Any], doc: str, values: Values | None = None,
                 rule: Callable[[Any, Any, Any], Any] | None = None) -> Callable[[Any], Any]:
    return fast_unary(elementwise_unary(name, reference, dtypes=NUMERIC, result="float", values=values, doc=doc,
                                        vjp=_unary_vjp(rule) if rule is not None else None))


_POSITIVE = uniform(0.05, 10.0, 1, 10)
sqrt = _float_unary("sqrt", np.sqrt, "Square root (integers give float32).", uniform(0.0, 4.0), _sqrt_rule)
rsqrt = _float_unary("rsqrt", lambda x: 1.0 / np.sqrt(x), "``1 / sqrt(input)``.", uniform(0.1, 4.0, 1, 5),
                     _rsqrt_rule)
exp = _float_unary("exp", np.exp, "``e ** input``.", rule=lambda g, x, y: g * y)
expm1 = _float_unary("expm1", np.expm1, "``exp(input) - 1``, accurate near 0.", rule=lambda g, x, y: g * (y + 1.0))
log = _float_unary("log", np.log, "Natural logarithm.", _POSITIVE, lambda g, x, y: g / x)
log1p = _float_unary("log1p", np.log1p, "``log(1 + input)``, accurate near 0.", uniform(-0.9, 5.0, 0, 10),
                     lambda g, x, y: g / (x + 1.0))
log2 = _float_unary("log2", np.log2, "Base-2 logarithm.", _POSITIVE, lambda g, x, y: g / (x * _LN2))
sin = _float_unary("sin", np.sin, "Sine.", rule=_sin_rule)
cos = _float_unary("cos", np.cos, "Cosine.", rule=lambda g, x, y: g * neg(sin(x)))
tan = _float_unary("tan", np.tan, "Tangent.", uniform(-1.4, 1.4, -5, 6), lambda g, x, y: g * (y * y + 1.0))
asin = _float_unary("asin", np.arcsin, "Inverse sine.", uniform(-0.99, 0.99, -1, 2), _asin_rule)
acos = _float_unary("acos", np.arccos, "Inverse cosine.", uniform(-0.99, 0.99, -1, 2), _acos_rule)
atan = _float_unary("atan", np.arctan, "Inverse tangent.", rule=lambda g, x, y: g / (x * x + 1.0))
sinh = _float_unary("sinh", np.sinh, "Hyperbolic sine.", rule=_sinh_rule)
cosh = _float_unary("cosh", np.cosh, "Hyperbolic cosine.", rule=lambda g, x, y: g * sinh(x))
tanh = _float_unary("tanh", np.tanh, "Hyperbolic tangent.", rule=lambda g, x, y: g * (1.0 - y * y))
asinh = _float_unary("asinh", np.arcsinh, "Inverse hyperbolic sine.", rule=lambda g, x, y: g * rsqrt(x * x + 1.0))
acosh = _float_unary("acosh", np.arccosh, "Inverse hyperbolic cosine.", uniform(1.0, 5.0),
                     lambda g, x, y: g * rsqrt((x - 1.0) * (x + 1.0)))
atanh = _float_unary("atanh", np.arctanh, "Inverse hyperbolic tangent.", uniform(-0.95, 0.95, 0, 1),
                     lambda g, x, y: g / (1.0 - x * x))
erf = _float_unary("erf", np.vectorize(math.erf, otypes=[np.float64]), "Gauss error function.",
                   uniform(-3.5, 3.5, -3, 4), _erf_rule)
erfc = _float_unary("erfc", np.vectorize(math.erfc, otypes=[np.float64]), "``1 - erf(input)``, accurate in the tail.",
                    uniform(-3.0, 6.0, -3, 4), _erfc_rule)
reciprocal = fast_unary(elementwise_unary(
    "reciprocal", lambda x: 1.0 / x, dtypes=NUMERIC, result="float",
    values=away_from_zero(0.2, 4.0), doc="``1 / input`` (integers give float32).",
    vjp=_unary_vjp(lambda g, x, y: g * neg(y * y))))
square = fast_unary(elementwise_unary("square", np.square, dtypes=NUMERIC, doc="``input * input``.",
                                      vjp=_unary_vjp(lambda g, x, y: g * (x + x))))
# Piecewise-constant ops: the gradient is 0 wherever it is defined (MindSpore gives zeros too).
floor = fast_unary(elementwise_unary("floor", np.floor, dtypes=NUMERIC, values=uniform(-5.0, 5.0),
                                     specials=(np.nan, np.inf, -0.0, -0.5), doc="Round toward -inf.",
                                     vjp=no_gradient))
ceil = fast_unary(elementwise_unary("ceil", np.ceil, dtypes=NUMERIC, values=uniform(-5.0, 5.0),
                                    specials=(np.nan, np.inf, -0.0, -0.5), doc="Round toward +inf.",
                                    vjp=no_gradient))
trunc = fast_unary(elementwise_unary("trunc", np.trunc, dtypes=NUMERIC, values=uniform(-5.0, 5.0),
                                     specials=(np.nan, -np.inf, -0.0, -0.5), doc="Round toward 0.",
                                     vjp=no_gradient))
sign = fast_unary(elementwise_unary("sign", np.sign, dtypes=NUMERIC, specials=(0.0, -0.0, np.inf, -np.inf),
                                    doc="-1, 0 or 1 by the sign of each element (nan stays nan).", vjp=no_gradient))


def _atan2_vjp(ctx: Any, g: Any) -> tuple[Any, Any]:
    """d atan2(a, b) = (b da - a db) / (a^2 + b^2)."""
    a, b = ctx.inputs
    scale = g / (a * a + b * b)
    return (scale * b if wants_gradient(a) else None), (-(scale * a) if wants_gradient(b) else None)


def _extremum_vjp(pick_input: Callable[[Any, Any], Any]) -> Callable[[Any, Any], tuple[Any, Any]]:
    """maximum/minimum: the gradient goes to the operand that was picked; on ties to ``input`` (as
    MindSpore's MaximumGrad/MinimumGrad, which test ``input >= other`` / ``input <= other``)."""

    def vjp(ctx: Any, g: Any) -> tuple[Any, Any]:
        x, y = ctx.inputs
        chosen = pick_input(x, y)
        return (where(chosen, g, 0.0) if wants_gradient(x) else None,
                where(chosen, 0.0, g) if wants_gradient(y) else None)

    return vjp


atan2 = fast_binary(elementwise_binary(
    "atan2", np.arctan2, dtypes=NUMERIC, result="float", specials=(0.0, -0.0, np.inf, -1.0),
    doc="The angle of the point ``(other, input)``: ``arctan(input / other)`` in the right quadrant.",
    vjp=_atan2_vjp))
maximum = fast_binary(elementwise_binary(
    "maximum", np.maximum, dtypes=ALL, specials=(np.nan, np.inf, -np.inf, 0.0),
    doc="Elementwise maximum with broadcasting (nan wins). On ties the gradient goes to ``input``.",
    vjp=_extremum_vjp(lambda x, y: greater_equal(x, y))))
minimum = fast_binary(elementwise_binary(
    "minimum", np.minimum, dtypes=ALL, specials=(np.nan, np.inf, -np.inf, 0.0),
    doc="Elementwise minimum with broadcasting (nan wins). On ties the gradient goes to ``input``.",
    vjp=_extremum_vjp(lambda x, y: less_equal(x, y))))

# MindSpore's numpy-style spellings of the same ops.
absolute = abs
negative = neg
subtract = sub
multiply = mul
arcsin = asin
arccos = acos
arctan = atan
arctan2 = atan2
arcsinh = asinh
arccosh = acosh
arctanh = atanh
