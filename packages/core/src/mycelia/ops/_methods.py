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
            operator = getattr(function, "operator_form", function)  # returns NotImplemented for odd types
            setattr(Tensor, forward, operator)
            if reflected:
                setattr(Tensor, reflected, _reflected(operator))
            if in_place:
                setattr(Tensor, in_place, operator)
        if op.name in _UNARY_OPERATORS:
            setattr(Tensor, _UNARY_OPERATORS[op.name], function)
    Tensor.__pos__ = lambda self: self  # type: ignore[attr-defined,operator]
    _attach_shape_and_indexing_methods()


# -- Tensor indexing and MindSpore's varargs shape methods (shape/indexing/creation family) ----------
def _attach_shape_and_indexing_methods() -> None:
    """``x[i]``, ``x[i] = v``, iteration, and methods whose signature differs from the ops function:
    ``x.reshape(2, 3)``, ``x.view(2, 3)``, ``x.transpose()``/``x.transpose(1, 0)``, ``x.permute(1, 0)``,
    ``x.flatten()`` (start_dim=0 for the method), ``x.unsqueeze(d)``, ``x.expand_as(y)``, ``x.astype(t)``,
    ``x.ravel()``, ``x.repeat(r, axis)``, ``x.new_zeros(size)``, ``x.new_ones(size)``, ``x.T``."""
    import numpy as np

    from mycelia import dtype as dt
    from mycelia.ops import _creation, _indexing_tensor, _shape_ops

    def varargs(args: tuple[Any, ...]) -> Any:
        return args[0] if len(args) == 1 and isinstance(args[0], (list, tuple, Tensor)) else args

    def reshape(self: Tensor, *shape: Any) -> Any:
        return _shape_ops.reshape(self, varargs(shape))

    def transpose(self: Tensor, *axes: Any) -> Any:
        order = varargs(axes)
        return _shape_ops.transpose(self, order if len(order) else tuple(range(self.ndim))[::-1])

    def permute(self: Tensor, *axis: Any) -> Any:
        return _shape_ops.permute(self, varargs(axis))

    def flatten(self: Tensor, order: str = "C", *, start_dim: int = 0, end_dim: int = -1) -> Any:
        return _shape_ops.flatten(self, order, start_dim=start_dim, end_dim=end_dim)

    def astype(self: Tensor, dtype: Any, copy: bool = True) -> Any:
        target = dtype if isinstance(dtype, dt.DType) else dt.from_numpy(np.dtype(dtype))
        return self if not copy and target is self._dtype else _shape_ops.cast(self, target)

    def iterate(self: Tensor) -> Any:
        if not self._data.shape:
            raise TypeError("iteration over a 0-d tensor")
        return (_indexing_tensor.getitem(self, i) for i in range(self._data.shape[0]))

    def set_item(self: Tensor, index: Any, value: Any) -> None:
        _indexing_tensor.assign(self, index, value)  # records the update on the tape when tracked

    methods: dict[str, Any] = {
        "__getitem__": _indexing_tensor.getitem,
        "__setitem__": set_item,
        "__iter__": iterate,
        "reshape": reshape,
        "view": reshape,
        "transpose": transpose,
        "permute": permute,
        "flatten": flatten,
        "ravel": lambda self: _shape_ops.flatten(self, start_dim=0),
        "unsqueeze": lambda self, dim: _shape_ops.unsqueeze(self, dim),
        "expand_as": lambda self, other: _shape_ops.broadcast_to(self, other.shape),
        "astype": astype,
        "repeat": lambda self, repeats, axis=None: _shape_ops.repeat_interleave(self, repeats, axis),
        "new_zeros": lambda self, size, *, dtype=None: _creation.zeros(size, dtype or self._dtype),
        "new_ones": lambda self, size, *, dtype=None: _creation.ones(size, dtype or self._dtype),
        "T": property(lambda self: transpose(self)),
    }
    for name, method in methods.items():
        setattr(Tensor, name, method)
