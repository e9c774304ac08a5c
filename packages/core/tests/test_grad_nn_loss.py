"""Gradients of the nn and loss ops beyond the generated first-order check: higher-order gradients (grad of
grad against finite differences of the first-order gradient), MindSpore's gradient conventions (dropout's mask,
embedding's padding_idx / scale_grad_by_freq / max_norm, class-index targets), batch_norm's running statistics,
and the fused cross-entropy gradient against the composite rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import mycelia as ms
from mycelia import _autograd
from mycelia._testing import numeric_gradients, tensor_objective
from mycelia.ops import _dispatch

EPS = 1e-6
RTOL, ATOL = 1e-4, 1e-6
rng = np.random.default_rng(2024)


def arr(*shape: int, low: float = -1.0, high: float = 1.0) -> np.ndarray:
    return rng.uniform(low, high, size=shape)


def numeric_grad(f: Callable[..., Any], values: list[np.ndarray]) -> list[np.ndarray]:
    """Central finite differences of the scalar ``f(*Tensors)`` with respect to each array."""
    return numeric_gradients(tensor_objective(f), values, EPS)


def check_second_order(loss: Callable[..., Any], values: list[np.ndarray]) -> None:
    """d/d inputs of <grad(loss)(inputs), v> (grad of grad) against finite differences of that inner product."""
    cotangents = [rng.standard_normal(v.shape) for v in values]
    positions = tuple(range(len(values)))

    def inner(*tensors: Any) -> Any:
        grads = ms.grad(loss, positions)(*tensors)
        total = None
        for grad, cotangent in zip(grads, cotangents):
            term = ms.ops.sum(grad * ms.Tensor(cotangent))
            total = term if total is None else total + term
        return total

    analytic = ms.grad(inner, positions)(*[ms.Tensor(v) for v in values])
    for got, expected in zip(analytic, numeric_grad(inner, values)):
        np.testing.assert_allclose(got.asnumpy(), expected, rtol=RTOL, atol=ATOL)


def weighted_sum(out: Any, seed: int = 0) -> Any:
    return ms.ops.sum(out * ms.Tensor(np.random.default_rng(seed).standard_normal(out.shape)))


# -- higher order ---------------------------------------------------------------------------------
@pytest.mark.parametrize("attrs", [{}, {"stride": 2, "pad_mode": "pad", "padding": (1, 0, 2, 1), "dilation": (1, 2)},
                                   {"groups": 2, "pad_mode": "same"}])
def test_conv2d_second_order(attrs: dict[str, Any]) -> None:
    # the first-order gradients are convolutions again (linear in x and w): grad of grad exercises their vjps
    def loss(x: Any, w: Any) -> Any:
        return weighted_sum(ms.ops.conv2d(x, w, **attrs) ** 2)

    check_second_order(loss, [arr(1, 4, 5, 6), arr(2, 4 // attrs.get("groups", 1), 3, 3)])


def test_conv1d_and_conv_transpose2d_second_order() -> None:
    check_second_order(lambda x, w: weighted_sum(ms.ops.conv1d(x, w, stride=2, padding=1, dilation=2) ** 2),
                       [arr(1, 2, 9), arr(3, 2, 2)])
    check_second_order(lambda x, w: weighted_sum(ms.ops.conv_transpose2d(x, w, stride=2, padding=1,
                                                                         output_padding=1) ** 2),
                       [arr(1, 2, 3, 2), arr(2, 2, 3, 3)])


def test_pooling_and_interpolate_second_order() -> None:
    check_second_order(lambda x: weighted_sum(ms.ops.max_pool2d(x, 2, stride=1) ** 2), [arr(1, 2, 4, 4)])
    check_second_order(lambda x: weighted_sum(ms.ops.avg_pool2d(x, 3, stride=2, padding=1) ** 2), [arr(1, 2, 5, 5)])
    check_second_order(lambda x: weighted_sum(ms.ops.adaptive_avg_pool2d(x, (2, 3)) ** 2), [arr(1, 2, 5, 7)])
    check_second_order(lambda x: weighted_sum(ms.ops.interpolate(x, size=(5, 4), mode="bilinear") ** 2),
                       [arr(1, 2, 3, 3)])


def test_normalization_second_order() -> None:
    check_second_order(lambda x, w, b: weighted_sum(ms.ops.layer_norm(x, (4,), w, b) ** 2),
                       [arr(3, 4), arr(4), arr(4)])
    check_second_order(lambda x, w: weighted_sum(ms.ops.group_norm(x, 2, w) ** 2), [arr(2, 4, 3), arr(4)])

    def batch_norm(x: Any, w: Any, b: Any) -> Any:
        mean, var = ms.Tensor(np.zeros(3)), ms.Tensor(np.ones(3))
        return weighted_sum(ms.ops.batch_norm(x, mean, var, w, b, training=True) ** 2)

    check_second_order(batch_norm, [arr(4, 3, 2), arr(3), arr(3)])


def test_loss_second_order() -> None:
    target = ms.Tensor(np.array([1, 0, 3]))
    check_second_order(lambda x: ms.ops.cross_entropy(x, target, label_smoothing=0.1), [arr(3, 4)])
    check_second_order(lambda x, p: ms.ops.cross_entropy(x, p), [arr(3, 4), arr(3, 4, low=0, high=1)])
    check_second_order(lambda x, w: ms.ops.nll_loss(ms.ops.log_softmax(x, 1), target, w), [arr(3, 4), arr(4, low=0.5)])
    check_second_order(lambda x, t: ms.ops.mse_loss(x, t) * ms.ops.mse_loss(x, t), [arr(2, 3), arr(2, 3)])
    check_second_order(lambda x, t: ms.ops.smooth_l1_loss(x * 3.0, t, beta=2.0, reduction="sum") ** 2,
                       [arr(2, 3), arr(2, 3)])
    pos_weight = ms.Tensor(2.0 * np.ones(3))
    check_second_order(lambda x, t: ms.ops.binary_cross_entropy_with_logits(x, t, pos_weight=pos_weight),
                       [arr(2, 3), arr(2, 3, low=0, high=1)])
    check_second_order(lambda x, t: ms.ops.binary_cross_entropy(ms.ops.sigmoid(x), t),
                       [arr(2, 3), arr(2, 3, low=0, high=1)])
    check_second_order(lambda x, t: ms.ops.kl_div(x, t, reduction="batchmean") ** 2,
                       [arr(2, 3), arr(2, 3, low=0.1, high=1)])


# -- MindSpore's gradient conventions -------------------------------------------------------------
def test_dropout_gradient_is_the_mask_even_where_the_input_is_zero() -> None:
    x = arr(6, 7)
    x[0] = 0.0  # zeros in the input: the mask must come from the seed, not from output != 0
    out, grad = ms.value_and_grad(lambda t: ms.ops.sum(ms.ops.dropout(t, p=0.4, seed=5) * 1.0))(ms.Tensor(x))
    keep = ms.ops.dropout(ms.Tensor(np.ones_like(x)), p=0.4, seed=5).asnumpy() != 0
    assert 0 < keep[0].sum() < keep[0].size
    np.testing.assert_allclose(grad.asnumpy(), keep / 0.6, rtol=1e-12)
    np.testing.assert_allclose(out.asnumpy(), np.sum(x * keep / 0.6), rtol=1e-12)


def test_dropout_gradient_uses_the_global_stream_key_of_its_call() -> None:
    ms.set_seed(3)
    x = ms.Tensor(np.ones((50,)))
    grad_fn = ms.grad(lambda t: ms.ops.sum(ms.ops.dropout(t, p=0.5) * ms.ops.dropout(t, p=0.5)))
    ms.set_seed(3)
    first, second = ms.ops.dropout(x, p=0.5).asnumpy(), ms.ops.dropout(x, p=0.5).asnumpy()
    ms.set_seed(3)
    assert not np.array_equal(first, second)
    np.testing.assert_allclose(grad_fn(x).asnumpy(), 2 * first * second, rtol=1e-12)


def test_embedding_gradient_conventions() -> None:
    indices = ms.Tensor(np.array([[0, 2, 2], [3, 2, 0]]))
    weight = arr(4, 3)
    cotangent = rng.standard_normal((2, 3, 3))

    def run(**kwargs: Any) -> np.ndarray:
        f = ms.grad(lambda w: ms.ops.sum(ms.ops.embedding(indices, w, **kwargs) * ms.Tensor(cotangent)))
        return f(ms.Tensor(weight)).asnumpy()  # type: ignore[no-any-return]

    plain = np.zeros((4, 3))
    np.add.at(plain, indices.asnumpy().reshape(-1), cotangent.reshape(-1, 3))
    np.testing.assert_allclose(run(), plain, rtol=1e-12)
    padded = plain.copy()
    padded[2] = 0.0
    np.testing.assert_allclose(run(padding_idx=2), padded, rtol=1e-12)
    np.testing.assert_allclose(run(padding_idx=-2), padded, rtol=1e-12)
    counts = np.bincount(indices.asnumpy().reshape(-1), minlength=4)
    scaled = np.zeros((4, 3))
    flat = indices.asnumpy().reshape(-1)
    np.add.at(scaled, flat, cotangent.reshape(-1, 3) / counts[flat][:, None])
    np.testing.assert_allclose(run(scale_grad_by_freq=True), scaled, rtol=1e-12)
    # max_norm renormalizes the weight in place; the gradient is taken at the renormalized weight (the
    # renormalization is not differentiated, as in MindSpore): the plain scatter of the output gradient
    np.testing.assert_allclose(run(max_norm=0.1), plain, rtol=1e-12)


def test_class_index_targets_get_no_gradient() -> None:
    x, t = ms.Tensor(arr(3, 4)), ms.Tensor(np.array([1, 0, 3]))
    grad_x, grad_t = ms.grad(lambda a, b: ms.ops.cross_entropy(a, b), (0, 1))(x, t)
    assert grad_t.dtype == t.dtype and not grad_t.asnumpy().any()
    softmax = np.exp(x.asnumpy()) / np.exp(x.asnumpy()).sum(1, keepdims=True)
    np.testing.assert_allclose(grad_x.asnumpy(), (softmax - np.eye(4)[[1, 0, 3]]) / 3, rtol=1e-12)


def test_max_pool2d_gradient_goes_to_the_first_maximum_of_a_window() -> None:
    x = np.array([[[[1.0, 3.0, 3.0], [2.0, 3.0, 0.0], [0.0, 1.0, 2.0]]]])
    grad = ms.grad(lambda t: ms.ops.sum(ms.ops.max_pool2d(t, 2, stride=1)))(ms.Tensor(x)).asnumpy()
    # windows: [1 3; 2 3] -> (0,1), [3 3; 3 0] -> (0,1), [2 3; 0 1] -> (1,1), [3 0; 1 2] -> (1,1)
    np.testing.assert_array_equal(grad[0, 0], [[0, 2, 0], [0, 2, 0], [0, 0, 0]])
    indices_grad = ms.grad(lambda t: ms.ops.sum(ms.ops.max_pool2d(t, 2, stride=1, return_indices=True)[0]))
    np.testing.assert_array_equal(indices_grad(ms.Tensor(x)).asnumpy(), grad)


# -- batch_norm: gradients through the running statistics ------------------------------------------
def test_batch_norm_gradient_through_the_updated_running_statistics() -> None:
    op = ms.ops.get_op("batch_norm")
    values = [arr(4, 3, 2), arr(3), arr(3, low=0.5, high=1.5), arr(3), arr(3)]
    cotangents = [rng.standard_normal((4, 3, 2)), rng.standard_normal(3), rng.standard_normal(3)]

    def objective(*tensors: Any) -> Any:
        outputs = _dispatch.apply(op, tensors, {"training": True, "momentum": 0.3, "eps": 1e-3})
        return sum((ms.ops.sum(o * ms.Tensor(c)) for o, c in zip(outputs, cotangents)), ms.Tensor(0.0))

    analytic = ms.grad(objective, tuple(range(5)))(*[ms.Tensor(v) for v in values])
    for got, expected in zip(analytic, numeric_grad(objective, values)):
        np.testing.assert_allclose(got.asnumpy(), expected, rtol=RTOL, atol=ATOL)


# -- the fused cross-entropy gradient against the composite rule -----------------------------------
@pytest.mark.parametrize(("name", "attrs"), [
    ("cross_entropy", {}),
    ("cross_entropy", {"reduction": "sum", "label_smoothing": 0.2, "ignore_index": 1}),
    ("cross_entropy", {"reduction": "none", "weighted": True}),
    ("nll_loss", {"weighted": True, "ignore_index": 0, "label_smoothing": 0.1}),
])
def test_fused_cross_entropy_gradient_matches_the_composite_rule(name: str, attrs: dict[str, Any]) -> None:
    from mycelia.ops import _loss_ce

    attrs = dict(attrs)
    weighted = attrs.pop("weighted", False)
    x, t = ms.Tensor(arr(2, 4, 3)), ms.Tensor(np.array([[1, 0, 3], [2, 1, 1]]))
    inputs = (x, t, ms.Tensor(arr(4, low=0.5, high=2.0))) if weighted else (x, t)
    out = getattr(ms.ops, name)(*inputs, **attrs)
    grad = ms.Tensor(rng.standard_normal(out.shape))
    full = {"ignore_index": -100, "reduction": "mean", "label_smoothing": 0.0, **attrs}
    context = _autograd.VjpContext(inputs, (out,), full)
    fused = ms.ops.get_op(name).vjp(context, grad)[0]
    composite = _loss_ce._class_grads(context, grad, log_softmax=name == "cross_entropy")[0]
    np.testing.assert_allclose(fused.asnumpy(), composite.asnumpy(), rtol=1e-12, atol=1e-15)


def test_low_precision_gradients_keep_the_input_dtype() -> None:
    x = ms.Tensor(arr(2, 3, 6, 6).astype(np.float16))
    w = ms.Tensor(arr(4, 3, 3, 3).astype(np.float16))
    grad_x, grad_w = ms.grad(lambda a, b: ms.ops.sum(ms.ops.max_pool2d(ms.ops.conv2d(a, b, padding=1), 2)),
                             (0, 1))(x, w)
    assert grad_x.dtype == ms.float16 and grad_w.dtype == ms.float16
    reference = ms.grad(lambda a, b: ms.ops.sum(ms.ops.max_pool2d(ms.ops.conv2d(a, b, padding=1), 2)), (0, 1))(
        ms.Tensor(x.asnumpy().astype(np.float64)), ms.Tensor(w.asnumpy().astype(np.float64)))
    np.testing.assert_allclose(grad_w.asnumpy(), reference[1].asnumpy(), rtol=2e-2, atol=2e-2)


def test_layer_norm_over_no_dims_has_zero_input_gradient() -> None:
    # normalized_shape () normalizes each element alone (the output is the bias): a mean over no axes must not
    # turn into a mean over all of them
    x = ms.Tensor(arr(2, 3))
    grad = ms.grad(lambda t: weighted_sum(ms.ops.layer_norm(t, ())))(x)
    np.testing.assert_array_equal(grad.asnumpy(), np.zeros((2, 3)))
