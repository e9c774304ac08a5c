"""Minimal Backend subclasses for selection tests (host numpy arrays, one kernel)."""

from __future__ import annotations

from typing import Any

import numpy as np

from mycelia.backends import Availability, Backend, Capabilities, Kernel


class FakeBackend(Backend):
    def __init__(self, name: str, priority: int, available: bool = True, reason: str = "",
                 api_version: tuple[int, int] | None = None) -> None:
        self.name = name
        self.priority = priority
        self._availability = Availability(available, reason)
        if api_version is not None:
            self.api_version = api_version

    def is_available(self) -> Availability:
        return self._availability

    def capabilities(self) -> Capabilities:
        return Capabilities(dtypes=frozenset({"float32"}), ops=frozenset({"add"}), device_count=1)

    def kernel(self, op_name: str) -> Kernel | None:
        return np.add if op_name == "add" else None

    def from_numpy(self, array: np.ndarray) -> Any:
        return array

    def to_numpy(self, array: Any) -> np.ndarray:
        return np.asarray(array)
