"""nn ops: MindSpore-specific semantics, in-place running-stat updates, randomness and error messages
(the numerics against the references are in tests/test_op_conformance.py)."""

from __future__ import annotations

import numpy as np
import pytest

import mycelia as ms
from mycelia import ops
from mycelia._errors import OpError

RNG = np.random.default_rng(0)


def tensor(*shape: int, dtype: type = np.float32) -> ms.Tensor:
    return ms.Tensor(RNG.standard_normal(shape).astype(dtype))


# -- conv -----------------------------------------------------------------------------------------
def test_conv2d_pad_modes_and_shapes() -> None:
    x, w = tensor(2, 3, 7, 6), tensor(4, 3, 3, 3)
    assert ops.conv2d(x, w).shape == (2, 4, 5, 4)  # MindSpore's default pad_mode is 'valid'
    assert ops.conv2d(x, w, pad_mode="same").shape == (2, 4, 7, 6)
    assert ops.conv2d(x, w, stride=2, pad_mode="same").shape == (2, 4, 4, 3)
    assert ops.conv2d(x, w, pad_mode="pad", padding=(1, 0, 2, 0)).shape == (2, 4, 6, 6)
    padded = ops.conv2d(x, w, pad_mode="pad", padding=1)
    np.testing.assert_allclose(ops.conv2d(x, w, padding=1).asnumpy(), padded.asnumpy())  # 'valid' + padding pads
    np.testing.assert_allclose(ops.conv2d(x, w, padding="same").asnumpy(), padded.asnumpy(), rtol=1e-6)


def test_conv2d_matches_explicit_sum() -> None:
    x, w, b = tensor(1, 2, 4, 4), tensor(3, 2, 2, 2), tensor(3)
    out = ops.conv2d(x, w, b).asnumpy()
    xs, ws, bs = x.asnumpy(), w.asnumpy(), b.asnumpy()
    expected = np.einsum("chw,ochw->o", xs[0, :, 1:3, 2:4], ws) + bs
    np.testing.assert_allclose(out[0, :, 1, 2], expected, rtol=1e-5)


def test_conv1d_is_conv2d_on_one_row() -> None:
    x, w = tensor(2, 4, 9), tensor(6, 2, 3)
    out = ops.conv1d(x, w, stride=2, pad_mode="pad", padding=1, dilation=2, groups=2)
    ref = ops.conv2d(ms.Tensor(x.asnumpy()[:, :, None]), ms.Tensor(w.asnumpy()[:, :, None]), stride=(1, 2),
                     pad_mode="pad", padding=(0, 0, 1, 1), dilation=(1, 2), groups=2)
    np.testing.assert_allclose(out.asnumpy(), ref.asnumpy()[:, :, 0], rtol=1e-6)


def test_conv_transpose2d_is_the_adjoint_of_conv2d() -> None:
    x, w, y = tensor(2, 4, 7, 6, dtype=np.float64), tensor(6, 2, 3, 2, dtype=np.float64), None
    kwargs = {"stride": (2, 1), "dilation": (1, 2)}
    forward = ops.conv2d(x, w, pad_mode="pad", padding=1, groups=2, **kwargs)
    y = tensor(*forward.shape, dtype=np.float64)
    back = ops.conv_transpose2d(y, w, padding=1, groups=2, **kwargs)
    assert back.shape[:2] == (2, 4)
    # <conv(x), y> == <x, conv_transpose(y)> on the overlapping region (conv_transpose may be shorter)
    h, ww = back.shape[2:]
    lhs = np.sum(forward.asnumpy() * y.asnumpy())
    rhs = np.sum(x.asnumpy()[:, :, :h, :ww] * back.asnumpy())
    assert abs(lhs - rhs) < 1e-9 * max(1.0, abs(lhs))


def test_conv_errors_name_the_op_and_the_shapes() -> None:
    x = tensor(1, 3, 5, 5)
    with pytest.raises(OpError, match=r"conv2d: weight shape \[4, 2, 3, 3\] expects C_in / groups = 2"):
        ops.conv2d(x, tensor(4, 2, 3, 3))
    with pytest.raises(OpError, match="pad_mode must be 'valid', 'same' or 'pad'"):
        ops.conv2d(x, tensor(4, 3, 3, 3), pad_mode="full")
    with pytest.raises(OpError, match="padding must be 0 when pad_mode is 'same'"):
        ops.conv2d(x, tensor(4, 3, 3, 3), pad_mode="same", padding=1)
    with pytest.raises(OpError, match="smaller than the dilated kernel size 7"):
        ops.conv2d(x, tensor(4, 3, 4, 4), dilation=2)
    with pytest.raises(OpError, match=r"bias must have shape \[4\]"):
        ops.conv2d(x, tensor(4, 3, 3, 3), tensor(3))
    with pytest.raises(OpError, match="input must be 3-D or 4-D"):
        ops.conv2d(tensor(3, 5), tensor(4, 3, 3, 3))
    with pytest.raises(OpError, match="dtype Int64 is not supported"):
        ops.conv2d(ms.Tensor(np.ones((1, 3, 5, 5), np.int64)), ms.Tensor(np.ones((4, 3, 3, 3), np.int64)))
    with pytest.raises(OpError, match="output_padding must be smaller than stride or dilation"):
        ops.conv_transpose2d(tensor(1, 3, 4, 4), tensor(3, 2, 3, 3), output_padding=1)
    with pytest.raises(OpError, match=r"test_ops_nn\.py"):  # the user's line, not mycelia's
        ops.conv1d(tensor(1, 3, 5), tensor(4, 3, 9))


def test_conv_keeps_low_precision_dtype() -> None:
    x, w = tensor(1, 2, 5, 5, dtype=np.float16), tensor(3, 2, 3, 3, dtype=np.float16)
    out = ops.conv2d(x, w)
    assert out.dtype == ms.float16
    ref = ops.conv2d(ms.Tensor(x.asnumpy().astype(np.float32)), ms.Tensor(w.asnumpy().astype(np.float32)))
    np.testing.assert_allclose(out.asnumpy().astype(np.float32), ref.asnumpy(), rtol=2e-3, atol=2e-3)


# -- pooling --------------------------------------------------------------------------------------
def test_max_pool2d_indices_point_at_the_maxima() -> None:
    x = tensor(2, 3, 7, 6)
    out, indices = ops.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True, return_indices=True)
    assert indices.dtype == ms.int64 and out.shape == indices.shape == (2, 3, 4, 4)
    flat = x.asnumpy().reshape(2, 3, -1)
    gathered = np.take_along_axis(flat, indices.asnumpy().reshape(2, 3, -1), axis=-1).reshape(out.shape)
    np.testing.assert_array_equal(gathered, out.asnumpy())
    assert ops.max_pool2d(x, 2).shape == (2, 3, 3, 3)  # stride defaults to kernel_size


def test_max_pool2d_integers_and_nan() -> None:
    x = ms.Tensor(np.arange(16, dtype=np.int32).reshape(1, 1, 4, 4))
    np.testing.assert_array_equal(ops.max_pool2d(x, 2).asnumpy()[0, 0], [[5, 7], [13, 15]])
    values = np.zeros((1, 1, 2, 2), np.float32)
    values[0, 0, 1, 0] = np.nan
    out, index = ops.max_pool2d(ms.Tensor(values), 2, return_indices=True)
    assert np.isnan(out.asnumpy()).all() and index.asnumpy().item() == 2
    assert np.isnan(ops.max_pool2d(ms.Tensor(values), 2).asnumpy()).all()


def test_pool_errors() -> None:
    with pytest.raises(OpError, match="padding must be at most half the kernel size"):
        ops.max_pool2d(tensor(1, 1, 5, 5), 2, padding=2)
    with pytest.raises(OpError, match="kernel_size values must be >= 1"):
        ops.avg_pool2d(tensor(1, 1, 5, 5), 0)
    with pytest.raises(OpError, match=r"adaptive_avg_pool2d: output_size must be an int or a tuple of 2"):
        ops.adaptive_avg_pool2d(tensor(1, 1, 5, 5), (1, 2, 3))


def test_avg_pool2d_mindspore_defaults_and_divisor() -> None:
    x = tensor(1, 2, 5, 5)
    assert ops.avg_pool2d(x, 2).shape == (1, 2, 4, 4)  # MindSpore's stride defaults to 1
    summed = ops.avg_pool2d(x, 2, 2, divisor_override=1).asnumpy()
    np.testing.assert_allclose(summed[0, 0, 0, 0], x.asnumpy()[0, 0, :2, :2].sum(), rtol=1e-6)
    excluded = ops.avg_pool2d(x, 3, 2, padding=1, count_include_pad=False).asnumpy()
    np.testing.assert_allclose(excluded[0, 0, 0, 0], x.asnumpy()[0, 0, :2, :2].mean(), rtol=1e-6)


def test_adaptive_avg_pool2d_global_and_none() -> None:
    x = tensor(2, 3, 5, 7)
    np.testing.assert_allclose(ops.adaptive_avg_pool2d(x, 1).asnumpy()[..., 0, 0], x.asnumpy().mean(axis=(2, 3)),
                               rtol=1e-5)
    assert ops.adaptive_avg_pool2d(x, (None, 2)).shape == (2, 3, 5, 2)


# -- normalization --------------------------------------------------------------------------------
def test_batch_norm_training_updates_running_stats_in_place() -> None:
    x = tensor(4, 3, 2, 2)
    mean = ms.Parameter(ms.Tensor(np.zeros(3, np.float32)), name="mean")
    var = ms.Parameter(ms.Tensor(np.ones(3, np.float32)), name="var")
    old_mean_array = mean.asnumpy()
    out = ops.batch_norm(x, mean, var, tensor(3), tensor(3), training=True, momentum=0.2)
    data = x.asnumpy()
    batch_mean, batch_var = data.mean(axis=(0, 2, 3)), data.var(axis=(0, 2, 3))
    np.testing.assert_allclose(mean.asnumpy(), 0.2 * batch_mean, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(var.asnumpy(), 0.8 + 0.2 * batch_var, rtol=1e-5)  # biased variance (MindSpore CPU)
    np.testing.assert_array_equal(old_mean_array, 0.0)  # value semantics: the old array is untouched
    assert isinstance(mean, ms.Parameter) and mean.name == "mean" and out.shape == x.shape


def test_batch_norm_inference_uses_and_keeps_running_stats() -> None:
    x = tensor(4, 3)
    mean, var = ms.Tensor(np.array([1.0, 2.0, 3.0], np.float32)), ms.Tensor(np.array([4.0, 1.0, 0.25], np.float32))
    out = ops.batch_norm(x, mean, var, ms.Tensor(np.ones(3, np.float32)), ms.Tensor(np.zeros(3, np.float32)),
                         eps=0.0 + 1e-12)
    np.testing.assert_allclose(out.asnumpy(), (x.asnumpy() - [1, 2, 3]) / np.sqrt([4, 1, 0.25]), rtol=1e-5)
    np.testing.assert_array_equal(mean.asnumpy(), [1, 2, 3])


def test_batch_norm_mixed_precision_and_bias_only() -> None:
    x = tensor(4, 3, 2, dtype=np.float16)
    mean, var = ms.Tensor(np.zeros(3, np.float32)), ms.Tensor(np.ones(3, np.float32))
    out = ops.batch_norm(x, mean, var, None, ms.Tensor(np.full(3, 2.0, np.float32)), training=True)
    assert out.dtype == ms.float16 and mean.dtype == ms.float32
    np.testing.assert_allclose(out.asnumpy().astype(np.float32).mean(axis=(0, 2)), 2.0, atol=1e-2)


def test_batch_norm_bad_input_leaves_running_stats_alone() -> None:
    mean, var = ms.Tensor(np.zeros(3, np.float32)), ms.Tensor(np.ones(3, np.float32))
    with pytest.raises(OpError, match=r"batch_norm: running_var must have shape \[4\]"):
        ops.batch_norm(tensor(2, 4), ms.Tensor(np.zeros(4, np.float32)), var, training=True)
    with pytest.raises(OpError, match="momentum must be <= 1.0"):
        ops.batch_norm(tensor(2, 3), mean, var, training=True, momentum=1.5)
    with pytest.raises(OpError, match="training must be a bool"):
        ops.batch_norm(tensor(2, 3), mean, var, training="yes")
    np.testing.assert_array_equal(mean.asnumpy(), 0.0)
    np.testing.assert_array_equal(var.asnumpy(), 1.0)


def test_layer_norm_and_group_norm() -> None:
    x = tensor(2, 4, 3)
    out = ops.layer_norm(x, (4, 3), bias=ms.Tensor(np.full((4, 3), 1.5, np.float32))).asnumpy()
    np.testing.assert_allclose(out.reshape(2, -1).mean(axis=1), 1.5, atol=1e-5)
    np.testing.assert_allclose(out.reshape(2, -1).std(axis=1), 1.0, atol=1e-3)
    grouped = ops.group_norm(x, 2).asnumpy().reshape(2, 2, -1)
    np.testing.assert_allclose(grouped.mean(axis=-1), 0.0, atol=1e-5)
    with pytest.raises(OpError, match=r"normalized_shape \[3, 4\] must match the last dims"):
        ops.layer_norm(x, [3, 4])
    with pytest.raises(OpError, match=r"group_norm: the channel dim \(4\) must be divisible by num_groups \(3\)"):
        ops.group_norm(x, 3)


# -- dropout --------------------------------------------------------------------------------------
def test_dropout_masks_scale_and_reproducibility() -> None:
    x = ms.Tensor(np.ones((200, 50), np.float32))
    first = ops.dropout(x, p=0.3, seed=7).asnumpy()
    np.testing.assert_array_equal(first, ops.dropout(x, p=0.3, seed=7).asnumpy())
    assert set(np.unique(first).tolist()) <= {0.0, np.float32(1 / 0.7)}
    assert 0.27 < (first == 0).mean() < 0.33
    a, b = ops.dropout(x, p=0.3).asnumpy(), ops.dropout(x, p=0.3).asnumpy()
    assert not np.array_equal(a, b)  # the global stream advances


def test_dropout_follows_the_global_seed() -> None:
    from mycelia import _random_state

    x = ms.Tensor(np.ones((10, 10), np.float32))
    _random_state.set_seed(123)
    first = ops.dropout(x, 0.5).asnumpy()
    _random_state.set_seed(123)
    np.testing.assert_array_equal(ops.dropout(x, 0.5).asnumpy(), first)
    assert not np.array_equal(ops.dropout(x, 0.5).asnumpy(), first)


def test_dropout_inference_and_edge_probabilities() -> None:
    x = tensor(3, 4)
    assert ops.dropout(x, 0.5, training=False) is x
    np.testing.assert_array_equal(ops.dropout(x, 1.0).asnumpy(), 0.0)
    np.testing.assert_array_equal(ops.dropout(x, 0.0).asnumpy(), x.asnumpy())
    with pytest.raises(OpError, match=r"dropout: p must be <= 1.0, got 1.5"):
        ops.dropout(x, 1.5)
    with pytest.raises(OpError, match="dtype Int64 is not supported"):
        ops.dropout(ms.Tensor(np.ones(3, np.int64)), 0.5)


# -- embedding ------------------------------------------------------------------------------------
def test_embedding_lookup_and_max_norm_renormalizes_weight_in_place() -> None:
    weight = ms.Parameter(ms.Tensor(np.array([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]], np.float32)), name="table")
    indices = ms.Tensor(np.array([[0, 1], [1, 0]]))
    np.testing.assert_array_equal(ops.embedding(indices, weight).asnumpy()[1, 0], np.float32([0.3, 0.4]))
    out = ops.embedding(indices, weight, max_norm=1.0)
    np.testing.assert_allclose(out.asnumpy()[0, 0], [0.6, 0.8], rtol=1e-5)
    np.testing.assert_allclose(weight.asnumpy(), [[0.6, 0.8], [0.3, 0.4], [6.0, 8.0]], rtol=1e-5)  # row 2 unused


def test_embedding_errors() -> None:
    weight = tensor(4, 2)
    with pytest.raises(OpError, match=r"embedding on backend 'cpu': ValueError from the kernel: index 4 is out of "
                                      r"range \[0, 4\)"):
        ops.embedding(ms.Tensor(np.array([1, 4])), weight)
    with pytest.raises(OpError, match="input must hold integer indices"):
        ops.embedding(tensor(3), weight)
    with pytest.raises(OpError, match=r"padding_idx must be an int in \[-4, 4\)"):
        ops.embedding(ms.Tensor(np.array([1])), weight, padding_idx=4)


# -- interpolate ----------------------------------------------------------------------------------
def test_interpolate_nearest_and_bilinear() -> None:
    x = tensor(1, 2, 3, 4)
    up = ops.interpolate(x, scale_factor=2.0).asnumpy()
    np.testing.assert_array_equal(up, x.asnumpy().repeat(2, axis=2).repeat(2, axis=3))
    corners = ops.interpolate(x, size=(5, 7), mode="bilinear", align_corners=True).asnumpy()
    np.testing.assert_allclose(corners[..., ::2, ::2], x.asnumpy(), rtol=1e-6)
    same = ops.interpolate(x, size=(3, 4), mode="bilinear").asnumpy()
    np.testing.assert_allclose(same, x.asnumpy(), rtol=1e-6)


def test_interpolate_errors() -> None:
    x = tensor(1, 2, 3, 4)
    with pytest.raises(OpError, match="give exactly one of size and scale_factor"):
        ops.interpolate(x, size=4, scale_factor=2.0)
    with pytest.raises(OpError, match="align_corners can only be set"):
        ops.interpolate(x, size=4, align_corners=False)
    with pytest.raises(OpError, match=r"mode 'linear' needs a 3-D input, got shape \[1, 2, 3, 4\]"):
        ops.interpolate(x, size=4, mode="linear")
    with pytest.raises(OpError, match="mode must be one of"):
        ops.interpolate(x, size=4, mode="bicubic")
