"""``nn.Adam``, ``nn.AdamWeightDecay`` (MindSpore's rules) and ``nn.AdamW`` (decoupled decay, bias-corrected)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mycelia import ops as _ops_module
from mycelia.nn.optim._optimizer import Optimizer, check_bool, check_float, set_data, state_value

ops: Any = _ops_module  # op functions are generated from the registry

__all__ = ["Adam", "AdamW", "AdamWeightDecay"]


def _betas(owner: str, beta1: float, beta2: float, eps: float) -> tuple[float, float, float]:
    return (check_float(owner, "beta1", beta1, low_open=True, high=1.0),
            check_float(owner, "beta2", beta2, low_open=True, high=1.0),
            check_float(owner, "eps", eps, low_open=True))


class _AdamBase(Optimizer):
    """Moments ``moment1.<name>`` / ``moment2.<name>`` (``vhat.<name>`` with amsgrad) and the bias-correction
    powers ``beta1_power`` / ``beta2_power``, all Parameters."""

    def _init_adam(self, beta1: float, beta2: float, eps: float, use_amsgrad: bool, prefixes: tuple[str, str],
                   powers: bool) -> None:
        owner = type(self).__name__
        self.beta1, self.beta2, self.eps = _betas(owner, beta1, beta2, eps)
        self.use_amsgrad = check_bool(owner, "use_amsgrad", use_amsgrad)
        if powers:
            self.beta1_power = self._scalar_state("beta1_power", 1.0)
            self.beta2_power = self._scalar_state("beta2_power", 1.0)
        self.moment1 = self._clone_state(prefixes[0])
        self.moment2 = self._clone_state(prefixes[1])
        if self.use_amsgrad:
            self.vhat = self._clone_state("vhat")

    def _advance_powers(self) -> tuple[float, float]:
        """Multiply the stored powers by the betas (as float32, like MindSpore's) and return the new ones."""
        b1p = np.float32(state_value(self.beta1_power) * self.beta1)
        b2p = np.float32(state_value(self.beta2_power) * self.beta2)
        self.beta1_power._data = self.beta1_power._backend.from_numpy(np.full((1,), b1p, np.float32))
        self.beta2_power._data = self.beta2_power._backend.from_numpy(np.full((1,), b2p, np.float32))
        return float(b1p), float(b2p)

    def _moments(self, index: int, grad: Any) -> tuple[Any, Any]:
        """Update and return (m, v-for-the-denominator) of parameter ``index``."""
        m = ops.lerp(self.moment1[index], grad, 1.0 - self.beta1)
        v = ops.lerp(self.moment2[index], grad * grad, 1.0 - self.beta2)
        set_data(self.moment1[index], m)
        set_data(self.moment2[index], v)
        if self.use_amsgrad:
            v = ops.maximum(self.vhat[index], v)
            set_data(self.vhat[index], v)
        return m, v


class Adam(_AdamBase):
    """Adam (MindSpore's ``ApplyAdam``), with ``g`` the gradient (+ L2 weight decay) over ``loss_scale``::

        m = beta1 * m + (1 - beta1) * g;   v = beta2 * v + (1 - beta2) * g * g
        lr_t = lr * sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
        p = p - lr_t * m / (sqrt(v) + eps)       (use_nesterov: (beta1 * m + (1 - beta1) * g) for m)

    ``use_amsgrad`` divides by ``sqrt(max(vhat, v))`` instead. ``use_locking`` is accepted and has no effect.
    """

    def __init__(self, params: Any, learning_rate: Any = 1e-3, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8, use_locking: bool = False, use_nesterov: bool = False, weight_decay: float = 0.0,
                 loss_scale: float = 1.0, use_amsgrad: bool = False, **kwargs: Any) -> None:
        super().__init__(learning_rate, params, weight_decay, loss_scale)
        owner = type(self).__name__
        if kwargs:
            raise TypeError(f"{owner}: unexpected arguments {sorted(kwargs)}")
        self.use_locking = check_bool(owner, "use_locking", use_locking)
        self.use_nesterov = check_bool(owner, "use_nesterov", use_nesterov)
        self._init_adam(beta1, beta2, eps, use_amsgrad, ("moment1", "moment2"), powers=True)

    def _update(self, grads: list[Any], lrs: list[float]) -> None:
        grads = list(self._preprocess(grads, decay=True))
        b1p, b2p = self._advance_powers()
        correction = math.sqrt(1.0 - b2p) / (1.0 - b1p)
        for index, (param, grad, lr) in enumerate(zip(self.parameters, grads, lrs)):
            m, v = self._moments(index, grad)
            if self.use_nesterov:
                m = ops.lerp(grad, m, self.beta1)
            set_data(param, param - m / (ops.sqrt(v) + self.eps) * (lr * correction))


class AdamWeightDecay(_AdamBase):
    """MindSpore's ``AdamWeightDecay`` (no bias correction; decay added to the update)::

        m = beta1 * m + (1 - beta1) * g;   v = beta2 * v + (1 - beta2) * g * g
        update = m / (sqrt(v) + eps) + weight_decay * p      (decay for names without 'beta'/'gamma')
        p = p - lr * update

    Moments are named ``adam_m.<name>`` and ``adam_v.<name>``.
    """

    def __init__(self, params: Any, learning_rate: Any = 1e-3, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-6, weight_decay: float = 0.0) -> None:
        super().__init__(learning_rate, params, weight_decay)
        self._init_adam(beta1, beta2, eps, False, ("adam_m", "adam_v"), powers=False)

    def _update(self, grads: list[Any], lrs: list[float]) -> None:
        grads = list(self._preprocess(grads, decay=False))
        for index, (param, grad, lr) in enumerate(zip(self.parameters, grads, lrs)):
            m, v = self._moments(index, grad)
            update = m / (ops.sqrt(v) + self.eps)
            decay = self._decays[index]
            if decay:
                update = update + param * decay
            set_data(param, param - update * lr)


class AdamW(_AdamBase):
    """Adam with decoupled weight decay and bias correction (Loshchilov & Hutter; PyTorch's ``AdamW``)::

        p = p * (1 - lr * weight_decay)                      (names without 'beta'/'gamma', or per group)
        m = beta1 * m + (1 - beta1) * g;   v = beta2 * v + (1 - beta2) * g * g
        p = p - lr / (1 - beta1 ** t) * m / (sqrt(v) / sqrt(1 - beta2 ** t) + eps)

    MindSpore's ``nn`` has no ``AdamW``; this follows ``mindspore.experimental.optim.AdamW``'s rule with
    ``nn``-style arguments. State is named as :class:`Adam`'s.
    """

    def __init__(self, params: Any, learning_rate: Any = 1e-3, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8, weight_decay: float = 1e-2, loss_scale: float = 1.0,
                 use_amsgrad: bool = False) -> None:
        super().__init__(learning_rate, params, weight_decay, loss_scale)
        self._init_adam(beta1, beta2, eps, use_amsgrad, ("moment1", "moment2"), powers=True)

    def _update(self, grads: list[Any], lrs: list[float]) -> None:
        grads = list(self._preprocess(grads, decay=False))
        b1p, b2p = self._advance_powers()
        root2 = math.sqrt(1.0 - b2p)
        for index, (param, grad, lr) in enumerate(zip(self.parameters, grads, lrs)):
            decay = self._decays[index] / self.loss_scale
            base = param * (1.0 - lr * decay) if decay else param
            m, v = self._moments(index, grad)
            denom = ops.sqrt(v) * (1.0 / root2) + self.eps
            set_data(param, base - m / denom * (lr / (1.0 - b1p)))
