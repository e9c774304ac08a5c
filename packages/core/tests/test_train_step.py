"""WithLossCell + TrainOneStepCell: a tiny linear regression trained end to end."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import mycelia as ms
from mycelia import nn, ops

RNG = np.random.default_rng(5)
X = RNG.normal(size=(64, 3)).astype(np.float32)
TRUE_W = np.array([[1.5], [-2.0], [0.5]], np.float32)
Y = (X @ TRUE_W + 0.3 + 0.01 * RNG.normal(size=(64, 1))).astype(np.float32)


class Linear(nn.Cell):
    def __init__(self) -> None:
        super().__init__()
        self.weight = ms.Parameter(ms.Tensor(np.zeros((3, 1), np.float32)))
        self.bias = ms.Parameter(ms.Tensor(np.zeros((1,), np.float32)))

    def construct(self, x: Any) -> Any:
        return ops.matmul(x, self.weight) + self.bias


def test_wrappers_keep_parameter_names(tmp_path: Path) -> None:
    net = Linear()
    train = nn.TrainOneStepCell(nn.WithLossCell(net, nn.MSELoss()), nn.Momentum(net.trainable_params(), 0.1, 0.9))
    names = [p.name for p in train.get_parameters()]
    assert names == ["weight", "bias", "global_step", "learning_rate", "moments.weight", "moments.bias"]
    assert train.network.backbone_network is net
    ms.save_checkpoint(train, str(tmp_path / "train.ckpt"))
    assert list(ms.load_checkpoint(str(tmp_path / "train.ckpt"))) == names
    with pytest.raises(TypeError, match="optimizer must be"):
        nn.TrainOneStepCell(nn.WithLossCell(net, nn.MSELoss()), nn.MSELoss())


def test_linear_regression_loss_falls() -> None:
    net = Linear()
    train = nn.TrainOneStepCell(nn.WithLossCell(net, nn.MSELoss()), nn.SGD(net.trainable_params(), 0.1))
    train.set_train()
    x, y = ms.Tensor(X), ms.Tensor(Y)
    losses = [float(train(x, y)) for _ in range(100)]
    assert losses[-1] < 0.01 * losses[0]
    assert all(b <= a + 1e-6 for a, b in itertools.pairwise(losses))
    np.testing.assert_allclose(net.weight.asnumpy(), TRUE_W, atol=0.05)
    np.testing.assert_allclose(net.bias.asnumpy(), [0.3], atol=0.05)


def test_train_step_matches_a_manual_step_and_sens_scales() -> None:
    x, y = ms.Tensor(X), ms.Tensor(Y)
    manual, wrapped, scaled = Linear(), Linear(), Linear()
    loss_fn = nn.WithLossCell(manual, nn.MSELoss())
    loss, grads = ms.value_and_grad(loss_fn, None, manual.trainable_params())(x, y)
    for param, grad in zip(manual.trainable_params(), grads):
        ops.assign(param, param - grad * 0.1)
    step = nn.TrainOneStepCell(nn.WithLossCell(wrapped, nn.MSELoss()), nn.SGD(wrapped.trainable_params(), 0.1),
                               return_grad=True)
    wrapped_loss, named = step(x, y)
    np.testing.assert_allclose(float(wrapped_loss), float(loss), rtol=1e-6)
    assert sorted(named) == ["bias", "weight"]
    for a, b in zip(manual.trainable_params(), wrapped.trainable_params()):
        np.testing.assert_allclose(a.asnumpy(), b.asnumpy(), rtol=1e-6)
    nn.TrainOneStepCell(nn.WithLossCell(scaled, nn.MSELoss()), nn.SGD(scaled.trainable_params(), 0.05), sens=2.0)(x, y)
    for a, b in zip(manual.trainable_params(), scaled.trainable_params()):
        np.testing.assert_allclose(a.asnumpy(), b.asnumpy(), rtol=1e-5)


def test_adam_with_clipping_trains() -> None:
    net = Linear()
    loss_net = nn.WithLossCell(net, nn.MSELoss())
    optimizer = nn.Adam(net.trainable_params(), learning_rate=nn.exponential_decay_lr(0.1, 0.9, 200, 10, 1))
    grad_fn = ms.value_and_grad(loss_net, None, optimizer.parameters)
    x, y = ms.Tensor(X), ms.Tensor(Y)
    first = None
    for _ in range(200):
        loss, grads = grad_fn(x, y)
        first = float(loss) if first is None else first
        optimizer(ops.clip_by_global_norm(grads, 1.0))
    assert float(loss_net(x, y)) < 0.01 * first
