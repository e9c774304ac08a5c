"""Optimizers with MindSpore 2.x's names and signatures (``mycelia.nn.optim``, re-exported by ``mycelia.nn``)."""

from __future__ import annotations

from mycelia.nn.optim._adam import Adam, AdamW, AdamWeightDecay
from mycelia.nn.optim._adaptive import Adagrad, RMSProp
from mycelia.nn.optim._optimizer import Optimizer
from mycelia.nn.optim._sgd import SGD, Momentum

__all__ = ["Adagrad", "Adam", "AdamW", "AdamWeightDecay", "Momentum", "Optimizer", "RMSProp", "SGD"]
