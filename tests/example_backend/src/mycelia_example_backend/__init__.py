"""An example third-party Mycelia backend: pybind11 kernels for ``add`` and ``mul``.

Mycelia finds it through the ``mycelia.backends`` entry point ``example`` declared in this
package's pyproject.toml; core never imports it by name. Its arrays are plain numpy arrays in host
memory, which the compiled kernels read and write through the buffer protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mycelia.backends import API_VERSION, Availability, Backend, Capabilities, Kernel
from mycelia_example_backend import _kernels

__all__ = ["ExampleBackend", "calls", "create_backend", "reset_calls"]

_DTYPES = frozenset({"float32", "float64"})
_COMPILED: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "add": _kernels.add,
    "mul": _kernels.mul,
}


def calls() -> int:
    """How many compiled kernel calls completed (since import or :func:`reset_calls`)."""
    return _kernels.calls()


def reset_calls() -> None:
    """Set the compiled kernel call counter back to zero."""
    _kernels.reset_calls()


def _dense_operands(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Operands the compiled loops accept: equal shapes, or one single-element operand.

    Anything else is broadcast here, because the C++ deliberately handles only those two cases.
    """
    if (left.shape == right.shape
            or (right.size == 1 and right.ndim <= left.ndim)
            or (left.size == 1 and left.ndim <= right.ndim)):
        return np.ascontiguousarray(left), np.ascontiguousarray(right)
    left, right = np.broadcast_arrays(left, right)
    return np.ascontiguousarray(left), np.ascontiguousarray(right)


def _make_kernel(op_name: str) -> Kernel:
    compiled = _COMPILED[op_name]

    def kernel(left: np.ndarray, right: np.ndarray) -> np.ndarray:
        # Core promotes both operands to one dtype before calling; checking here anyway means a
        # wrong dtype fails loudly instead of being cast silently by pybind11's conversion pass.
        for operand in (left, right):
            if operand.dtype.name not in _DTYPES:
                raise TypeError(f"example backend: {op_name} supports float32 and float64, "
                                f"not {operand.dtype.name}")
        if left.dtype != right.dtype:
            raise TypeError(f"example backend: {op_name} needs operands of one dtype, got "
                            f"{left.dtype.name} and {right.dtype.name}")
        return compiled(*_dense_operands(left, right))

    kernel.__name__ = kernel.__qualname__ = f"example_{op_name}"
    return kernel


class ExampleBackend(Backend):
    """Host-memory backend whose kernels are compiled C++; never chosen unless asked for."""

    name = "example"
    api_version = API_VERSION
    # Below the CPU backend's 100, so installing this package never changes the default backend.
    priority = 10

    def __init__(self) -> None:
        self._kernels: dict[str, Kernel] = {op_name: _make_kernel(op_name) for op_name in _COMPILED}

    def is_available(self) -> Availability:
        # Host memory only: if the compiled module imported, there is nothing more to probe.
        return Availability(True, "")

    def capabilities(self) -> Capabilities:
        return Capabilities(dtypes=_DTYPES, ops=frozenset(self._kernels), device_count=1,
                            compiles_graphs=False)

    def kernel(self, op_name: str) -> Kernel | None:
        return self._kernels.get(op_name)

    def from_numpy(self, array: np.ndarray) -> Any:
        # A private copy: later writes to the caller's array must not change a tensor.
        return np.array(array, order="C", copy=True)

    def to_numpy(self, array: Any) -> np.ndarray:
        # A copy again, so writing to the result of Tensor.asnumpy() cannot change the tensor.
        return np.array(array, copy=True)


def create_backend() -> ExampleBackend:
    """Entry-point factory named in pyproject.toml (``mycelia.backends`` group, ``example``)."""
    return ExampleBackend()
