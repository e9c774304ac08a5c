"""Errors name the op, what it got, what it accepts and the caller's source line."""

from __future__ import annotations

import numpy as np
import pytest

import mycelia as ms
from mycelia._errors import OpError


def test_broadcast_error_names_op_shapes_and_this_line() -> None:
    x = ms.Tensor(np.ones((2, 3), np.float32))
    y = ms.Tensor(np.ones((4,), np.float32))
    with pytest.raises(OpError) as raised:
        ms.ops.add(x, y)
    message = str(raised.value)
    assert message.startswith("add")
    assert "[2, 3]" in message and "[4]" in message
    assert f"{__file__}:" in message  # the user's line, not a numpy traceback
    assert raised.value.__cause__ is None and raised.value.__context__ is None


def test_unsupported_dtype_lists_what_is_accepted() -> None:
    flags = ms.Tensor(np.array([True, False]))
    with pytest.raises(OpError, match=r"neg.*dtype Bool is not supported.*accepted: Int8"):
        ms.ops.neg(flags)


def test_non_tensor_operand_is_rejected_clearly() -> None:
    with pytest.raises(OpError, match=r"input 1 must be a Tensor or a Python scalar, got str"):
        ms.ops.add(ms.Tensor([1.0]), "one")
    with pytest.raises(OpError, match="needs at least one Tensor"):
        ms.ops.add(1, 2)


def test_failed_op_leaves_inputs_untouched() -> None:
    source = np.arange(6, dtype=np.float32).reshape(2, 3)
    x = ms.Tensor(source)
    before = x.asnumpy().copy()
    with pytest.raises(OpError):
        ms.ops.add(x, ms.Tensor(np.ones((5,), np.float32)))
    np.testing.assert_array_equal(x.asnumpy(), before)
    assert x.dtype is ms.float32 and x.shape == (2, 3)


def test_promotion_matches_documented_rules() -> None:
    i32 = ms.Tensor(np.array([1, 2], np.int32))
    assert (i32 + 1).dtype is ms.int32
    assert (i32 + 1.5).dtype is ms.float32
    assert (i32 + ms.Tensor(np.array([1, 2], np.float16))).dtype is ms.float16
    assert (ms.Tensor(np.array([1], np.uint8)) + ms.Tensor(np.array([1], np.int8))).dtype is ms.int16
    assert (1.5 + i32).tolist() == [2.5, 3.5]
