"""Compile nanobind extensions with the system C++ compiler, no CMake.

Used by the hatchling build hook (``tools/hatch_native_hook.py``) and by the test suite's
freshness check: every extension records a hash of everything that went into it (sources,
headers, flags, nanobind version, Python ABI). A build whose stamp differs is rebuilt, and the
hash is compiled into the module so a test can prove the loaded binary matches the sources.

Rebuild by hand after a C++ edit::

    python tools/native_build.py packages/core packages/backend-cpu
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from pathlib import Path

# Optimised, hidden visibility, the flags nanobind's own CMake config uses for release builds.
CXX_FLAGS = (
    # -ffp-contract=off: no fused multiply-adds the source did not ask for, so compiled arithmetic rounds
    # exactly as numpy's (eager) does.
    "-std=c++17", "-O3", "-ffp-contract=off", "-fPIC", "-fvisibility=hidden", "-fno-strict-aliasing",
    "-ffunction-sections", "-fdata-sections", "-DNDEBUG", "-DNB_COMPACT_ASSERTIONS",
)
LINK_FLAGS = ("-shared", "-Wl,--gc-sections", "-Wl,-s")
HEADER_SUFFIXES = (".h", ".hpp", ".inl")
# Headers shared by every Mycelia extension (build info); part of each extension's hash.
SHARED_INCLUDE_DIR = Path(__file__).resolve().parent / "native_include"
SOURCE_SUFFIXES = (".cpp", ".cc")


@dataclass(frozen=True)
class ExtensionSpec:
    """One extension module: ``module`` is dotted (``mycelia._native``), paths are relative
    to the package root; every header under ``source_dir`` counts toward the hash."""

    module: str
    source_dir: str

    def output_path(self, package_root: Path) -> Path:
        *parents, leaf = self.module.split(".")
        suffix = sysconfig.get_config_var("EXT_SUFFIX")
        return package_root.joinpath("src", *parents, leaf + suffix)


def extension_specs(package_root: Path) -> list[ExtensionSpec]:
    """Read ``[[tool.hatch.build.hooks.custom.extensions]]`` from the package's pyproject."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    data = tomllib.loads((package_root / "pyproject.toml").read_text())
    hook = data.get("tool", {}).get("hatch", {}).get("build", {}).get("hooks", {}).get("custom", {})
    return [ExtensionSpec(e["module"], e["source_dir"]) for e in hook.get("extensions", [])]


def _compiler() -> list[str]:
    return shlex.split(os.environ.get("CXX") or "g++")


def _nanobind_dir() -> Path:
    import nanobind

    return Path(nanobind.source_dir()).parent


def _files(source_dir: Path, skip: tuple[Path, ...] = ()) -> list[Path]:
    wanted = SOURCE_SUFFIXES + HEADER_SUFFIXES
    return sorted(p for p in source_dir.rglob("*") if p.suffix in wanted and p.is_file()
                  and not any(p.is_relative_to(folder) for folder in skip))


def _nested_source_dirs(package_root: Path, spec: ExtensionSpec) -> tuple[Path, ...]:
    """Source folders of the package's other extensions inside ``spec``'s (``csrc/fused`` in
    ``csrc``): they are separate modules, so neither compiled into nor hashed with this one."""
    if not (package_root / "pyproject.toml").is_file():
        return ()
    own = (package_root / spec.source_dir).resolve()
    others = ((package_root / other.source_dir).resolve() for other in extension_specs(package_root))
    return tuple(folder for folder in others if folder != own and folder.is_relative_to(own))


def source_hash(package_root: Path, spec: ExtensionSpec) -> str:
    """Hash of every input to the build; equal hashes mean an equal binary."""
    import nanobind

    digest = hashlib.sha256()
    for part in (*_compiler(), *CXX_FLAGS, *LINK_FLAGS, nanobind.__version__,
                 sysconfig.get_config_var("EXT_SUFFIX"), spec.module):
        digest.update(part.encode() + b"\0")
    skip = _nested_source_dirs(package_root, spec)
    for folder in ((package_root / spec.source_dir).resolve(), SHARED_INCLUDE_DIR):
        for path in _files(folder, skip):
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _stamp_path(output: Path) -> Path:
    return output.with_name(output.name + ".stamp")


def _cache_dir() -> Path:
    root = os.environ.get("MYCELIA_BUILD_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "mycelia-native")
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(
            f"C++ build failed ({result.returncode}):\n  {shlex.join(command)}\n{result.stderr}")


def _python_includes() -> list[str]:
    return ["-I" + sysconfig.get_paths()["include"]]


def _nanobind_object() -> Path:
    """libnanobind compiled once per (nanobind version, Python ABI, flags) and cached."""
    import nanobind

    key = hashlib.sha256(" ".join((*_compiler(), *CXX_FLAGS, nanobind.__version__,
                                   sysconfig.get_config_var("EXT_SUFFIX"))).encode())
    cached = _cache_dir() / f"nanobind-{nanobind.__version__}-{key.hexdigest()[:16]}.o"
    if cached.exists():
        return cached
    nb = _nanobind_dir()
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "nanobind.o"
        _run([*_compiler(), *CXX_FLAGS, "-DNB_BUILD", *_python_includes(),
              f"-I{nb / 'include'}", f"-I{nb / 'ext' / 'robin_map' / 'include'}",
              "-c", str(nb / "src" / "nb_combined.cpp"), "-o", str(target)])
        os.replace(shutil.copy(target, cached.with_suffix(".tmp")), cached)
    return cached


def build_extension(package_root: Path, spec: ExtensionSpec, *, force: bool = False) -> Path:
    """Build ``spec`` in place under ``src/`` unless its stamp already matches the sources."""
    package_root = package_root.resolve()
    output = spec.output_path(package_root)
    digest = source_hash(package_root, spec)
    stamp = _stamp_path(output)
    if not force and output.exists() and stamp.exists() and stamp.read_text() == digest:
        return output
    nb = _nanobind_dir()
    source_dir = package_root / spec.source_dir
    sources = [str(p) for p in _files(source_dir, _nested_source_dirs(package_root, spec))
               if p.suffix in SOURCE_SUFFIXES]
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / output.name
        _run([*_compiler(), *CXX_FLAGS, *_python_includes(), f"-I{nb / 'include'}",
              f"-I{source_dir}", f"-I{SHARED_INCLUDE_DIR}", f'-DMYCELIA_SOURCE_HASH="{digest}"',
              f'-DMYCELIA_MODULE_NAME={spec.module.rsplit(".", 1)[-1]}',
              *sources, str(_nanobind_object()), *LINK_FLAGS, "-o", str(target)])
        output.parent.mkdir(parents=True, exist_ok=True)
        # Replace atomically: a running process keeps its mapped copy of the old file.
        os.replace(shutil.copy(target, output.with_name(output.name + ".tmp")), output)
    stamp.write_text(digest)
    return output


def build_package(package_root: Path, *, force: bool = False) -> list[Path]:
    return [build_extension(package_root, spec, force=force)
            for spec in extension_specs(package_root)]


if __name__ == "__main__":
    roots = [Path(arg) for arg in sys.argv[1:] if not arg.startswith("-")]
    for root in roots or [Path.cwd()]:
        for built in build_package(root, force="--force" in sys.argv):
            print(f"built {built}")
