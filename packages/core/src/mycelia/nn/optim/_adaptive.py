"""``nn.RMSProp`` and ``nn.Adagrad`` (MindSpore 2.x signatures and update rules)."""

from __future__ import annotations

from typing import Any

from mycelia import ops as _ops_module
from mycelia.nn.optim._optimizer import Optimizer, check_bool, check_float, set_data

ops: Any = _ops_module  # op functions are generated from the registry

__all__ = ["Adagrad", "RMSProp"]


class RMSProp(Optimizer):
    """RMSProp (MindSpore's ``ApplyRMSProp`` / ``ApplyCenteredRMSProp``), ``g`` with L2 decay over loss_scale::

        ms = decay * ms + (1 - decay) * g * g                   (mean_square.<name>, starts at 1)
        mg = decay * mg + (1 - decay) * g                       (centered only: mean_grad.<name>)
        mom = momentum * mom + lr * g / sqrt(ms - mg * mg + epsilon)     (moment.<name>; no mg unless centered)
        p = p - mom
    """

    def __init__(self, params: Any, learning_rate: Any = 0.1, decay: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-10, use_locking: bool = False, centered: bool = False, loss_scale: float = 1.0,
                 weight_decay: float = 0.0) -> None:
        super().__init__(learning_rate, params, weight_decay, loss_scale)
        owner = type(self).__name__
        self.decay = check_float(owner, "decay", decay)
        self.momentum = check_float(owner, "momentum", momentum)
        self.epsilon = check_float(owner, "epsilon", epsilon, low_open=True)
        self.use_locking = check_bool(owner, "use_locking", use_locking)
        self.centered = check_bool(owner, "centered", centered)
        if self.centered:
            self.mg = self._clone_state("mean_grad")
        self.ms = self._clone_state("mean_square", 1.0)
        self.moment = self._clone_state("moment")

    def _update(self, grads: list[Any], lrs: list[float]) -> None:
        grads = list(self._preprocess(grads, decay=True))
        rate = 1.0 - self.decay
        for index, (param, grad, lr) in enumerate(zip(self.parameters, grads, lrs)):
            ms = ops.lerp(self.ms[index], grad * grad, rate)
            set_data(self.ms[index], ms)
            if self.centered:
                mg = ops.lerp(self.mg[index], grad, rate)
                set_data(self.mg[index], mg)
                denom = ops.sqrt(ms - mg * mg + self.epsilon)
            else:
                denom = ops.sqrt(ms + self.epsilon)
            step = grad / denom * lr
            mom = self.moment[index] * self.momentum + step if self.momentum else step
            set_data(self.moment[index], mom)
            set_data(param, param - mom)


class Adagrad(Optimizer):
    """Adagrad (MindSpore's ``ApplyAdagrad``), ``g`` with L2 decay over loss_scale::

        accum = accum + g * g            (accum.<name>, starts at ``accum``; only when update_slots)
        p = p - lr * g / sqrt(accum)
    """

    def __init__(self, params: Any, accum: float = 0.1, learning_rate: Any = 0.001, update_slots: bool = True,
                 loss_scale: float = 1.0, weight_decay: float = 0.0) -> None:
        super().__init__(learning_rate, params, weight_decay, loss_scale)
        owner = type(self).__name__
        initial = check_float(owner, "accum", accum)
        self.update_slots = check_bool(owner, "update_slots", update_slots)
        self.accum = self._clone_state("accum", initial)

    def _update(self, grads: list[Any], lrs: list[float]) -> None:
        grads = list(self._preprocess(grads, decay=True))
        for param, grad, accum, lr in zip(self.parameters, grads, self.accum, lrs):
            total = accum
            if self.update_slots:
                total = accum + grad * grad
                set_data(accum, total)
            set_data(param, param - grad / ops.sqrt(total) * lr)
