"""Comparison, logical and bitwise op declarations, isclose and where.

Comparisons and logical ops accept every dtype (operands are promoted to one dtype first) and
return bool; bitwise ops take integers and bool. The Python operators ``== != < <= > >= & | ^ ~``
map to these ops by name (``ops._methods``).

None of them is differentiable (``differentiable=False``: bool or integer results, piecewise
constant); their vjp gives no gradient, so a gradient taken through them is zero. ``where`` is
differentiable in ``input`` and ``other``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._errors import OpError
from mycelia._tensor import Tensor
from mycelia._types import TensorType
from mycelia.ops import _dispatch
from mycelia.ops._define import ALL, BINARY_SHAPES, INTEGERS, random_array
from mycelia.ops._elementwise_factory import (
    TERNARY_SHAPES,
    check_number,
    elementwise_binary,
    elementwise_unary,
    fast_binary,
    fast_unary,
    few_values,
    no_gradient,
    wants_gradient,
    with_specials,
)
from mycelia.ops._registry import OpDef, Sample, register_op
from mycelia.ops._shapes import broadcast_shapes

__all__ = [
    "bitwise_and", "bitwise_not", "bitwise_or", "bitwise_xor", "equal", "ge", "greater", "greater_equal", "gt",
    "invert", "isclose", "le", "less", "less_equal", "logical_and", "logical_not", "logical_or", "logical_xor",
    "lt", "ne", "not_equal", "where",
]

_BITS = INTEGERS | {dt.bool_}
_ORDERED = (np.nan, np.inf, -np.inf, 0.0, -0.0)


def _compare(name: str, reference: Any, doc: str) -> Any:
    return fast_binary(elementwise_binary(name, reference, dtypes=ALL, result="bool", values=few_values,
                                          specials=_ORDERED, doc=doc, vjp=no_gradient, differentiable=False))


equal = _compare("equal", np.equal, "``input == other`` elementwise (bool); NaN equals nothing.")
not_equal = _compare("not_equal", np.not_equal, "``input != other`` elementwise (bool).")
greater = _compare("greater", np.greater, "``input > other`` elementwise (bool).")
greater_equal = _compare("greater_equal", np.greater_equal, "``input >= other`` elementwise (bool).")
less = _compare("less", np.less, "``input < other`` elementwise (bool).")
less_equal = _compare("less_equal", np.less_equal, "``input <= other`` elementwise (bool).")


def _logical(name: str, reference: Any, doc: str) -> Any:
    return fast_binary(elementwise_binary(name, reference, dtypes=ALL, result="bool", values=few_values,
                                          specials=(np.nan, 0.0, -0.0), doc=doc, vjp=no_gradient,
                                          differentiable=False))


logical_and = _logical("logical_and", np.logical_and, "Elementwise AND of truth values (non-zero is true).")
logical_or = _logical("logical_or", np.logical_or, "Elementwise OR of truth values (non-zero is true).")
logical_xor = _logical("logical_xor", np.logical_xor, "Elementwise XOR of truth values (non-zero is true).")
logical_not = fast_unary(elementwise_unary(
    "logical_not", np.logical_not, dtypes=ALL, result="bool", values=few_values, specials=(np.nan, 0.0, -0.0),
    doc="Elementwise NOT of truth values (non-zero is true).", vjp=no_gradient, differentiable=False))

bitwise_and = fast_binary(elementwise_binary("bitwise_and", np.bitwise_and, dtypes=_BITS,
                                             doc="``input & other`` for integer and bool tensors.",
                                             vjp=no_gradient, differentiable=False))
bitwise_or = fast_binary(elementwise_binary("bitwise_or", np.bitwise_or, dtypes=_BITS,
                                            doc="``input | other`` for integer and bool tensors.",
                                            vjp=no_gradient, differentiable=False))
bitwise_xor = fast_binary(elementwise_binary("bitwise_xor", np.bitwise_xor, dtypes=_BITS,
                                             doc="``input ^ other`` for integer and bool tensors.",
                                             vjp=no_gradient, differentiable=False))
bitwise_not = fast_unary(elementwise_unary("bitwise_not", np.invert, dtypes=_BITS,
                                           doc="``~input``: bitwise NOT (logical NOT for bool).",
                                           vjp=no_gradient, differentiable=False))


# -- isclose --------------------------------------------------------------------------------------
def _check_isclose(rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> None:
    check_number("isclose", "rtol", rtol)
    check_number("isclose", "atol", atol)
    if rtol < 0 or atol < 0:
        raise OpError("isclose", f"rtol and atol must be non-negative, got rtol={rtol}, atol={atol}")
    if not isinstance(equal_nan, bool):
        raise OpError("isclose", f"equal_nan must be a bool, got {type(equal_nan).__name__}")


def _isclose_reference(input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08,
                       equal_nan: bool = False) -> Any:
    a = np.asarray(input, dtype=np.float64)
    b = np.asarray(other, dtype=np.float64)
    with np.errstate(invalid="ignore"):  # inf - inf
        within = np.abs(a - b) <= atol + rtol * np.abs(b)
    close = (a == b) | (within & np.isfinite(a) & np.isfinite(b))  # an infinity is close only to itself
    if equal_nan:
        close |= np.isnan(a) & np.isnan(b)
    return close


def _isclose_samples(dtype: dt.DType) -> Iterable[Sample]:
    rng = np.random.default_rng(19)
    cases = [Sample((few_values(a, dtype, rng), few_values(b, dtype, rng))) for a, b in BINARY_SHAPES]
    base = few_values((4, 5), dtype, rng)
    if dtype.is_floating_point:
        # differences of 0, 1e-9 (close under the default atol) or 1 (far): never near the boundary
        shift = rng.choice(np.array([0.0, 1e-9, 1.0]), size=base.shape)
        near = np.asarray(base.astype(np.float64) + shift, dtype=dtype.numpy)
    elif dtype is dt.bool_:
        near = ~base
    else:
        near = np.asarray(base + rng.integers(0, 2, size=base.shape), dtype=dtype.numpy)
    cases.append(Sample((base, near), note="near values"))
    cases.append(Sample((base, near), {"rtol": 0.1, "atol": 0.1}, note="loose tolerances"))
    specials = with_specials(few_values, (np.nan, np.inf, -np.inf))
    for equal_nan in (False, True):
        cases.append(Sample((specials((4, 4), dtype, rng), specials((4, 4), dtype, rng)),
                            {"equal_nan": equal_nan}, note="nan and inf"))
    cases.append(Sample((base, 1), note="python scalar other"))
    return cases


def _isclose_infer(x: TensorType, y: TensorType, **attrs: Any) -> TensorType:
    _check_isclose(**attrs)
    return TensorType(dt.bool_, broadcast_shapes("isclose", x.shape, y.shape))


_ISCLOSE = register_op(OpDef(
    name="isclose", group="elementwise", inputs=("input", "other"), infer=_isclose_infer,
    reference=_isclose_reference, attrs=(("rtol", 1e-05), ("atol", 1e-08), ("equal_nan", False)), dtypes=ALL,
    promote=(0, 1), samples=_isclose_samples, method="isclose", vjp=no_gradient, differentiable=False,
    doc="``|input - other| <= atol + rtol * |other|`` elementwise (bool); equal infinities are close, NaN "
        "is close to NaN only with ``equal_nan``."))
_isclose_fast = fast_binary(_ISCLOSE)


def isclose(input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Any:
    if rtol == 1e-05 and atol == 1e-08 and equal_nan is False:
        return _isclose_fast(input, other)
    return _dispatch.apply(_ISCLOSE, (input, other), {"rtol": rtol, "atol": atol, "equal_nan": equal_nan})


isclose.__doc__ = _ISCLOSE.doc


# -- where ----------------------------------------------------------------------------------------
def _where_infer(condition: TensorType, x: TensorType, y: TensorType) -> TensorType:
    if condition.dtype is not dt.bool_:
        raise OpError("where", f"condition must be a Bool tensor, got {condition.dtype}; compare it first "
                               f"(e.g. condition != 0)")
    return TensorType(x.dtype, broadcast_shapes("where", condition.shape, x.shape, y.shape))


def _where_samples(dtype: dt.DType) -> Iterable[Sample]:
    rng = np.random.default_rng(23)
    cases = [Sample((random_array(c, dt.bool_, rng), random_array(a, dtype, rng), random_array(b, dtype, rng)))
             for a, b, c in TERNARY_SHAPES]
    scalar: Any = True if dtype is dt.bool_ else (3 if dtype.is_integer else 0.5)
    cases.append(Sample((random_array((3, 4), dt.bool_, rng), random_array((3, 4), dtype, rng), scalar),
                        note="python scalar other"))
    cases.append(Sample((random_array((3, 1), dt.bool_, rng), scalar, random_array((4,), dtype, rng)),
                        note="python scalar input"))
    return cases


def _where_vjp(ctx: Any, g: Any) -> tuple[None, Any, Any]:
    condition, x, y = ctx.inputs
    return (None, where(condition, g, 0.0) if wants_gradient(x) else None,
            where(condition, 0.0, g) if wants_gradient(y) else None)


_WHERE = register_op(OpDef(
    name="where", group="elementwise", inputs=("condition", "input", "other"), infer=_where_infer,
    reference=np.where, dtypes=ALL, promote=(1, 2), samples=_where_samples, method=None, vjp=_where_vjp,
    doc="Elements of ``input`` where ``condition`` is true, else of ``other`` (all three broadcast; "
        "``input``/``other`` may be Python scalars)."))


def _scalar_tensor(values: tuple[Any, ...], like: Tensor) -> Tensor:
    """Two Python scalars as operands: the first as a 0-d tensor of their default dtype."""
    if any(isinstance(v, float) for v in values):
        dtype = dt.float32
    elif any(isinstance(v, int) and not isinstance(v, bool) for v in values):
        dtype = dt.int64
    else:
        dtype = dt.bool_
    backend = like._backend
    return Tensor._make(backend.from_numpy(np.asarray(values[0], dtype=dtype.numpy)), dtype, backend)


def where(condition: Any, input: Any, other: Any) -> Any:
    if isinstance(condition, Tensor) and not isinstance(input, Tensor) and not isinstance(other, Tensor) \
            and isinstance(input, (bool, int, float)) and isinstance(other, (bool, int, float)):
        input = _scalar_tensor((input, other), condition)
    return _dispatch.apply(_WHERE, (condition, input, other), {})


where.__doc__ = _WHERE.doc

# MindSpore's short spellings.
ge = greater_equal
gt = greater
le = less_equal
lt = less
ne = not_equal
invert = bitwise_not
