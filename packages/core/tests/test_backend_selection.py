from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import mycelia as ms
from mycelia import backends
from mycelia._context import current_backend

from fake_backends import FakeBackend


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    """No entry points: only backends the test registers."""
    monkeypatch.setenv("MYCELIA_PLUGIN_AUTOLOAD", "0")
    monkeypatch.delenv("MYCELIA_BACKEND", raising=False)
    backends.reset_discovery()


def test_import_mycelia_loads_no_plugin() -> None:
    code = ("import sys, mycelia, mycelia.ops; "
            "print(sorted(m for m in sys.modules if m.startswith(('mycelia_', 'cupy'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_highest_priority_available_backend_wins(isolated: None) -> None:
    backends.register_backend("low", lambda: FakeBackend("low", 1))
    backends.register_backend("high", lambda: FakeBackend("high", 50))
    backends.register_backend("best", lambda: FakeBackend("best", 99, available=False, reason="no device"))
    assert current_backend().name == "high"


def test_environment_preference_is_ordered_and_beats_priority(isolated: None,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    backends.register_backend("a", lambda: FakeBackend("a", 1))
    backends.register_backend("b", lambda: FakeBackend("b", 50, available=False, reason="no driver"))
    backends.register_backend("c", lambda: FakeBackend("c", 90))
    monkeypatch.setenv("MYCELIA_BACKEND", "b,a,c")
    assert backends.select_backend().name == "a"


def test_environment_preference_fails_loudly(isolated: None, monkeypatch: pytest.MonkeyPatch) -> None:
    backends.register_backend("a", lambda: FakeBackend("a", 1, available=False, reason="no driver"))
    monkeypatch.setenv("MYCELIA_BACKEND", "a")
    with pytest.raises(backends.BackendUnavailableError, match="MYCELIA_BACKEND=a.*no driver"):
        backends.select_backend()
    monkeypatch.setenv("MYCELIA_BACKEND", "typo,a")
    with pytest.raises(backends.BackendNotInstalledError, match="'typo' is not installed"):
        backends.select_backend()


def test_explicit_target_beats_environment(isolated: None, monkeypatch: pytest.MonkeyPatch) -> None:
    backends.register_backend("a", lambda: FakeBackend("a", 1))
    backends.register_backend("b", lambda: FakeBackend("b", 2))
    monkeypatch.setenv("MYCELIA_BACKEND", "a")
    ms.set_context(device_target="B")
    assert current_backend().name == "b"
    assert ms.get_context("device_target") == "b"
    ms.set_device("a")
    assert current_backend().name == "a"


def test_not_installed_error_says_what_to_install(isolated: None) -> None:
    backends.register_backend("a", lambda: FakeBackend("a", 1))
    with pytest.raises(backends.BackendNotInstalledError,
                       match=r"pip install mycelia-backend-gpu.*Installed backends: a"):
        ms.set_context(device_target="GPU")


def test_unavailable_error_gives_the_reason(isolated: None) -> None:
    backends.register_backend("gpu", lambda: FakeBackend("gpu", 1, available=False,
                                                         reason="no CUDA driver (libcuda.so.1 not found)"))
    with pytest.raises(backends.BackendUnavailableError, match="installed but unavailable.*libcuda"):
        ms.set_context(device_target="GPU")


def test_plugin_that_fails_to_load_names_distribution_and_switch(isolated: None) -> None:
    def broken() -> backends.Backend:
        raise ImportError("libvendor.so: cannot open shared object file")

    backends.register_backend("vendor", broken, distribution="vendor-backend", version="2.3")
    with pytest.raises(backends.BackendLoadError) as error:
        backends.get_backend("vendor")
    message = str(error.value)
    assert "vendor-backend 2.3" in message and "libvendor.so" in message
    assert "MYCELIA_DISABLE_PLUGINS=vendor" in message and "MYCELIA_PLUGIN_AUTOLOAD=0" in message


@pytest.mark.parametrize(("version", "ok"), [((1, 0), True), ((2, 0), False), ((1, 99), False), ((0, 9), False)])
def test_api_version_compatibility(isolated: None, version: tuple[int, int], ok: bool) -> None:
    backends.register_backend("v", lambda: FakeBackend("v", 1, api_version=version),
                              distribution="v-dist", version="0.3")
    if ok:
        assert backends.get_backend("v").api_version == version
    else:
        with pytest.raises(backends.BackendVersionError) as error:
            backends.get_backend("v")
        shown = f"{version[0]}.{version[1]}"
        core = f"{backends.API_VERSION[0]}.{backends.API_VERSION[1]}"
        assert f"implements backend API {shown}" in str(error.value)
        assert f"provides API {core}" in str(error.value)


def test_list_backends_reports_without_raising(isolated: None) -> None:
    backends.register_backend("good", lambda: FakeBackend("good", 5))
    backends.register_backend("off", lambda: FakeBackend("off", 5, available=False, reason="no CANN"))
    backends.register_backend("bad", lambda: 42, distribution="bad-dist")  # type: ignore[arg-type,return-value]
    rows = {row.name: row for row in ms.list_backends()}
    assert rows["good"].available is True and rows["good"].priority == 5
    assert rows["off"].available is False and rows["off"].reason == "no CANN"
    assert rows["bad"].available is None and "not a mycelia.backends.Backend" in rows["bad"].reason


def test_ops_run_on_the_selected_backend(isolated: None) -> None:
    backends.register_backend("a", lambda: FakeBackend("a", 1))
    x = ms.Tensor(np.arange(3, dtype=np.float32))
    assert x._backend.name == "a"
    assert (ms.ops.add(x, x).asnumpy() == np.arange(3) * 2).all()


def test_no_backend_installed_is_a_clear_error(isolated: None) -> None:
    with pytest.raises(backends.BackendNotInstalledError, match="pip install mycelia-backend-cpu"):
        ms.Tensor(np.ones(2))
