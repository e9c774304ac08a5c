"""The versioned contract between core and a backend plugin.

A backend is found through the ``mycelia.backends`` entry-point group: ``name = module:factory``
where ``factory()`` returns a :class:`Backend`. Core serves any plugin whose ``api_version`` has
core's MAJOR and a MINOR no newer than core's; MINOR bumps only add optional methods.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mycelia.dtype import DType

__all__ = ["API_VERSION", "Availability", "Backend", "Capabilities", "Kernel"]

API_VERSION: tuple[int, int] = (1, 0)

# A kernel takes backend arrays (then attributes as keywords) and returns a backend array
# (or a tuple of them for multi-output ops).
Kernel = Callable[..., Any]


@dataclass(frozen=True)
class Availability:
    """Result of the cheap device probe; ``reason`` says why when unavailable."""

    available: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.available


@dataclass(frozen=True)
class Capabilities:
    """What a backend offers: dtype names, op names with kernels, devices, graph compilation, and
    which elementwise ops (and trailing reductions) its compiled graphs run as one fused kernel."""

    dtypes: frozenset[str] = field(default_factory=frozenset)
    ops: frozenset[str] = field(default_factory=frozenset)
    device_count: int = 0
    compiles_graphs: bool = False
    fusible_ops: frozenset[str] = field(default_factory=frozenset)
    fusible_reductions: frozenset[str] = field(default_factory=frozenset)
    # Attributes the fused kernel reads (e.g. leaky_relu's alpha); a node with another attribute set
    # to a non-default value (div's rounding_mode="floor") is not fused.
    fusible_attributes: frozenset[str] = field(default_factory=frozenset)


class Backend(abc.ABC):
    """Base class every backend plugin implements.

    ``name`` is the entry-point name (lower case, e.g. ``cpu``). ``priority`` orders automatic
    selection: the highest-priority available backend wins.
    """

    name: str = ""
    api_version: tuple[int, int] = API_VERSION
    priority: int = 0
    # False: every op takes the general dispatch path, whose caches hold no arrays (the IR's recording
    # backend: its arrays belong to one graph and must never be reused from a cache).
    hot_path: bool = True

    @abc.abstractmethod
    def is_available(self) -> Availability:
        """Cheap probe: never allocates device memory or compiles anything."""

    @abc.abstractmethod
    def capabilities(self) -> Capabilities:
        """Dtypes, op coverage, device count and whether :meth:`compile` works."""

    @abc.abstractmethod
    def kernel(self, op_name: str) -> Kernel | None:
        """The eager kernel for ``op_name``, or None when this backend has none."""

    @abc.abstractmethod
    def from_numpy(self, array: np.ndarray) -> Any:
        """Copy a host array to this backend's array type (may share memory on host backends)."""

    @abc.abstractmethod
    def to_numpy(self, array: Any) -> np.ndarray:
        """Copy a backend array to host memory."""

    def from_scalar(self, value: bool | int | float, dtype: DType) -> Any:
        """A Python scalar as an operand of ``dtype`` (a 0-d array unless overridden)."""
        return self.from_numpy(np.asarray(value, dtype=dtype.numpy))

    def cast(self, array: Any, dtype: DType) -> Any:
        """``array`` converted to ``dtype`` (a new array)."""
        return self.from_numpy(self.to_numpy(array).astype(dtype.numpy))

    def conform(self, array: Any, dtype: DType) -> Any:
        """A kernel result as an array of exactly ``dtype`` (kernels may return scalars or a
        wider type, e.g. numpy's float64 mean of integers); a no-op when it already is one."""
        host = np.asarray(self.to_numpy(array))
        return array if host.dtype == dtype.numpy and host is array else self.from_numpy(
            host.astype(dtype.numpy, copy=False))

    def compile(self, graph: Any) -> Any:
        """Compile an IR graph into an executable; only when ``compiles_graphs`` is set."""
        raise NotImplementedError(f"backend {self.name!r} does not compile graphs")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} api={self.api_version[0]}.{self.api_version[1]}>"
