"""What the symbolic executor works with: values that remember where they came from.

A :class:`Var` wraps the real Python object seen while tracing (a traced tensor for tensor values)
and, for objects read from the call's frame, its :class:`~._guards.Source`. Guards are added when a
value is loaded from a source; ``Tracer.materialize`` deep-guards a sourced container before it
escapes into a real call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mycelia_capture._guards import Source

__all__ = ["NULL", "CaptureAbort", "Dynamic", "Unsupported", "Var"]


@dataclass(eq=False)
class Var:
    value: Any
    source: Source | None = None

    def __repr__(self) -> str:
        where = f" from {self.source.describe()}" if self.source is not None else ""
        return f"Var({type(self.value).__name__}{where})"


class Dynamic(Var):
    """A host number in a resume state (what ``.item()`` or ``float(t)`` returned before the graph broke)
    traced without assuming its value: arithmetic on it with float tensors makes it a graph input, and
    Python arithmetic on it (``float``/``int``, ``+ - * /`` with numbers) gives another Dynamic. Any other
    use reads ``.value``, which *specializes* it first: the entry is then guarded on the value (safe by
    construction: no path sees the number without either a guard or a graph input)."""

    def __init__(self, raw: Any, source: Source, specialize: Any) -> None:
        self.raw = raw
        self.source = source
        self._specialize = specialize

    @property  # type: ignore[override]
    def value(self) -> Any:
        if self._specialize is not None:
            specialize, self._specialize = self._specialize, None
            specialize(self)
        return self.raw

    def __repr__(self) -> str:
        return f"Dynamic({type(self.raw).__name__} from {self.source.describe()})"


class _Null:
    """The NULL slot calls push below a callable (never a real value)."""

    def __repr__(self) -> str:
        return "NULL"


NULL = _Null()


class Unsupported(Exception):
    """Code the tracer cannot capture; the function runs eagerly with this reason recorded."""

    def __init__(self, reason: str, filename: str = "", lineno: int | None = None, breakable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.filename = filename
        self.lineno = lineno
        self.breakable = breakable  # a graph break can resume after the instruction (host reads, branches)

    def where(self) -> str:
        return f"{self.filename}:{self.lineno}" if self.lineno is not None else self.filename or "?"


class CaptureAbort(Exception):
    """The user's code raised while being traced (for these guard values): this call runs eagerly,
    which raises the same exception; nothing is cached."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error
