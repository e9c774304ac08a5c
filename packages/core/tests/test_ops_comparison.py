"""Comparison, logical and bitwise ops, isclose and where: MindSpore semantics and errors."""

from __future__ import annotations

import numpy as np
import pytest

import mycelia as ms
from mycelia._errors import OpError

ops = ms.ops


def tensor(values: object, dtype: object = np.float32) -> ms.Tensor:
    return ms.Tensor(np.asarray(values, dtype=dtype))


def test_python_comparison_operators_return_bool_tensors() -> None:
    x = tensor([1.0, 2.0, np.nan])
    assert (x == 2).tolist() == [False, True, False]
    assert (x != x).tolist() == [False, False, True]  # NaN equals nothing
    assert (x < 2).tolist() == [True, False, False] and (x <= 2).tolist() == [True, True, False]
    assert (x > 1).tolist() == [False, True, False] and (x >= 1).tolist() == [True, True, False]
    assert (x == 2).dtype == ms.bool_
    assert (tensor([1, 2], np.int32) == 1.5).tolist() == [False, False]  # promoted to float, not truncated


def test_tensors_stay_hashable_by_identity() -> None:
    a, b = tensor([1.0]), tensor([1.0])
    assert len({a, b}) == 2 and {a: 1}[a] == 1


def test_short_spellings() -> None:
    x, y = tensor([1, 2, 3], np.int32), tensor([2, 2, 2], np.int32)
    assert ops.gt(x, y).tolist() == [False, False, True] and ops.le(x, y).tolist() == [True, True, False]
    assert ops.ne is ops.not_equal and ops.invert is ops.bitwise_not


def test_logical_ops_use_truth_values_of_any_dtype() -> None:
    x = tensor([0.0, 2.5, -1.0, 0.0])
    y = tensor([1, 0, 3, 0], np.int32)
    assert ops.logical_and(x, y).tolist() == [False, False, True, False]
    assert ops.logical_or(x, y).tolist() == [True, True, True, False]
    assert ops.logical_xor(x, y).tolist() == [True, True, False, False]
    assert ops.logical_not(x).tolist() == [True, False, False, True]
    assert x.logical_not().dtype == ms.bool_


def test_bitwise_ops_and_operators() -> None:
    a, b = tensor([12, -1], np.int32), tensor([10, 5], np.int32)
    assert (a & b).tolist() == [8, 5] and (a | b).tolist() == [14, -1] and (a ^ b).tolist() == [6, -6]
    assert (~a).tolist() == [-13, 0]
    flags = tensor([True, False], np.bool_)
    assert (~flags).tolist() == [False, True] and (flags & True).dtype == ms.bool_
    assert (a & 3).tolist() == [0, 3]


def test_bitwise_ops_refuse_floats_and_list_what_they_accept() -> None:
    with pytest.raises(OpError, match=r"bitwise_and.*Float32 is not supported.*accepted: Bool, UInt8"):
        ops.bitwise_and(tensor([1.0]), tensor([2.0]))


def test_isclose() -> None:
    a = tensor([1.0, 1.0, np.inf, np.inf, np.nan, 0.0])
    b = tensor([1.0 + 1e-6, 1.1, np.inf, -np.inf, np.nan, 1e-9])
    assert ops.isclose(a, b).tolist() == [True, False, True, False, False, True]
    assert ops.isclose(a, b, equal_nan=True).tolist()[4] is True
    assert ops.isclose(a, b, rtol=0.2).tolist()[1] is True
    assert a.isclose(b).dtype == ms.bool_
    with pytest.raises(OpError, match="isclose: rtol and atol must be non-negative"):
        ops.isclose(a, b, atol=-1.0)


def test_where_broadcasts_and_takes_python_scalars() -> None:
    condition = tensor([[True], [False]], np.bool_)
    x = tensor([1.0, 2.0, 3.0])
    assert ops.where(condition, x, 0.0).tolist() == [[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]
    assert ops.where(condition, -1, x).tolist() == [[-1.0, -1.0, -1.0], [1.0, 2.0, 3.0]]
    both = ops.where(condition, 1, 0)
    assert both.dtype == ms.int64 and both.tolist() == [[1], [0]]
    assert ops.where(condition, 1.5, 0).dtype == ms.float32
    assert ops.where(condition, tensor([1], np.int8), tensor([2], np.int16)).dtype == ms.int16


def test_where_needs_a_bool_condition() -> None:
    with pytest.raises(OpError, match="where: condition must be a Bool tensor, got Int32"):
        ops.where(tensor([1, 0], np.int32), tensor([1.0, 2.0]), tensor([3.0, 4.0]))
