"""``nn.SGD`` and ``nn.Momentum`` (MindSpore 2.x signatures and update rules)."""

from __future__ import annotations

from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia.nn.optim._optimizer import Optimizer, check_bool, check_float, set_data, state_value

__all__ = ["Momentum", "SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and weight decay.

    Per parameter, with ``g`` the gradient divided by ``loss_scale``::

        g = g + weight_decay * p                      (every parameter, as MindSpore's SGD kernel)
        accum = g on the first step, else momentum * accum + (1 - dampening) * g      (momentum > 0)
        g = g + momentum * accum if nesterov else accum                              (momentum > 0)
        p = p - lr * g

    The momentum buffers ``accum.<name>`` and first-step flags ``stat.<name>`` exist only when momentum > 0.
    """

    def __init__(self, params: Any, learning_rate: Any = 0.1, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, loss_scale: float = 1.0) -> None:
        super().__init__(learning_rate, params, weight_decay, loss_scale)
        owner = type(self).__name__
        self.momentum = check_float(owner, "momentum", momentum)
        self.dampening = check_float(owner, "dampening", dampening)
        self.nesterov = check_bool(owner, "nesterov", nesterov)
        if nesterov and (self.momentum <= 0.0 or self.dampening != 0.0):
            raise ValueError(f"{owner}: nesterov needs momentum > 0 and dampening 0, got momentum {self.momentum}, "
                             f"dampening {self.dampening}")
        if self.momentum > 0:
            self.accum = self._clone_state("accum")
            self.stat = self._clone_state("stat", 1.0, shape=(1,), dtype=dt.float32)

    def _update(self, grads: list[Any], lrs: list[float]) -> None:
        grads = list(self._preprocess(grads, decay=False))
        momentum, keep = self.momentum, 1.0 - self.dampening
        for index, (param, grad, lr) in enumerate(zip(self.parameters, grads, lrs)):
            decay = self._raw_decays[index]
            if decay:
                grad = grad + param * decay
            if momentum > 0:
                accum, stat = self.accum[index], self.stat[index]
                if state_value(stat) > 0:
                    new = grad
                    stat._data = stat._backend.from_numpy(np.zeros((1,), np.float32))
                else:
                    new = accum * momentum + (grad * keep if keep != 1.0 else grad)
                set_data(accum, new)
                grad = grad + new * momentum if self.nesterov else new
            set_data(param, param - grad * lr)


class Momentum(Optimizer):
    """Momentum SGD (MindSpore's ``ApplyMomentum``)::

        g = g + weight_decay * p                      (L2, parameters without 'beta'/'gamma' in their names)
        moments = momentum * moments + g
        p = p - lr * (g + momentum * moments) if use_nesterov else p - lr * moments
    """

    def __init__(self, params: Any, learning_rate: Any, momentum: float, weight_decay: float = 0.0,
                 loss_scale: float = 1.0, use_nesterov: bool = False) -> None:
        super().__init__(learning_rate, params, weight_decay, loss_scale)
        owner = type(self).__name__
        self.momentum = check_float(owner, "momentum", momentum)
        self.use_nesterov = check_bool(owner, "use_nesterov", use_nesterov)
        self.moments = self._clone_state("moments")

    def _update(self, grads: list[Any], lrs: list[float]) -> None:
        grads = list(self._preprocess(grads, decay=True))
        momentum = self.momentum
        for param, grad, moment, lr in zip(self.parameters, grads, self.moments, lrs):
            new = moment * momentum + grad
            set_data(moment, new)
            step = grad + new * momentum if self.use_nesterov else new
            set_data(param, param - step * lr)
