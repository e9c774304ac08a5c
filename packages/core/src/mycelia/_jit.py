"""``mycelia.jit`` and ``mycelia.jit_info``: the front door (DESIGN §4.1, §4.3).

Core only checks the arguments and delegates to the frontend plugin found through the
``mycelia.frontends`` entry point (``pijit`` from mycelia-capture); a missing plugin is a clear error.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from mycelia._plugins import FRONTENDS, plugin_entries

__all__ = ["JitConfig", "jit", "jit_info"]

_MODES = {"PIJit": "pijit", "PSJit": "psjit"}
_CAPTURE_MODES = {"bytecode": "PIJit", "ast": "PSJit"}


@dataclass(frozen=True)
class JitConfig:
    """Options of one jitted function (``jit_config=`` takes this or a dict with these keys).

    * ``recompile_limit``: cache entries per function before it runs eagerly (logged once).
    * ``print_after_all``: print the captured bytecode, graphs and guards after each compile.
    * ``loop_unrolling``: unroll loops over static iterables (bounded by ``max_unrolled_instructions``).
    * ``max_inline_depth``: how deep calls are inlined.
    * ``fullgraph``: a would-be graph break is an error naming file, line and reason.
    * ``dynamic``: None (a dim that changes becomes symbolic on the second compile), True or False.
    * ``optimize``: run the optimizer pipeline on captured graphs.
    * ``helper_summaries``: trace a helper once per argument signature and splice its graph at later
      call sites (instead of interpreting its bytecode again).
    * ``print_breaks``: ``print`` is a graph break, so its text appears when the program reaches it (as
      eagerly: before a long computation that follows it). False: prints are replayed after the graph,
      with the same text and order and no break. Where no break can be made (``fullgraph=True``, a
      comprehension frame before 3.12, a callback) prints are always replayed.
    """

    recompile_limit: int = 8
    print_after_all: bool = False
    loop_unrolling: bool = True
    max_unrolled_instructions: int = 100_000
    max_inline_depth: int = 16
    fullgraph: bool = False
    dynamic: bool | None = None
    optimize: bool = True
    helper_summaries: bool = True
    print_breaks: bool = True

    @staticmethod
    def of(value: JitConfig | Mapping[str, Any] | None, **overrides: Any) -> JitConfig:
        if value is None:
            config = JitConfig()
        elif isinstance(value, JitConfig):
            config = value
        elif isinstance(value, Mapping):
            known = {f.name for f in fields(JitConfig)}
            unknown = sorted(set(value) - known)
            if unknown:
                raise ValueError(f"jit_config: unknown key(s) {', '.join(map(repr, unknown))}; known keys: "
                                 f"{', '.join(sorted(known))}")
            config = JitConfig(**value)
        else:
            raise TypeError(f"jit_config must be a dict or mycelia.JitConfig, got {type(value).__name__}")
        changes = {key: v for key, v in overrides.items() if v is not None}
        if changes:
            config = JitConfig(**{**config.__dict__, **changes})
        if not isinstance(config.recompile_limit, int) or config.recompile_limit < 1:
            raise ValueError(f"jit_config: recompile_limit must be a positive int, got {config.recompile_limit!r}")
        return config


@functools.cache
def _frontend(name: str) -> Any:
    for entry in plugin_entries(FRONTENDS):
        if entry.name == name:
            return entry.load()()
    raise ModuleNotFoundError(f"mycelia.jit(mode={'PIJit' if name == 'pijit' else 'PSJit'!r}) needs the "
                              f"'{name}' frontend: pip install mycelia-capture")


def jit(fn: Callable[..., Any] | None = None, input_signature: Any = None, hash_args: Any = None,
        jit_config: JitConfig | Mapping[str, Any] | None = None, mode: str = "PIJit", *,
        capture_mode: str | None = None, fullgraph: bool | None = None, dynamic: bool | None = None,
        backend: str | None = None) -> Any:
    """Compile ``fn`` (a function, bound method, Cell instance or Cell class) on first call.

    Usable as ``@jit``, ``@jit(...)`` or ``jit(fn)``. ``capture_mode="bytecode"`` is ``mode="PIJit"``
    (the default; ``"ast"``/``"PSJit"`` is reserved for the AST frontend).
    """
    if capture_mode is not None:
        if capture_mode not in _CAPTURE_MODES:
            raise ValueError(f"jit: capture_mode must be 'bytecode' or 'ast', got {capture_mode!r}")
        mode = _CAPTURE_MODES[capture_mode]
    if mode not in _MODES:
        raise ValueError(f"jit: mode must be 'PIJit' or 'PSJit', got {mode!r}")
    config = JitConfig.of(jit_config, fullgraph=fullgraph, dynamic=dynamic)

    def decorate(function: Callable[..., Any]) -> Any:
        if not callable(function):
            raise TypeError(f"jit expects a function, method or Cell, got {type(function).__name__}")
        frontend = _frontend(_MODES[mode])
        return frontend.jit(function, input_signature=input_signature, hash_args=hash_args, config=config)

    return decorate if fn is None else decorate(fn)


def jit_info(fn: Any) -> Any:
    """What the jit did with ``fn``: state, compile/break/call counts, guards, graphs, breaks."""
    if isinstance(fn, type):  # a Cell class given to jit: its construct is the jitted function
        fn = fn.__dict__.get("construct", fn)
    info = getattr(fn, "__mycelia_jit_info__", None)
    if info is None:
        raise TypeError(f"jit_info expects a function returned by mycelia.jit, got {type(fn).__name__}")
    return info()
