"""Graph breaks (issue 7): when tracing meets what cannot go into a graph (a host read of a tensor, an
``if`` on a tensor, a call it cannot trace), the graph so far is compiled, the function's frames are
saved as a *state* (locals and stacks of the caller and every inlined callee), and the call continues in
a :class:`Continuation`:

1. the instruction that broke runs for real on the state's real values (one instruction, by the same
   interpreter in real mode: :class:`RealTracer`);
2. the frames after it are traced again from that state, into the next graph, with guards on the state
   (a *resume* captured on first use and cached like any entry);
3. a further break chains another continuation. The jitted function's trampoline runs them in turn.

Resume points are keyed by (code, instruction, stack depth, names) of every frame, so a break inside a
loop reuses one continuation per iteration, and a break inside a callee counts once for the caller.
Where the state cannot be saved (a generator-expression frame, a function made inside the call) the
whole function runs eagerly instead, as before.
"""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from typing import Any

from mycelia_capture._liveness import live_locals
from mycelia_capture._values import NULL, CaptureAbort, Unsupported, Var

__all__ = ["RUNNING_ITERATORS", "Continuation", "FrameState", "GraphBreak", "IteratorState", "Resume", "saved_value",
           "snapshot"]


class IteratorState:
    """A loop's iterator in a saved state: the items it has left (a fresh iterator is made from them)."""

    __slots__ = ("items",)

    def __init__(self, items: list[Any]) -> None:
        self.items = items


@dataclass
class FrameState:
    """One suspended frame: resume at ``index`` with ``stack``; ``pending_call`` frames wait for the
    value of the call they made (pushed when the inner frame returns)."""

    function: types.FunctionType
    code: Any
    index: int
    stack: list[Any]
    locals: dict[str, Any]
    cells: dict[str, Any]
    pending_call: bool
    handled: Any = None  # the exception an `except` block is handling there

    def layout(self) -> tuple[Any, ...]:
        return (self.function.__code__, self.index, len(self.stack), tuple(self.locals), tuple(self.cells),
                self.pending_call)


class GraphBreak(Exception):
    def __init__(self, reason: str, filename: str, lineno: int | None, frames: list[FrameState]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.filename = filename
        self.lineno = lineno
        self.frames = frames


class Resume:
    """What a segment returns instead of a result: continue in ``continuation`` with ``state``."""

    __slots__ = ("continuation", "state")

    def __init__(self, continuation: Continuation, state: tuple[Any, ...]) -> None:
        self.continuation = continuation
        self.state = state


def snapshot(frames: list[Any]) -> list[FrameState]:
    """The state of the traced frames at a break: the innermost before its instruction, the others
    after popping the call they are in."""
    states = []
    for position, frame in enumerate(frames):
        innermost = position == len(frames) - 1
        if frame.collected is not None or (frame.code.name.startswith("<") and frame.code.name != "<lambda>"):
            raise Unsupported("a graph break inside a comprehension or generator expression")
        index, stack = frame.before if innermost else frame.after_call
        cells = {}
        for name, (kind, cell, _source) in frame.cells.items():
            if kind == "local":
                try:
                    cells[name] = cell.cell_contents
                except ValueError:
                    cells[name] = NULL
            else:
                cells[name] = None  # an outer cell: reloaded from the function's closure
        states.append(FrameState(frame.function, frame.code, index, list(stack), _live(frame.code, index, frame.locals),
                                 cells, not innermost, frame.handled))
    return states


def _live(code: Any, index: int, local_values: dict[str, Any]) -> dict[str, Any]:
    """The locals a resume at ``index`` can read (dead ones are not saved: see :mod:`._liveness`)."""
    live = live_locals(code, index)
    return dict(local_values) if live is None else {k: v for k, v in local_values.items() if k in live}


def flatten(states: list[FrameState]) -> list[Any]:
    """The values of the saved frames, in slot order (locals, stack, local cells, frame by frame)."""
    values: list[Any] = []
    for state in states:
        values.extend(state.locals.values())
        values.extend(state.stack)
        values.extend(v for v in state.cells.values() if v is not None)
    return values


def unflatten(layouts: list[FrameState], values: list[Any]) -> list[FrameState]:
    """FrameStates like ``layouts`` holding ``values`` (as produced by :func:`flatten`)."""
    iterator = iter(values)
    result = []
    for layout in layouts:
        local_values = {name: next(iterator) for name in layout.locals}
        stack = [next(iterator) for _ in layout.stack]
        cells = {name: (next(iterator) if value is not None else None) for name, value in layout.cells.items()}
        result.append(FrameState(layout.function, layout.code, layout.index, stack, local_values, cells,
                                 layout.pending_call, layout.handled))
    return result


@dataclass
class Continuation:
    """A resume point: the saved frames' layout, and the segments captured after its instruction."""

    layouts: list[FrameState]
    reason: str
    where: tuple[str, int | None]
    segments: dict[Any, Any] = field(default_factory=dict)  # post-step layout key -> segment cache
    eager: set[Any] = field(default_factory=set)  # post-step layout keys whose rest runs eagerly
    step: Any = None  # state -> result: the generated step (see _resume), else the general path

    def key(self) -> tuple[Any, ...]:
        return tuple(state.layout() for state in self.layouts)


def drive(tracer: Any, frames: list[Any], pending: Var | None = None) -> Var:
    """Run ``frames`` (innermost last) to the end: each returned value goes to the frame waiting for it.
    ``pending`` is pushed on the innermost frame first (a value its suspended call produced)."""
    result = pending
    for position in range(len(frames) - 1, -1, -1):
        frame = frames[position]
        if result is not None:
            frame.stack.append(result)
        tracer.frames[:] = frames[:position]  # the suspended callers: part of the state if this one breaks
        try:
            result = tracer.run_frame(frame)
        except CaptureAbort as abort:  # raised in a callee: the caller's handlers get it
            error = abort.error
            for outer in range(position - 1, -1, -1):
                if tracer.handle_exception(frames[outer], error, frames[outer].index - 1):
                    return drive(tracer, frames[:outer + 1])
            raise
    assert result is not None
    return result


def snapshot_after_step(frames: list[Any]) -> list[FrameState]:
    """The state of frames run for real. A running iterator is saved as its remaining items, and the live
    frame gets a new iterator over them (the frames may still run on, eagerly)."""
    states = []
    for position, frame in enumerate(frames):
        for values in (frame.stack, frame.locals):
            keys = range(len(values)) if isinstance(values, list) else list(values)
            for key in keys:
                item = values[key]
                if item is not NULL and isinstance(item.value, RUNNING_ITERATORS):
                    values[key] = Var(_ReplayIterator(list(item.value)))
        cells = {}
        for name, (_kind, cell, _source) in frame.cells.items():
            if name in frame.code.freevars:
                cells[name] = None
            else:
                try:
                    content = cell.cell_contents
                    cells[name] = content.value if isinstance(content, Var) else content
                except ValueError:
                    cells[name] = NULL
        states.append(FrameState(frame.function, frame.code, frame.index,
                                 [v if v is NULL else saved_value(v.value) for v in frame.stack],
                                 {k: saved_value(v.value)
                                  for k, v in _live(frame.code, frame.index, frame.locals).items()}, cells,
                                 position != len(frames) - 1, frame.handled))
    return states


RUNNING_ITERATORS = (type(iter([])), type(iter(())), type(iter(range(0))), type(iter(range(1 << 70))),
                   type(iter({})), type(iter(set())), zip, enumerate, map, filter, reversed, types.GeneratorType)


class _ReplayIterator:
    """An iterator over saved items whose remaining items can be read without consuming them."""

    __slots__ = ("items", "position")

    def __init__(self, items: list[Any]) -> None:
        self.items = items
        self.position = 0

    def __iter__(self) -> _ReplayIterator:
        return self

    def __next__(self) -> Any:
        if self.position >= len(self.items):
            raise StopIteration
        self.position += 1
        return self.items[self.position - 1]


_ITERATOR_MODULES = frozenset({"builtins", "itertools", "collections", "numpy"})


def saved_value(value: Any) -> Any:
    """A value of a frame run for real, as state: a running iterator (of builtins, itertools or numpy:
    a numpy array's too) becomes its remaining items."""
    if isinstance(value, _ReplayIterator):
        return IteratorState(value.items[value.position:])
    if isinstance(value, RUNNING_ITERATORS) or (hasattr(type(value), "__next__") and \
            type(value).__module__ in _ITERATOR_MODULES):  # not a file or a user's stateful iterator
        return IteratorState(list(value))
    return value
