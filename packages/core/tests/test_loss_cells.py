"""Loss cells: MindSpore 2.x constructor defaults and values against numpy references."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import mycelia as ms
from mycelia import nn

RNG = np.random.default_rng(3)
LOGITS = RNG.normal(size=(4, 5))
LABELS = np.array([0, 3, 4, 1])
TARGET = RNG.normal(size=(4, 5))
PROBS = RNG.uniform(0.05, 0.95, size=(4, 5))
BINARY = (RNG.uniform(size=(4, 5)) > 0.5).astype(np.float64)


def t(array: np.ndarray, dtype: Any = np.float32) -> ms.Tensor:
    return ms.Tensor(array.astype(dtype))


def reduce(loss: np.ndarray, reduction: str) -> np.ndarray:
    return {"none": loss, "mean": np.asarray(loss.mean()), "sum": np.asarray(loss.sum())}[reduction]


def log_softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def check(cell: nn.Cell, args: tuple[ms.Tensor, ...], expected: np.ndarray, rtol: float = 1e-5) -> None:
    out = cell(*args)
    assert out.shape == expected.shape, type(cell).__name__
    np.testing.assert_allclose(out.asnumpy(), expected, rtol=rtol, atol=1e-6, err_msg=type(cell).__name__)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_regression_losses(reduction: str) -> None:
    diff = LOGITS - TARGET
    check(nn.MSELoss(reduction), (t(LOGITS), t(TARGET)), reduce(diff ** 2, reduction))
    check(nn.L1Loss(reduction), (t(LOGITS), t(TARGET)), reduce(np.abs(diff), reduction))
    smooth = np.where(np.abs(diff) < 0.5, 0.5 * diff ** 2 / 0.5, np.abs(diff) - 0.25)
    check(nn.SmoothL1Loss(beta=0.5, reduction=reduction), (t(LOGITS), t(TARGET)), reduce(smooth, reduction))


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_classification_losses(reduction: str) -> None:
    log_p = log_softmax(LOGITS)
    picked = -log_p[np.arange(4), LABELS]
    check(nn.CrossEntropyLoss(reduction=reduction), (t(LOGITS), t(LABELS, np.int32)), reduce(picked, reduction))
    check(nn.NLLLoss(reduction=reduction), (t(log_p), t(LABELS, np.int64)), reduce(picked, reduction))
    sparse = nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction=reduction)
    check(sparse, (t(LOGITS), t(LABELS, np.int32)), reduce(picked, reduction))
    soft = PROBS / PROBS.sum(axis=1, keepdims=True)
    dense = nn.SoftmaxCrossEntropyWithLogits(reduction=reduction)
    check(dense, (t(LOGITS), t(soft)), reduce(-(soft * log_p).sum(axis=1), reduction))
    bce = -(BINARY * np.log(PROBS) + (1 - BINARY) * np.log(1 - PROBS))
    check(nn.BCELoss(reduction=reduction), (t(PROBS), t(BINARY)), reduce(bce, reduction), rtol=1e-4)
    sig = 1 / (1 + np.exp(-LOGITS))
    bce_logits = -(BINARY * np.log(sig) + (1 - BINARY) * np.log(1 - sig))
    check(nn.BCEWithLogitsLoss(reduction=reduction), (t(LOGITS), t(BINARY)), reduce(bce_logits, reduction))
    kl = PROBS * (np.log(PROBS) - log_p)
    check(nn.KLDivLoss(reduction=reduction), (t(log_p), t(PROBS)), reduce(kl, reduction))


def test_weighted_losses_and_options() -> None:
    weight = np.array([1.0, 2.0, 0.5, 1.0, 3.0])
    log_p = log_softmax(LOGITS)
    w = weight[LABELS]
    expected = (-log_p[np.arange(4), LABELS] * w).sum() / w.sum()
    check(nn.CrossEntropyLoss(weight=t(weight)), (t(LOGITS), t(LABELS, np.int32)), np.asarray(expected))
    check(nn.NLLLoss(weight=t(weight)), (t(log_p), t(LABELS, np.int32)), np.asarray(expected))
    ignored = nn.CrossEntropyLoss(ignore_index=3, reduction="sum")
    keep = LABELS != 3
    check(ignored, (t(LOGITS), t(LABELS, np.int32)), np.asarray(-log_p[np.arange(4), LABELS][keep].sum()))
    pos_weight = np.array([1.0, 2.0, 1.0, 0.5, 1.0])
    sig = 1 / (1 + np.exp(-LOGITS))
    bce = -(pos_weight * BINARY * np.log(sig) + (1 - BINARY) * np.log(1 - sig)) * weight
    cell = nn.BCEWithLogitsLoss(weight=t(weight), pos_weight=t(pos_weight))
    check(cell, (t(LOGITS), t(BINARY)), np.asarray(bce.mean()))
    check(nn.BCELoss(weight=t(weight), reduction="sum"), (t(PROBS), t(BINARY)),
          np.asarray((-(BINARY * np.log(PROBS) + (1 - BINARY) * np.log(1 - PROBS)) * weight).sum()), rtol=1e-4)
    kl = PROBS * (np.log(PROBS) - log_p)
    check(nn.KLDivLoss("batchmean"), (t(log_p), t(PROBS)), np.asarray(kl.sum() / 4))


def test_mindspore_default_reductions() -> None:
    assert nn.SmoothL1Loss().reduction == "none"
    assert nn.SoftmaxCrossEntropyWithLogits().reduction == "none"
    assert not nn.SoftmaxCrossEntropyWithLogits().sparse
    for cls in (nn.MSELoss, nn.L1Loss, nn.CrossEntropyLoss, nn.NLLLoss, nn.BCELoss, nn.BCEWithLogitsLoss, nn.KLDivLoss):
        assert cls().reduction == "mean", cls.__name__


def test_loss_base_get_loss() -> None:
    class Custom(nn.LossBase):
        def construct(self, logits: Any, labels: Any) -> Any:
            return self.get_loss((logits - labels) ** 2, weights=2.0)

    diff = (LOGITS - TARGET) ** 2 * 2.0
    for reduction in ("none", "mean", "sum"):
        check(Custom(reduction), (t(LOGITS), t(TARGET)), reduce(diff, reduction))
    half = Custom("mean")(t(LOGITS, np.float16), t(TARGET, np.float16))
    assert half.dtype is ms.float16


def test_loss_cell_errors() -> None:
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.MSELoss("avg")
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.L1Loss("batchmean")
    with pytest.raises(TypeError, match="weight must be a Tensor"):
        nn.CrossEntropyLoss(weight=[1.0, 2.0])
    with pytest.raises(TypeError, match="sparse=True"):
        nn.SoftmaxCrossEntropyWithLogits(sparse=True)(t(LOGITS), t(PROBS))
    with pytest.raises(TypeError, match="use sparse=True"):
        nn.SoftmaxCrossEntropyWithLogits()(t(LOGITS), t(LABELS, np.int32))
    with pytest.raises(ValueError, match="beta"):
        nn.SmoothL1Loss(beta=-1.0)
