"""The PIJit differential corpus: every module's ``CASES``, gathered in ``ALL_CASES`` (names unique)."""

from __future__ import annotations

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
ALL_CASES = [c for module in MODULES for c in module.CASES]

_names = [c.name for c in ALL_CASES]
_duplicates = sorted({n for n in _names if _names.count(n) > 1})
if _duplicates:
    raise RuntimeError(f"duplicate corpus case names: {_duplicates}")


def counts() -> dict[str, int]:
    """Cases per module (category)."""
    return {module.__name__.rsplit(".", 1)[-1]: len(module.CASES) for module in MODULES}
