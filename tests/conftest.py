from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/conformance.py

from mycelia import _context


@pytest.fixture(autouse=True)
def default_context() -> Iterator[None]:
    yield
    _context.reset_context()
