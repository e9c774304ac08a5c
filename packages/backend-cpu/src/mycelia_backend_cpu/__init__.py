"""Mycelia's CPU backend: host numpy arrays, numpy/BLAS kernels and nanobind C++ kernels."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from mycelia.backends import Availability, Backend, Capabilities, Kernel
from mycelia.dtype import DType, all_dtypes
from mycelia_backend_cpu._kernels import KERNELS

__version__ = "0.1.0"
__all__ = ["CpuBackend", "__version__", "create_backend"]


class CpuBackend(Backend):
    name = "cpu"
    priority = 100

    def is_available(self) -> Availability:
        return Availability(True)

    def capabilities(self) -> Capabilities:
        return Capabilities(dtypes=frozenset(d.numpy.name for d in all_dtypes()),
                            ops=frozenset(KERNELS), device_count=1, compiles_graphs=False)

    def kernel(self, op_name: str) -> Kernel | None:
        return KERNELS.get(op_name)

    def from_numpy(self, array: np.ndarray) -> Any:
        return array

    def to_numpy(self, array: Any) -> np.ndarray:
        return array  # type: ignore[no-any-return]

    def from_scalar(self, value: bool | int | float, dtype: DType) -> Any:
        # A numpy scalar: ufuncs take it without allocating a 0-d array.
        return dtype.numpy.type(value)

    def cast(self, array: Any, dtype: DType) -> Any:
        return array.astype(dtype.numpy)

    def conform(self, array: Any, dtype: DType) -> Any:
        if type(array) is np.ndarray and array.dtype == dtype.numpy:
            return array
        return np.asarray(array).astype(dtype.numpy, copy=False)

    @staticmethod
    def thread_count() -> int:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def create_backend() -> CpuBackend:
    """Entry point ``mycelia.backends: cpu``."""
    return CpuBackend()
