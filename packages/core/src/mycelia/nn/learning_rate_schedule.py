"""Learning-rate schedules as Cells called with the global step (MindSpore's ``nn.learning_rate_schedule``).

``schedule(global_step)`` returns a float32 Tensor of the step's shape. Pass a schedule as an optimizer's
``learning_rate``: the optimizer calls it with its ``global_step`` before each update. A custom schedule
subclasses :class:`LearningRateSchedule` and defines ``construct(global_step)``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._tensor import Tensor
from mycelia.nn._cell import Cell

__all__ = [
    "CosineDecayLR",
    "ExponentialDecayLR",
    "InverseDecayLR",
    "LearningRateSchedule",
    "NaturalExpDecayLR",
    "PolynomialDecayLR",
    "WarmUpLR",
]


def _positive_int(cls: str, name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{cls}: {name} must be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{cls}: {name} must be >= 1, got {value}")
    return value


def _float(cls: str, name: str, value: object, positive: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, float):
        raise TypeError(f"{cls}: {name} must be a float, got {type(value).__name__}")
    if (value <= 0) if positive else (value < 0):
        raise ValueError(f"{cls}: {name} must be {'> 0' if positive else '>= 0'}, got {value}")
    return value


def _bool(cls: str, name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{cls}: {name} must be a bool, got {type(value).__name__}")
    return value


class LearningRateSchedule(Cell):
    """Base class: ``construct(global_step)`` returns the learning rate for that step."""

    def __init__(self) -> None:
        super().__init__()

    def construct(self, global_step: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define construct(global_step)")


class _NumpySchedule(LearningRateSchedule):
    """Evaluates ``_rate`` on the step values in float64 and returns float32 of the step's shape."""

    def _rate(self, step: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def construct(self, global_step: Any) -> Any:
        if isinstance(global_step, Tensor):
            step = np.asarray(global_step.asnumpy(), dtype=np.float64)
        else:
            step = np.asarray(global_step, dtype=np.float64)
        return Tensor(np.asarray(self._rate(step), dtype=np.float32), dt.float32)


class ExponentialDecayLR(_NumpySchedule):
    """``learning_rate * decay_rate ** p`` with ``p = step / decay_steps`` (floored when ``is_stair``)."""

    def __init__(self, learning_rate: float, decay_rate: float, decay_steps: int, is_stair: bool = False) -> None:
        super().__init__()
        name = type(self).__name__
        self.learning_rate = _float(name, "learning_rate", learning_rate)
        self.decay_rate = _float(name, "decay_rate", decay_rate)
        self.decay_steps = _positive_int(name, "decay_steps", decay_steps)
        self.is_stair = _bool(name, "is_stair", is_stair)

    def _p(self, step: np.ndarray) -> np.ndarray:
        p = step / self.decay_steps
        return np.floor(p) if self.is_stair else p

    def _rate(self, step: np.ndarray) -> np.ndarray:
        return np.asarray(self.learning_rate * np.power(self.decay_rate, self._p(step)))


class NaturalExpDecayLR(ExponentialDecayLR):
    """``learning_rate * e ** (-decay_rate * p)`` with ``p = step`` (rounded down to a multiple of
    ``decay_steps`` when ``is_stair``)."""

    def _rate(self, step: np.ndarray) -> np.ndarray:
        p = np.floor(step / self.decay_steps) * self.decay_steps if self.is_stair else step
        return np.asarray(self.learning_rate * np.exp(-self.decay_rate * p))


class InverseDecayLR(ExponentialDecayLR):
    """``learning_rate / (1 + decay_rate * p)`` with ``p = step / decay_steps`` (floored when ``is_stair``)."""

    def _rate(self, step: np.ndarray) -> np.ndarray:
        return np.asarray(self.learning_rate / (1 + self.decay_rate * self._p(step)))


class CosineDecayLR(_NumpySchedule):
    """``min_lr + 0.5 * (max_lr - min_lr) * (1 + cos(pi * min(step, decay_steps) / decay_steps))``."""

    def __init__(self, min_lr: float, max_lr: float, decay_steps: int) -> None:
        super().__init__()
        name = type(self).__name__
        self.min_lr = _float(name, "min_lr", min_lr, positive=False)
        self.max_lr = _float(name, "max_lr", max_lr)
        self.decay_steps = _positive_int(name, "decay_steps", decay_steps)
        if min_lr >= max_lr:
            raise ValueError(f"{name}: max_lr must be greater than min_lr, got max_lr {max_lr}, min_lr {min_lr}")

    def _rate(self, step: np.ndarray) -> np.ndarray:
        p = np.minimum(step, self.decay_steps) / self.decay_steps
        return np.asarray(self.min_lr + 0.5 * (self.max_lr - self.min_lr) * (1.0 + np.cos(math.pi * p)))


class PolynomialDecayLR(_NumpySchedule):
    """``(learning_rate - end_learning_rate) * (1 - p) ** power + end_learning_rate`` with
    ``p = min(step, decay_steps) / decay_steps``; with ``update_decay_steps``, ``p = step / (decay_steps *
    max(ceil(step / decay_steps), 1))``."""

    def __init__(self, learning_rate: float, end_learning_rate: float, decay_steps: int, power: float,
                 update_decay_steps: bool = False) -> None:
        super().__init__()
        name = type(self).__name__
        self.start_learning_rate = _float(name, "learning_rate", learning_rate)
        self.end_learning_rate = _float(name, "end_learning_rate", end_learning_rate, positive=False)
        self.decay_steps = _positive_int(name, "decay_steps", decay_steps)
        self.power = _float(name, "power", power)
        self.update_decay_steps = _bool(name, "update_decay_steps", update_decay_steps)

    def _rate(self, step: np.ndarray) -> np.ndarray:
        if self.update_decay_steps:
            decay = self.decay_steps * np.maximum(np.ceil(step / self.decay_steps), 1.0)
            p = step / decay
        else:
            p = np.minimum(step, self.decay_steps) / self.decay_steps
        diff = self.start_learning_rate - self.end_learning_rate
        return np.asarray(diff * np.power(1.0 - p, self.power) + self.end_learning_rate)


class WarmUpLR(_NumpySchedule):
    """``learning_rate * min(step, warmup_steps) / warmup_steps``."""

    def __init__(self, learning_rate: float, warmup_steps: int) -> None:
        super().__init__()
        name = type(self).__name__
        self.learning_rate = _float(name, "learning_rate", learning_rate, positive=False)
        self.warmup_steps = _positive_int(name, "warmup_steps", warmup_steps)

    def _rate(self, step: np.ndarray) -> np.ndarray:
        return np.asarray(self.learning_rate * np.minimum(step, self.warmup_steps) / self.warmup_steps)
