"""The ``gpu`` backend object core talks to.

Eager kernels and fused-kernel codegen come in later issues; until then :meth:`GpuBackend.kernel`
answers None for every op and ``capabilities().ops`` is empty, so nothing pretends to compute.
"""

from __future__ import annotations

import importlib
import threading
from types import ModuleType
from typing import Any

import numpy as np

from mycelia.backends import Availability, Backend, BackendUnavailableError, Capabilities, Kernel
from mycelia_backend_gpu import _probe

__all__ = ["GpuBackend"]


class GpuBackend(Backend):
    """NVIDIA GPUs through the CUDA driver and CuPy."""

    name = "gpu"
    # Above cpu and ascend: a usable GPU is the fastest thing a machine is likely to have.
    priority = 200

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._probe_result: _probe.CudaProbe | None = None
        self._cupy: ModuleType | None = None

    def _probed(self) -> _probe.CudaProbe:
        # Probed once per backend object (the registry keeps one): cuInit is not free, and the
        # answer cannot change within a process.
        with self._lock:
            if self._probe_result is None:
                self._probe_result = _probe.probe_cuda()
            return self._probe_result

    def is_available(self) -> Availability:
        probe = self._probed()
        return Availability(probe.available, probe.reason)

    def capabilities(self) -> Capabilities:
        probe = self._probed()
        # dtypes and ops stay empty until kernels exist: they list what this backend computes,
        # and today it computes nothing.
        return Capabilities(dtypes=frozenset(), ops=frozenset(),
                            device_count=probe.device_count if probe.available else 0,
                            compiles_graphs=False)

    def kernel(self, op_name: str) -> Kernel | None:
        return None

    def _cupy_module(self) -> ModuleType:
        """CuPy, imported on first transfer only, or the reason this backend cannot run."""
        probe = self._probed()
        if not probe.available:
            raise BackendUnavailableError(f"backend 'gpu' is unavailable here: {probe.reason}")
        with self._lock:
            if self._cupy is None:
                try:
                    self._cupy = importlib.import_module("cupy")
                except Exception as error:  # a broken CuPy raises more than ImportError
                    raise BackendUnavailableError(
                        f"backend 'gpu': CuPy is installed but failed to import: "
                        f"{type(error).__name__}: {error}") from error
            return self._cupy

    def from_numpy(self, array: np.ndarray) -> Any:
        return self._cupy_module().asarray(array)

    def to_numpy(self, array: Any) -> np.ndarray:
        result: np.ndarray = self._cupy_module().asnumpy(array)
        return result
