"""The ``ascend`` backend object core talks to.

aclnn eager kernels, device memory and ONNX export for ATC come in later issues; until then
:meth:`AscendBackend.kernel` answers None for every op and ``capabilities().ops`` is empty. For
the same reason the backend reports itself unavailable even when the probe finds an NPU (see
:data:`HAS_KERNELS`): its priority beats cpu's, so automatic selection would otherwise pick a
backend that cannot run a single op.
"""

from __future__ import annotations

import threading
from typing import Any, NoReturn

import numpy as np

from mycelia.backends import Availability, Backend, BackendUnavailableError, Capabilities, Kernel
from mycelia_backend_ascend import _probe

__all__ = ["HAS_KERNELS", "AscendBackend"]

# Whether this release ships eager kernels. While it is False CANN and a working NPU still make
# is_available() say no (with a reason naming what was found); the release that adds the kernels
# sets it to True and nothing else in the availability logic changes.
HAS_KERNELS = False


class AscendBackend(Backend):
    """Huawei Ascend NPUs through ACL, loaded with ctypes from the installed CANN."""

    name = "ascend"
    # Above cpu, below gpu: an NPU beats the host, and a machine with both is rare.
    priority = 150

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._probe_result: _probe.AscendProbe | None = None

    def _probed(self) -> _probe.AscendProbe:
        # Probed once per backend object (the registry keeps one): aclInit is not free, and the
        # answer cannot change within a process.
        with self._lock:
            if self._probe_result is None:
                self._probe_result = _probe.probe_ascend()
            return self._probe_result

    def is_available(self) -> Availability:
        probe = self._probed()
        if not probe.available:
            return Availability(False, probe.reason)
        if not HAS_KERNELS:
            # Imported here: the package imports this module before it defines __version__.
            from mycelia_backend_ascend import __version__

            return Availability(False, (
                f"{probe.device_count} Ascend NPU(s) and CANN ({probe.cann_home}) found, but "
                f"mycelia-backend-ascend {__version__} has no eager kernels yet (they land in a "
                f"later release); use the CPU backend"))
        return Availability(True, "")

    def capabilities(self) -> Capabilities:
        probe = self._probed()
        # dtypes and ops stay empty until aclnn kernels exist: they list what this backend
        # computes, and today it computes nothing. device_count is what the probe found, also
        # while is_available() says no only because there are no kernels yet.
        return Capabilities(dtypes=frozenset(), ops=frozenset(),
                            device_count=probe.device_count if probe.available else 0,
                            compiles_graphs=False)

    def kernel(self, op_name: str) -> Kernel | None:
        return None

    def _no_device_arrays(self) -> NoReturn:
        availability = self.is_available()
        if not availability:
            raise BackendUnavailableError(f"backend 'ascend' is unavailable here: {availability.reason}")
        probe = self._probed()
        # Device buffers (aclrtMalloc/aclrtMemcpy) arrive with the aclnn kernels: until they can
        # be checked on an NPU, saying so beats an unverified copy.
        raise NotImplementedError(
            f"backend 'ascend': {probe.device_count} NPU(s) found, but host/device transfer is not "
            f"implemented yet (it comes with the aclnn eager kernels)")

    def from_numpy(self, array: np.ndarray) -> Any:
        self._no_device_arrays()

    def to_numpy(self, array: Any) -> np.ndarray:
        self._no_device_arrays()
