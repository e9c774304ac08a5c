"""CPU kernels: comparison, logical and bitwise ops, isclose and where (numpy ufuncs; bfloat16
compares natively through ml_dtypes)."""

from __future__ import annotations

from typing import Any

import ml_dtypes
import numpy as np

from mycelia.backends import Kernel
from mycelia_backend_cpu._kernels.elementwise import quiet_bfloat16

__all__ = ["KERNELS"]

_LOW_PRECISION = {np.dtype(np.float16), np.dtype(ml_dtypes.bfloat16)}


def _isclose(x: Any, y: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Any:
    if x.dtype in _LOW_PRECISION:  # tolerances below half precision's resolution need float32
        x = np.asarray(x, dtype=np.float32)
        y = np.asarray(y, dtype=np.float32)
    return np.isclose(x, y, rtol=rtol, atol=atol, equal_nan=equal_nan)


KERNELS: dict[str, Kernel] = {
    "equal": np.equal,
    "not_equal": np.not_equal,
    "greater": quiet_bfloat16(np.greater),
    "greater_equal": quiet_bfloat16(np.greater_equal),
    "less": quiet_bfloat16(np.less),
    "less_equal": quiet_bfloat16(np.less_equal),
    "logical_and": np.logical_and,
    "logical_or": np.logical_or,
    "logical_xor": np.logical_xor,
    "logical_not": np.logical_not,
    "bitwise_and": np.bitwise_and,
    "bitwise_or": np.bitwise_or,
    "bitwise_xor": np.bitwise_xor,
    "bitwise_not": np.invert,
    "isclose": _isclose,
    "where": np.where,
}
