"""Activation declarations: elementwise activations (group ``elementwise``) and the axis ops
softmax / log_softmax (group ``nn``), with MindSpore's names, arguments and defaults.

Run with their default attributes, the elementwise activations and softmax take the dispatch fast
path; other attributes go through ``apply`` (validated in ``infer``).

Gradient rules reuse the forward output where that is cheaper and stable (sigmoid, tanh-like,
elu, softmax); relu's is the upstream gradient times a mask, the other piecewise rules one
``where``. At a kink the rule takes the flat side (relu'(0) = 0, leaky_relu'(0) = alpha), as
MindSpore and PyTorch do.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._errors import OpError
from mycelia._types import TensorType
from mycelia.ops import _dispatch, _reduction
from mycelia.ops._comparison import greater, less, less_equal, logical_and, where
from mycelia.ops._define import FLOATS, NUMERIC, random_array
from mycelia.ops._elementwise import abs as _abs
from mycelia.ops._elementwise import erf, exp, expm1, mul, tanh
from mycelia.ops._elementwise_factory import check_number, elementwise_unary, fast_unary, uniform
from mycelia.ops._registry import OpDef, Sample, register_op

__all__ = [
    "elu", "gelu", "hardsigmoid", "hardswish", "leaky_relu", "log_softmax", "logsigmoid", "mish", "relu", "relu6",
    "selu", "sigmoid", "silu", "softmax", "softplus", "softsign",
]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_RELU_SPECIALS = (np.nan, np.inf, -np.inf, -0.0)
_erf = np.vectorize(math.erf, otypes=[np.float64])


def _sigmoid_reference(x: Any) -> Any:
    return 1.0 / (1.0 + np.exp(-x))


def _softplus_reference(x: Any, beta: float = 1, threshold: float = 20) -> Any:
    scaled = beta * x
    return np.where(scaled > threshold, x, np.logaddexp(0, scaled) / beta)


def _elu_reference(x: Any, alpha: float = 1.0) -> Any:
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def _gelu_reference(x: Any, approximate: str = "none") -> Any:
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)))


def _activation(name: str, reference: Any, doc: str, **options: Any) -> Any:
    return fast_unary(elementwise_unary(name, reference, dtypes=FLOATS, method="", doc=doc, **options))


# -- gradient rules (vjp); ``x`` the input, ``y`` the output, ``g`` the upstream gradient -----------
def _rule(rule: Any) -> Any:
    """A unary op's vjp from ``rule(g, x, y, attrs) -> gradient of x``."""

    def vjp(ctx: Any, g: Any) -> tuple[Any]:
        return (rule(g, ctx.inputs[0], ctx.outputs[0], ctx.attrs),)

    return vjp


def _relu_rule(g: Any, x: Any, y: Any, attrs: Any) -> Any:
    # A mask product, not where(): a quarter of the cost on the CPU backend (np.where with a random
    # mask is branchy); an inf/nan upstream gradient where the unit is off gives nan instead of 0.
    return mul(g, greater(y, 0))


def _relu6_rule(g: Any, x: Any, y: Any, attrs: Any) -> Any:
    return where(logical_and(greater(x, 0), less(x, 6)), g, 0.0)


def _sigmoid_rule(g: Any, x: Any, y: Any, attrs: Any) -> Any:
    return g * (y - y * y)


def _silu_rule(g: Any, x: Any, y: Any, attrs: Any) -> Any:
    return g * (sigmoid(x) * ((x + 1.0) - y))  # s (1 + x (1 - s)), with x s = y


def _mish_rule(g: Any, x: Any, y: Any, attrs: Any) -> Any:
    t = tanh(softplus(x))
    return g * (t + x * sigmoid(x) * (1.0 - t * t))


def _softsign_rule(g: Any, x: Any, y: Any, attrs: Any) -> Any:
    denominator = _abs(x) + 1.0
    return g / (denominator * denominator)


def _hardswish_rule(g: Any, x: Any, y: Any, attrs: Any) -> Any:
    return where(less(x, -3.0), 0.0, where(less_equal(x, 3.0), g * (x * (1.0 / 3.0) + 0.5), g))


def _hardsigmoid_rule(g: Any, x: Any, y: Any, attrs: Any) -> Any:
    return where(logical_and(greater(x, -3.0), less(x, 3.0)), g * (1.0 / 6.0), 0.0)


def _selu_rule(g: Any, x: Any, y: Any, attrs: Any) -> Any:
    return where(greater(x, 0), g * _SELU_SCALE, g * (y + _SELU_SCALE * _SELU_ALPHA))


relu = fast_unary(elementwise_unary("relu", lambda x: np.maximum(x, 0), dtypes=NUMERIC, specials=_RELU_SPECIALS,
                                    doc="``max(input, 0)`` (NaN stays NaN).",
                                    vjp=_rule(_relu_rule)))
relu6 = fast_unary(elementwise_unary("relu6", lambda x: np.minimum(np.maximum(x, 0), 6), dtypes=NUMERIC,
                                     values=uniform(-3.0, 9.0), specials=_RELU_SPECIALS, method="",
                                     doc="``min(max(input, 0), 6)``.", vjp=_rule(_relu6_rule)))
sigmoid = fast_unary(elementwise_unary("sigmoid", _sigmoid_reference, dtypes=FLOATS, values=uniform(-12.0, 12.0),
                                       specials=(np.nan, np.inf, -np.inf, 100.0, -100.0),
                                       doc="``1 / (1 + exp(-input))``, without overflow for large |input|.",
                                       vjp=_rule(_sigmoid_rule)))
logsigmoid = _activation("logsigmoid", lambda x: -np.logaddexp(0, -x),
                         "``log(sigmoid(input))``, stable for large |input|.", values=uniform(-30.0, 30.0),
                         vjp=_rule(lambda g, x, y, attrs: -(g * expm1(y))))  # 1 - sigmoid(x) = -expm1(y)
silu = _activation("silu", lambda x: x * _sigmoid_reference(x), "``input * sigmoid(input)`` (swish).",
                   values=uniform(-12.0, 12.0), vjp=_rule(_silu_rule))
mish = _activation("mish", lambda x: x * np.tanh(np.logaddexp(0, x)),
                   "``input * tanh(softplus(input))``.", values=uniform(-12.0, 40.0), vjp=_rule(_mish_rule))
softsign = _activation("softsign", lambda x: x / (1 + np.abs(x)), "``input / (1 + |input|)``.",
                       vjp=_rule(_softsign_rule))
hardswish = _activation("hardswish", lambda x: x * np.minimum(np.maximum(x + 3, 0), 6) / 6,
                        "``input * relu6(input + 3) / 6``.", values=uniform(-5.0, 5.0), vjp=_rule(_hardswish_rule))
hardsigmoid = _activation("hardsigmoid", lambda x: np.minimum(np.maximum(x / 6 + 0.5, 0), 1),
                          "``max(0, min(1, input / 6 + 1/2))``.", values=uniform(-5.0, 5.0),
                          specials=_RELU_SPECIALS, vjp=_rule(_hardsigmoid_rule))
selu = _activation("selu", lambda x: _SELU_SCALE * _elu_reference(x, _SELU_ALPHA),
                   "``scale * elu(input, alpha)`` with SELU's constants.", values=uniform(-4.0, 4.0),
                   vjp=_rule(_selu_rule))


# -- activations with attributes ------------------------------------------------------------------
def _check_alpha(op: str) -> Any:
    def check(alpha: float = 0.0) -> None:
        check_number(op, "alpha", alpha)

    return check


def _leaky_relu_rule(g: Any, x: Any, y: Any, attrs: Any) -> Any:
    return where(greater(x, 0), g, g * attrs.get("alpha", 0.2))


def _elu_rule(g: Any, x: Any, y: Any, attrs: Any) -> Any:
    return where(greater(x, 0), g, g * (y + attrs.get("alpha", 1.0)))  # alpha e^x = y + alpha


_LEAKY_RELU = elementwise_unary(
    "leaky_relu", lambda x, alpha=0.2: np.where(x >= 0, x, alpha * x), dtypes=FLOATS, specials=_RELU_SPECIALS,
    attrs=(("alpha", 0.2),), check=_check_alpha("leaky_relu"), method="", vjp=_rule(_leaky_relu_rule),
    attr_samples=({"alpha": 0.01}, {"alpha": 1.5}, {"alpha": -0.3}),
    doc="``input`` where ``input >= 0``, else ``alpha * input`` (MindSpore's default alpha is 0.2).")
_leaky_relu_fast = fast_unary(_LEAKY_RELU)


def leaky_relu(input: Any, alpha: float = 0.2) -> Any:
    if alpha == 0.2 and type(alpha) is float:
        return _leaky_relu_fast(input)
    return _dispatch.apply(_LEAKY_RELU, (input,), {"alpha": alpha})


_ELU = elementwise_unary(
    "elu", _elu_reference, dtypes=FLOATS, values=uniform(-4.0, 4.0), attrs=(("alpha", 1.0),),
    check=_check_alpha("elu"), attr_samples=({"alpha": 0.5},), method="", vjp=_rule(_elu_rule),
    doc="``input`` where ``input > 0``, else ``alpha * (exp(input) - 1)``.")
_elu_fast = fast_unary(_ELU)


def elu(input_x: Any, alpha: float = 1.0) -> Any:
    if alpha == 1.0 and type(alpha) is float:
        return _elu_fast(input_x)
    return _dispatch.apply(_ELU, (input_x,), {"alpha": alpha})


def _check_gelu(approximate: str = "none") -> None:
    if approximate not in ("none", "tanh"):
        raise OpError("gelu", f"approximate must be 'none' or 'tanh', got {approximate!r}")


_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TANH_SCALE = math.sqrt(2.0 / math.pi)
_TANH_CUBIC = 0.044715


def _gelu_rule(g: Any, x: Any, y: Any, attrs: Any) -> Any:
    if attrs.get("approximate", "none") == "tanh":
        # y = x (1 + t) / 2 with t = tanh(u), u = c (x + k x^3): y' = (1 + t) / 2 + x (1 - t^2) c (1 + 3k x^2) / 2
        square = x * x
        t = tanh((x + x * square * _TANH_CUBIC) * _TANH_SCALE)
        slope = (square * (3.0 * _TANH_CUBIC) + 1.0) * (1.0 - t * t) * (x * (0.5 * _TANH_SCALE))
        return g * ((t + 1.0) * 0.5 + slope)
    # y = x Phi(x): y' = Phi(x) + x phi(x)
    cdf = (erf(x * _SQRT_HALF) + 1.0) * 0.5
    return g * (cdf + x * exp(x * x * -0.5) * _INV_SQRT_2PI)


_GELU = elementwise_unary(
    "gelu", _gelu_reference, dtypes=FLOATS, values=uniform(-5.0, 5.0), attrs=(("approximate", "none"),),
    check=_check_gelu, attr_samples=({"approximate": "tanh"},), method="", vjp=_rule(_gelu_rule),
    doc="Gaussian error linear unit: ``input * Phi(input)`` exactly (approximate='none', via erf) or with "
        "the tanh approximation (approximate='tanh').")
_gelu_fast = fast_unary(_GELU)


def gelu(input: Any, approximate: str = "none") -> Any:
    if approximate == "none":
        return _gelu_fast(input)
    return _dispatch.apply(_GELU, (input,), {"approximate": approximate})


def _check_softplus(beta: float = 1, threshold: float = 20) -> None:
    check_number("softplus", "beta", beta)
    check_number("softplus", "threshold", threshold)
    if beta == 0:
        raise OpError("softplus", "beta must be non-zero")


def _softplus_rule(g: Any, x: Any, y: Any, attrs: Any) -> Any:
    beta = attrs.get("beta", 1)
    threshold = attrs.get("threshold", 20)
    scaled = x if beta == 1 else x * beta
    return where(greater(scaled, threshold), g, g * sigmoid(scaled))


_SOFTPLUS = elementwise_unary(
    "softplus", _softplus_reference, dtypes=FLOATS, values=uniform(-30.0, 30.0),
    attrs=(("beta", 1), ("threshold", 20)), check=_check_softplus, vjp=_rule(_softplus_rule),
    attr_samples=({"beta": 2, "threshold": 5}, {"beta": 0.5, "threshold": 1.0}), method="",
    doc="``log(1 + exp(beta * input)) / beta``, and ``input`` itself where ``beta * input > threshold``.")
_softplus_fast = fast_unary(_SOFTPLUS)


def softplus(input: Any, beta: float = 1, threshold: float = 20) -> Any:
    if beta == 1 and threshold == 20:
        return _softplus_fast(input)
    return _dispatch.apply(_SOFTPLUS, (input,), {"beta": beta, "threshold": threshold})


for _function, _op in ((leaky_relu, _LEAKY_RELU), (elu, _ELU), (gelu, _GELU), (softplus, _SOFTPLUS)):
    _function.__doc__ = _op.doc


# -- softmax / log_softmax ------------------------------------------------------------------------
def _normalize_axis(op: str, axis: Any, rank: int) -> tuple[int, ...]:
    """Axes as non-negative ints; a 0-d tensor counts as one element along axis 0 / -1."""
    axes = axis if isinstance(axis, tuple) else (axis,)
    size = max(rank, 1)
    result = []
    for item in axes:
        if isinstance(item, bool) or not isinstance(item, int):
            raise OpError(op, f"axis must be an int or a tuple of ints, got {axis!r}")
        if not -size <= item < size:
            raise OpError(op, f"axis {item} is out of range for a tensor of rank {rank}; "
                              f"accepted: {-size} to {size - 1}")
        result.append(item % size)
    if len(set(result)) != len(result):
        raise OpError(op, f"axis {axis!r} repeats an axis")
    return tuple(result)


def _softmax_infer(op: str) -> Any:
    def infer(x: TensorType, *, axis: Any = -1, dtype: dt.DType | None = None) -> TensorType:
        _normalize_axis(op, axis, x.rank)
        if dtype is not None and (not isinstance(dtype, dt.DType) or not dtype.is_floating_point):
            raise OpError(op, f"dtype must be a floating-point mycelia dtype or None, got {dtype!r}")
        return TensorType(dtype or x.dtype, x.shape)

    return infer


def _softmax_reference(x: Any, axis: Any = -1, dtype: Any = None, log: bool = False) -> Any:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 0:
        return np.zeros(()) if log else np.ones(())
    if x.size == 0:
        return x.copy()
    shifted = x - np.max(x, axis=axis, keepdims=True)
    log_total = np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    return shifted - log_total if log else np.exp(shifted - log_total)


def _softmax_samples(dtype: dt.DType) -> Iterable[Sample]:
    rng = np.random.default_rng(29)
    cases = [Sample((random_array((2, 3), dtype, rng),)),
             Sample((random_array((7,), dtype, rng),)),
             Sample((random_array((), dtype, rng),), note="rank 0"),
             Sample((random_array((0, 3), dtype, rng),), note="0-size"),
             Sample((random_array((3, 0), dtype, rng),), {"axis": 0}, note="0-size along another axis")]
    for axis in (0, 1, -2):
        cases.append(Sample((random_array((2, 3), dtype, rng),), {"axis": axis}))
    cases.append(Sample((random_array((2, 1, 3, 1, 2), dtype, rng),), {"axis": 2}, note="rank 5"))
    cases.append(Sample((random_array((2, 1, 3, 1, 2), dtype, rng),), {"axis": -5}, note="rank 5"))
    cases.append(Sample((random_array((2, 3, 4), dtype, rng),), {"axis": (0, 2)}, note="two axes"))
    large = np.asarray(random_array((3, 5), dtype, rng).astype(np.float64) * 50 + 1000, dtype=dtype.numpy)
    cases.append(Sample((large,), note="large logits (stability)"))
    cases.append(Sample((-large,), note="very negative logits (stability)"))
    if dtype is not dt.float64:
        cases.append(Sample((random_array((2, 3), dtype, rng),), {"dtype": dt.float64}, note="dtype"))
    return cases


def _softmax_vjp(log: bool) -> Any:
    """softmax: y (g - sum(g y)); log_softmax: g - exp(y) sum(g); sums over ``axis``, kept."""

    def vjp(ctx: Any, g: Any) -> tuple[Any]:
        y = ctx.outputs[0]
        if y.ndim == 0:
            return (None,)  # one element along the axis: the output is a constant
        axis = ctx.attrs.get("axis", -1)
        if log:
            return (g - exp(y) * _reduction.sum(g, axis, keepdim=True),)
        product = g * y
        return (product - y * _reduction.sum(product, axis, keepdim=True),)

    return vjp


def _declare_softmax(name: str, log: bool, first: str) -> OpDef:
    def reference(x: Any, axis: Any = -1, dtype: Any = None) -> Any:
        return _softmax_reference(x, axis, dtype, log)

    what = "log(softmax)" if log else "exp(x) / sum(exp(x))"
    return register_op(OpDef(
        name=name, group="nn", inputs=(first,), infer=_softmax_infer(name), reference=reference,
        attrs=(("axis", -1), ("dtype", None)), dtypes=FLOATS, samples=_softmax_samples, method=name,
        vjp=_softmax_vjp(log),
        doc=f"{what} along ``axis`` (an int or a tuple of ints), computed stably (shifted by the "
            f"maximum); ``dtype`` casts the input first."))


_SOFTMAX = _declare_softmax("softmax", False, "input")
_LOG_SOFTMAX = _declare_softmax("log_softmax", True, "logits")
_softmax_fast = fast_unary(_SOFTMAX)
_log_softmax_fast = fast_unary(_LOG_SOFTMAX)


def _axis_attr(op: str, axis: Any) -> Any:
    """Lists become tuples (attributes are hashed). Types are checked here, not only in infer:
    the infer cache would take ``axis=1.0`` for a cached ``axis=1``."""
    axis = tuple(axis) if isinstance(axis, list) else axis
    for item in axis if isinstance(axis, tuple) else (axis,):
        if isinstance(item, bool) or not isinstance(item, int):
            raise OpError(op, f"axis must be an int or a tuple of ints, got {axis!r}")
    return axis


def softmax(input: Any, axis: Any = -1, *, dtype: dt.DType | None = None) -> Any:
    if axis == -1 and dtype is None and type(axis) is int:
        return _softmax_fast(input)
    return _dispatch.apply(_SOFTMAX, (input,), {"axis": _axis_attr("softmax", axis), "dtype": dtype})


def log_softmax(logits: Any, axis: Any = -1, *, dtype: dt.DType | None = None) -> Any:
    if axis == -1 and dtype is None and type(axis) is int:
        return _log_softmax_fast(logits)
    return _dispatch.apply(_LOG_SOFTMAX, (logits,), {"axis": _axis_attr("log_softmax", axis), "dtype": dtype})


softmax.__doc__ = _SOFTMAX.doc
log_softmax.__doc__ = _LOG_SOFTMAX.doc
