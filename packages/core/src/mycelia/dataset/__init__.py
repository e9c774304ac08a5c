"""Small bundled datasets (``mycelia.dataset.load_digits``)."""

from __future__ import annotations

from mycelia.dataset._digits import load_digits, train_test_split

__all__ = ["load_digits", "train_test_split"]
