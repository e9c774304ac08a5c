from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import mycelia_backend_gpu
from mycelia import _context, backends
from mycelia.backends import _registry
from mycelia_backend_gpu import GpuBackend, _backend, _probe, create_backend

PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def _no_kernels_reason(device_count: int) -> str:
    return (f"{device_count} CUDA device(s) and CuPy found, but mycelia-backend-gpu "
            f"{mycelia_backend_gpu.__version__} has no eager kernels yet (they land in a later "
            f"release); use the CPU backend")


def _driver_loads() -> bool:
    """Whether this machine has a CUDA driver; decides which path the real-probe tests check."""
    try:
        ctypes.CDLL(_probe.DRIVER_LIBRARY)
    except OSError:
        return False
    return True


class FakeFunction:
    """Stands in for a ctypes function: accepts argtypes/restype and runs ``body``."""

    def __init__(self, body: Callable[..., int]) -> None:
        self.body = body
        self.argtypes: list[Any] = []
        self.restype: Any = None

    def __call__(self, *arguments: Any) -> int:
        return self.body(*arguments)


class FakeDriver:
    """A libcuda with a chosen cuInit result and device count."""

    def __init__(self, init_result: int = 0, device_count: int = 0, count_result: int = 0,
                 error_names: dict[int, bytes] | None = None) -> None:
        def get_count(pointer: Any) -> int:
            pointer.contents.value = device_count
            return count_result

        def get_version(pointer: Any) -> int:
            pointer.contents.value = 12040
            return 0

        self.cuInit = FakeFunction(lambda flags: init_result)
        self.cuDeviceGetCount = FakeFunction(get_count)
        self.cuDriverGetVersion = FakeFunction(get_version)
        if error_names is not None:
            def get_error_name(code: int, pointer: Any) -> int:
                if code not in error_names:
                    return 1  # CUDA_ERROR_INVALID_VALUE, as the real driver answers
                pointer.contents.value = error_names[code]
                return 0

            self.cuGetErrorName = FakeFunction(get_error_name)


def _use_driver(monkeypatch: pytest.MonkeyPatch, driver: FakeDriver, *, cupy: bool) -> None:
    monkeypatch.setattr(ctypes, "CDLL", lambda name: driver)
    monkeypatch.setattr(_probe, "cupy_installed", lambda: cupy)


@pytest.fixture
def registered_gpu(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Only the gpu backend, registered by hand (PYTHONPATH runs have no entry points)."""
    monkeypatch.setenv("MYCELIA_PLUGIN_AUTOLOAD", "0")
    monkeypatch.delenv("MYCELIA_BACKEND", raising=False)
    # A private copy, so the registration disappears when monkeypatch restores the original.
    monkeypatch.setattr(_registry, "_registered", {})
    backends.reset_discovery()
    _context.reset_context()
    backends.register_backend("gpu", create_backend)
    yield
    backends.reset_discovery()
    _context.reset_context()


def test_create_backend_speaks_core_api() -> None:
    backend = create_backend()
    assert isinstance(backend, backends.Backend)
    assert isinstance(backend, GpuBackend)
    assert backend.name == "gpu"
    assert backend.priority == 200
    assert backend.api_version == backends.API_VERSION


def test_version_matches_pyproject() -> None:
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        tomllib = pytest.importorskip("tomli", reason="tomllib is in the standard library from 3.11")
    project = tomllib.loads((PACKAGE_ROOT / "pyproject.toml").read_text())["project"]
    assert mycelia_backend_gpu.__version__ == project["version"]
    entry_points = project["entry-points"]["mycelia.backends"]
    assert entry_points == {"gpu": "mycelia_backend_gpu:create_backend"}


def test_availability_on_this_machine() -> None:
    availability = create_backend().is_available()
    if not _driver_loads():
        assert not availability
        assert availability.reason == f"no CUDA driver ({_probe.DRIVER_LIBRARY} not found)"
        assert "CUDA" in availability.reason
    elif _probe.cupy_installed():
        # A driver and CuPy: a GPU machine, where the probe must succeed. The backend still says
        # no, because this release has no kernels, and the reason says what it found.
        assert not availability
        probe = _probe.probe_cuda()
        assert probe.available, probe.reason
        assert availability.reason == _no_kernels_reason(probe.device_count)
    else:
        # A driver without CuPy, or a driver without a device: either way the reason says which.
        assert not availability
        assert availability.reason == _probe.CUPY_MISSING_REASON or "CUDA" in availability.reason


def test_capabilities_are_honest() -> None:
    backend = create_backend()
    capabilities = backend.capabilities()
    assert capabilities.ops == frozenset()
    assert capabilities.dtypes == frozenset()
    assert capabilities.compiles_graphs is False
    # The device count follows the probe, not is_available() (which says no without kernels).
    if backend._probed().available:
        assert capabilities.device_count >= 1
    else:
        assert capabilities.device_count == 0


def test_no_kernels_yet() -> None:
    backend = create_backend()
    assert backend.kernel("add") is None
    assert backend.kernel("matmul") is None
    with pytest.raises(NotImplementedError, match="does not compile graphs"):
        backend.compile(object())


def test_probe_is_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    real_loader = ctypes.CDLL
    calls: list[str] = []

    def counting_loader(name: str, *arguments: Any, **keywords: Any) -> Any:
        calls.append(name)
        return real_loader(name, *arguments, **keywords)

    monkeypatch.setattr(ctypes, "CDLL", counting_loader)
    backend = create_backend()
    first = backend.is_available()
    second = backend.is_available()
    backend.capabilities()
    assert first == second
    assert calls == [_probe.DRIVER_LIBRARY]


def test_transfers_without_a_device_raise_with_the_reason() -> None:
    backend = create_backend()
    availability = backend.is_available()
    if availability:
        array = np.arange(6, dtype=np.float32).reshape(2, 3)
        np.testing.assert_array_equal(backend.to_numpy(backend.from_numpy(array)), array)
        return
    with pytest.raises(backends.BackendUnavailableError) as raised:
        backend.from_numpy(np.zeros(3, dtype=np.float32))
    assert availability.reason in str(raised.value)
    with pytest.raises(backends.BackendUnavailableError):
        backend.to_numpy(np.zeros(3, dtype=np.float32))


def test_transfers_on_a_real_gpu_once_kernels_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = create_backend()
    probe = backend._probed()
    if not probe.available:
        pytest.skip(f"no usable GPU here: {probe.reason}")
    monkeypatch.setattr(_backend, "HAS_KERNELS", True)
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(backend.to_numpy(backend.from_numpy(array)), array)


def test_import_loads_neither_cupy_nor_the_driver() -> None:
    code = ("import sys, mycelia_backend_gpu as gpu; "
            "before = sorted(m for m in sys.modules if m.split('.')[0] == 'cupy'); "
            "gpu.create_backend().is_available(); "
            "after = sorted(m for m in sys.modules if m.split('.')[0] == 'cupy'); "
            "print(before, after)")
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=environment)
    assert out.stdout.strip() == "[] []"


# The probe's branches, each driven by a fake driver so they are checked on any machine.

def test_missing_driver_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> Any:
        raise OSError(f"{name}: cannot open shared object file: No such file or directory")

    monkeypatch.setattr(ctypes, "CDLL", missing)
    result = _probe.probe_cuda()
    assert result == _probe.CudaProbe(False, f"no CUDA driver ({_probe.DRIVER_LIBRARY} not found)")


def test_broken_driver_shows_the_loader_message(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(name: str) -> Any:
        raise OSError(f"{name}: wrong ELF class: ELFCLASS32")

    monkeypatch.setattr(ctypes, "CDLL", broken)
    assert "wrong ELF class" in _probe.probe_cuda().reason


def test_init_failure_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    _use_driver(monkeypatch, FakeDriver(init_result=999), cupy=True)
    result = _probe.probe_cuda()
    assert not result.available
    assert result.reason == "CUDA driver found but cuInit failed with error 999"
    assert result.driver_version == 12040
    _use_driver(monkeypatch, FakeDriver(init_result=34, error_names={34: b"CUDA_ERROR_STUB_LIBRARY"}),
                cupy=True)
    assert _probe.probe_cuda().reason == \
        "CUDA driver found but cuInit failed with error 34 (CUDA_ERROR_STUB_LIBRARY)"


def test_no_device_reasons(monkeypatch: pytest.MonkeyPatch) -> None:
    _use_driver(monkeypatch, FakeDriver(init_result=100), cupy=True)
    assert _probe.probe_cuda().reason == "no CUDA device (cuInit reported CUDA_ERROR_NO_DEVICE)"
    _use_driver(monkeypatch, FakeDriver(device_count=0), cupy=True)
    assert _probe.probe_cuda().reason == "no CUDA device"
    _use_driver(monkeypatch, FakeDriver(device_count=1, count_result=3), cupy=True)
    assert _probe.probe_cuda().reason == "CUDA driver found but cuDeviceGetCount failed with error 3"


def test_driver_without_cupy_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    _use_driver(monkeypatch, FakeDriver(device_count=2), cupy=False)
    backend = create_backend()
    availability = backend.is_available()
    assert not availability
    assert availability.reason == "CuPy is not installed: pip install mycelia-backend-gpu[cuda]"
    assert backend.capabilities().device_count == 0


def test_working_driver_and_cupy_is_unavailable_without_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _backend.HAS_KERNELS is False
    _use_driver(monkeypatch, FakeDriver(device_count=2), cupy=True)
    backend = create_backend()
    assert backend.is_available() == backends.Availability(False, _no_kernels_reason(2))
    assert backend.is_available().reason == (
        "2 CUDA device(s) and CuPy found, but mycelia-backend-gpu 0.1.0 has no eager kernels yet "
        "(they land in a later release); use the CPU backend")
    # The probe's findings are still reported.
    assert backend.capabilities().device_count == 2
    # An unavailable backend refuses transfers with the same reason (CuPy is never imported).
    with pytest.raises(backends.BackendUnavailableError, match="has no eager kernels yet"):
        backend.from_numpy(np.zeros(3, dtype=np.float32))


def test_kernels_flag_makes_a_working_gpu_available(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_backend, "HAS_KERNELS", True)
    _use_driver(monkeypatch, FakeDriver(device_count=2), cupy=True)
    backend = create_backend()
    assert backend.is_available() == backends.Availability(True, "")
    assert backend.capabilities().device_count == 2


def test_automatic_selection_skips_a_gpu_without_kernels(registered_gpu: None,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    cpu = pytest.importorskip("mycelia_backend_cpu")
    backends.register_backend("cpu", cpu.create_backend)
    _use_driver(monkeypatch, FakeDriver(device_count=2), cupy=True)
    assert backends.select_backend().name == "cpu"
    rows = {row.name: row for row in backends.list_backends()}
    assert (rows["gpu"].available, rows["gpu"].reason) == (False, _no_kernels_reason(2))
    with pytest.raises(backends.BackendUnavailableError, match="has no eager kernels yet"):
        backends.select_backend("gpu")


def test_registry_reports_the_reason(registered_gpu: None, monkeypatch: pytest.MonkeyPatch) -> None:
    reason = "no CUDA device"
    _use_driver(monkeypatch, FakeDriver(device_count=0), cupy=True)
    backend = backends.get_backend("GPU")
    assert isinstance(backend, GpuBackend)
    assert backends.get_backend("gpu:0") is backend
    [row] = backends.list_backends()
    assert (row.name, row.loaded, row.available, row.reason, row.priority) == \
        ("gpu", True, False, reason, 200)
    with pytest.raises(backends.BackendUnavailableError, match=f"'gpu' is installed but unavailable "
                                                              f"here: {reason}"):
        backends.select_backend("gpu")
