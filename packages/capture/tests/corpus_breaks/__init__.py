"""The graph-break / side-effect differential corpus (issue 7): every module's ``CASES`` in
``ALL_CASES`` (names unique)."""

from __future__ import annotations

from corpus_breaks import branches, callees, effects, exceptions, host_reads, loops, mixed, prints, try_with

MODULES = (effects, prints, host_reads, branches, loops, callees, try_with, exceptions, mixed)
ALL_CASES = [c for module in MODULES for c in module.CASES]

_names = [c.name for c in ALL_CASES]
_duplicates = sorted({n for n in _names if _names.count(n) > 1})
if _duplicates:
    raise RuntimeError(f"duplicate corpus case names: {_duplicates}")


def counts() -> dict[str, int]:
    """Cases per module (category)."""
    return {module.__name__.rsplit(".", 1)[-1]: len(module.CASES) for module in MODULES}
