import subprocess
import sys

import mycelia_optimizer


def test_version_matches_distribution_metadata() -> None:
    from importlib import metadata

    assert mycelia_optimizer.__version__ == metadata.version("mycelia-optimizer")


def test_importing_core_does_not_import_this_package() -> None:
    code = "import mycelia, sys; print('mycelia_optimizer' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
