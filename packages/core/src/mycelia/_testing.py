"""Test utilities shared by the test suites (finite differences for gradient checks)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["numeric_gradients", "tensor_objective"]


def numeric_gradients(f: Callable[..., float], values: Sequence[np.ndarray], epsilon: float = 1e-6,
                      positions: Sequence[int] | None = None) -> list[np.ndarray]:
    """Central finite differences of the scalar ``f(*arrays)`` with respect to each array in
    ``positions`` (default: all), one element at a time."""
    results = []
    for position in range(len(values)) if positions is None else positions:
        gradient = np.zeros_like(values[position], dtype=np.float64)
        for flat in range(values[position].size):
            shifted = [np.array(v, copy=True) for v in values]
            shifted[position].reshape(-1)[flat] += epsilon
            plus = f(*shifted)
            shifted[position].reshape(-1)[flat] -= 2 * epsilon
            minus = f(*shifted)
            gradient.reshape(-1)[flat] = (plus - minus) / (2 * epsilon)
        results.append(gradient)
    return results


def tensor_objective(f: Callable[..., Any]) -> Callable[..., float]:
    """``f`` over Tensors returning a one-element Tensor, as a function of numpy arrays returning a float."""
    from mycelia._tensor import Tensor

    def objective(*arrays: np.ndarray) -> float:
        return float(f(*[Tensor(a) for a in arrays]).item())

    return objective
