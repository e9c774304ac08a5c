"""The PIJit differential corpus: every module's ``CASES``, gathered in ``ALL_CASES`` (names unique)."""

from __future__ import annotations

from differential import gather

from corpus import (
    calls,
    cells,
    classes,
    closures,
    containers,
    control,
    grads,
    guards,
    scalars,
    strings,
    tensors,
    unsupported,
)

MODULES = (scalars, strings, containers, control, calls, closures, classes, tensors, cells, grads, guards,
           unsupported)
ALL_CASES, counts = gather(MODULES)
