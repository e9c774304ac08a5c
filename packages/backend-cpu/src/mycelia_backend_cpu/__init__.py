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


# Ops the fused kernel has but fusion leaves to their eager kernels ("const" is the kernel's own
# instruction; "cast" to an integer dtype truncates differently).
_NOT_FUSED = frozenset({"const"})


class CpuBackend(Backend):
    name = "cpu"
    priority = 100

    def __init__(self) -> None:
        self._capabilities: Capabilities | None = None

    def is_available(self) -> Availability:
        return Availability(True)

    def capabilities(self) -> Capabilities:
        if self._capabilities is None:
            try:
                from mycelia_backend_cpu._fused import SUPPORTED_OPS as fusible
            except ImportError:  # the C++ fused kernel is not built (a source checkout): nothing fuses
                fusible = frozenset()
            self._capabilities = Capabilities(
                dtypes=frozenset(d.numpy.name for d in all_dtypes()), ops=frozenset(KERNELS), device_count=1,
                compiles_graphs=True, fusible_ops=frozenset(fusible) - _NOT_FUSED,
                # max/min only: a fused sum adds in another order than numpy and differs from eager in the
                # last bits (the kernel can do sum/mean; the optimizer is not asked to fuse them).
                fusible_reductions=frozenset({"amax", "amin"}) if fusible else frozenset(),
                fusible_attributes=frozenset({"alpha", "beta", "threshold", "approximate", "dtype"}))
        return self._capabilities

    def compile(self, graph: Any) -> Any:
        """A :class:`~mycelia_backend_cpu._executor.CpuExecutable` for an (optimised) IR graph."""
        from mycelia_backend_cpu._executor import CpuExecutable

        return CpuExecutable(graph, self)

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
