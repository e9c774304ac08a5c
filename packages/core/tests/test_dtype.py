from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

import mycelia as ms
from mycelia import dtype as dt


def test_names_print_like_mindspore() -> None:
    assert str(ms.float32) == "Float32" and repr(ms.bfloat16) == "BFloat16" and str(ms.bool_) == "Bool"
    assert ms.bfloat16.numpy == np.dtype(ml_dtypes.bfloat16)


def test_from_numpy_round_trips_and_rejects_unsupported() -> None:
    for dtype in dt.all_dtypes():
        assert dt.from_numpy(dtype.numpy) is dtype
    with pytest.raises(TypeError, match="complex128.*not supported"):
        dt.from_numpy(np.complex128)


@pytest.mark.parametrize(("a", "b", "expected"), [
    (dt.int32, dt.float16, dt.float16),
    (dt.uint8, dt.int8, dt.int16),
    (dt.float16, dt.bfloat16, dt.float32),
    (dt.bool_, dt.int8, dt.int8),
    (dt.int64, dt.float32, dt.float32),
    (dt.float64, dt.float32, dt.float64),
])
def test_tensor_tensor_promotion(a: dt.DType, b: dt.DType, expected: dt.DType) -> None:
    assert dt.promote_types(a, b) is expected and dt.promote_types(b, a) is expected


@pytest.mark.parametrize(("tensor", "scalar", "expected"), [
    (dt.int32, 1, dt.int32), (dt.int32, 1.5, dt.float32), (dt.bool_, 1, dt.int64),
    (dt.float16, 2.0, dt.float16), (dt.uint8, True, dt.uint8),
])
def test_tensor_scalar_promotion(tensor: dt.DType, scalar: object, expected: dt.DType) -> None:
    assert dt.result_type_with_scalar(tensor, scalar) is expected


def test_dtypes_pickle_to_the_same_object() -> None:
    import pickle

    assert pickle.loads(pickle.dumps(ms.float16)) is ms.float16
