"""Behaviour with the real installed plugins (the hatch test environment installs them all)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import mycelia as ms
from mycelia import backends
from mycelia.__main__ import info_text


def test_first_party_backends_are_discovered_by_entry_point() -> None:
    installed = backends.installed_backends()
    assert {"cpu", "gpu", "ascend"} <= set(installed)


def test_default_selection_is_cpu_here_and_gpu_reports_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MYCELIA_BACKEND", raising=False)
    rows = {row.name: row for row in ms.list_backends()}
    assert rows["cpu"].available is True
    if not rows["gpu"].available:
        assert rows["gpu"].reason
        assert ms.get_context("device_target") == "CPU"


def test_environment_variable_selects_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = {row.name: row for row in ms.list_backends()}
    if rows["gpu"].available:
        pytest.skip("a GPU is available here: gpu,cpu would pick gpu")
    monkeypatch.setenv("MYCELIA_BACKEND", "gpu,cpu")
    assert backends.select_backend().name == "cpu"


def test_disabled_plugin_is_not_discovered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MYCELIA_DISABLE_PLUGINS", "gpu")
    backends.reset_discovery()
    assert "gpu" not in backends.installed_backends()
    with pytest.raises(backends.BackendNotInstalledError, match="pip install mycelia-backend-gpu"):
        ms.set_context(device_target="GPU")


def test_info_command_lists_packages_backends_and_native_build() -> None:
    out = subprocess.run([sys.executable, "-m", "mycelia", "info"], capture_output=True, text=True, check=True)
    text = out.stdout
    for expected in ("Python", "numpy", "mycelia-core", "mycelia-backend-cpu", "cpu ", "source_hash="):
        assert expected in text
    assert "available (priority 100)" in text
    assert info_text().splitlines()[0].startswith("Python")
