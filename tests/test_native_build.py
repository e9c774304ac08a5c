"""The loaded C++ extensions are built from the sources in this checkout (never stale)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import native_build  # noqa: E402

EXTENSIONS = [("packages/core", "mycelia._native"), ("packages/backend-cpu", "mycelia_backend_cpu._native")]


def _editable(module_name: str) -> bool:
    top = importlib.import_module(module_name.split(".")[0])
    return Path(top.__file__ or "").resolve().is_relative_to(ROOT)


@pytest.mark.parametrize(("package", "module_name"), EXTENSIONS)
def test_loaded_extension_matches_current_sources(package: str, module_name: str) -> None:
    if not _editable(module_name):
        pytest.skip(f"{module_name} is installed from a wheel, not from this checkout")
    (spec,) = [s for s in native_build.extension_specs(ROOT / package) if s.module == module_name]
    module = importlib.import_module(module_name)
    assert module.source_hash() == native_build.source_hash(ROOT / package, spec)


def test_source_edit_changes_hash_and_rebuild_compiles_it(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "csrc").mkdir(parents=True)
    (package / "src").mkdir()
    source = package / "csrc" / "native.cpp"
    source.write_text(
        "#include <nanobind/nanobind.h>\n"
        "NB_MODULE(MYCELIA_MODULE_NAME, m) { m.def(\"value\", [] { return 1; }); "
        "m.def(\"source_hash\", [] { return MYCELIA_SOURCE_HASH; }); }\n")
    spec = native_build.ExtensionSpec("probe_ext", "csrc")
    first = native_build.source_hash(package, spec)
    native_build.build_extension(package, spec)
    source.write_text(source.read_text().replace("return 1;", "return 1 +;"))  # a broken edit
    assert native_build.source_hash(package, spec) != first
    with pytest.raises(RuntimeError, match="C\\+\\+ build failed"):
        native_build.build_extension(package, spec)
