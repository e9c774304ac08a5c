"""Dynamic learning rates as lists, one value per step (MindSpore's ``nn.dynamic_lr``).

Pass the list as an optimizer's ``learning_rate``: step ``i`` uses ``lr[i]`` (the last value once the list
runs out). ``current_epoch = floor(i / step_per_epoch)`` throughout.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

__all__ = [
    "cosine_decay_lr",
    "exponential_decay_lr",
    "inverse_decay_lr",
    "natural_exp_decay_lr",
    "piecewise_constant_lr",
    "polynomial_decay_lr",
    "warmup_lr",
]


def _positive_int(fn: str, name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{fn}: {name} must be a positive int, got {value!r}")
    return value


def _float(fn: str, name: str, value: object, positive: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{fn}: {name} must be a float, got {type(value).__name__}")
    if (value <= 0) if positive else (value < 0):
        raise ValueError(f"{fn}: {name} must be {'> 0' if positive else '>= 0'}, got {value}")
    return float(value)


def piecewise_constant_lr(milestone: Sequence[int], learning_rates: Sequence[float]) -> list[float]:
    """``learning_rates[t]`` for steps in ``[milestone[t-1], milestone[t])``; ``milestone[-1]`` values in all."""
    fn = "piecewise_constant_lr"
    if not isinstance(milestone, (list, tuple)) or not isinstance(learning_rates, (list, tuple)):
        raise TypeError(f"{fn}: milestone and learning_rates must be lists or tuples")
    if len(milestone) != len(learning_rates):
        raise ValueError(f"{fn}: milestone has {len(milestone)} entries but learning_rates has {len(learning_rates)}")
    lr: list[float] = []
    last = 0
    for index, (item, rate) in enumerate(zip(milestone, learning_rates)):
        _positive_int(fn, f"milestone[{index}]", item)
        value = _float(fn, f"learning_rates[{index}]", rate, positive=False)
        if item < last:
            raise ValueError(f"{fn}: milestone must be increasing, got milestone[{index}] = {item} after {last}")
        lr += [value] * (item - last)
        last = item
    return lr


def _decay(fn: str, learning_rate: float, decay_rate: float, total_step: int, step_per_epoch: int,
           decay_epoch: int, is_stair: bool, rule: Callable[[float, float, float], float]) -> list[float]:
    learning_rate = _float(fn, "learning_rate", learning_rate)
    decay_rate = _float(fn, "decay_rate", decay_rate)
    total_step = _positive_int(fn, "total_step", total_step)
    step_per_epoch = _positive_int(fn, "step_per_epoch", step_per_epoch)
    decay_epoch = _positive_int(fn, "decay_epoch", decay_epoch)
    if not isinstance(is_stair, bool):
        raise TypeError(f"{fn}: is_stair must be a bool, got {type(is_stair).__name__}")
    lr = []
    for i in range(total_step):
        epoch = math.floor(i / step_per_epoch)
        p = math.floor(epoch / decay_epoch) if is_stair else epoch / decay_epoch
        lr.append(rule(learning_rate, decay_rate, p))
    return lr


def exponential_decay_lr(learning_rate: float, decay_rate: float, total_step: int, step_per_epoch: int,
                         decay_epoch: int, is_stair: bool = False) -> list[float]:
    """``learning_rate * decay_rate ** (current_epoch / decay_epoch)`` (the exponent floored when ``is_stair``)."""
    return _decay("exponential_decay_lr", learning_rate, decay_rate, total_step, step_per_epoch, decay_epoch,
                  is_stair, lambda lr, rate, p: lr * rate ** p)


def natural_exp_decay_lr(learning_rate: float, decay_rate: float, total_step: int, step_per_epoch: int,
                         decay_epoch: int, is_stair: bool = False) -> list[float]:
    """``learning_rate * e ** (-decay_rate * current_epoch)`` (epoch rounded down to a multiple of
    ``decay_epoch`` when ``is_stair``)."""
    fn = "natural_exp_decay_lr"
    epochs = _decay(fn, learning_rate, decay_rate, total_step, step_per_epoch, decay_epoch, is_stair,
                    lambda lr, rate, p: p)
    return [float(learning_rate) * math.e ** (-float(decay_rate) * p * decay_epoch) for p in epochs]


def inverse_decay_lr(learning_rate: float, decay_rate: float, total_step: int, step_per_epoch: int,
                     decay_epoch: int, is_stair: bool = False) -> list[float]:
    """``learning_rate / (1 + decay_rate * current_epoch / decay_epoch)`` (the ratio floored when ``is_stair``)."""
    return _decay("inverse_decay_lr", learning_rate, decay_rate, total_step, step_per_epoch, decay_epoch,
                  is_stair, lambda lr, rate, p: lr / (1 + rate * p))


def cosine_decay_lr(min_lr: float, max_lr: float, total_step: int, step_per_epoch: int,
                    decay_epoch: int) -> list[float]:
    """``min_lr + 0.5 * (max_lr - min_lr) * (1 + cos(pi * min(current_epoch, decay_epoch) / decay_epoch))``."""
    fn = "cosine_decay_lr"
    min_lr = _float(fn, "min_lr", min_lr, positive=False)
    max_lr = _float(fn, "max_lr", max_lr)
    total_step = _positive_int(fn, "total_step", total_step)
    step_per_epoch = _positive_int(fn, "step_per_epoch", step_per_epoch)
    decay_epoch = _positive_int(fn, "decay_epoch", decay_epoch)
    if min_lr >= max_lr:
        raise ValueError(f"{fn}: max_lr must be greater than min_lr, got max_lr {max_lr}, min_lr {min_lr}")
    delta = 0.5 * (max_lr - min_lr)
    return [min_lr + delta * (1 + math.cos(math.pi * min(math.floor(i / step_per_epoch), decay_epoch) / decay_epoch))
            for i in range(total_step)]


def polynomial_decay_lr(learning_rate: float, end_learning_rate: float, total_step: int, step_per_epoch: int,
                        decay_epoch: int, power: float, update_decay_epoch: bool = False) -> list[float]:
    """``(learning_rate - end_learning_rate) * (1 - tmp_epoch / tmp_decay_epoch) ** power + end_learning_rate``
    with ``tmp_epoch = min(current_epoch, decay_epoch)``; with ``update_decay_epoch``, ``tmp_epoch`` is the
    current epoch and ``tmp_decay_epoch = decay_epoch * max(ceil(current_epoch / decay_epoch), 1)``."""
    fn = "polynomial_decay_lr"
    learning_rate = _float(fn, "learning_rate", learning_rate)
    end_learning_rate = _float(fn, "end_learning_rate", end_learning_rate, positive=False)
    power = _float(fn, "power", power)
    total_step = _positive_int(fn, "total_step", total_step)
    step_per_epoch = _positive_int(fn, "step_per_epoch", step_per_epoch)
    decay_epoch = _positive_int(fn, "decay_epoch", decay_epoch)
    if not isinstance(update_decay_epoch, bool):
        raise TypeError(f"{fn}: update_decay_epoch must be a bool, got {type(update_decay_epoch).__name__}")
    delta = learning_rate - end_learning_rate
    lr = []
    for i in range(total_step):
        epoch = math.floor(i / step_per_epoch)
        if update_decay_epoch:
            decay, tmp = decay_epoch * max(math.ceil(epoch / decay_epoch), 1), epoch
        else:
            decay, tmp = decay_epoch, min(epoch, decay_epoch)
        lr.append(delta * (1 - tmp / decay) ** power + end_learning_rate)
    return lr


def warmup_lr(learning_rate: float, total_step: int, step_per_epoch: int, warmup_epoch: int) -> list[float]:
    """``learning_rate * min(current_epoch, warmup_epoch) / warmup_epoch``."""
    fn = "warmup_lr"
    learning_rate = _float(fn, "learning_rate", learning_rate, positive=False)
    total_step = _positive_int(fn, "total_step", total_step)
    step_per_epoch = _positive_int(fn, "step_per_epoch", step_per_epoch)
    warmup_epoch = _positive_int(fn, "warmup_epoch", warmup_epoch)
    return [learning_rate * min(math.floor(i / step_per_epoch), warmup_epoch) / warmup_epoch
            for i in range(total_step)]
