"""All CPU eager kernels, keyed by op name (one module per op family)."""

from __future__ import annotations

from mycelia.backends import Kernel
from mycelia_backend_cpu._kernels import (
    activation,
    comparison,
    creation,
    elementwise,
    indexing,
    linalg,
    loss,
    nn,
    random,
    reduction,
    shape_ops,
)

__all__ = ["KERNELS"]

KERNELS: dict[str, Kernel] = {}
for _family in (activation, comparison, creation, elementwise, indexing, linalg, loss, nn, random,
                reduction, shape_ops):
    _overlap = KERNELS.keys() & _family.KERNELS.keys()
    if _overlap:
        raise RuntimeError(f"CPU kernels defined twice: {sorted(_overlap)}")
    KERNELS.update(_family.KERNELS)
