from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

SEED = Path(__file__).resolve().parents[3] / "examples" / "seed.py"


def test_seed_example_prints_exactly_numpys_array() -> None:
    out = subprocess.run([sys.executable, str(SEED)], capture_output=True, text=True, check=True)
    assert out.stdout == str(np.full([1, 3, 3, 4], 2.0, dtype=np.float32)) + "\n"
