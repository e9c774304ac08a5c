"""Build the six wheels into ``dist/`` (or the folder given): ``python -m hatch run wheels``.

Each package is built from its own folder with ``uv build --wheel`` (isolated build environment,
so a wheel never depends on what happens to be installed here).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "capture", "optimizer", "backend-cpu", "backend-gpu", "backend-ascend")


def build_wheels(out_dir: Path, packages: tuple[str, ...] = PACKAGES, python: str = sys.executable) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    for package in packages:
        subprocess.run([sys.executable, "-m", "uv", "build", "--wheel", "--quiet", "--python", python,
                        "--out-dir", str(out_dir), str(ROOT / "packages" / package)], check=True)
    return sorted(out_dir.glob("*.whl"))


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "dist"
    for wheel in build_wheels(target):
        print(wheel.relative_to(ROOT) if wheel.is_relative_to(ROOT) else wheel)
