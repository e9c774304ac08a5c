"""Neural-network building blocks with MindSpore's names (``mycelia.nn``)."""

from __future__ import annotations

from mycelia.nn import dynamic_lr, learning_rate_schedule, optim
from mycelia.nn._activation import GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Tanh, get_activation
from mycelia.nn._basic import Dense, Dropout, Embedding, Flatten
from mycelia.nn._cell import Cell, ParameterTuple
from mycelia.nn._containers import CellDict, CellList, SequentialCell
from mycelia.nn._conv import Conv1d, Conv2d, Conv2dTranspose
from mycelia.nn._loss_cells import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    KLDivLoss,
    L1Loss,
    LossBase,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
    SoftmaxCrossEntropyWithLogits,
)
from mycelia.nn._normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from mycelia.nn._pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from mycelia.nn._rnn import LSTM
from mycelia.nn._transformer import MultiheadAttention, TransformerEncoder, TransformerEncoderLayer
from mycelia.nn._wrap import TrainOneStepCell, WithEvalCell, WithLossCell
from mycelia.nn.dynamic_lr import (
    cosine_decay_lr,
    exponential_decay_lr,
    inverse_decay_lr,
    natural_exp_decay_lr,
    piecewise_constant_lr,
    polynomial_decay_lr,
    warmup_lr,
)
from mycelia.nn.learning_rate_schedule import (
    CosineDecayLR,
    ExponentialDecayLR,
    InverseDecayLR,
    LearningRateSchedule,
    NaturalExpDecayLR,
    PolynomialDecayLR,
    WarmUpLR,
)
from mycelia.nn.optim import SGD, Adagrad, Adam, AdamW, AdamWeightDecay, Momentum, Optimizer, RMSProp

__all__ = [
    # cells and containers
    "Cell", "CellDict", "CellList", "ParameterTuple", "SequentialCell",
    # layers
    "AdaptiveAvgPool2d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Conv1d", "Conv2d", "Conv2dTranspose", "Dense",
    "Dropout", "Embedding", "Flatten", "GroupNorm", "LSTM", "LayerNorm", "MaxPool2d", "MultiheadAttention",
    "TransformerEncoder", "TransformerEncoderLayer",
    # activations
    "GELU", "LeakyReLU", "LogSoftmax", "ReLU", "SiLU", "Sigmoid", "Softmax", "Tanh", "get_activation",
    # losses
    "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "KLDivLoss", "L1Loss", "LossBase", "MSELoss", "NLLLoss",
    "SmoothL1Loss", "SoftmaxCrossEntropyWithLogits",
    # optimizers, learning rates and training wrappers
    "Adagrad", "Adam", "AdamW", "AdamWeightDecay", "Momentum", "Optimizer", "RMSProp", "SGD",
    "CosineDecayLR", "ExponentialDecayLR", "InverseDecayLR", "LearningRateSchedule", "NaturalExpDecayLR",
    "PolynomialDecayLR", "WarmUpLR", "cosine_decay_lr", "dynamic_lr", "exponential_decay_lr", "inverse_decay_lr",
    "learning_rate_schedule", "natural_exp_decay_lr", "optim", "piecewise_constant_lr", "polynomial_decay_lr",
    "warmup_lr", "TrainOneStepCell", "WithEvalCell", "WithLossCell",
]
