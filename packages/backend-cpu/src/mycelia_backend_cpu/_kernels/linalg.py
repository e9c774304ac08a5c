"""CPU kernels: linear algebra through numpy's BLAS paths (matmul, tensordot).

Operands arrive promoted to one dtype. float16/bfloat16 products run in float32 (BLAS has no
half-precision path and bfloat16 has no numpy loop) and are rounded once by the dispatcher's
``conform``; other dtypes go to numpy as they are, without copies.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mycelia.backends import Kernel

__all__ = ["KERNELS"]

_LOW = frozenset({np.dtype(np.float16), np.dtype("bfloat16")})
_F32 = np.dtype(np.float32)


def _wide(x: np.ndarray) -> np.ndarray:
    return x.astype(_F32) if x.dtype in _LOW else x


def _matmul(a: np.ndarray, b: np.ndarray) -> Any:
    if a.dtype in _LOW:
        a, b = a.astype(_F32), b.astype(_F32)
    if a.ndim > 2 and b.ndim == 2 and a.flags.c_contiguous:
        # (..., n, k) @ (k, m) as one (N*n, k) @ (k, m) gemm: numpy's batched loop is many times slower.
        return np.matmul(a.reshape(-1, a.shape[-1]), b).reshape(*a.shape[:-1], b.shape[-1])
    return np.matmul(a, b)


def _dot(a: np.ndarray, b: np.ndarray) -> Any:
    """numpy.dot semantics through tensordot, which reshapes to one BLAS gemm for N-D operands."""
    a, b = _wide(a), _wide(b)
    if b.ndim == 1 or (a.ndim == 1 and b.ndim == 2):
        return np.dot(a, b)
    return np.tensordot(a, b, axes=([a.ndim - 1], [b.ndim - 2]))


def _outer(a: np.ndarray, b: np.ndarray) -> Any:
    return np.multiply.outer(a, b)  # one rounding per element; float16 math runs in float32 inside numpy


def _tensor_dot(a: np.ndarray, b: np.ndarray, *, axes: Any) -> Any:
    return np.tensordot(_wide(a), _wide(b), axes=axes)


def _einsum(operands: list[np.ndarray], *, equation: str) -> Any:
    arrays = [_wide(x) for x in operands]
    # The optimizer finds BLAS contractions and good orders; its planning costs more than it saves on tiny inputs.
    optimize = len(arrays) > 2 or (len(arrays) == 2 and arrays[0].size * arrays[1].size > 1 << 16)
    result = np.einsum(equation, *arrays, optimize=optimize)
    if isinstance(result, np.ndarray) and any(np.may_share_memory(result, x) for x in arrays):
        result = result.copy()  # a transpose or diagonal comes back as a view of the input
    return result


KERNELS: dict[str, Kernel] = {
    "matmul": _matmul,
    "bmm": _matmul,
    "dot": _dot,
    "outer": _outer,
    "tensor_dot": _tensor_dot,
    "einsum": _einsum,
}
