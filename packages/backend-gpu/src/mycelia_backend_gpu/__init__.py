"""Mycelia's ``gpu`` backend: NVIDIA GPUs through the CUDA driver and CuPy.

Importing this package is cheap: it neither loads the CUDA driver nor imports CuPy. The driver is
probed on the first :meth:`GpuBackend.is_available` call and CuPy is imported on the first transfer.
"""

from __future__ import annotations

from mycelia_backend_gpu._backend import GpuBackend

# Kept equal to the version in pyproject.toml (a test checks).
__version__ = "0.1.0"

__all__ = ["GpuBackend", "__version__", "create_backend"]


def create_backend() -> GpuBackend:
    """The ``mycelia.backends`` entry point: a fresh backend object, not yet probed."""
    return GpuBackend()
