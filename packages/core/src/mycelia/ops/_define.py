"""Helpers that declare whole families of ops (elementwise unary/binary) and their samples."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._types import TensorType
from mycelia.ops import _dispatch
from mycelia.ops._registry import OpDef, Sample, register_op
from mycelia.ops._shapes import broadcast_shapes

__all__ = [
    "ALL",
    "FLOATS",
    "INTEGERS",
    "NUMERIC",
    "SIGNED",
    "binary_op",
    "random_array",
    "result_dtype",
    "unary_op",
]

FLOATS = frozenset({dt.float16, dt.bfloat16, dt.float32, dt.float64})
INTEGERS = frozenset({dt.uint8, dt.int8, dt.int16, dt.int32, dt.int64})
SIGNED = FLOATS | (INTEGERS - {dt.uint8})
NUMERIC = FLOATS | INTEGERS
ALL = NUMERIC | {dt.bool_}

# Shapes every elementwise op is checked on: equal, broadcast, scalar, 0-size, rank 0..5.
UNARY_SHAPES: tuple[tuple[int, ...], ...] = ((2, 3), (), (0, 3), (7,), (2, 1, 3, 1, 2))
BINARY_SHAPES: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...] = (
    ((2, 3), (2, 3)), ((4, 1), (3,)), ((), (2,)), ((0, 3), (3,)), ((2, 1, 2, 1, 2), (2, 1, 2)),
    ((3,), ()),
)


def random_array(shape: tuple[int, ...], dtype: dt.DType, rng: np.random.Generator,
                 domain: tuple[float, float] | None = None) -> np.ndarray:
    """Sample values of ``dtype``: floats in ``domain`` (default standard normal), small ints."""
    if dtype is dt.bool_:
        return np.asarray(rng.random(shape) < 0.5)
    if dtype.is_integer:
        low, high = domain if domain is not None else (-5, 6)
        low = max(low, 0) if dtype is dt.uint8 else low
        return np.asarray(rng.integers(int(low), int(high), size=shape), dtype=dtype.numpy)
    values = rng.uniform(*domain, size=shape) if domain is not None else rng.standard_normal(shape)
    return np.asarray(values, dtype=dtype.numpy)


def result_dtype(rule: str, dtype: dt.DType) -> dt.DType:
    """``"same"``, ``"float"`` (integers and bool give float32) or ``"bool"``."""
    if rule == "bool":
        return dt.bool_
    if rule == "float" and not dtype.is_floating_point:
        return dt.float32
    return dtype


def unary_op(name: str, reference: Callable[..., Any], *, dtypes: frozenset[dt.DType] = FLOATS,
             result: str = "same", domain: tuple[float, float] | None = None, method: str | None = None,
             doc: str = "", vjp: Callable[..., Any] | None = None) -> Callable[..., Any]:
    """Declare an elementwise unary op and return its functional API ``f(input)``.

    ``result``: ``"same"`` dtype, ``"float"`` (integers give float32) or ``"bool"``.
    """

    def infer(x: TensorType) -> TensorType:
        return TensorType(result_dtype(result, x.dtype), x.shape)

    def samples(dtype: dt.DType) -> Iterable[Sample]:
        rng = np.random.default_rng(len(name))
        return [Sample((random_array(shape, dtype, rng, domain),)) for shape in UNARY_SHAPES]

    op = register_op(OpDef(name=name, group="elementwise", inputs=("input",), infer=infer,
                           reference=reference, dtypes=dtypes, samples=samples,
                           method=method or name, doc=doc or f"Elementwise {name}.", vjp=vjp))

    function = _dispatch.make_unary(op)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = op.doc
    return function


def binary_op(name: str, reference: Callable[..., Any], *, dtypes: frozenset[dt.DType] = NUMERIC,
              result: str = "same", domain: tuple[float, float] | None = None,
              other_domain: tuple[float, float] | None = None, method: str | None = None,
              doc: str = "", vjp: Callable[..., Any] | None = None) -> Callable[..., Any]:
    """Declare an elementwise binary op with broadcasting and return ``f(input, other)``."""

    def infer(x: TensorType, y: TensorType) -> TensorType:
        return TensorType(result_dtype(result, x.dtype), broadcast_shapes(name, x.shape, y.shape))

    def samples(dtype: dt.DType) -> Iterable[Sample]:
        rng = np.random.default_rng(len(name))
        cases = [Sample((random_array(a, dtype, rng, domain), random_array(b, dtype, rng, other_domain or domain)))
                 for a, b in BINARY_SHAPES]
        scalar: Any = True if dtype is dt.bool_ else (2 if dtype.is_integer else 1.5)
        cases.append(Sample((random_array((2, 2), dtype, rng, domain), scalar), note="python scalar"))
        return cases

    op = register_op(OpDef(name=name, group="elementwise", inputs=("input", "other"), infer=infer,
                           reference=reference, dtypes=dtypes, promote=(0, 1), samples=samples,
                           method=method or name, doc=doc or f"Elementwise {name} with broadcasting.",
                           vjp=vjp))

    function = _dispatch.make_binary(op)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = op.doc
    return function
