"""Activations and softmax: MindSpore's defaults and examples, stability, errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import mycelia as ms
from mycelia._errors import OpError

ops = ms.ops


def tensor(values: object, dtype: object = np.float32) -> ms.Tensor:
    return ms.Tensor(np.asarray(values, dtype=dtype))


def close(got: ms.Tensor, expected: object, rtol: float = 1e-6) -> None:
    np.testing.assert_allclose(got.asnumpy().astype(np.float64), np.asarray(expected, np.float64), rtol=rtol, atol=1e-7)


def test_mindspore_documented_examples() -> None:
    x = tensor([1.0, 2.0, 3.0])
    close(ops.gelu(x), [0.8413447, 1.9544997, 2.9959505])
    close(ops.gelu(x, approximate="tanh"), [0.841192, 1.9545976, 2.9963627])
    grid = tensor([[-1.0, 4.0, -8.0], [2.0, -5.0, 9.0]])
    close(ops.leaky_relu(grid), [[-0.2, 4.0, -1.6], [2.0, -1.0, 9.0]])  # MindSpore's default alpha is 0.2
    close(ops.elu(grid), [[-0.63212055, 4.0, -0.99966455], [2.0, -0.99326205, 9.0]])
    close(ops.softplus(tensor([0.1, 0.2, 30, 25])), [0.74439657, 0.7981388, 30.0, 25.0])
    close(ops.softmax(tensor([1, 2, 3, 4, 5])), [0.01165623, 0.03168492, 0.08612854, 0.23412167, 0.6364086])
    close(ops.log_softmax(tensor([1, 2, 3, 4, 5])), [-4.4519143, -3.4519143, -2.4519143, -1.4519144, -0.4519144])


def test_piecewise_activations() -> None:
    x = tensor([-4.0, -1.0, 0.0, 1.0, 4.0, 8.0])
    assert ops.relu6(x).tolist() == [0.0, 0.0, 0.0, 1.0, 4.0, 6.0]
    close(ops.hardsigmoid(x), [0.0, 1 / 3, 0.5, 2 / 3, 1.0, 1.0])
    close(ops.hardswish(x), [0.0, -1 / 3, 0.0, 2 / 3, 4.0, 8.0])
    close(ops.softsign(x), [-0.8, -0.5, 0.0, 0.5, 0.8, 8 / 9])
    close(ops.leaky_relu(x, alpha=1.5), [-6.0, -1.5, 0.0, 1.0, 4.0, 8.0])
    close(ops.selu(tensor([-1.0, 1.0])), [1.0507009873554805 * 1.6732632423543772 * (math.exp(-1) - 1),
                                          1.0507009873554805])


def test_relu_keeps_integers_and_nan() -> None:
    ints = ops.relu(tensor([-3, 0, 5], np.int8))
    assert ints.dtype == ms.int8 and ints.tolist() == [0, 0, 5]
    assert np.isnan(ops.relu(tensor([np.nan])).asnumpy()[0])
    assert tensor([-1.0, 2.0]).relu().tolist() == [0.0, 2.0]


def test_extreme_inputs_stay_finite_and_quiet() -> None:
    x = tensor([-1000.0, -90.0, 0.0, 90.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings from the formulations
        results = {name: getattr(ops, name)(x).asnumpy() for name in
                   ("sigmoid", "silu", "logsigmoid", "softplus", "mish", "elu", "selu", "gelu")}
        logits = ops.softmax(tensor([[1000.0, 0.0, -1000.0]]))
    for name, values in results.items():
        assert np.all(np.isfinite(values)), name
    close(tensor(results["sigmoid"]), [0.0, 0.0, 0.5, 1.0, 1.0])
    close(tensor(results["logsigmoid"]), [-1000.0, -90.0, -math.log(2), 0.0, 0.0])
    close(tensor(results["softplus"]), [0.0, 0.0, math.log(2), 90.0, 1000.0])
    close(tensor(results["mish"]), [0.0, 0.0, 0.0, 90.0, 1000.0])
    assert logits.tolist() == [[1.0, 0.0, 0.0]]


def test_softplus_threshold_switches_to_linear() -> None:
    x = tensor([0.5, 1.5])
    close(ops.softplus(x, beta=1, threshold=1), [math.log1p(math.exp(0.5)), 1.5])
    close(ops.softplus(x, beta=2), [math.log1p(math.exp(1.0)) / 2, math.log1p(math.exp(3.0)) / 2])


def test_softmax_axes_dtype_and_methods() -> None:
    x = tensor(np.arange(24).reshape(2, 3, 4))
    for axis in (0, 1, -1, (0, 2)):
        total = ops.softmax(x, axis).asnumpy().sum(axis=axis)
        np.testing.assert_allclose(total, np.ones_like(total), rtol=1e-6)
    np.testing.assert_allclose(ops.log_softmax(x, 1).asnumpy(), np.log(ops.softmax(x, 1).asnumpy()), atol=1e-6)
    assert ops.softmax(tensor([1.0, 2.0], np.float16), dtype=ms.float32).dtype == ms.float32
    assert ops.softmax(tensor(3.0)).tolist() == 1.0 and ops.log_softmax(tensor(3.0)).tolist() == 0.0
    assert x.softmax(0).shape == (2, 3, 4) and x.log_softmax(1).shape == (2, 3, 4)
    assert ops.softmax(tensor(np.zeros((3, 0)))).shape == (3, 0)


def test_softmax_rejects_bad_axes() -> None:
    x = tensor(np.ones((2, 3)))
    with pytest.raises(OpError, match=r"softmax: axis 2 is out of range for a tensor of rank 2; accepted: -2 to 1"):
        ops.softmax(x, axis=2)
    with pytest.raises(OpError, match="log_softmax: axis must be an int or a tuple of ints"):
        ops.log_softmax(x, axis=1.0)
    with pytest.raises(OpError, match="softmax: dtype must be a floating-point"):
        ops.softmax(x, dtype=ms.int32)


def test_attribute_errors_name_the_op() -> None:
    x = tensor([1.0])
    with pytest.raises(OpError, match="gelu: approximate must be 'none' or 'tanh', got 'erf'"):
        ops.gelu(x, approximate="erf")
    with pytest.raises(OpError, match="leaky_relu: alpha must be an int or a float"):
        ops.leaky_relu(x, alpha="0.1")  # type: ignore[arg-type]
    with pytest.raises(OpError, match="softplus: beta must be non-zero"):
        ops.softplus(x, beta=0)


def test_activations_refuse_integers_and_keep_half_dtypes() -> None:
    with pytest.raises(OpError, match=r"sigmoid.*Int32 is not supported"):
        ops.sigmoid(tensor([1], np.int32))
    half = ops.gelu(tensor([1.0, -1.0], np.float16))
    assert half.dtype == ms.float16
    close(half, [0.8413447, -0.1586553], rtol=2e-3)


def test_activation_kernels_never_write_their_inputs() -> None:
    source = np.array([[-3.0, -0.5, 0.0], [0.5, 3.0, 50.0]], np.float32)
    x = ms.Tensor(source)
    for name in ("relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "mish", "softplus", "softsign",
                 "hardswish", "hardsigmoid", "sigmoid", "logsigmoid", "softmax", "log_softmax"):
        getattr(ops, name)(x)
    ops.softplus(x, beta=2, threshold=1), ops.gelu(x, approximate="tanh"), ops.leaky_relu(x, 2.0)
    np.testing.assert_array_equal(x.asnumpy(), source)


def test_float_axis_is_refused_even_after_the_int_axis_was_used() -> None:
    x = tensor(np.ones((2, 3)))
    ops.log_softmax(x, axis=1)  # fills the infer cache, where axis=1.0 hashes equal to axis=1
    with pytest.raises(OpError, match="log_softmax: axis must be an int or a tuple of ints, got 1.0"):
        ops.log_softmax(x, axis=1.0)
