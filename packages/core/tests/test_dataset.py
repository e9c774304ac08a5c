from __future__ import annotations

import numpy as np
import pytest

from mycelia.dataset import load_digits, train_test_split


def test_digits_are_bundled_and_well_formed() -> None:
    images, labels = load_digits()
    assert images.shape == (1797, 8, 8) and images.dtype == np.float32
    assert labels.shape == (1797,) and set(np.unique(labels)) == set(range(10))
    assert 0.0 <= images.min() and images.max() == 1.0
    assert np.bincount(labels).min() >= 170  # roughly balanced classes


def test_split_is_a_reproducible_partition() -> None:
    images, labels = load_digits()
    a = train_test_split(images, labels, 0.25, seed=3)
    b = train_test_split(images, labels, 0.25, seed=3)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert len(a[0]) + len(a[2]) == 1797 and len(a[2]) == round(1797 * 0.25)
    with pytest.raises(ValueError, match="test_fraction"):
        train_test_split(images, labels, 1.5)
