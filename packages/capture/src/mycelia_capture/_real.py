"""The interpreter in real mode: the same instruction semantics as the tracer, on real values, with
every call made for real. A continuation uses it for the instruction that broke the graph, and for the
rest of a call that cannot be captured again (a raised exception, a resume past its recompile limit)."""

from __future__ import annotations

import builtins
import types
from typing import Any

from mycelia._errors import interpreted_location
from mycelia_capture._breaks import FrameState, IteratorState, drive
from mycelia_capture._tracer import Frame, Tracer
from mycelia_capture._values import NULL, CaptureAbort, Var

__all__ = ["RealTracer"]


def _live(value: Any) -> Any:
    return iter(value.items) if isinstance(value, IteratorState) else value


def _frame_locals(frame: Frame) -> dict[str, Any]:
    values = {name: var.value for name, var in frame.locals.items()}
    for name, (_kind, cell, _source) in frame.cells.items():
        try:
            values[name] = cell.cell_contents
        except ValueError:
            pass
    return values


def _scoped(builtin: Any) -> Any:
    """``eval``/``exec`` in the interpreted frame (explicit namespaces are kept)."""
    def make(frame: Frame) -> Any:
        def run(source: Any, globals_: Any = None, locals_: Any = None) -> Any:
            namespace = frame.function.__globals__ if globals_ is None else globals_
            return builtin(source, namespace, _frame_locals(frame) if globals_ is None and locals_ is None else locals_)
        return run
    return make


_FRAME_READERS: dict[Any, Any] = {
    locals: lambda frame: lambda: _frame_locals(frame),
    globals: lambda frame: lambda: frame.function.__globals__,
    vars: lambda frame: lambda *obj: vars(*obj) if obj else _frame_locals(frame),
    dir: lambda frame: lambda *obj: dir(*obj) if obj else sorted(_frame_locals(frame)),
    eval: _scoped(eval),
    exec: _scoped(exec),
}


class RealTracer(Tracer):
    def __init__(self, config: Any) -> None:
        super().__init__(config, None)  # type: ignore[arg-type]
        self.max_steps = float("inf")  # real code runs as long as it runs

    # -- values are what they are ----------------------------------------------------------------------
    def load(self, value: Any, source: Any) -> Var:
        return Var(value)

    def materialize(self, var: Any) -> Any:
        return var.value if isinstance(var, Var) else var

    real = materialize

    def wrap(self, value: Any) -> Var:
        return Var(value)

    def truth(self, var: Var) -> bool:
        return bool(self.user_call(bool, (var.value,), {}))

    def is_outside(self, var: Var) -> bool:
        return False  # writes happen now, for real

    def iterate(self, var: Var) -> Any:
        return self.user_call(iter, (var.value,), {})

    def subscript(self, container: Var, key: Var) -> Var:
        return Var(self.user_call(lambda c, k: c[k], (container.value, key.value), {}))

    def apply_real(self, function: Any, args: list[Var]) -> Var:
        return Var(self.user_call(function, [a.value for a in args], {}))

    def load_attribute(self, owner: Var, name: str) -> Var:
        return Var(self.user_call(getattr, (owner.value, name), {}))

    def load_global(self, frame: Any, name: str) -> Var:
        namespace = frame.function.__globals__
        if name in namespace:
            return Var(namespace[name])
        builtin = namespace.get("__builtins__", builtins.__dict__)
        builtin = builtin.__dict__ if isinstance(builtin, types.ModuleType) else builtin
        if name not in builtin:
            raise CaptureAbort(NameError(f"name {name!r} is not defined"))
        return Var(builtin[name])

    def store_global(self, namespace: dict[str, Any], label: str, name: str, value: Any) -> None:
        if isinstance(value, Var):
            namespace[name] = value.value
        elif name in namespace:
            del namespace[name]
        else:
            raise CaptureAbort(NameError(f"name {name!r} is not defined"))

    def load_cell(self, frame: Any, name: str) -> Var:
        try:
            return Var(frame.cells[name][1].cell_contents)
        except ValueError:
            raise CaptureAbort(NameError(f"free variable {name!r} referenced before assignment")) from None

    def store_cell(self, frame: Any, name: str, value: Var) -> None:
        frame.cells[name][1].cell_contents = value.value

    def call(self, callee: Any, args: list[Var], kwargs: dict[str, Var]) -> Var:
        self.direct_call = False
        function = callee.value
        values = [a.value for a in args]
        if function in _FRAME_READERS and self.frames:  # they read the interpreted frame, not this one
            function = _FRAME_READERS[function](self.frames[-1])
        return Var(self.user_call(function, values, {k: v.value for k, v in kwargs.items()}))

    def user_call(self, function: Any, args: Any, kwargs: dict[str, Any]) -> Any:
        """Real code, with errors located at the interpreted user line (not at the interpreter)."""
        frame = self.frames[-1] if self.frames else None
        saved = getattr(interpreted_location, "value", None)
        interpreted_location.value = f"{frame.code.filename}:{frame.lineno}" if frame is not None else saved
        try:
            return super().user_call(function, args, kwargs)
        finally:
            interpreted_location.value = saved

    # -- running saved frames --------------------------------------------------------------------------
    def frames_for(self, states: list[FrameState]) -> list[Frame]:
        frames = []
        for state in states:
            frame = Frame(state.function, state.code, {k: Var(_live(v)) for k, v in state.locals.items()}, None)
            frame.index = state.index
            frame.stack = [v if v is NULL else Var(_live(v)) for v in state.stack]
            frame.handled = state.handled
            closure = state.function.__closure__ or ()
            free = {name: closure[i] for i, name in enumerate(state.code.freevars)}
            for name, value in state.cells.items():
                if value is None:
                    frame.cells[name] = ("real", free[name], None)
                else:
                    cell = types.CellType()
                    if value is not NULL:
                        cell.cell_contents = value
                    frame.cells[name] = ("real", cell, None)
            frames.append(frame)
        return frames

    def step_once(self, frames: list[Frame]) -> tuple[str, Any]:
        """Run the innermost frame's next instruction. ``("done", value)`` when the outermost frame
        returned; ``("continue", frames)`` to capture what follows; ``("eager", value)`` when an exception
        was raised and handled (the rest of the call then ran here, in real mode)."""
        inner = frames[-1]
        self.frames[:] = frames[:-1]
        self.frames.append(inner)
        instruction = inner.code.instructions[inner.index]
        inner.index += 1
        error = None
        try:
            result = self.step(inner, instruction)
        except CaptureAbort as abort:
            error = abort.error
        finally:
            self.frames.clear()
        if error is not None:
            return "eager", self.raised(frames, error)
        if result is not None:  # the innermost frame returned: its caller continues with the value
            frames.pop()
            if not frames:
                return "done", result.value
            frames[-1].stack.append(result)
        return "continue", frames

    def raised(self, frames: list[Frame], error: BaseException) -> Any:
        """The innermost frame's last instruction raised ``error``: the saved frames' own handlers run
        (and the rest of the call, here), else it propagates to the caller."""
        for position in range(len(frames) - 1, -1, -1):
            if self.handle_exception(frames[position], error, frames[position].index - 1):
                return self.finish(frames[:position + 1])
        raise error

    def finish(self, frames: list[Frame]) -> Any:
        """The rest of the call, run here (eagerly)."""
        try:
            return drive(self, frames).value
        except CaptureAbort as abort:
            error = abort.error
        raise error  # outside the handler: the user's exception keeps its own context
