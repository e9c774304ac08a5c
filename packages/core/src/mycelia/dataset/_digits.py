"""The bundled handwritten-digits dataset (no download)."""

from __future__ import annotations

import gzip
from importlib import resources

import numpy as np

__all__ = ["load_digits", "train_test_split"]


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """``(images, labels)``: float32 images of shape (1797, 8, 8) scaled to [0, 1], int32 labels."""
    with resources.files("mycelia.dataset").joinpath("data/digits.csv.gz").open("rb") as raw:
        table = np.loadtxt(gzip.open(raw), delimiter=",", dtype=np.float32)
    images = (table[:, :64] / 16.0).reshape(-1, 8, 8).astype(np.float32)
    labels = table[:, 64].astype(np.int32)
    return images, labels


def train_test_split(images: np.ndarray, labels: np.ndarray, test_fraction: float = 0.2,
                     seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A shuffled split: ``(train_images, train_labels, test_images, test_labels)``."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"train_test_split: test_fraction must be in (0, 1), got {test_fraction}")
    order = np.random.default_rng(seed).permutation(len(images))
    cut = round(len(images) * (1.0 - test_fraction))
    train, test = order[:cut], order[cut:]
    return images[train], labels[train], images[test], labels[test]
