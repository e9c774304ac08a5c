"""The six wheels build; core + backend-cpu installed into a fresh venv run the seed example,
and core alone fails with the clear "not installed" error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from build_wheels import PACKAGES, build_wheels  # noqa: E402

pytestmark = pytest.mark.wheel


def _venv_with(tmp_path: Path, name: str, wheels: list[Path]) -> Path:
    venv = tmp_path / name
    subprocess.run([sys.executable, "-m", "uv", "venv", "--quiet", "--python", sys.executable, str(venv)],
                   check=True)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "uv", "pip", "install", "--quiet", "--python", str(python),
                    *map(str, wheels)], check=True)
    return python


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("wheels")
    built = build_wheels(out)
    by_package = {}
    for package in PACKAGES:
        prefix = "mycelia_" + package.replace("-", "_") + "-"
        (match,) = [w for w in built if w.name.startswith(prefix)]
        by_package[package] = match
    return by_package


def test_all_six_wheels_build_with_platform_tags_for_native_ones(wheels: dict[str, Path]) -> None:
    assert set(wheels) == set(PACKAGES)
    tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
    for package in ("core", "backend-cpu"):
        assert f"-{tag}-{tag}-" in wheels[package].name and "linux" in wheels[package].name
    for package in ("capture", "optimizer", "backend-gpu", "backend-ascend"):
        assert wheels[package].name.endswith("-py3-none-any.whl")


def test_core_and_cpu_wheels_run_the_seed_example(wheels: dict[str, Path], tmp_path: Path) -> None:
    python = _venv_with(tmp_path, "cpu", [wheels["core"], wheels["backend-cpu"]])
    out = subprocess.run([str(python), str(ROOT / "examples" / "seed.py")], capture_output=True,
                         text=True, check=True, cwd=tmp_path)
    assert out.stdout == str(np.full([1, 3, 3, 4], 2.0, dtype=np.float32)) + "\n"
    info = subprocess.run([str(python), "-m", "mycelia", "info"], capture_output=True, text=True,
                          check=True, cwd=tmp_path)
    assert "source_hash=" in info.stdout  # the compiled extension shipped inside the wheel


def test_core_alone_says_what_to_install(wheels: dict[str, Path], tmp_path: Path) -> None:
    python = _venv_with(tmp_path, "core", [wheels["core"]])
    out = subprocess.run([str(python), str(ROOT / "examples" / "seed.py")], capture_output=True,
                         text=True, cwd=tmp_path)
    assert out.returncode != 0
    assert "BackendNotInstalledError" in out.stderr
    assert "backend 'cpu' is not installed: pip install mycelia-backend-cpu" in out.stderr
