"""Argument checks and parameter creation shared by the layers (errors name the layer, as MindSpore's)."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia import ops
from mycelia._tensor import Parameter
from mycelia.common.initializer import initializer

__all__ = ["check_bool", "check_float", "check_int", "clone_cell", "int_tuple", "linear", "make_parameter"]


def check_int(value: Any, name: str, cell: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"For '{cell}', '{name}' must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"For '{cell}', '{name}' must be >= {minimum}, got {value}")
    return int(value)


def check_bool(value: Any, name: str, cell: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"For '{cell}', '{name}' must be a bool, got {type(value).__name__} {value!r}")
    return bool(value)


def check_float(value: Any, name: str, cell: str, minimum: float | None = None, maximum: float | None = None,
                include_maximum: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"For '{cell}', '{name}' must be a float, got {type(value).__name__} {value!r}")
    number = float(value)
    too_high = maximum is not None and (number > maximum or (not include_maximum and number == maximum))
    if (minimum is not None and number < minimum) or too_high:
        upper = "]" if include_maximum else ")"
        raise ValueError(f"For '{cell}', '{name}' must be in [{minimum}, {maximum}{upper}, got {number}")
    return number


def int_tuple(value: Any, length: int, name: str, cell: str, minimum: int = 1,
              lengths: tuple[int, ...] = ()) -> tuple[int, ...]:
    """An int (repeated ``length`` times) or a tuple/list of ``length`` (or one of ``lengths``) ints."""
    items = (value,) * length if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else value
    if not isinstance(items, (tuple, list)) or len(items) not in (length, *lengths):
        sizes = " or ".join(str(n) for n in (length, *lengths))
        raise TypeError(f"For '{cell}', '{name}' must be an int or a tuple of {sizes} ints, got {value!r}")
    return tuple(check_int(item, name, cell, minimum) for item in items)


def linear(x: Any, weight: Any, bias: Any = None) -> Any:
    """``x @ weight.T + bias`` for x (..., in) and weight (out, in).

    Leading dims are folded into one first (as MindSpore's Dense does): numpy runs a stacked (N-D @ 2-D)
    matmul without BLAS, many times slower than the same product as one 2-D gemm.
    """
    lead = tuple(x.shape[:-1])
    flat = ops.reshape(x, (-1, x.shape[-1])) if len(lead) > 1 else x
    out = ops.matmul(flat, ops.transpose(weight, (1, 0)))
    if bias is not None:
        out = out + bias
    return ops.reshape(out, (*lead, weight.shape[0])) if len(lead) > 1 else out


def make_parameter(init: Any, shape: tuple[int, ...], dtype: dt.DType, name: str,
                   requires_grad: bool = True) -> Parameter:
    return Parameter(initializer(init, shape, dtype), name=name, requires_grad=requires_grad)


def clone_cell(cell: Any) -> Any:
    """A deep copy of a cell whose Parameters keep their backend (deepcopy would copy the backend too)."""
    memo: dict[int, Any] = {}
    for _, param in cell.parameters_and_names():
        memo[id(param._backend)] = param._backend
    return copy.deepcopy(cell, memo)
