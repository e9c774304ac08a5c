"""Tensor methods and Python operators, derived from the registry (each op's ``method``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mycelia._tensor import Tensor
from mycelia.ops._registry import all_ops

__all__ = ["attach_methods"]


def _reflected(function: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def method(self: Any, other: Any) -> Any:
        return function(other, self)

    return method


# operator -> (op name, reflected form); in-place forms return a new tensor, as in MindSpore.
_OPERATORS = {
    "add": ("__add__", "__radd__", "__iadd__"),
    "sub": ("__sub__", "__rsub__", "__isub__"),
    "mul": ("__mul__", "__rmul__", "__imul__"),
    "div": ("__truediv__", "__rtruediv__", "__itruediv__"),
    "floor_divide": ("__floordiv__", "__rfloordiv__", "__ifloordiv__"),
    "remainder": ("__mod__", "__rmod__", "__imod__"),
    "pow": ("__pow__", "__rpow__", "__ipow__"),
    "matmul": ("__matmul__", "__rmatmul__", "__imatmul__"),
    "bitwise_and": ("__and__", "__rand__", "__iand__"),
    "bitwise_or": ("__or__", "__ror__", "__ior__"),
    "bitwise_xor": ("__xor__", "__rxor__", "__ixor__"),
    "equal": ("__eq__", None, None),
    "not_equal": ("__ne__", None, None),
    "less": ("__lt__", None, None),
    "less_equal": ("__le__", None, None),
    "greater": ("__gt__", None, None),
    "greater_equal": ("__ge__", None, None),
}
_UNARY_OPERATORS = {"neg": "__neg__", "abs": "__abs__", "bitwise_not": "__invert__"}


def attach_methods(functions: dict[str, Callable[..., Any]]) -> None:
    """Give Tensor a method per op that declares one, plus the Python operators."""
    for op in all_ops():
        function = functions.get(op.name)
        if function is None:
            continue
        if op.method and not hasattr(Tensor, op.method):
            setattr(Tensor, op.method, function)
        names = _OPERATORS.get(op.name)
        if names:
            forward, reflected, in_place = names
            setattr(Tensor, forward, function)
            if reflected:
                setattr(Tensor, reflected, _reflected(function))
            if in_place:
                setattr(Tensor, in_place, function)
        if op.name in _UNARY_OPERATORS:
            setattr(Tensor, _UNARY_OPERATORS[op.name], function)
    Tensor.__pos__ = lambda self: self  # type: ignore[attr-defined,operator]
