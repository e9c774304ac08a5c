"""The ``gpu`` backend object core talks to.

Eager kernels and fused-kernel codegen come in later issues; until then :meth:`GpuBackend.kernel`
answers None for every op and ``capabilities().ops`` is empty, so nothing pretends to compute. For
the same reason the backend reports itself unavailable even when the probe finds a GPU (see
:data:`HAS_KERNELS`): its priority beats cpu's, so automatic selection would otherwise pick a
backend that cannot run a single op.
"""

from __future__ import annotations

import importlib
import threading
from types import ModuleType
from typing import Any

import numpy as np

from mycelia.backends import Availability, Backend, BackendUnavailableError, Capabilities, Kernel
from mycelia_backend_gpu import _probe

__all__ = ["HAS_KERNELS", "GpuBackend"]

# Whether this release ships eager kernels. While it is False a working driver, device and CuPy
# still make is_available() say no (with a reason naming what was found); the release that adds
# the kernels sets it to True and nothing else in the availability logic changes.
HAS_KERNELS = False


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
        if not probe.available:
            return Availability(False, probe.reason)
        if not HAS_KERNELS:
            # Imported here: the package imports this module before it defines __version__.
            from mycelia_backend_gpu import __version__

            return Availability(False, (
                f"{probe.device_count} CUDA device(s) and CuPy found, but mycelia-backend-gpu "
                f"{__version__} has no eager kernels yet (they land in a later release); "
                f"use the CPU backend"))
        return Availability(True, "")

    def capabilities(self) -> Capabilities:
        probe = self._probed()
        # dtypes and ops stay empty until kernels exist: they list what this backend computes,
        # and today it computes nothing. device_count is what the probe found, also while
        # is_available() says no only because there are no kernels yet.
        return Capabilities(dtypes=frozenset(), ops=frozenset(),
                            device_count=probe.device_count if probe.available else 0,
                            compiles_graphs=False)

    def kernel(self, op_name: str) -> Kernel | None:
        return None

    def _cupy_module(self) -> ModuleType:
        """CuPy, imported on first transfer only, or the reason this backend cannot run."""
        availability = self.is_available()
        if not availability:
            raise BackendUnavailableError(f"backend 'gpu' is unavailable here: {availability.reason}")
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
