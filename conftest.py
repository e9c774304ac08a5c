"""Repository-wide pytest set-up: the C++ extensions are rebuilt when their sources changed.

Editable installs never rebuild C++ by themselves, so a stale ``.so`` could hide a broken edit.
Before any test imports mycelia, every extension whose stamp differs from its sources is rebuilt
(a broken edit fails the run here). ``tests/test_native_build.py`` then proves the loaded binaries
carry the current source hash.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
NATIVE_PACKAGES = ("packages/core", "packages/backend-cpu")
sys.path.insert(0, str(ROOT / "tools"))
import native_build  # noqa: E402


def _installed_from_this_checkout(import_name: str) -> bool:
    spec = importlib.util.find_spec(import_name)
    return spec is not None and spec.origin is not None and Path(spec.origin).resolve().is_relative_to(ROOT)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):  # xdist workers: the controller already built
        return
    if not _installed_from_this_checkout("mycelia"):
        return
    for package in NATIVE_PACKAGES:
        native_build.build_package(ROOT / package)
