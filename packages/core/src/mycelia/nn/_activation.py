"""Activation cells: ReLU, GELU, SiLU, Sigmoid, Tanh, Softmax, LogSoftmax, LeakyReLU (MindSpore names)."""

from __future__ import annotations

from typing import Any

from mycelia import ops
from mycelia.nn._cell import Cell

__all__ = ["GELU", "LeakyReLU", "LogSoftmax", "ReLU", "SiLU", "Sigmoid", "Softmax", "Tanh", "get_activation"]


class ReLU(Cell):
    """max(x, 0)."""

    def construct(self, x: Any) -> Any:
        return ops.relu(x)


class GELU(Cell):
    """GELU. ``approximate=True`` (MindSpore's default) is the tanh approximation; False is the erf form."""

    def __init__(self, approximate: bool = True) -> None:
        super().__init__()
        if not isinstance(approximate, bool):
            raise TypeError(f"For 'GELU', 'approximate' must be a bool, got {approximate!r}")
        self.approximate = approximate

    def construct(self, x: Any) -> Any:
        return ops.gelu(x, approximate="tanh" if self.approximate else "none")

    def extend_repr(self) -> str:
        return f"approximate={self.approximate}"


class SiLU(Cell):
    """x * sigmoid(x)."""

    def construct(self, x: Any) -> Any:
        return ops.silu(x)


class Sigmoid(Cell):
    def construct(self, x: Any) -> Any:
        return ops.sigmoid(x)


class Tanh(Cell):
    def construct(self, x: Any) -> Any:
        return ops.tanh(x)


class Softmax(Cell):
    """Softmax over ``axis`` (default -1)."""

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = axis

    def construct(self, x: Any) -> Any:
        return ops.softmax(x, self.axis)

    def extend_repr(self) -> str:
        return f"axis={self.axis}"


class LogSoftmax(Cell):
    """log(softmax(x)) over ``axis`` (default -1), computed stably."""

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = axis

    def construct(self, x: Any) -> Any:
        return ops.log_softmax(x, self.axis)

    def extend_repr(self) -> str:
        return f"axis={self.axis}"


class LeakyReLU(Cell):
    """x for x >= 0, alpha * x otherwise (MindSpore's default alpha 0.2)."""

    def __init__(self, alpha: float = 0.2) -> None:
        super().__init__()
        self.alpha = float(alpha)

    def construct(self, x: Any) -> Any:
        return ops.leaky_relu(x, self.alpha)

    def extend_repr(self) -> str:
        return f"alpha={self.alpha}"


_ACTIVATIONS: dict[str, type[Cell]] = {
    "relu": ReLU, "gelu": GELU, "silu": SiLU, "sigmoid": Sigmoid, "tanh": Tanh, "softmax": Softmax,
    "logsoftmax": LogSoftmax, "leakyrelu": LeakyReLU,
}


def get_activation(name: str) -> Cell:
    """The activation cell for a MindSpore activation name (``'relu'``, ``'gelu'``, ``'softmax'``...)."""
    cls = _ACTIVATIONS.get(name.lower()) if isinstance(name, str) else None
    if cls is None:
        raise KeyError(f"unknown activation {name!r}; known: {sorted(_ACTIVATIONS)}")
    return cls()
