"""Zero-copy exchange with other array libraries through DLPack."""

from __future__ import annotations

from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._context import current_backend
from mycelia._tensor import Tensor

__all__ = ["from_dlpack"]

_DLPACK_CPU = 1


def from_dlpack(external: Any) -> Tensor:
    """A Tensor viewing ``external``'s memory (any object with ``__dlpack__``, e.g. a torch or
    numpy array). Host memory is shared without a copy when the current backend is host memory."""
    if not hasattr(external, "__dlpack__"):
        raise TypeError(f"from_dlpack expects an object with __dlpack__, got {type(external).__name__}")
    device_type, _ = external.__dlpack_device__()
    if device_type != _DLPACK_CPU:
        raise NotImplementedError(f"from_dlpack: device type {device_type} is not supported yet (host memory only)")
    array = np.from_dlpack(external)
    backend = current_backend()
    return Tensor._make(backend.from_numpy(array), dt.from_numpy(array.dtype), backend)
