"""Elementwise math: MindSpore semantics the generated conformance suite does not pin down."""

from __future__ import annotations

import math
import warnings

import ml_dtypes
import numpy as np
import pytest

import mycelia as ms
from mycelia._errors import OpError

ops = ms.ops


def tensor(values: object, dtype: object = np.float32) -> ms.Tensor:
    return ms.Tensor(np.asarray(values, dtype=dtype))


def test_float_math_on_integers_runs_in_float32_not_float16() -> None:
    result = ops.exp(tensor([5, 3], np.int8))
    assert result.dtype == ms.float32
    np.testing.assert_allclose(result.asnumpy(), np.exp([5.0, 3.0]), rtol=1e-6)
    assert ops.sqrt(tensor([2], np.uint8)).asnumpy()[0] == np.float32(math.sqrt(2))


def test_true_division_of_integers_gives_float32() -> None:
    quotient = tensor([7, -7], np.int32) / tensor([2, 2], np.int32)
    assert quotient.dtype == ms.float32
    assert quotient.tolist() == [3.5, -3.5]
    assert (2 / tensor([4], np.int64)).tolist() == [0.5]


@pytest.mark.parametrize(("mode", "expected"), [("trunc", [3, -3, -3, 3]), ("floor", [3, -4, -4, 3])])
def test_div_rounding_modes_keep_the_dtype(mode: str, expected: list[int]) -> None:
    a = tensor([7, -7, 7, -7], np.int32)
    b = tensor([2, 2, -2, -2], np.int32)
    result = ops.div(a, b, rounding_mode=mode)
    assert result.dtype == ms.int32 and result.tolist() == expected
    floats = ops.div(tensor([7, -7, 7, -7]), tensor([2, 2, -2, -2]), rounding_mode=mode)
    assert floats.dtype == ms.float32 and floats.tolist() == expected


def test_div_rejects_an_unknown_rounding_mode() -> None:
    with pytest.raises(OpError, match=r"div: rounding_mode must be None, 'trunc' or 'floor', got 'round'"):
        ops.div(tensor([1.0]), tensor([2.0]), rounding_mode="round")


def test_floor_divide_remainder_and_fmod_signs() -> None:
    a = tensor([7.0, -7.0, 7.0, -7.0])
    b = tensor([2.0, 2.0, -2.0, -2.0])
    assert (a // b).tolist() == [3.0, -4.0, -4.0, 3.0]
    assert (a % b).tolist() == [1.0, 1.0, -1.0, -1.0]  # sign of the divisor, like Python
    assert ops.fmod(a, b).tolist() == [1.0, -1.0, 1.0, -1.0]  # sign of the dividend
    ints = tensor([7, -7], np.int64)
    assert (ints // 2).tolist() == [3, -4] and (ints % 3).tolist() == [1, 2]
    assert (-7 % tensor([3], np.int64)).tolist() == [2]


def test_pow_operators_and_mindspore_keyword() -> None:
    x = tensor([1.0, 2.0, 3.0])
    assert (x ** 2).tolist() == [1.0, 4.0, 9.0]
    assert (2 ** x).tolist() == [2.0, 4.0, 8.0]
    assert ops.pow(x, exponent=0.5).dtype == ms.float32
    assert ops.pow(tensor([2, 3], np.int32), 3).tolist() == [8, 27]


def test_integer_pow_with_negative_exponent_names_the_op() -> None:
    base = tensor([2, 3], np.int32)
    with pytest.raises(OpError, match="pow.*non-negative exponents"):
        ops.pow(base, tensor([-1, 1], np.int32))  # the fast path (same dtype and shape)
    with pytest.raises(OpError, match="pow"):
        base ** -1


def test_erf_and_erfc_accuracy() -> None:
    grid = np.linspace(-6.0, 6.0, 4001)
    for dtype, tolerance in ((np.float32, 1e-6), (np.float64, 1e-13)):
        x = grid.astype(dtype)
        expected_erf = np.array([math.erf(float(v)) for v in x])
        expected_erfc = np.array([math.erfc(float(v)) for v in x])
        got_erf = ops.erf(ms.Tensor(x)).asnumpy().astype(np.float64)
        got_erfc = ops.erfc(ms.Tensor(x)).asnumpy().astype(np.float64)
        nonzero = expected_erf != 0
        assert np.max(np.abs(got_erf[nonzero] / expected_erf[nonzero] - 1)) < tolerance
        # erfc keeps relative accuracy deep in the tail, where 1 - erf(x) would be 0
        assert np.max(np.abs(got_erfc / expected_erfc - 1)) < 2 * tolerance
    specials = ms.Tensor(np.array([np.inf, -np.inf, np.nan, 0.0], np.float32))
    assert ops.erf(specials).asnumpy()[:2].tolist() == [1.0, -1.0]
    assert ops.erfc(specials).asnumpy()[:2].tolist() == [0.0, 2.0]
    assert np.isnan(ops.erf(specials).asnumpy()[2]) and np.isnan(ops.erfc(specials).asnumpy()[2])


def test_round_halves_to_even_and_decimals() -> None:
    x = tensor([0.5, 1.5, 2.5, -0.5, -2.5, 0.8])
    assert ops.round(x).tolist() == [0.0, 2.0, 2.0, -0.0, -2.0, 1.0]
    np.testing.assert_allclose(ops.round(tensor([0.81, 1.52, -4.57]), decimals=1).asnumpy(), [0.8, 1.5, -4.6],
                               rtol=1e-6)
    assert ops.round(tensor([15, 24], np.int32), decimals=-1).tolist() == [20, 20]
    with pytest.raises(OpError, match="round: decimals must be an int"):
        ops.round(x, decimals=1.5)  # type: ignore[arg-type]


def test_clamp_and_clip() -> None:
    x = tensor([-2.0, 0.5, 3.0])
    assert ops.clamp(x, min=0.0).tolist() == [0.0, 0.5, 3.0]
    assert ops.clip(x, max=1).tolist() == [-2.0, 0.5, 1.0]
    assert ops.clamp(x, 1.0, 0.0).tolist() == [0.0, 0.0, 0.0]  # min > max gives max
    bounds = ops.clamp(tensor([[5.0], [-5.0]]), tensor([-1.0, -2.0]), tensor([1.0, 2.0]))
    assert bounds.shape == (2, 2) and bounds.tolist() == [[1.0, 2.0], [-1.0, -2.0]]
    ints = ops.clamp(tensor([-300, 7, 300], np.int16), min=-10)
    assert ints.dtype == ms.int16 and ints.tolist() == [-10, 7, 300]
    assert x.clamp(0, 1).tolist() == [0.0, 0.5, 1.0] and x.clip(0, 1).tolist() == [0.0, 0.5, 1.0]
    with pytest.raises(OpError, match="clamp: min and max cannot both be None"):
        ops.clamp(x)


def test_lerp_and_addcmul() -> None:
    start, end = tensor([0.0, 10.0]), tensor([10.0, 20.0])
    assert ops.lerp(start, end, 0.25).tolist() == [2.5, 12.5]
    assert ops.lerp(start, end, tensor([0.0, 1.0])).tolist() == [0.0, 20.0]
    assert ops.addcmul(tensor([1.0, 1.0]), tensor([2.0, 3.0]), tensor([4.0]), value=0.5).tolist() == [5.0, 7.0]
    assert ops.addcmul(tensor([1], np.int32), tensor([2], np.int32), tensor([3], np.int32)).tolist() == [7]


def test_nan_to_num_defaults_use_the_dtype_limits() -> None:
    for dtype, info in ((np.float32, np.finfo(np.float32)), (np.float16, np.finfo(np.float16)),
                        (ml_dtypes.bfloat16, ml_dtypes.finfo(ml_dtypes.bfloat16))):
        values = ops.nan_to_num(tensor([np.nan, np.inf, -np.inf, 1.5], dtype)).asnumpy().astype(np.float64)
        assert values.tolist() == [0.0, float(info.max), float(info.min), 1.5]
    custom = ops.nan_to_num(tensor([np.nan, np.inf, -np.inf]), 1.0, 2.0, 3.0)
    assert custom.tolist() == [1.0, 2.0, 3.0]
    assert ops.nan_to_num(tensor([1, 2], np.int32)).tolist() == [1, 2]


def test_classification_ops() -> None:
    x = tensor([np.nan, np.inf, -np.inf, 0.0])
    assert ops.isnan(x).tolist() == [True, False, False, False]
    assert ops.isinf(x).tolist() == [False, True, True, False]
    assert ops.isfinite(x).tolist() == [False, False, False, True]
    assert ops.isfinite(tensor([1, 2], np.int8)).tolist() == [True, True]
    assert ops.isnan(x).dtype == ms.bool_


def test_integral_ops_on_integers_return_a_new_buffer() -> None:
    x = tensor([1, -2, 3], np.int64)
    for function in (ops.floor, ops.ceil, ops.trunc, ops.round):
        result = function(x)
        assert result.dtype == ms.int64 and result.tolist() == [1, -2, 3]
        assert not np.shares_memory(result.asnumpy(), x.asnumpy())


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning", "ignore:divide by zero:RuntimeWarning")
def test_composite_kernels_never_write_their_inputs() -> None:
    source = np.array([[-1.5, 0.0, 2.0], [np.nan, np.inf, -np.inf]], np.float32)
    x = ms.Tensor(source)
    ops.clamp(x, 0.0, 1.0), ops.lerp(x, x, 0.5), ops.addcmul(x, x, x), ops.nan_to_num(x), ops.rsqrt(x)
    ops.erf(x), ops.erfc(x), ops.div(x, 3.0, rounding_mode="floor"), ops.round(x, decimals=1)
    np.testing.assert_array_equal(x.asnumpy(), source)


def test_zero_dim_and_empty_inputs() -> None:
    scalar = ms.Tensor(np.array(0.5, np.float32))
    for function in (ops.erf, ops.erfc, ops.rsqrt, ops.sqrt, ops.reciprocal, ops.nan_to_num):
        assert function(scalar).shape == ()
    empty = ms.Tensor(np.zeros((0, 3), np.float16))
    assert ops.erf(empty).shape == (0, 3) and ops.lerp(empty, empty, 0.5).shape == (0, 3)


def test_half_precision_math_runs_in_float32() -> None:
    x = np.array([0.1, 1.0, 2.5], np.float16)
    got = ops.log1p(ms.Tensor(x))
    assert got.dtype == ms.float16
    np.testing.assert_array_equal(got.asnumpy(), np.log1p(x.astype(np.float32)).astype(np.float16))


def test_numpy_style_aliases_and_methods() -> None:
    assert ops.arcsin is ops.asin and ops.divide is ops.div and ops.negative is ops.neg
    assert ops.true_divide(tensor([1], np.int32), tensor([4], np.int32)).tolist() == [0.25]
    x = tensor([4.0, 9.0])
    assert x.sqrt().tolist() == [2.0, 3.0] and x.rsqrt().tolist() == pytest.approx([0.5, 1 / 3])
    assert x.div(2, rounding_mode="floor").tolist() == [2.0, 4.0]


def test_maximum_propagates_nan_quietly_for_bfloat16() -> None:
    x = ms.Tensor(np.array([np.nan, 1.0], ml_dtypes.bfloat16))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = ops.maximum(x, ms.Tensor(np.array([0.0, 2.0], ml_dtypes.bfloat16)))
    values = result.asnumpy().astype(np.float32)
    assert np.isnan(values[0]) and values[1] == 2.0


def test_float_decimals_is_refused_even_after_the_int_was_used() -> None:
    x = tensor([1.25])
    ops.round(x, decimals=1)
    with pytest.raises(OpError, match="round: decimals must be an int, got float 1.0"):
        ops.round(x, decimals=1.0)  # type: ignore[arg-type]
