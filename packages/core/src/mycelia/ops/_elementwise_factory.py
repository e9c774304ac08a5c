"""Declaring elementwise ops whose samples need a domain, special values or attributes.

``unary_op`` / ``binary_op`` (``_define``) cover the plain cases; these variants add what the math,
comparison and activation families need: separate float and integer sample domains (log of 0,
division by 0), special values (nan, inf, signed zeros), attributes with defaults checked in
``infer``, Python scalars on either side, and three- or four-operand broadcasting ops. The
functional API of an op declared here still takes the dispatch fast path when it runs with its
default attributes (see :func:`fast_unary` / :func:`fast_binary`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._autograd import needs_gradient
from mycelia._errors import OpError
from mycelia._types import TensorType
from mycelia.ops import _dispatch
from mycelia.ops._define import BINARY_SHAPES, FLOATS, UNARY_SHAPES, random_array, result_dtype
from mycelia.ops._registry import OpDef, Sample, register_op
from mycelia.ops._shapes import broadcast_shapes

__all__ = [
    "Values",
    "as_float64",
    "away_from_zero",
    "check_number",
    "elementwise_binary",
    "elementwise_unary",
    "fast_binary",
    "fast_unary",
    "few_values",
    "no_gradient",
    "result_dtype",
    "uniform",
    "wants_gradient",
    "with_specials",
]

Values = Callable[[tuple[int, ...], dt.DType, np.random.Generator], np.ndarray]
SPECIALS = (np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -2.5)
TERNARY_SHAPES: tuple[tuple[tuple[int, ...], ...], ...] = (
    ((2, 3), (2, 3), (2, 3)), ((4, 1), (3,), (4, 3)), ((), (2,), ()), ((0, 3), (3,), (1, 3)),
    ((2, 1, 2, 1, 2), (2, 1, 2), (1,)),
)


wants_gradient = needs_gradient  # the engine's rule, under the name this family's vjps use


def no_gradient(ctx: Any, grad: Any) -> tuple[None, ...]:
    """The vjp of an op whose gradient is zero everywhere it is defined (floor, sign, comparisons):
    no input gets a contribution (grad fills untouched inputs with zeros)."""
    return (None,) * len(ctx.inputs)


def uniform(low: float, high: float, int_low: int | None = None, int_high: int | None = None) -> Values:
    """Floats uniform in [low, high); integers in [int_low, int_high) (default: the float range)."""

    def values(shape: tuple[int, ...], dtype: dt.DType, rng: np.random.Generator) -> np.ndarray:
        if dtype.is_integer:
            bounds = (int(np.ceil(low)) if int_low is None else int_low, int(high) if int_high is None else int_high)
            return random_array(shape, dtype, rng, bounds)
        return random_array(shape, dtype, rng, (low, high))

    return values


def away_from_zero(low: float, high: float) -> Values:
    """Magnitudes in [low, high) with random signs; integers are non-zero in [-5, 5] (uint8: 1..5)."""

    def values(shape: tuple[int, ...], dtype: dt.DType, rng: np.random.Generator) -> np.ndarray:
        if dtype.is_integer:
            magnitude = rng.integers(1, 6, size=shape)
            sign = np.ones(shape, np.int64) if dtype is dt.uint8 else rng.choice([-1, 1], size=shape)
            return np.asarray(magnitude * sign, dtype=dtype.numpy)
        if dtype is dt.bool_:
            return np.ones(shape, np.bool_)
        signs = rng.choice([-1.0, 1.0], size=shape)
        return np.asarray(signs * rng.uniform(low, high, size=shape), dtype=dtype.numpy)

    return values


def few_values(shape: tuple[int, ...], dtype: dt.DType, rng: np.random.Generator) -> np.ndarray:
    """Values from a small set (ties and zeros are common): for comparisons and logical ops."""
    if dtype is dt.bool_:
        return np.asarray(rng.random(shape) < 0.5)
    if dtype.is_integer:
        return random_array(shape, dtype, rng, (-2, 3))
    return np.asarray(rng.integers(-3, 4, size=shape) * 0.5, dtype=dtype.numpy)


def with_specials(values: Values | None, specials: Sequence[float] = SPECIALS) -> Values:
    """``values`` with some entries replaced by special floats (nan, infinities, signed zeros)."""

    def generate(shape: tuple[int, ...], dtype: dt.DType, rng: np.random.Generator) -> np.ndarray:
        base = values(shape, dtype, rng) if values else random_array(shape, dtype, rng)
        if dtype.is_floating_point and base.size:
            flat = base.reshape(-1)
            picks = rng.integers(0, len(specials), size=flat.size)
            chosen = rng.random(flat.size) < 0.5
            flat[chosen] = np.asarray(specials, dtype=dtype.numpy)[picks[chosen]]
        return base

    return generate


def as_float64(reference: Callable[..., Any]) -> Callable[..., Any]:
    """A reference for a float-valued op: integer and bool arrays become float64 first (numpy
    would compute int8 math in float16)."""

    def wrapped(*args: Any, **attrs: Any) -> Any:
        upcast = [np.asarray(a, dtype=np.float64) if isinstance(a, np.ndarray) and a.dtype.kind in "biu" else a
                  for a in args]
        return reference(*upcast, **attrs)

    wrapped.__name__ = getattr(reference, "__name__", "reference")
    return wrapped


def check_number(op: str, name: str, value: Any, *, allow_none: bool = False) -> None:
    """An attribute that must be a Python int or float (bool is refused)."""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        accepted = "an int, a float or None" if allow_none else "an int or a float"
        raise OpError(op, f"{name} must be {accepted}, got {type(value).__name__} {value!r}")


def _sample_values(values: Values | None) -> Values:
    return values or (lambda shape, dtype, rng: random_array(shape, dtype, rng))


def elementwise_unary(name: str, reference: Callable[..., Any], *, dtypes: frozenset[dt.DType] = FLOATS,
                      result: str = "same", values: Values | None = None, specials: Sequence[float] = (),
                      attrs: tuple[tuple[str, Any], ...] = (), attr_samples: Iterable[dict[str, Any]] = (),
                      check: Callable[..., None] | None = None, method: str | None = None,
                      doc: str = "", vjp: Callable[..., Any] | None = None, differentiable: bool = True) -> OpDef:
    """Register an elementwise unary op (``result``: ``"same"``, ``"float"`` or ``"bool"``).

    ``specials`` adds a sample where float inputs hold those values; ``attr_samples`` adds samples
    run with those attributes; ``check(**attrs)`` validates attributes (raise OpError); ``vjp`` is the
    gradient rule (``differentiable=False``: the op has none by definition, e.g. a bool result)."""
    generate = _sample_values(values)
    variants = list(attr_samples)

    def infer(x: TensorType, **given: Any) -> TensorType:
        if check is not None:
            check(**given)
        return TensorType(result_dtype(result, x.dtype), x.shape)

    def samples(dtype: dt.DType) -> Iterable[Sample]:
        rng = np.random.default_rng(sum(map(ord, name)))
        cases = [Sample((generate(shape, dtype, rng),)) for shape in UNARY_SHAPES]
        if specials and dtype.is_floating_point:
            cases.append(Sample((with_specials(values, specials)((3, 4), dtype, rng),), note="special values"))
        for variant in variants:
            for shape in ((2, 3), ()):
                cases.append(Sample((generate(shape, dtype, rng),), dict(variant), note=f"attributes {variant}"))
        return cases

    return register_op(OpDef(
        name=name, group="elementwise", inputs=("input",), infer=infer,
        reference=as_float64(reference) if result == "float" else reference, attrs=attrs, dtypes=dtypes,
        samples=samples, method=name if method is None else (method or None), doc=doc or f"Elementwise {name}.",
        vjp=vjp, differentiable=differentiable))


def elementwise_binary(name: str, reference: Callable[..., Any], *, dtypes: frozenset[dt.DType],
                       result: str | Callable[..., dt.DType] = "same", values: Values | None = None,
                       other_values: Values | None = None,
                       specials: Sequence[float] = (), attrs: tuple[tuple[str, Any], ...] = (),
                       attr_samples: Iterable[dict[str, Any]] = (), check: Callable[..., None] | None = None,
                       inputs: tuple[str, str] = ("input", "other"), method: str | None = None,
                       doc: str = "", vjp: Callable[..., Any] | None = None, differentiable: bool = True) -> OpDef:
    """Register an elementwise binary op with broadcasting and Python scalars on either side.

    ``result`` may be a function ``(input dtype, **attrs) -> result dtype``; its reference then sees
    integer inputs as float64, like a ``"float"`` op's."""
    first = _sample_values(values)
    second = _sample_values(other_values or values)
    variants = list(attr_samples)

    def infer(x: TensorType, y: TensorType, **given: Any) -> TensorType:
        if check is not None:
            check(**given)
        dtype = result(x.dtype, **given) if callable(result) else result_dtype(result, x.dtype)
        return TensorType(dtype, broadcast_shapes(name, x.shape, y.shape))

    def scalar_like(array: np.ndarray, dtype: dt.DType) -> Any:
        return array.reshape(-1)[0].item() if array.size else (True if dtype is dt.bool_ else 1)

    def samples(dtype: dt.DType) -> Iterable[Sample]:
        rng = np.random.default_rng(sum(map(ord, name)))
        cases = [Sample((first(a, dtype, rng), second(b, dtype, rng))) for a, b in BINARY_SHAPES]
        scalar = scalar_like(second((1,), dtype, rng), dtype)
        cases.append(Sample((first((2, 2), dtype, rng), scalar), note="python scalar other"))
        scalar = scalar_like(first((1,), dtype, rng), dtype)
        cases.append(Sample((scalar, second((2, 2), dtype, rng)), note="python scalar input"))
        if specials and dtype.is_floating_point:
            cases.append(Sample((with_specials(values, specials)((4, 4), dtype, rng),
                                 with_specials(other_values or values, specials)((4, 4), dtype, rng)),
                                note="special values"))
        for variant in variants:
            for a, b in (((2, 3), (2, 3)), ((4, 1), (3,))):
                cases.append(Sample((first(a, dtype, rng), second(b, dtype, rng)), dict(variant),
                                    note=f"attributes {variant}"))
        return cases

    return register_op(OpDef(
        name=name, group="elementwise", inputs=inputs, infer=infer,
        reference=as_float64(reference) if result == "float" or callable(result) else reference, attrs=attrs,
        dtypes=dtypes, promote=(0, 1), samples=samples, method=name if method is None else (method or None),
        doc=doc or f"Elementwise {name} with broadcasting.", vjp=vjp, differentiable=differentiable))


def fast_unary(op: OpDef) -> Callable[[Any], Any]:
    """The functional API ``f(input)`` of a unary op, on the dispatch hot path."""
    function = _dispatch.make_unary(op)
    function.__name__ = function.__qualname__ = op.name
    function.__doc__ = op.doc
    return function


def fast_binary(op: OpDef) -> Callable[[Any, Any], Any]:
    """The functional API ``f(input, other)`` of a binary op, on the dispatch hot path."""
    function = _dispatch.make_binary(op)
    function.__name__ = function.__qualname__ = op.name
    function.__doc__ = op.doc
    return function
