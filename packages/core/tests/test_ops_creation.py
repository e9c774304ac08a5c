"""Creation ops: MindSpore 2.x default dtypes, size arguments, errors, and where the result lives."""

from __future__ import annotations

import numpy as np
import pytest

import mycelia as ms
from mycelia import ops

HERE = __file__


def test_default_dtypes_follow_mindspore() -> None:
    assert ops.zeros((2, 3)).dtype is ms.float32 and ops.ones(4).dtype is ms.float32
    assert ops.full((2,), 3).dtype is ms.int64
    assert ops.full((2,), 3.5).dtype is ms.float32
    assert ops.full((2,), True).dtype is ms.bool_
    assert ops.full((2,), ms.Tensor(1, ms.int8)).dtype is ms.int8
    assert ops.arange(5).dtype is ms.int64 and ops.arange(0, 3, 1.2).dtype is ms.float32
    assert ops.eye(3).dtype is ms.float32
    assert ops.linspace(1, 10, 5).dtype is ms.float32
    assert ops.linspace(ms.Tensor(0.0, ms.float64), 1, 3).dtype is ms.float64


def test_sizes_as_int_list_tuple_or_tensor() -> None:
    assert ops.zeros(3).shape == (3,)
    assert ops.zeros([2, 3]).shape == (2, 3)
    assert ops.ones(ms.Tensor([2, 2])).shape == (2, 2)
    assert ops.zeros(()).shape == ()
    assert ops.full((0, 2), 1.0).shape == (0, 2)
    assert ops.zeros((2,), ms.int8).tolist() == [0, 0]
    with pytest.raises(ValueError, match=r"zeros: size \[2, -1\] has a negative dim"):
        ops.zeros((2, -1))
    with pytest.raises(TypeError, match="zeros: dtype must be a mycelia dtype"):
        ops.zeros((2,), "float32")


def test_values() -> None:
    np.testing.assert_array_equal(ops.full((2, 2), 7, dtype=ms.float16).asnumpy(), np.full((2, 2), 7, np.float16))
    assert ops.arange(1, 6).tolist() == [1, 2, 3, 4, 5]
    assert ops.arange(7, 1, -2).tolist() == [7, 5, 3]
    np.testing.assert_allclose(ops.arange(0, 3, 1.2).asnumpy(), [0.0, 1.2, 2.4], rtol=1e-6)
    assert ops.arange(3, 3).shape == (0,)
    assert ops.arange(0, 4, dtype=ms.float64).dtype is ms.float64
    np.testing.assert_allclose(ops.linspace(1, 10, 5).asnumpy(), [1.0, 3.25, 5.5, 7.75, 10.0])
    assert ops.linspace(2.0, 3.0, 1).tolist() == [2.0]
    np.testing.assert_array_equal(ops.eye(2, 3, ms.int32).asnumpy(), np.eye(2, 3, dtype=np.int32))


def test_like_ops_keep_shape_and_dtype_unless_given() -> None:
    x = ms.Tensor(np.ones((2, 3), np.int16))
    assert ops.zeros_like(x).dtype is ms.int16 and ops.zeros_like(x).shape == (2, 3)
    assert ops.ones_like(x, dtype=ms.float32).dtype is ms.float32
    filled = ops.full_like(x, 2.7)
    assert filled.dtype is ms.int16 and filled.tolist() == [[2, 2, 2], [2, 2, 2]]
    assert ops.full_like(x, 1.5, dtype=ms.float64).tolist()[0] == [1.5, 1.5, 1.5]


def test_errors_name_the_op_and_line() -> None:
    with pytest.raises(ValueError) as info:
        ops.arange(0, 5, 0)
    assert str(info.value).startswith("arange: step must not be 0") and HERE in str(info.value)
    with pytest.raises(ValueError, match="arange: step 1 goes away from end"):
        ops.arange(5, 0)
    with pytest.raises(ValueError, match="linspace: steps must be positive"):
        ops.linspace(0, 1, 0)
    with pytest.raises(ValueError, match="eye: n and m must be >= 0"):
        ops.eye(-1)
    with pytest.raises(ValueError, match="arange: dtype Bool is not supported"):
        ops.arange(3, dtype=ms.bool_)


def test_creation_uses_the_current_backend() -> None:
    ms.set_context(device_target="CPU")
    assert ops.zeros((1,)).device == "cpu:0"
    assert ops.zeros_like(ms.Tensor([1.0])).device == "cpu:0"
