"""Eager dispatch: hot paths (C++ and Python) agree with the general path, caches key correctly."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import mycelia as ms
from mycelia._errors import OpError
from mycelia.ops import _dispatch


def test_native_hot_path_is_loaded_when_built() -> None:
    from mycelia import _native  # noqa: F401  (built by the test session's conftest)

    assert _dispatch._native_binary is not None and _dispatch._native_unary is not None


@pytest.mark.parametrize("pure_python", ["0", "1"])
def test_hot_paths_match_numpy_in_both_modes(pure_python: str) -> None:
    code = """
import numpy as np, mycelia as ms
a = np.arange(6, dtype=np.float32).reshape(2, 3) - 2
x, y = ms.Tensor(a), ms.Tensor(a * 3)
checks = [
    ((x + y).asnumpy(), a + a * 3), ((x * 0.5).asnumpy(), a * 0.5), ((2 - x).asnumpy(), 2 - a),
    (ms.ops.exp(x).asnumpy(), np.exp(a)), ((-x).asnumpy(), -a),
]
assert all(np.allclose(g, w) and g.dtype == np.float32 for g, w in checks)
scalar = ms.ops.exp(ms.Tensor(np.float32(1)))
assert type(scalar.asnumpy()) is np.ndarray and scalar.shape == ()
print("ok")
"""
    env = {"MYCELIA_PURE_PYTHON_DISPATCH": pure_python, "PATH": ""}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "ok", out.stderr


def test_operators_return_not_implemented_for_foreign_types() -> None:
    t = ms.Tensor([1.0, 2.0])
    assert (t == None) is False and (t != None) is True  # noqa: E711
    with pytest.raises(TypeError, match="unsupported operand"):
        t + "a"  # type: ignore[operator]
    with pytest.raises(OpError, match="input 1 must be a Tensor or a Python scalar, got str"):
        ms.ops.add(t, "a")


def test_scalar_operands_keep_the_tensor_dtype_or_promote() -> None:
    f16 = ms.Tensor(np.ones(2, np.float16))
    assert (f16 * 3).dtype is ms.float16 and (3.5 * f16).dtype is ms.float16
    i8 = ms.Tensor(np.array([1, 2], np.int8))
    assert (i8 + 1).dtype is ms.int8 and (i8 + 1.5).dtype is ms.float32
    with pytest.raises(OpError, match="300.*does not fit in UInt8"):
        ms.Tensor(np.array([1], np.uint8)) + 300


def test_attribute_cache_distinguishes_types() -> None:
    x = ms.Tensor(np.ones((2, 3), np.float32))
    ms.ops.softmax(x, axis=1)
    assert _dispatch._attribute_key({"axis": 1}) != _dispatch._attribute_key({"axis": 1.0})
    with pytest.raises((OpError, TypeError)):
        ms.ops.softmax(x, axis=1.0)  # type: ignore[arg-type]


def test_plan_cache_respects_promotion() -> None:
    a = ms.Tensor(np.ones((2, 2), np.float32))
    b = ms.Tensor(np.ones((2, 2), np.float64))
    assert ms.ops.matmul(a, a).dtype is ms.float32
    assert ms.ops.matmul(a, b).dtype is ms.float64
    assert ms.ops.matmul(a, b).dtype is ms.float64  # second call: cached path, same answer


def test_broadcasting_takes_the_hot_path_and_bad_shapes_still_raise_the_full_error() -> None:
    x = ms.Tensor(np.ones((4, 3), np.float32))
    bias = ms.Tensor(np.arange(3, dtype=np.float32))
    x + x  # builds the hot-path entry
    assert (x + bias).tolist() == [[1.0, 2.0, 3.0]] * 4
    with pytest.raises(OpError, match=r"add: shapes \[4, 3\] and \[2\] cannot be broadcast"):
        x + ms.Tensor(np.ones(2, np.float32))


@pytest.mark.parametrize("pure_python", ["0", "1"])
def test_cached_scalar_constants_keep_signed_zeros_and_nan(pure_python: str) -> None:
    code = """
import numpy as np, mycelia as ms
x = ms.Tensor(np.array([1.0, -2.0], np.float32))
for _ in range(3):  # the second and third calls use cached constants
    assert np.signbit((x * -0.0).asnumpy()).tolist() == [True, False]
    assert np.signbit((x * 0.0).asnumpy()).tolist() == [False, True]
    assert np.isnan((x + float("nan")).asnumpy()).all()
    assert (x * 0.5).tolist() == [0.5, -1.0] and (3 - x).tolist() == [2.0, 5.0]
for value in range(200):  # more constants than the cache keeps
    assert (x + value).tolist() == [1.0 + value, -2.0 + value]
print("ok")
"""
    env = {"MYCELIA_PURE_PYTHON_DISPATCH": pure_python, "PATH": ""}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "ok", out.stderr
