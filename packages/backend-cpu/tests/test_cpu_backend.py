from __future__ import annotations

import numpy as np
import pytest

import mycelia as ms
from mycelia.backends import API_VERSION, Backend
from mycelia_backend_cpu import CpuBackend, create_backend


def test_factory_and_capabilities() -> None:
    backend = create_backend()
    assert isinstance(backend, Backend) and backend.api_version == API_VERSION and backend.priority == 100
    capabilities = backend.capabilities()
    assert capabilities.device_count == 1 and capabilities.compiles_graphs
    assert {"add", "sin", "tanh"} <= capabilities.fusible_ops and "amax" in capabilities.fusible_reductions
    assert {"float32", "bfloat16", "bool"} <= capabilities.dtypes
    assert {op.name for op in ms.ops.all_ops()} <= capabilities.ops  # a kernel for every registered op
    assert backend.kernel("no_such_op") is None


def test_scalars_casts_and_conform() -> None:
    backend = CpuBackend()
    scalar = backend.from_scalar(2, ms.float16)
    assert isinstance(scalar, np.float16)
    array = np.arange(3, dtype=np.int32)
    assert backend.cast(array, ms.float64).dtype == np.float64
    assert backend.conform(array, ms.int32) is array  # already right: no copy
    assert backend.conform(np.float64(1.5), ms.float32).dtype == np.float32
    assert backend.conform(np.float64(1.5), ms.float32).shape == ()


def test_native_kernel_adds_in_place_into_out() -> None:
    from mycelia_backend_cpu import _native

    a = np.arange(5, dtype=np.float32)
    b = np.full(5, 0.5, np.float32)
    out = np.empty(5, np.float32)
    _native.add_f32(a, b, out)
    np.testing.assert_array_equal(out, a + b)
    with pytest.raises(ValueError, match="same number of elements"):
        _native.add_f32(a, b, np.empty(4, np.float32))
    with pytest.raises(TypeError):
        _native.add_f32(a.astype(np.float64), b, out)
    assert _native.build_info()["hardware_threads"] >= 1
