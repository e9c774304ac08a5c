"""CPU kernels: creation ops."""

from __future__ import annotations

from mycelia.backends import Kernel

KERNELS: dict[str, Kernel] = {}
