"""Loss ops: MindSpore semantics (defaults, reductions, ignore_index, weights, smoothing, stability) and
error messages (the numerics against the references are in tests/test_op_conformance.py)."""

from __future__ import annotations

import numpy as np
import pytest

import mycelia as ms
from mycelia import ops
from mycelia._errors import OpError

RNG = np.random.default_rng(1)


def tensor(*shape: int, dtype: type = np.float32, low: float = -2.0, high: float = 2.0) -> ms.Tensor:
    return ms.Tensor(RNG.uniform(low, high, shape).astype(dtype))


def log_softmax(x: np.ndarray, axis: int = 1) -> np.ndarray:
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


# -- cross_entropy / nll_loss ---------------------------------------------------------------------
def test_cross_entropy_is_nll_of_log_softmax() -> None:
    x, t = tensor(5, 4), ms.Tensor(np.array([0, 3, 1, 1, 2]))
    expected = -log_softmax(x.asnumpy())[np.arange(5), [0, 3, 1, 1, 2]].mean()
    np.testing.assert_allclose(ops.cross_entropy(x, t).asnumpy(), expected, rtol=1e-5)
    nll = ops.nll_loss(ms.Tensor(log_softmax(x.asnumpy())), t)
    np.testing.assert_allclose(nll.asnumpy(), expected, rtol=1e-5)
    assert ops.cross_entropy(x, t).shape == () and ops.cross_entropy(x, t, reduction="none").shape == (5,)


def test_cross_entropy_weighted_mean_skips_ignored_targets() -> None:
    x, weight = tensor(4, 3), ms.Tensor(np.array([1.0, 2.0, 4.0], np.float32))
    t = ms.Tensor(np.array([0, 2, -100, 1]))
    logp = log_softmax(x.asnumpy())
    picked = [(0, 0), (1, 2), (3, 1)]
    numerator = sum(-weight.asnumpy()[c] * logp[r, c] for r, c in picked)
    np.testing.assert_allclose(ops.cross_entropy(x, t, weight).asnumpy(), numerator / (1 + 4 + 2), rtol=1e-5)
    none = ops.cross_entropy(x, t, weight, reduction="none").asnumpy()
    assert none[2] == 0.0


def test_cross_entropy_label_smoothing_and_probability_targets() -> None:
    x, t = tensor(3, 4), np.array([1, 0, 3])
    eps = 0.2
    smoothed = np.full((3, 4), eps / 4)
    smoothed[np.arange(3), t] += 1 - eps
    by_index = ops.cross_entropy(x, ms.Tensor(t), label_smoothing=eps).asnumpy()
    by_probability = ops.cross_entropy(x, ms.Tensor(smoothed.astype(np.float32))).asnumpy()
    expected = -(log_softmax(x.asnumpy()) * smoothed).sum(axis=1).mean()
    np.testing.assert_allclose(by_index, expected, rtol=1e-5)
    np.testing.assert_allclose(by_probability, expected, rtol=1e-5)


def test_cross_entropy_spatial_and_low_precision() -> None:
    x, t = tensor(2, 3, 4, 5, dtype=np.float16), ms.Tensor(RNG.integers(0, 3, (2, 4, 5)).astype(np.int32))
    out = ops.cross_entropy(x, t, reduction="none")
    assert out.shape == (2, 4, 5) and out.dtype == ms.float16
    logp = log_softmax(x.asnumpy().astype(np.float64))
    expected = -np.take_along_axis(logp, t.asnumpy()[:, None].astype(np.int64), axis=1)[:, 0]
    np.testing.assert_allclose(out.asnumpy().astype(np.float64), expected, rtol=2e-3, atol=2e-3)


def test_class_loss_errors() -> None:
    x = tensor(4, 3)
    with pytest.raises(OpError, match=r"cross_entropy on backend 'cpu': ValueError from the kernel: target value 3 "
                                      r"is out of range \[0, 3\)"):
        ops.cross_entropy(x, ms.Tensor(np.array([0, 1, 2, 3])))
    with pytest.raises(OpError, match=r"target of class indices must have shape \[4\]"):
        ops.cross_entropy(x, ms.Tensor(np.array([0, 1])))
    with pytest.raises(OpError, match=r"target of class probabilities must have the input's shape \[4, 3\]"):
        ops.cross_entropy(x, tensor(4, 2))
    with pytest.raises(OpError, match=r"nll_loss: target must hold integer class indices"):
        ops.nll_loss(x, tensor(4, 3))
    with pytest.raises(OpError, match=r"weight must have shape \[3\]"):
        ops.nll_loss(x, ms.Tensor(np.array([0, 1, 2, 1])), tensor(4))
    with pytest.raises(OpError, match="reduction must be one of 'none', 'mean', 'sum', got 'avg'"):
        ops.cross_entropy(x, ms.Tensor(np.array([0, 1, 2, 1])), reduction="avg")
    with pytest.raises(OpError, match=r"label_smoothing must be <= 1.0"):
        ops.cross_entropy(x, ms.Tensor(np.array([0, 1, 2, 1])), label_smoothing=2.0)
    with pytest.raises(OpError, match=r"test_ops_loss\.py"):
        ops.nll_loss(x, ms.Tensor(np.array([0.5])))


# -- elementwise losses ---------------------------------------------------------------------------
def test_mse_and_l1_reductions_and_broadcasting() -> None:
    x, t = tensor(4, 3), tensor(3)
    diff = x.asnumpy() - t.asnumpy()
    np.testing.assert_allclose(ops.mse_loss(x, t).asnumpy(), (diff ** 2).mean(), rtol=1e-5)
    np.testing.assert_allclose(ops.l1_loss(x, t, reduction="sum").asnumpy(), np.abs(diff).sum(), rtol=1e-5)
    assert ops.mse_loss(x, t, reduction="none").shape == (4, 3)
    np.testing.assert_allclose(ops.l1_loss(x, 1.0).asnumpy(), np.abs(x.asnumpy() - 1).mean(), rtol=1e-5)
    assert np.isnan(ops.mse_loss(tensor(0, 3), tensor(0, 3)).asnumpy())


def test_smooth_l1_defaults_to_no_reduction() -> None:
    x = ms.Tensor(np.array([0.0, 0.5, 3.0], np.float32))
    t = ms.Tensor(np.zeros(3, np.float32))
    np.testing.assert_allclose(ops.smooth_l1_loss(x, t).asnumpy(), [0.0, 0.125, 2.5])
    np.testing.assert_allclose(ops.smooth_l1_loss(x, t, beta=2.0, reduction="sum").asnumpy(), 0.0625 + 2.0)
    with pytest.raises(OpError, match="beta must be >= 0.0"):
        ops.smooth_l1_loss(x, t, beta=-1.0)
    with pytest.raises(OpError, match=r"smooth_l1_loss: target must have the input's shape \[3\], got \[1\]"):
        ops.smooth_l1_loss(x, ms.Tensor(np.zeros(1, np.float32)))


def test_binary_cross_entropy_is_finite_at_the_edges() -> None:
    x = ms.Tensor(np.array([0.0, 1.0, 0.5], np.float32))
    y = ms.Tensor(np.array([0.0, 1.0, 1.0], np.float32))
    np.testing.assert_allclose(ops.binary_cross_entropy(x, y, reduction="none").asnumpy(),
                               [0.0, 0.0, np.log(2.0)], atol=1e-6)
    assert np.isfinite(ops.binary_cross_entropy(x, ms.Tensor(np.ones(3, np.float32))).asnumpy())
    weight = ms.Tensor(np.array([1.0, 1.0, 3.0], np.float32))
    np.testing.assert_allclose(ops.binary_cross_entropy(x, y, weight, reduction="sum").asnumpy(), 3 * np.log(2.0),
                               rtol=1e-5)


def test_binary_cross_entropy_with_logits_is_stable() -> None:
    x = ms.Tensor(np.array([-100.0, 100.0, 0.0], np.float32))
    y = ms.Tensor(np.array([1.0, 0.0, 1.0], np.float32))
    np.testing.assert_allclose(ops.binary_cross_entropy_with_logits(x, y, reduction="none").asnumpy(),
                               [100.0, 100.0, np.log(2.0)], rtol=1e-6)
    pos_weight = ms.Tensor(np.array([2.0, 2.0, 2.0], np.float32))
    with_pos = ops.binary_cross_entropy_with_logits(x, y, pos_weight=pos_weight, reduction="none").asnumpy()
    np.testing.assert_allclose(with_pos, [200.0, 100.0, 2 * np.log(2.0)], rtol=1e-6)
    probabilities = 1 / (1 + np.exp(-np.array([0.3, -1.2], np.float32)))
    np.testing.assert_allclose(
        ops.binary_cross_entropy_with_logits(ms.Tensor(np.array([0.3, -1.2], np.float32)),
                                             ms.Tensor(np.array([1.0, 0.0], np.float32))).asnumpy(),
        ops.binary_cross_entropy(ms.Tensor(probabilities), ms.Tensor(np.array([1.0, 0.0], np.float32))).asnumpy(),
        rtol=1e-5)
    with pytest.raises(OpError, match=r"pos_weight of shape \[2\] must broadcast to the input shape \[3\]"):
        ops.binary_cross_entropy_with_logits(x, y, pos_weight=ms.Tensor(np.ones(2, np.float32)))


def test_kl_div_reductions_zero_labels_and_log_target() -> None:
    logits = ms.Tensor(np.log(np.array([[0.2, 0.8], [0.5, 0.5]], np.float32)))
    labels = np.array([[0.0, 1.0], [0.5, 0.5]], np.float32)
    pointwise = ops.kl_div(logits, ms.Tensor(labels), reduction="none").asnumpy()
    assert pointwise[0, 0] == 0.0 and np.isfinite(pointwise).all()  # 0 * log 0 is 0
    total = -np.log(0.8)
    np.testing.assert_allclose(ops.kl_div(logits, ms.Tensor(labels), reduction="batchmean").asnumpy(), total / 2,
                               rtol=1e-5)
    np.testing.assert_allclose(ops.kl_div(logits, ms.Tensor(labels)).asnumpy(), total / 4, rtol=1e-5)  # 'mean'
    positive = np.array([[0.1, 0.9], [0.5, 0.5]], np.float32)
    np.testing.assert_allclose(ops.kl_div(logits, ms.Tensor(np.log(positive)), "sum", log_target=True).asnumpy(),
                               ops.kl_div(logits, ms.Tensor(positive), "sum").asnumpy(), rtol=1e-5)
    with pytest.raises(OpError, match="reduction must be one of 'none', 'mean', 'sum', 'batchmean'"):
        ops.kl_div(logits, ms.Tensor(labels), reduction="avg")


def test_losses_keep_the_input_dtype() -> None:
    for dtype, expected in ((np.float16, ms.float16), (np.float64, ms.float64)):
        x, t = tensor(3, 2, dtype=dtype), tensor(3, 2, dtype=dtype)
        assert ops.mse_loss(x, t).dtype == expected
        assert ops.kl_div(x, t, reduction="sum").dtype == expected
        assert ops.binary_cross_entropy_with_logits(x, t).dtype == expected
    with pytest.raises(OpError, match="dtype Int32 is not supported"):
        ops.mse_loss(ms.Tensor(np.ones(3, np.int32)), ms.Tensor(np.ones(3, np.int32)))
