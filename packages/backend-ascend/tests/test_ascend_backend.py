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

import mycelia_backend_ascend
from mycelia import _context, backends
from mycelia.backends import _registry
from mycelia_backend_ascend import AscendBackend, _backend, _probe, create_backend

PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def _no_kernels_reason(device_count: int, cann_home: Path | None) -> str:
    return (f"{device_count} Ascend NPU(s) and CANN ({cann_home}) found, but mycelia-backend-ascend "
            f"{mycelia_backend_ascend.__version__} has no eager kernels yet (they land in a later "
            f"release); use the CPU backend")


def _npu_device_nodes() -> bool:
    """Whether the Ascend driver exposes an NPU here (/dev/davinci0, /dev/davinci1, ...)."""
    return any(Path("/dev").glob("davinci[0-9]*"))


class FakeFunction:
    """Stands in for a ctypes function: accepts argtypes/restype and runs ``body``."""

    def __init__(self, body: Callable[..., Any]) -> None:
        self.body = body
        self.argtypes: list[Any] = []
        self.restype: Any = None

    def __call__(self, *arguments: Any) -> Any:
        return self.body(*arguments)


class FakeAcl:
    """A libascendcl with a chosen aclInit result and device count."""

    def __init__(self, init_result: int = 0, device_count: int = 0, count_result: int = 0,
                 recent_error: bytes | None = None) -> None:
        def get_count(pointer: Any) -> int:
            pointer.contents.value = device_count
            return count_result

        self.init_calls: list[Any] = []

        def initialise(config_path: Any) -> int:
            self.init_calls.append(config_path)
            return init_result

        self.aclInit = FakeFunction(initialise)
        self.aclrtGetDeviceCount = FakeFunction(get_count)
        if recent_error is not None:
            self.aclGetRecentErrMsg = FakeFunction(lambda: recent_error)


@pytest.fixture
def no_cann(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No CANN variables and a default toolkit path that does not exist."""
    for variable in _probe.ENVIRONMENT_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(_probe, "DEFAULT_TOOLKIT_PATH", tmp_path / "missing" / "latest")


@pytest.fixture
def fake_toolkit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, no_cann: None) -> Path:
    """A toolkit directory holding an (empty) lib64/libascendcl.so, named by ASCEND_HOME_PATH."""
    home = tmp_path / "toolkit"
    (home / "lib64").mkdir(parents=True)
    (home / "lib64" / _probe.LIBRARY_NAME).write_bytes(b"")
    monkeypatch.setenv("ASCEND_HOME_PATH", str(home))
    return home


def _use_acl(monkeypatch: pytest.MonkeyPatch, library: FakeAcl) -> list[str]:
    loaded: list[str] = []

    def loader(path: str) -> FakeAcl:
        loaded.append(path)
        return library

    monkeypatch.setattr(ctypes, "CDLL", loader)
    return loaded


@pytest.fixture
def registered_ascend(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Only the ascend backend, registered by hand (PYTHONPATH runs have no entry points)."""
    monkeypatch.setenv("MYCELIA_PLUGIN_AUTOLOAD", "0")
    monkeypatch.delenv("MYCELIA_BACKEND", raising=False)
    # A private copy, so the registration disappears when monkeypatch restores the original.
    monkeypatch.setattr(_registry, "_registered", {})
    backends.reset_discovery()
    _context.reset_context()
    backends.register_backend("ascend", create_backend)
    yield
    backends.reset_discovery()
    _context.reset_context()


def test_create_backend_speaks_core_api() -> None:
    backend = create_backend()
    assert isinstance(backend, backends.Backend)
    assert isinstance(backend, AscendBackend)
    assert backend.name == "ascend"
    assert backend.priority == 150
    assert backend.api_version == backends.API_VERSION


def test_version_matches_pyproject() -> None:
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        tomllib = pytest.importorskip("tomli", reason="tomllib is in the standard library from 3.11")
    project = tomllib.loads((PACKAGE_ROOT / "pyproject.toml").read_text())["project"]
    assert mycelia_backend_ascend.__version__ == project["version"]
    entry_points = project["entry-points"]["mycelia.backends"]
    assert entry_points == {"ascend": "mycelia_backend_ascend:create_backend"}


def test_availability_on_this_machine() -> None:
    availability = create_backend().is_available()
    home, reason = _probe.find_cann()
    if home is None:
        assert not availability
        assert availability.reason == reason
        assert availability.reason.startswith("CANN not found (")
    elif _npu_device_nodes():
        # CANN and an NPU: a real Ascend machine, where the probe must succeed. The backend still
        # says no, because this release has no kernels, and the reason says what it found.
        assert not availability
        probe = _probe.probe_ascend()
        assert probe.available, probe.reason
        assert availability.reason == _no_kernels_reason(probe.device_count, probe.cann_home)
    else:
        # CANN without an NPU (a build container, say): unavailable, and the reason says where.
        assert not availability
        assert availability.reason


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


def test_probe_is_cached(monkeypatch: pytest.MonkeyPatch, fake_toolkit: Path) -> None:
    library = FakeAcl(device_count=1)
    loaded = _use_acl(monkeypatch, library)
    backend = create_backend()
    first = backend.is_available()
    second = backend.is_available()
    backend.capabilities()
    assert first == second == backends.Availability(False, _no_kernels_reason(1, fake_toolkit))
    assert loaded == [str(fake_toolkit / "lib64" / _probe.LIBRARY_NAME)]
    assert library.init_calls == [None]


def test_probe_without_cann_is_cached_too(monkeypatch: pytest.MonkeyPatch, no_cann: None) -> None:
    lookups: list[str] = []
    real_read = _probe.read_environment

    def counting_read(name: str) -> str:
        lookups.append(name)
        return real_read(name)

    monkeypatch.setattr(_probe, "read_environment", counting_read)
    backend = create_backend()
    backend.is_available()
    backend.is_available()
    assert lookups == list(_probe.ENVIRONMENT_VARIABLES)


def test_transfers_without_a_device_raise_with_the_reason(no_cann: None) -> None:
    backend = create_backend()
    availability = backend.is_available()
    with pytest.raises(backends.BackendUnavailableError) as raised:
        backend.from_numpy(np.zeros(3, dtype=np.float32))
    assert availability.reason in str(raised.value)
    with pytest.raises(backends.BackendUnavailableError):
        backend.to_numpy(np.zeros(3, dtype=np.float32))


def test_transfers_with_a_device_but_no_kernels_raise_the_reason(monkeypatch: pytest.MonkeyPatch,
                                                                  fake_toolkit: Path) -> None:
    _use_acl(monkeypatch, FakeAcl(device_count=2))
    with pytest.raises(backends.BackendUnavailableError, match="has no eager kernels yet") as raised:
        create_backend().from_numpy(np.zeros(3, dtype=np.float32))
    assert _no_kernels_reason(2, fake_toolkit) in str(raised.value)


def test_transfers_with_kernels_say_they_are_not_implemented(monkeypatch: pytest.MonkeyPatch,
                                                             fake_toolkit: Path) -> None:
    monkeypatch.setattr(_backend, "HAS_KERNELS", True)
    _use_acl(monkeypatch, FakeAcl(device_count=2))
    with pytest.raises(NotImplementedError, match="2 NPU"):
        create_backend().from_numpy(np.zeros(3, dtype=np.float32))


def test_import_looks_for_nothing() -> None:
    # Neither importing the package nor creating the backend may load a library.
    code = ("import ctypes; loaded = []; ctypes.CDLL = lambda *a, **k: loaded.append(a); "
            "import mycelia_backend_ascend; mycelia_backend_ascend.create_backend(); print(loaded)")
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=environment)
    assert out.stdout.strip() == "[]"


# The probe's branches, each driven by directories and a fake ACL so they are checked anywhere.

def test_cann_not_found_reason(no_cann: None) -> None:
    result = _probe.probe_ascend()
    assert not result.available
    assert result.reason == (
        "CANN not found (no ASCEND_HOME_PATH, ASCEND_TOOLKIT_HOME or ASCEND_OPP_PATH, "
        f"{_probe.DEFAULT_TOOLKIT_PATH} missing)")


def test_variables_pointing_nowhere_are_named(monkeypatch: pytest.MonkeyPatch, no_cann: None,
                                              tmp_path: Path) -> None:
    monkeypatch.setenv("ASCEND_TOOLKIT_HOME", str(tmp_path / "gone"))
    reason = _probe.probe_ascend().reason
    assert reason.startswith("CANN not found (")
    assert f"ASCEND_TOOLKIT_HOME={tmp_path / 'gone'} is not a directory" in reason


def test_search_order(monkeypatch: pytest.MonkeyPatch, no_cann: None, tmp_path: Path) -> None:
    default, toolkit, opp_parent = tmp_path / "default", tmp_path / "toolkit", tmp_path / "from_opp"
    for directory in (default, toolkit, opp_parent / "opp"):
        directory.mkdir(parents=True)
    monkeypatch.setattr(_probe, "DEFAULT_TOOLKIT_PATH", default)
    assert _probe.find_cann() == (default, "")
    monkeypatch.setenv("ASCEND_OPP_PATH", str(opp_parent / "opp"))
    assert _probe.find_cann() == (opp_parent, "")
    monkeypatch.setenv("ASCEND_TOOLKIT_HOME", str(toolkit))
    assert _probe.find_cann() == (toolkit, "")
    monkeypatch.setenv("ASCEND_HOME_PATH", str(tmp_path / "stale"))
    assert _probe.find_cann() == (toolkit, "")  # a stale variable does not hide a good one


def test_toolkit_without_the_library(monkeypatch: pytest.MonkeyPatch, no_cann: None,
                                     tmp_path: Path) -> None:
    monkeypatch.setenv("ASCEND_HOME_PATH", str(tmp_path))
    assert _probe.probe_ascend().reason == (
        f"libascendcl.so not found under {tmp_path} (looked in lib64, runtime/lib64, acllib/lib64)")


def test_library_that_fails_to_load_shows_the_loader_message(fake_toolkit: Path) -> None:
    # The fake toolkit's libascendcl.so is an empty file, so the real dlopen refuses it.
    result = _probe.probe_ascend()
    assert not result.available
    assert result.reason.startswith("libascendcl.so failed to load: ")
    assert str(fake_toolkit) in result.reason
    assert result.cann_home == fake_toolkit


def test_init_failure_reason(monkeypatch: pytest.MonkeyPatch, fake_toolkit: Path) -> None:
    _use_acl(monkeypatch, FakeAcl(init_result=500000))
    assert _probe.probe_ascend().reason == (
        f"CANN found at {fake_toolkit} but aclInit failed with error 500000")
    _use_acl(monkeypatch, FakeAcl(init_result=500000, recent_error=b"EE1001: driver not loaded"))
    assert _probe.probe_ascend().reason.endswith("error 500000: EE1001: driver not loaded")


def test_repeated_initialisation_is_accepted(monkeypatch: pytest.MonkeyPatch, fake_toolkit: Path) -> None:
    _use_acl(monkeypatch, FakeAcl(init_result=100002, device_count=8))
    assert _probe.probe_ascend() == _probe.AscendProbe(True, "", 8, fake_toolkit)


def test_device_count_reasons(monkeypatch: pytest.MonkeyPatch, fake_toolkit: Path) -> None:
    _use_acl(monkeypatch, FakeAcl(device_count=0))
    assert _probe.probe_ascend().reason == "no Ascend device (aclrtGetDeviceCount returned 0)"
    _use_acl(monkeypatch, FakeAcl(device_count=1, count_result=107001))
    assert _probe.probe_ascend().reason == (
        f"CANN found at {fake_toolkit} but aclrtGetDeviceCount failed with error 107001")


def test_devices_without_kernels_are_unavailable(monkeypatch: pytest.MonkeyPatch,
                                                 fake_toolkit: Path) -> None:
    assert _backend.HAS_KERNELS is False
    _use_acl(monkeypatch, FakeAcl(device_count=2))
    backend = create_backend()
    assert backend.is_available() == backends.Availability(False, _no_kernels_reason(2, fake_toolkit))
    assert backend.is_available().reason == (
        f"2 Ascend NPU(s) and CANN ({fake_toolkit}) found, but mycelia-backend-ascend 0.1.0 has no "
        f"eager kernels yet (they land in a later release); use the CPU backend")
    # The probe's findings are still reported.
    assert backend.capabilities().device_count == 2


def test_kernels_flag_makes_devices_available(monkeypatch: pytest.MonkeyPatch, fake_toolkit: Path) -> None:
    monkeypatch.setattr(_backend, "HAS_KERNELS", True)
    _use_acl(monkeypatch, FakeAcl(device_count=2))
    backend = create_backend()
    assert backend.is_available() == backends.Availability(True, "")
    assert backend.capabilities().device_count == 2


def test_automatic_selection_skips_an_npu_without_kernels(registered_ascend: None,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          fake_toolkit: Path) -> None:
    cpu = pytest.importorskip("mycelia_backend_cpu")
    backends.register_backend("cpu", cpu.create_backend)
    _use_acl(monkeypatch, FakeAcl(device_count=2))
    assert backends.select_backend().name == "cpu"
    rows = {row.name: row for row in backends.list_backends()}
    assert (rows["ascend"].available, rows["ascend"].reason) == (False, _no_kernels_reason(2, fake_toolkit))
    with pytest.raises(backends.BackendUnavailableError, match="has no eager kernels yet"):
        backends.select_backend("ascend")


def test_registry_reports_the_reason(registered_ascend: None, no_cann: None) -> None:
    backend = backends.get_backend("Ascend")
    assert isinstance(backend, AscendBackend)
    assert backends.get_backend("ascend:0") is backend
    [row] = backends.list_backends()
    assert (row.name, row.loaded, row.available, row.priority) == ("ascend", True, False, 150)
    assert row.reason.startswith("CANN not found (")
    with pytest.raises(backends.BackendUnavailableError, match=r"'ascend' is installed but unavailable "
                                                               r"here: CANN not found \("):
        backends.select_backend("ascend")
