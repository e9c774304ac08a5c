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

__all__ = ["NULL", "CaptureAbort", "Dynamic", "DynamicTuple", "Unsupported", "Var"]


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
    construction: no path sees the number without either a guard or a graph input). A *volatile* one
    (the value the breaking instruction read from a tensor) is never frozen: a use that needs its value
    is a graph break there instead, where breaking is possible."""

    def __init__(self, raw: Any, source: Source, specialize: Any, volatile: bool = False) -> None:
        self.raw = raw
        self.source = source
        self._specialize = specialize
        self.volatile = volatile  # read from a tensor at the break: a use needing its value breaks instead

    @property  # type: ignore[override]
    def value(self) -> Any:
        if self._specialize is not None:
            specialize, self._specialize = self._specialize, None
            specialize(self)
        return self.raw

    def __repr__(self) -> str:
        return f"Dynamic({type(self.raw).__name__} from {self.source.describe()})"


class DynamicTuple(Var):
    """A tuple (or, made by a comprehension, a list) with Dynamic items (``return y, loss.item()``):
    rebuilt from their sources; reading ``.value`` (real code gets the container) specializes the items
    first, as for a Dynamic."""

    def __init__(self, raw: Any, items: list[Var]) -> None:
        self.raw = raw
        self.items = items
        self.source = None
        self.exposed = False  # real code got the container: it may have changed it (items are stale)

    def append(self, item: Var) -> None:
        """LIST_APPEND of a comprehension (the list is only on its stack until it is complete)."""
        self.raw.append(item.raw if type(item) is Dynamic else item.value)
        self.items.append(item)

    @property  # type: ignore[override]
    def value(self) -> Any:
        for item in sorted(self.items, key=lambda item: not getattr(item, "volatile", False)):
            if type(item) in (Dynamic, DynamicTuple):  # volatile ones first: a graph break then assumes nothing
                item.value  # noqa: B018 - specializes it (or breaks the graph)
        self.exposed = True
        return self.raw

    def __repr__(self) -> str:
        return f"DynamicTuple({type(self.raw).__name__} of {len(self.items)} items)"


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
