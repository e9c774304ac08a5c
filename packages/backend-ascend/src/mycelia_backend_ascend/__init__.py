"""Mycelia's ``ascend`` backend: Huawei Ascend NPUs through ACL (CANN), loaded with ctypes.

Importing this package is cheap: it neither looks for CANN nor loads ACL. Both happen on the first
:meth:`AscendBackend.is_available` call.
"""

from __future__ import annotations

from mycelia_backend_ascend._backend import AscendBackend

# Kept equal to the version in pyproject.toml (a test checks).
__version__ = "0.1.0"

__all__ = ["AscendBackend", "__version__", "create_backend"]


def create_backend() -> AscendBackend:
    """The ``mycelia.backends`` entry point: a fresh backend object, not yet probed."""
    return AscendBackend()
