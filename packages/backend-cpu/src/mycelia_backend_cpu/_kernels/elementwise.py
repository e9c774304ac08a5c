"""CPU kernels: elementwise math (numpy ufuncs; float16/bfloat16 math runs in float32)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mycelia.backends import Kernel

__all__ = ["KERNELS", "via_float32"]

_LOW_PRECISION = {np.dtype(np.float16), np.dtype("bfloat16")}


def via_float32(function: Callable[..., Any]) -> Kernel:
    """Run ``function`` in float32 for float16/bfloat16 inputs (more accurate, and numpy's
    half-precision transcendental loops are slow), returning the input's dtype."""

    def kernel(x: np.ndarray, *rest: Any, **attrs: Any) -> Any:
        if x.dtype in _LOW_PRECISION:
            upcast = [r.astype(np.float32) if isinstance(r, np.ndarray) and r.dtype in _LOW_PRECISION else r
                      for r in rest]
            return function(x.astype(np.float32), *upcast, **attrs).astype(x.dtype)
        return function(x, *rest, **attrs)

    return kernel


KERNELS: dict[str, Kernel] = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "neg": np.negative,
    "abs": np.abs,
    "exp": via_float32(np.exp),
    "sin": via_float32(np.sin),
    "cos": via_float32(np.cos),
    "tanh": via_float32(np.tanh),
}
