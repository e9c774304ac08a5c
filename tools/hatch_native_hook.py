"""Hatchling build hook: compiles the package's nanobind extensions (see native_build.py).

Configured per package::

    [tool.hatch.build.hooks.custom]
    path = "../../tools/hatch_native_hook.py"
    dependencies = ["nanobind==3.1.0"]
    [[tool.hatch.build.hooks.custom.extensions]]
    module = "mycelia._native"
    source_dir = "csrc"
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


def _load_native_build() -> Any:
    path = Path(__file__).with_name("native_build.py")
    spec = importlib.util.spec_from_file_location("_mycelia_native_build", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses need the module registered
    spec.loader.exec_module(module)
    return module


class NativeExtensionHook(BuildHookInterface):  # type: ignore[misc]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        native_build = _load_native_build()
        root = Path(self.root)
        for entry in self.config.get("extensions", []):
            spec = native_build.ExtensionSpec(entry["module"], entry["source_dir"])
            built = native_build.build_extension(root, spec)
            self.app.display_info(f"native extension {spec.module}: {built.name}")
            if version != "editable":
                # Built files are git-ignored, so name them explicitly for the wheel.
                build_data["force_include"][str(built)] = str(built.relative_to(root / "src"))
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
