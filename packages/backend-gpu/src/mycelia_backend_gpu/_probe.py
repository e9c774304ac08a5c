"""The cheap CUDA probe: is there a driver, a device and CuPy, without allocating anything.

Only the driver API is touched (``cuInit``, ``cuDeviceGetCount``), through ctypes, so the probe
works without the CUDA toolkit and never imports CuPy (that costs seconds and a CUDA context).
"""

from __future__ import annotations

import ctypes
import importlib.util
import sys
from dataclasses import dataclass
from typing import Any

__all__ = ["CUPY_MISSING_REASON", "DRIVER_LIBRARY", "CudaProbe", "cupy_installed", "probe_cuda"]

# The driver ships this exact soname on Linux; nvcuda.dll is its Windows counterpart.
DRIVER_LIBRARY = "nvcuda.dll" if sys.platform == "win32" else "libcuda.so.1"

CUPY_MISSING_REASON = "CuPy is not installed: pip install mycelia-backend-gpu[cuda]"

_CUDA_SUCCESS = 0
_CUDA_ERROR_NO_DEVICE = 100


@dataclass(frozen=True)
class CudaProbe:
    """What the probe found; ``reason`` is empty exactly when ``available`` is set."""

    available: bool
    reason: str
    device_count: int = 0
    # cuDriverGetVersion's encoding, 1000 * major + 10 * minor (12040 is CUDA 12.4); 0 if unknown.
    driver_version: int = 0


def cupy_installed() -> bool:
    """Whether CuPy can be found; find_spec locates the package without importing it."""
    return importlib.util.find_spec("cupy") is not None


def _error_name(driver: Any, code: int) -> str:
    """``CUDA_ERROR_NO_DEVICE`` for 100, or "" when the driver cannot name it."""
    try:
        get_error_name = driver.cuGetErrorName
        get_error_name.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_char_p)]
        get_error_name.restype = ctypes.c_int
        name = ctypes.c_char_p()
        if get_error_name(code, ctypes.pointer(name)) == _CUDA_SUCCESS and name.value:
            return name.value.decode("ascii", "replace")
    except (AttributeError, OSError):
        pass
    return ""


def _describe(driver: Any, code: int) -> str:
    name = _error_name(driver, code)
    return f"error {code} ({name})" if name else f"error {code}"


def _driver_version(driver: Any) -> int:
    try:
        get_version = driver.cuDriverGetVersion
        get_version.argtypes = [ctypes.POINTER(ctypes.c_int)]
        get_version.restype = ctypes.c_int
        version = ctypes.c_int(0)
        if get_version(ctypes.pointer(version)) == _CUDA_SUCCESS:
            return int(version.value)
    except (AttributeError, OSError):
        pass
    return 0


def _load_driver() -> tuple[Any, str]:
    """The driver library, or None and why it could not be loaded."""
    try:
        return ctypes.CDLL(DRIVER_LIBRARY), ""
    except OSError as error:
        message = str(error)
        # dlopen says "cannot open shared object file" when the file is absent; anything else
        # (wrong architecture, missing dependency) is worth showing verbatim.
        if "cannot open shared object file" in message or "could not be found" in message:
            return None, f"no CUDA driver ({DRIVER_LIBRARY} not found)"
        return None, f"CUDA driver {DRIVER_LIBRARY} failed to load: {message}"


def probe_cuda() -> CudaProbe:
    """Load the driver, initialise it, count devices, then look for CuPy; stop at the first gap."""
    driver, reason = _load_driver()
    if driver is None:
        return CudaProbe(False, reason)
    version = _driver_version(driver)

    initialise = driver.cuInit
    initialise.argtypes = [ctypes.c_uint]
    initialise.restype = ctypes.c_int
    code = int(initialise(0))
    if code == _CUDA_ERROR_NO_DEVICE:
        return CudaProbe(False, "no CUDA device (cuInit reported CUDA_ERROR_NO_DEVICE)",
                         driver_version=version)
    if code != _CUDA_SUCCESS:
        return CudaProbe(False, f"CUDA driver found but cuInit failed with {_describe(driver, code)}",
                         driver_version=version)

    get_count = driver.cuDeviceGetCount
    get_count.argtypes = [ctypes.POINTER(ctypes.c_int)]
    get_count.restype = ctypes.c_int
    count = ctypes.c_int(0)
    code = int(get_count(ctypes.pointer(count)))
    if code != _CUDA_SUCCESS:
        return CudaProbe(False, f"CUDA driver found but cuDeviceGetCount failed with "
                                f"{_describe(driver, code)}", driver_version=version)
    if count.value <= 0:
        return CudaProbe(False, "no CUDA device", driver_version=version)

    # The device is real; without CuPy the backend still has no arrays to put on it.
    if not cupy_installed():
        return CudaProbe(False, CUPY_MISSING_REASON, driver_version=version)
    return CudaProbe(True, "", int(count.value), version)
