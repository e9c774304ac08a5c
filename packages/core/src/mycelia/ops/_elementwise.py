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
from mycelia.ops._define import ALL, NUMERIC, SIGNED, binary_op, unary_op
from mycelia.ops._elementwise_factory import (
    Values,
    away_from_zero,
    elementwise_binary,
    elementwise_unary,
    fast_binary,
    fast_unary,
    uniform,
)

__all__ = [
    "abs", "absolute", "acos", "acosh", "add", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2",
    "arctanh", "asin", "asinh", "atan", "atan2", "atanh", "ceil", "cos", "cosh", "erf", "erfc", "exp", "expm1",
    "floor", "log", "log1p", "log2", "maximum", "minimum", "mul", "multiply", "neg", "negative", "reciprocal",
    "rsqrt", "sign", "sin", "sinh", "sqrt", "square", "sub", "subtract", "tan", "tanh", "trunc",
    *_arithmetic_all,
]

add = binary_op("add", np.add, doc="``input + other`` with broadcasting.")
sub = binary_op("sub", np.subtract, doc="``input - other`` with broadcasting.")
mul = binary_op("mul", np.multiply, dtypes=ALL, doc="``input * other`` with broadcasting.")
neg = unary_op("neg", np.negative, dtypes=SIGNED, doc="``-input``.")
abs = unary_op("abs", np.abs, dtypes=NUMERIC, doc="Absolute value.")


def _float_unary(name: str, reference: Callable[..., Any], doc: str,
                 values: Values | None = None) -> Callable[[Any], Any]:
    return fast_unary(elementwise_unary(name, reference, dtypes=NUMERIC, result="float", values=values, doc=doc))


_POSITIVE = uniform(0.05, 10.0, 1, 10)
sqrt = _float_unary("sqrt", np.sqrt, "Square root (integers give float32).", uniform(0.0, 4.0))
rsqrt = _float_unary("rsqrt", lambda x: 1.0 / np.sqrt(x), "``1 / sqrt(input)``.", uniform(0.1, 4.0, 1, 5))
exp = _float_unary("exp", np.exp, "``e ** input``.")
expm1 = _float_unary("expm1", np.expm1, "``exp(input) - 1``, accurate near 0.")
log = _float_unary("log", np.log, "Natural logarithm.", _POSITIVE)
log1p = _float_unary("log1p", np.log1p, "``log(1 + input)``, accurate near 0.", uniform(-0.9, 5.0, 0, 10))
log2 = _float_unary("log2", np.log2, "Base-2 logarithm.", _POSITIVE)
sin = _float_unary("sin", np.sin, "Sine.")
cos = _float_unary("cos", np.cos, "Cosine.")
tan = _float_unary("tan", np.tan, "Tangent.", uniform(-1.4, 1.4, -5, 6))
asin = _float_unary("asin", np.arcsin, "Inverse sine.", uniform(-0.99, 0.99, -1, 2))
acos = _float_unary("acos", np.arccos, "Inverse cosine.", uniform(-0.99, 0.99, -1, 2))
atan = _float_unary("atan", np.arctan, "Inverse tangent.")
sinh = _float_unary("sinh", np.sinh, "Hyperbolic sine.")
cosh = _float_unary("cosh", np.cosh, "Hyperbolic cosine.")
tanh = _float_unary("tanh", np.tanh, "Hyperbolic tangent.")
asinh = _float_unary("asinh", np.arcsinh, "Inverse hyperbolic sine.")
acosh = _float_unary("acosh", np.arccosh, "Inverse hyperbolic cosine.", uniform(1.0, 5.0))
atanh = _float_unary("atanh", np.arctanh, "Inverse hyperbolic tangent.", uniform(-0.95, 0.95, 0, 1))
erf = _float_unary("erf", np.vectorize(math.erf, otypes=[np.float64]), "Gauss error function.",
                   uniform(-3.5, 3.5, -3, 4))
erfc = _float_unary("erfc", np.vectorize(math.erfc, otypes=[np.float64]), "``1 - erf(input)``, accurate in the tail.",
                    uniform(-3.0, 6.0, -3, 4))
reciprocal = fast_unary(elementwise_unary(
    "reciprocal", lambda x: 1.0 / x, dtypes=NUMERIC, result="float",
    values=away_from_zero(0.2, 4.0), doc="``1 / input`` (integers give float32)."))
square = fast_unary(elementwise_unary("square", np.square, dtypes=NUMERIC, doc="``input * input``."))
floor = fast_unary(elementwise_unary("floor", np.floor, dtypes=NUMERIC, values=uniform(-5.0, 5.0),
                                     specials=(np.nan, np.inf, -0.0, -0.5), doc="Round toward -inf."))
ceil = fast_unary(elementwise_unary("ceil", np.ceil, dtypes=NUMERIC, values=uniform(-5.0, 5.0),
                                    specials=(np.nan, np.inf, -0.0, -0.5), doc="Round toward +inf."))
trunc = fast_unary(elementwise_unary("trunc", np.trunc, dtypes=NUMERIC, values=uniform(-5.0, 5.0),
                                     specials=(np.nan, -np.inf, -0.0, -0.5), doc="Round toward 0."))
sign = fast_unary(elementwise_unary("sign", np.sign, dtypes=NUMERIC, specials=(0.0, -0.0, np.inf, -np.inf),
                                    doc="-1, 0 or 1 by the sign of each element (nan stays nan)."))
atan2 = fast_binary(elementwise_binary(
    "atan2", np.arctan2, dtypes=NUMERIC, result="float", specials=(0.0, -0.0, np.inf, -1.0),
    doc="The angle of the point ``(other, input)``: ``arctan(input / other)`` in the right quadrant."))
maximum = fast_binary(elementwise_binary(
    "maximum", np.maximum, dtypes=ALL, specials=(np.nan, np.inf, -np.inf, 0.0),
    doc="Elementwise maximum with broadcasting (nan wins)."))
minimum = fast_binary(elementwise_binary(
    "minimum", np.minimum, dtypes=ALL, specials=(np.nan, np.inf, -np.inf, 0.0),
    doc="Elementwise minimum with broadcasting (nan wins)."))

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
