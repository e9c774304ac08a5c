"""Differential harness for PIJit: every case runs eagerly, then under ``jit``; the two must agree.

A :class:`Case` names a factory that builds a *fresh* callable (and resets whatever module state it
uses), the calls to make, and what ``jit_info`` must report afterwards. :func:`run_case` runs the case
twice -- once as plain Python, once wrapped by the ``jit`` it is given -- and compares, call by call,
the results (tensors by dtype, shape and values; containers recursively; everything else by type and
``==``), the exceptions (type and message), the printed text, and the ``state()`` snapshot taken after
the last call. Then it checks the counters of ``jit_info``.

``jit`` and ``jit_info`` are parameters, so the harness itself is tested with :func:`fake_jit` /
:func:`fake_jit_info` (the identity "compiler") before the real ``mycelia.jit`` exists.

Unsupported code (``Case(unsupported=True)``) runs the whole function eagerly in this issue:
``compile_count == 0`` and ``eager_reason`` set. When graph breaks land, set
``UNSUPPORTED_MODE = "break"`` and those cases expect ``expect_breaks`` breaks (default 1) and at least
one compiled graph instead.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import io
import math
import re
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import mycelia as ms

UNSUPPORTED_MODE = "eager"  # "eager" (this issue) or "break" (the graph-break issue)
STATES = ("never_compile", "candidate", "captured", "building", "callable")


# --- cases -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Call:
    """One call with keyword arguments (a plain tuple in ``Case.calls`` is positional only)."""

    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


def kw(*args: Any, **kwargs: Any) -> Call:
    return Call(args, kwargs)


@dataclass
class Case:
    name: str
    fn_factory: Callable[[], Callable[..., Any]]
    calls: list[Any]
    expect_compiles: int | None = None
    expect_breaks: int = 0
    unsupported: bool = False
    state: Callable[[], Any] | None = None
    between: Callable[[int], None] | None = None
    tolerance: float = 1e-5
    # How jit is applied to the factory's product: wrap(jit, obj) -> (callable, object for jit_info).
    # Default: ``f = jit(obj)`` and ``jit_info(f)``.
    wrap: Callable[[Any, Any], tuple[Callable[..., Any], Any]] | None = None
    # jit_info.call_count after the last call (calls served by the entry used last), when given.
    expect_call_count: int | None = None
    jit_kwargs: dict[str, Any] = field(default_factory=dict)  # jit(fn, **jit_kwargs) (default wrap only)
    # eager_reason after the run: None = must be unset when compiles are expected; True = must be set
    # (e.g. the recompile limit was reached and later calls run eagerly).
    expect_eager_reason: bool | None = None
    # Supported from this Python on; older versions run it eagerly with a reason (e.g. a break inside a
    # comprehension, which has its own frame before 3.12).
    supported_from: tuple[int, int] | None = None
    # Captured with graph breaks (a host read, a branch on a tensor): expect_breaks breaks (default 1),
    # at least one graph, and no eager_reason.
    graph_break: bool = False

    def __post_init__(self) -> None:
        if self.supported_from is not None and sys.version_info[:2] < self.supported_from:
            self.unsupported = True
            self.expect_compiles = None
        self.calls = [c if isinstance(c, (tuple, Call)) else (c,) for c in self.calls]


def fresh(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A new function object with the same code, globals, defaults, closure and kw-defaults."""
    new = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
    new.__kwdefaults__ = copy.copy(fn.__kwdefaults__)
    new.__qualname__ = fn.__qualname__
    new.__dict__.update(fn.__dict__)
    return new


def registrar(cases: list[Case], prefix: str) -> Callable[..., Any]:
    """``@case(call, call, ..., compiles=1, **Case fields)`` on a module-level function registers a Case
    named ``prefix.<function name>`` whose factory is ``fresh(function)``; with ``made=True`` the decorated
    function *is* the factory (it builds closures, Cells, objects, and resets module state).
    Unsupported cases default to ``compiles=None`` (the harness checks ``compile_count == 0``)."""

    def case(*calls: Any, compiles: int | None = 1, name: str | None = None,
             made: bool = False, **fields: Any) -> Callable[[Any], Any]:
        def register(fn: Any) -> Any:
            factory = fn if made else (lambda: fresh(fn))
            unsupported = fields.get("unsupported", False)
            cases.append(Case(f"{prefix}.{name or fn.__name__}", factory, list(calls) or [()],
                              expect_compiles=None if unsupported else compiles, **fields))
            return fn

        return register

    return case


# Deterministic float32 inputs.
def gather(modules: tuple[types.ModuleType, ...]) -> tuple[list[Case], Callable[[], dict[str, int]]]:
    """A corpus package's cases (``ALL_CASES``, names checked unique) and its ``counts()`` (cases per module)."""
    cases = [c for module in modules for c in module.CASES]
    names = [c.name for c in cases]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise RuntimeError(f"duplicate corpus case names: {duplicates}")

    def counts() -> dict[str, int]:
        return {module.__name__.rsplit(".", 1)[-1]: len(module.CASES) for module in modules}

    return cases, counts


def arr(*shape: int, seed: int = 0, dtype: Any = np.float32) -> np.ndarray:
    data = np.random.RandomState(seed).uniform(-1.0, 1.0, size=shape)
    return data.astype(dtype)


def a23(seed: int = 0) -> np.ndarray:
    return arr(2, 3, seed=seed)


def a44(seed: int = 0) -> np.ndarray:
    return arr(4, 4, seed=seed)


# --- running -----------------------------------------------------------------------------------------
def materialize(calls: list[Any]) -> list[Call]:
    """A private copy of the calls: deep-copied (aliasing kept), numpy arrays become fresh Tensors
    (the same array twice becomes the same Tensor)."""
    copied = copy.deepcopy(calls)
    tensors: dict[int, Any] = {}
    seen: dict[int, Any] = {}

    def convert(obj: Any) -> Any:
        if isinstance(obj, np.ndarray):
            if id(obj) not in tensors:
                tensors[id(obj)] = ms.Tensor(np.array(obj))
            return tensors[id(obj)]
        if id(obj) in seen:
            return seen[id(obj)]
        if isinstance(obj, list):
            seen[id(obj)] = obj
            obj[:] = [convert(item) for item in obj]
        elif isinstance(obj, dict):
            seen[id(obj)] = obj
            for key in list(obj):
                obj[key] = convert(obj[key])
        elif type(obj) is tuple:
            seen[id(obj)] = result = tuple(convert(item) for item in obj)
            return result
        return obj

    result = []
    for c in copied:
        if isinstance(c, Call):
            result.append(Call(convert(c.args), {k: convert(v) for k, v in c.kwargs.items()}))
        else:
            result.append(Call(convert(c), {}))
    return result


@dataclass
class Outcome:
    """What one call did: ("ok", value) or ("raised", (type, message)), and what it printed."""

    kind: str
    value: Any
    stdout: str


@dataclass
class Run:
    outcomes: list[Outcome]
    state: Any
    info: Any = None


def snapshot(value: Any) -> Any:
    """Tensors become (Tensor marker, dtype, shape, numpy copy) so later in-place changes do not leak."""
    if isinstance(value, ms.Tensor):
        return _TensorSnap(type(value), value.dtype, tuple(value.shape), np.array(value.asnumpy()))
    if isinstance(value, types.GeneratorType):  # a generator function's result: what it yields
        return ("<generator>", [snapshot(v) for v in value])
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(snapshot(v) for v in value))
    if isinstance(value, (list, tuple)):
        return type(value)(snapshot(v) for v in value)
    if isinstance(value, dict):
        return type(value)((k, snapshot(v)) for k, v in value.items())
    return value


@dataclass
class _TensorSnap:
    type: type
    dtype: Any
    shape: tuple[int, ...]
    data: np.ndarray


def execute(case: Case, jit: Callable[..., Any] | None = None, jit_info: Callable[[Any], Any] | None = None) -> Run:
    """One run of ``case``: eager when ``jit`` is None."""
    target = case.fn_factory()
    info_target = None
    if jit is not None:
        if case.wrap is not None:
            target, info_target = case.wrap(jit, target)
        else:
            target = info_target = jit(target, **case.jit_kwargs)
    elif case.wrap is not None:  # the eager twin of the wrapped form: the same wrap with an identity jit
        target, _ = case.wrap(_identity_jit, target)
    outcomes = []
    for i, call in enumerate(materialize(case.calls)):
        if case.between is not None:
            case.between(i)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            try:
                value = snapshot(target(*call.args, **call.kwargs))  # generators are consumed here
                kind = "ok"
            except Exception as e:
                kind, value = "raised", (type(e), str(e))
        outcomes.append(Outcome(kind, value, out.getvalue()))
    state = snapshot(case.state()) if case.state is not None else None
    info = jit_info(info_target) if jit is not None and jit_info is not None else None
    return Run(outcomes, state, info)


def _identity_jit(fn: Any = None, *args: Any, **kwargs: Any) -> Any:
    return (lambda f: f) if fn is None else fn


_HARNESS_LOCATION = re.compile(r"\(at [^()]*differential\.py:\d+\)")


def _message(text: str) -> str:
    """An exception message with op-error locations that point into this harness (not user code, e.g. a
    Cell called directly by the harness) normalised: the two runs call from different harness lines."""
    return _HARNESS_LOCATION.sub("(at <harness>)", text)


def compare(a: Any, b: Any, tol: float, where: str = "result") -> list[str]:
    """Differences between eager value ``a`` and jit value ``b`` (empty when they agree)."""
    if isinstance(a, _TensorSnap) or isinstance(b, _TensorSnap):
        if not (isinstance(a, _TensorSnap) and isinstance(b, _TensorSnap)):
            return [f"{where}: eager {_short(a)} vs jit {_short(b)}"]
        problems = []
        if a.type is not b.type:
            problems.append(f"{where}: tensor type {a.type.__name__} vs {b.type.__name__}")
        if a.dtype != b.dtype or a.shape != b.shape:
            problems.append(f"{where}: tensor {a.dtype}{list(a.shape)} vs {b.dtype}{list(b.shape)}")
        elif not np.allclose(a.data.astype(np.float64) if a.data.dtype != np.bool_ else a.data,
                             b.data.astype(np.float64) if b.data.dtype != np.bool_ else b.data,
                             rtol=tol, atol=tol, equal_nan=True):
            problems.append(f"{where}: tensor values differ (max |d| = "
                            f"{np.max(np.abs(a.data.astype(np.float64) - b.data.astype(np.float64)))})")
        return problems
    if type(a) is not type(b):
        return [f"{where}: type {type(a).__name__} ({_short(a)}) vs {type(b).__name__} ({_short(b)})"]
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return [f"{where}: length {len(a)} vs {len(b)}"]
        return [p for i, (x, y) in enumerate(zip(a, b)) for p in compare(x, y, tol, f"{where}[{i}]")]
    if isinstance(a, dict):
        if list(a) != list(b):
            return [f"{where}: keys {list(a)!r} vs {list(b)!r}"]
        return [p for k in a for p in compare(a[k], b[k], tol, f"{where}[{k!r}]")]
    if isinstance(a, float) and math.isnan(a) and math.isnan(b):
        return []
    if dataclasses.is_dataclass(a) or (type(a).__eq__ is object.__eq__ and hasattr(a, "__dict__")):
        return compare(snapshot(vars(a)), snapshot(vars(b)), tol, f"{where}.__dict__")
    try:
        equal = bool(a == b)
    except Exception as e:
        return [f"{where}: cannot compare ({type(e).__name__}: {e})"]
    return [] if equal else [f"{where}: {_short(a)} vs {_short(b)}"]


def _type_key(t: type) -> tuple[str, str]:
    """Exception types compare by module and qualified name (a class defined inside the function is a
    new class object in each run)."""
    return t.__module__, t.__qualname__


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 200 else text[:197] + "..."


def check_info(case: Case, info: Any) -> list[str]:
    """What ``jit_info`` must say after the jitted run."""
    problems = []
    state = getattr(info, "state", None)
    if state not in STATES:
        problems.append(f"jit_info.state {state!r} is not one of {STATES}")
    compiles = getattr(info, "compile_count", None)
    breaks = getattr(info, "break_count", None)
    reason = getattr(info, "eager_reason", None)
    if case.unsupported and UNSUPPORTED_MODE == "eager":
        if compiles != 0:
            problems.append(f"unsupported code: compile_count {compiles}, expected 0 (whole function eager)")
        if not reason:
            problems.append("unsupported code: eager_reason not set")
        return problems
    if case.unsupported or case.graph_break:  # graph-break mode
        expected_breaks = case.expect_breaks or 1
        if breaks != expected_breaks:
            problems.append(f"break_count {breaks}, expected {expected_breaks}")
        if not compiles:
            problems.append(f"compile_count {compiles}, expected at least 1 graph around the break")
        if case.graph_break and reason:
            problems.append(f"eager_reason {reason!r} set for code that breaks the graph instead")
        return problems
    if case.expect_compiles is not None and compiles != case.expect_compiles:
        problems.append(f"compile_count {compiles}, expected {case.expect_compiles}")
    if breaks != case.expect_breaks:
        problems.append(f"break_count {breaks}, expected {case.expect_breaks}")
    calls = getattr(info, "call_count", None)
    if case.expect_call_count is not None and calls != case.expect_call_count:
        problems.append(f"call_count {calls}, expected {case.expect_call_count}")
    if case.expect_eager_reason:
        if not reason:
            problems.append("eager_reason not set, expected (the function should now run eagerly)")
    elif case.expect_compiles and reason is not None:
        problems.append(f"eager_reason {reason!r} set for code expected to compile")
    if problems and (reason or getattr(info, "breaks", None)):
        problems.append(f"(jit_info: eager_reason={reason!r}, breaks={getattr(info, 'breaks', None)!r})")
    return problems


def run_case(case: Case, jit: Callable[..., Any], jit_info: Callable[[Any], Any] | None,
             check: bool = True) -> list[str]:
    """Every difference between the eager and the jitted run of ``case`` (empty: the case passes)."""
    eager = execute(case)
    jitted = execute(case, jit, jit_info)
    problems = []
    for i, (e, j) in enumerate(zip(eager.outcomes, jitted.outcomes)):
        where = f"call {i}"
        if e.kind != j.kind:
            problems.append(f"{where}: eager {e.kind} {_short(e.value)} vs jit {j.kind} {_short(j.value)}")
        elif e.kind == "raised":
            if _type_key(e.value[0]) != _type_key(j.value[0]) or _message(e.value[1]) != _message(j.value[1]):
                problems.append(f"{where}: exception {e.value[0].__name__}({e.value[1]!r}) vs "
                                f"{j.value[0].__name__}({j.value[1]!r})")
        else:
            problems += compare(e.value, j.value, case.tolerance, f"{where} result")
        if e.stdout != j.stdout:
            problems.append(f"{where}: stdout {e.stdout!r} vs {j.stdout!r}")
    problems += compare(eager.state, jitted.state, case.tolerance, "state")
    if check and jit_info is not None:
        problems += check_info(case, jitted.info)
    return problems


def assert_case(case: Case, jit: Callable[..., Any], jit_info: Callable[[Any], Any] | None,
                check: bool = True) -> None:
    problems = run_case(case, jit, jit_info, check)
    if problems:
        raise AssertionError(f"{case.name}:\n  " + "\n  ".join(problems))


# --- stand-in ----------------------------------------------------------------------------------------
@dataclass
class FakeInfo:
    state: str = "callable"
    compile_count: int = 1
    break_count: int = 0
    call_count: int = 0
    guards: str = ""
    graphs: list[str] = field(default_factory=list)
    breaks: list[tuple[str, int, str]] = field(default_factory=list)
    eager_reason: str | None = None


def fake_jit(fn: Any = None, input_signature: Any = None, hash_args: Any = None, jit_config: Any = None,
             mode: str = "PIJit", *, capture_mode: Any = None, fullgraph: bool = False, dynamic: Any = None) -> Any:
    """The identity "compiler": same calling forms as ``mycelia.jit``, returns a counting wrapper."""
    if fn is None:
        return lambda f: fake_jit(f, input_signature, hash_args, jit_config, mode,
                                  capture_mode=capture_mode, fullgraph=fullgraph, dynamic=dynamic)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        wrapper.__jit_info__.call_count += 1  # type: ignore[attr-defined]
        return fn(*args, **kwargs)

    wrapper.__jit_info__ = FakeInfo()  # type: ignore[attr-defined]
    wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
    return wrapper


def fake_jit_info(fn: Any) -> FakeInfo:
    return getattr(fn, "__jit_info__", None) or FakeInfo()
