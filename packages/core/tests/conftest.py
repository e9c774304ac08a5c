from __future__ import annotations

from collections.abc import Iterator

import pytest

from mycelia import _context
from mycelia.backends import reset_discovery
from mycelia.backends._registry import _registered


@pytest.fixture(autouse=True)
def clean_backend_state() -> Iterator[None]:
    """Every test starts and ends with fresh discovery, no registered fakes, default context."""
    reset_discovery()
    _registered.clear()
    _context.reset_context()
    yield
    reset_discovery()
    _registered.clear()
    _context.reset_context()
