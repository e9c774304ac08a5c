"""Gradient arithmetic the engine needs: accumulation and reduction to an input's shape/dtype."""

from __future__ import annotations

from typing import Any

from mycelia._tensor import Tensor

__all__ = ["accumulate", "conform_gradient", "sum_to_shape"]


def accumulate(total: Tensor | None, grad: Tensor) -> Tensor:
    from mycelia import ops

    return grad if total is None else ops.add(total, grad)  # type: ignore[no-any-return]


def sum_to_shape(grad: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Undo broadcasting: sum ``grad`` over the axes that were broadcast to reach its shape."""
    from mycelia import ops

    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + axis for axis, size in enumerate(shape) if size == 1 and grad.shape[extra + axis] != 1)
    reduced = ops.sum(grad, axes, keepdim=False) if axes else grad  # type: ignore[attr-defined]
    return ops.reshape(reduced, shape)  # type: ignore[attr-defined,no-any-return]


def conform_gradient(grad: Any, value: Tensor) -> Tensor | None:
    """``grad`` shaped and typed like ``value``; integer and bool inputs get no gradient."""
    if not value.dtype.is_floating_point:
        return None
    if not isinstance(grad, Tensor):
        return None
    grad = sum_to_shape(grad, value.shape)
    if grad.dtype is not value.dtype:
        grad = grad.astype(value.dtype)
    return grad  # type: ignore[no-any-return]
