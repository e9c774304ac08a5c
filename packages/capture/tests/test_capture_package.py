import subprocess
import sys

import mycelia_capture


def test_version_matches_distribution_metadata() -> None:
    from importlib import metadata

    assert mycelia_capture.__version__ == metadata.version("mycelia-capture")


def test_importing_core_does_not_import_this_package() -> None:
    code = "import mycelia, sys; print('mycelia_capture' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
