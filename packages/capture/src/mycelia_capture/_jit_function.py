"""The jitted function: bind the call's arguments, find a cache entry whose guards hold (most recently
used first), run its compiled graph and rebuild the result; on a miss, trace and compile a new entry.
Unsupported code runs eagerly with its reason recorded (DESIGN §4.1 items 4-5, §4.3)."""

from __future__ import annotations

import inspect
import logging
import sys
import threading
import types
from dataclasses import dataclass, field
from typing import Any

from mycelia import _autograd, _config
from mycelia._context import _context
from mycelia._tensor import Tensor
from mycelia_capture._breaks import (
    Continuation,
    FrameState,
    GraphBreak,
    Resume,
    flatten,
    snapshot_after_step,
    unflatten,
)
from mycelia_capture._capture import MISS, Capture, capture, capture_segment
from mycelia_capture._real import RealTracer
from mycelia_capture._resume import generate_step, stack_end
from mycelia_capture._values import CaptureAbort, Unsupported

__all__ = ["JitFunction", "JitInfo"]

_log = logging.getLogger("mycelia.jit")


@dataclass(frozen=True)
class JitInfo:
    """``mycelia.jit_info(fn)``: what the jit did with ``fn`` so far."""

    state: str
    compile_count: int
    break_count: int
    call_count: int
    guards: str
    graphs: list[str]
    breaks: list[tuple[str, int | None, str]]
    eager_reason: str | None
    entries: int = 0
    eager_calls: int = 0
    compile_ms: list[float] = field(default_factory=list)


def log_enabled(topic: str) -> bool:
    topics = _config.jit_logs()
    return topic in topics or "all" in topics


class _Entry:
    __slots__ = ("calls", "capture")

    def __init__(self, captured: Capture) -> None:
        self.capture = captured
        self.calls = 0


class JitFunction:
    """What ``mycelia.jit(fn)`` returns for a function (and, bound, for methods and Cells)."""

    def __init__(self, function: types.FunctionType, config: Any, receiver: Any = None,
                 owner: JitFunction | None = None, input_signature: Any = None) -> None:
        if not isinstance(function, types.FunctionType):
            raise TypeError(f"jit needs a Python function, got {type(function).__name__}")
        self.function = function
        self.config = config
        self.receiver = receiver  # bound ``self`` (methods, Cells)
        self.__mycelia_jit_original__ = function if receiver is None else types.MethodType(function, receiver)
        self.__wrapped__ = function
        self.__name__ = function.__name__
        self.__qualname__ = function.__qualname__
        self.__doc__ = function.__doc__
        state = owner._state if owner is not None else None
        self._state = state if state is not None else _State(function)
        self._state.config = config
        if input_signature is not None:
            self._state.set_signature(input_signature, offset=0 if receiver is None else 1)
        self._bound_copies: dict[int, JitFunction] = {}

    # -- method binding ----------------------------------------------------------------------------------
    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        copy = self._bound_copies.get(id(instance))
        if copy is None or copy.receiver is not instance:
            copy = JitFunction(self.function, self.config, instance, self)
            self._bound_copies[id(instance)] = copy
        return copy

    def __mycelia_jit_info__(self) -> JitInfo:
        return self._state.info()

    # -- the call ----------------------------------------------------------------------------------------
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        state = self._state
        if self.receiver is not None:
            args = (self.receiver, *args)
        if not kwargs and state.entries and (state.simple == len(args) or (
                state.varargs_only and len(args) >= state.positional)):
            # The hot path: positional arguments, the entry used last.
            entry = state.entries[0]
            result = entry.capture.call(*args) if state.simple >= 0 else entry.capture.call(
                *args[:state.positional], args[state.positional:])
            if result is not MISS:
                state.last = entry
                entry.calls += 1
                return state.resume(result) if type(result) is Resume else result
        return self._lookup(args, kwargs)

    def _lookup(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        state = self._state
        if state.eager_reason is not None:
            state.eager_calls += 1
            return self.function(*args, **kwargs)
        bound = args if not kwargs and state.simple == len(args) else state.bind(args, kwargs)
        if bound is None:  # the arguments do not fit: Python raises the same TypeError
            return self.function(*args, **kwargs)
        entries = state.entries
        for position, entry in enumerate(entries):
            result = entry.capture.call(*bound)
            if result is not MISS:
                if position:
                    entries.insert(0, entries.pop(position))
                state.last = entry
                entry.calls += 1
                return state.resume(result) if type(result) is Resume else result
        return self._miss(args, kwargs, bound)

    def _miss(self, args: tuple[Any, ...], kwargs: dict[str, Any], bound: tuple[Any, ...]) -> Any:
        state = self._state
        if any(isinstance(value, Tensor) and value._autograd is not None for value in bound):
            state.eager_calls += 1  # an outer gradient is being taken through this call: stay eager
            return self.function(*args, **kwargs)
        if len(state.entries) >= self.config.recompile_limit:
            state.give_up(f"recompile limit of {self.config.recompile_limit} reached "
                          f"(jit_config={{'recompile_limit': n}} raises it); last guard failure: "
                          f"{state.entries[0].capture.failure_hint(bound)}")
            return self.function(*args, **kwargs)
        dynamic = state.dynamic_dims(bound, self.config.dynamic)
        try:
            try:
                captured = capture(self.function, bound, state.parameter_names, self.config, _global_state(), dynamic,
                                   state)
            except (Unsupported, CaptureAbort):
                if not dynamic:
                    raise
                state.static_only = True  # the code needs static sizes (e.g. Python arithmetic on shapes)
                captured = capture(self.function, bound, state.parameter_names, self.config, _global_state(),
                                   registry=state)
        except Unsupported as error:
            if self.config.fullgraph:
                raise RuntimeError(f"jit(fullgraph=True): {error.reason} at {error.where()}") from None
            state.give_up(f"{error.reason} at {error.where()}", error)
            return self.function(*args, **kwargs)
        except CaptureAbort as abort:
            # The code raised while traced: eagerly it raises the same way (nothing to cache). If it
            # does not, the exception was caught inside (try/except): that code runs eagerly from now on.
            state.eager_calls += 1
            result = self.function(*args, **kwargs)
            state.give_up(f"an exception ({type(abort.error).__name__}: {abort.error}) is raised and handled "
                          "inside the function", None)
            return result
        if state.entries and log_enabled("recompiles"):
            print(f"[mycelia.jit] recompiling {self.function.__qualname__} (entry {len(state.entries) + 1}): "
                  f"{state.entries[0].capture.failure_hint(bound)}", file=sys.stderr)
        entry = _Entry(captured)
        state.entries.insert(0, entry)
        state.compile_count += 1
        state.compile_ms.append(captured.compile_ms)
        state.last = entry
        entry.calls += 1
        self._log_capture(captured)
        result = captured.call(*bound)
        if result is MISS:  # the entry's guards reject the very call it was made for: a tracer bug
            raise RuntimeError(f"mycelia.jit: the new entry for {self.function.__qualname__} rejects its own call; "
                               f"guards:\n{captured.guard_text}")
        return state.resume(result) if type(result) is Resume else result


    def _log_capture(self, captured: Capture) -> None:
        """``print_after_all`` / ``MYCELIA_JIT_LOGS=bytecode,guard,graph`` (or ``all``): what was captured."""
        everything = self.config.print_after_all
        name = self.function.__qualname__
        if everything or log_enabled("bytecode"):
            print(f"[mycelia.jit] {name}: captured bytecode\n{captured.bytecode}", file=sys.stderr)
        if everything or log_enabled("guard"):
            print(f"[mycelia.jit] {name}: guards\n{captured.guard_text or '(none)'}", file=sys.stderr)
        if everything or log_enabled("graph"):
            print(f"[mycelia.jit] {name}: graph\n{captured.graph_text or '(no tensor work)'}", file=sys.stderr)


def _tensor_arguments(bound: tuple[Any, ...]) -> list[tuple[tuple[int, ...], Tensor]]:
    found: list[tuple[tuple[int, ...], Tensor]] = []
    for index, value in enumerate(bound):
        if isinstance(value, Tensor):
            found.append(((index,), value))
        elif type(value) is tuple:
            found.extend(((index, j), item) for j, item in enumerate(value) if isinstance(item, Tensor))
    return found


def _global_state() -> list[tuple[str, str, dict[str, Any], Any]]:
    """Process state a graph depends on: gradient recording and the current backend."""
    values = {"AUTOGRAD": _autograd.state, "CONTEXT": _context}
    return [
        ("gradient recording enabled", "AUTOGRAD.enabled", values, _autograd.state.enabled),
        ("gradient depth", "AUTOGRAD.depth", values, _autograd.state.depth),
        ("current backend", "CONTEXT.backend", values, _context.backend),
    ]


class _State:
    """Shared by a jitted function and its bound copies: the cache and the counters."""

    def __init__(self, function: types.FunctionType) -> None:
        self.function = function
        self.signature = inspect.signature(function)
        self.parameter_names = tuple(self.signature.parameters)
        code = function.__code__
        plain = (not function.__defaults__ and not code.co_kwonlyargcount
                 and not code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS))
        self.simple = code.co_argcount if plain else -1
        # def f(a, b, *rest): positional call binds without inspect (lambda *a: … in particular)
        self.positional = code.co_argcount
        self.varargs_only = (not function.__defaults__ and not code.co_kwonlyargcount
                             and bool(code.co_flags & inspect.CO_VARARGS)
                             and not code.co_flags & inspect.CO_VARKEYWORDS)
        self.entries: list[_Entry] = []
        self.last: _Entry | None = None
        self.compile_count = 0
        self.compile_ms: list[float] = []
        self.eager_reason: str | None = None
        self.eager_calls = 0
        self.breaks: list[tuple[str, int | None, str]] = []
        self.config: Any = None  # the jitted function's (set on first capture)
        self.continuations: dict[Any, Continuation] = {}  # resume points after graph breaks
        self.break_sites: set[tuple[Any, ...]] = set()
        self.first_shapes: dict[tuple[int, ...], tuple[Any, tuple[int, ...]]] = {}
        self.dynamic: dict[tuple[int, ...], set[int]] = {}  # argument key -> dims made symbolic
        self.static_only = False
        self.called = False
        self.lock = threading.Lock()
        if code.co_flags & (inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR):
            self.eager_reason = "generators and coroutines run eagerly"

    # -- graph breaks ------------------------------------------------------------------------------------
    def continuation(self, broken: GraphBreak) -> Continuation:
        """The resume point for a break (one per code position and frame layout, shared by every entry)."""
        key = tuple(state.layout() for state in broken.frames)
        found = self.continuations.get(key)
        if found is None:
            found = self.continuations[key] = Continuation(broken.frames, broken.reason,
                                                           (broken.filename, broken.lineno))
            found.step = generate_step(found, self, MISS)
            # Where it broke, and through which functions: another caller's locals, or the same helper
            # called again from the same function, is the same break.
            # (By line, not instruction: 3.12+ duplicates small blocks, so one line can have two copies.)
            site = (tuple(frame.function.__code__ for frame in broken.frames), broken.lineno, broken.reason)
            if site not in self.break_sites:  # other locals or another caller: still the same break
                self.break_sites.add(site)
                self.breaks.append((broken.filename, broken.lineno, broken.reason))
            if log_enabled("graph_break"):
                print(f"[mycelia.jit] graph break in {self.function.__qualname__} at {broken.filename}:"
                      f"{broken.lineno}: {broken.reason}", file=sys.stderr)
        return found

    def resume(self, result: Resume) -> Any:
        """The trampoline: run continuations until a segment returns the function's result."""
        while type(result) is Resume:
            continuation = result.continuation
            step = continuation.step
            result = step(result.state) if step is not None else self.run_general(continuation, result.state)
        return result

    def run_general(self, continuation: Continuation, values: tuple[Any, ...]) -> Any:
        """The instruction that broke, by the real-mode interpreter (any instruction kind)."""
        real = RealTracer(self.config)
        frames = real.frames_for(unflatten(continuation.layouts, list(values)))
        outcome, value = real.step_once(frames)
        if outcome != "continue":
            return value
        states = snapshot_after_step(value)
        top = (stack_end(states) - 1,) if states[-1].stack else ()  # what the instruction pushed
        return self.segment_missed(continuation, states, tuple(flatten(states)), top)

    def run_raised(self, continuation: Continuation, values: tuple[Any, ...], error: BaseException) -> Any:
        """The instruction that broke raised ``error`` (in a generated step): the saved frames' handlers."""
        real = RealTracer(self.config)
        frames = real.frames_for(unflatten(continuation.layouts, list(values)))
        frames[-1].index += 1
        return real.raised(frames, error)

    def segment_missed(self, continuation: Continuation, states: list[FrameState], values: tuple[Any, ...],
                       volatile: tuple[int, ...], tried: bool = False) -> Any:
        """The state after the step, ``values`` laid out as ``states``: the first segment whose guards
        hold runs (``tried``: a generated step already tried them all), else a new one is captured
        (``volatile``: the slots of what the step made); past the recompile limit, or where the rest
        cannot be captured, the rest of the call runs in the real-mode interpreter."""
        key = tuple(state.layout() for state in states)
        segment = continuation.segments.setdefault(key, [])
        if key not in continuation.eager:
            for position, captured in enumerate([] if tried else segment):
                result = captured.call(*values)
                if result is not MISS:
                    if position:
                        segment.insert(0, segment.pop(position))
                    return result
            if len(segment) < self.config.recompile_limit:
                try:
                    captured = capture_segment(states, list(values), self.config, _global_state(), self, volatile)
                except Unsupported:
                    continuation.eager.add(key)  # this resume cannot be captured: it runs eagerly from now on
                except CaptureAbort:
                    pass
                else:
                    segment.insert(0, captured)
                    self.compile_count += 1
                    self.compile_ms.append(captured.compile_ms)
                    result = captured.call(*values)
                    if result is not MISS:
                        return result
        real = RealTracer(self.config)  # past the limit (the state changes every call), or not capturable
        return real.finish(real.frames_for(unflatten(states, list(values))))

    def set_signature(self, signature: Any, offset: int) -> None:
        """``input_signature``: one entry per tensor argument (a shape, or anything with ``.shape``);
        ``None`` or ``-1`` dims are symbolic from the first compile."""
        entries = signature if isinstance(signature, (list, tuple)) else (signature,)
        for position, entry in enumerate(entries):
            shape = getattr(entry, "shape", entry)
            if shape is None:
                continue
            if not isinstance(shape, (list, tuple)):
                raise TypeError(f"jit: input_signature entries must be shapes or have .shape, got {entry!r}")
            dims = {d for d, size in enumerate(shape) if size is None or size == -1}
            if dims:
                self.dynamic.setdefault((position + offset,), set()).update(dims)

    def dynamic_dims(self, bound: tuple[Any, ...], dynamic: bool | None) -> dict[tuple[int, ...], set[int]]:
        """Which dims of which tensor arguments to trace as symbols: those ``input_signature`` leaves
        open, every dim with ``dynamic=True``, and (by default) each dim whose size changed since the
        first compile — so a loop over batch sizes costs two compiles, not one per size. Keys are argument
        positions, ``(i,)``, or ``(i, j)`` for the j-th tensor of a ``*args`` tuple."""
        if dynamic is False or self.static_only:
            return {}
        for key, value in _tensor_arguments(bound):
            seen = self.first_shapes.setdefault(key, (value._dtype, tuple(value.shape)))
            if dynamic:
                self.dynamic.setdefault(key, set()).update(range(len(value.shape)))
            elif seen[0] is value._dtype and len(seen[1]) == len(value.shape):
                changed = {d for d, (a, b) in enumerate(zip(seen[1], value.shape)) if a != b}
                if changed:
                    self.dynamic.setdefault(key, set()).update(changed)
        return {key: set(dims) for key, dims in self.dynamic.items() if dims}

    def bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...] | None:
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError:
            return None
        bound.apply_defaults()
        return tuple(bound.arguments[name] for name in self.parameter_names)

    def give_up(self, reason: str, error: Unsupported | None = None) -> None:
        self.eager_reason = reason
        self.eager_calls += 1
        _log.warning("mycelia.jit: %s runs eagerly: %s", self.function.__qualname__, reason)
        if log_enabled("graph_break"):
            print(f"[mycelia.jit] {self.function.__qualname__} runs eagerly: {reason}", file=sys.stderr)

    def _captures(self) -> list[Capture]:
        """Every compiled entry: the function's own, then the resume segments after graph breaks."""
        captures = [entry.capture for entry in self.entries]
        for continuation in self.continuations.values():
            for segment in continuation.segments.values():
                captures.extend(segment)
        return captures

    def info(self) -> JitInfo:
        if self.eager_reason is not None and not self.entries:
            state = "never_compile"
        elif self.entries:
            state = "callable"
        else:
            state = "candidate"
        last = self.last
        return JitInfo(
            state=state, compile_count=self.compile_count, break_count=len(self.breaks),
            call_count=last.calls if last is not None else 0,
            guards=last.capture.guard_text if last is not None else "",
            graphs=[captured.graph_text for captured in self._captures() if captured.graph_text],
            breaks=list(self.breaks), eager_reason=self.eager_reason, entries=len(self.entries),
            eager_calls=self.eager_calls, compile_ms=list(self.compile_ms))
