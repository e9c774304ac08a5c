"""PIJit (bytecode) frontend for ``mycelia.jit`` (DESIGN §4).

``mycelia.jit`` finds this package through the ``mycelia.frontends`` entry point ``pijit``. The layers:
``bytecode`` (the only version-aware code), ``_tracer``/``_calls`` (the symbolic executor), ``_guards``
(sources and generated guard code), ``_capture`` (one cache entry), ``_jit_function`` (the cache).
"""

from __future__ import annotations

import types
from typing import Any

from mycelia import nn
from mycelia_capture._jit_function import JitFunction, JitInfo

__version__ = "0.1.0"
__all__ = ["JitFunction", "JitInfo", "PIJitFrontend", "__version__", "create_pijit"]


class PIJitFrontend:
    """The ``pijit`` frontend: wraps functions, bound methods, Cell instances and Cell classes."""

    name = "pijit"

    def jit(self, target: Any, *, input_signature: Any = None, hash_args: Any = None, config: Any) -> Any:
        if isinstance(target, type) and issubclass(target, nn.Cell):
            construct = target.__dict__.get("construct")
            if construct is None:
                raise TypeError(f"jit: {target.__name__} does not define construct")
            target.construct = JitFunction(construct, config,  # type: ignore[method-assign]
                                           input_signature=input_signature)
            return target
        if isinstance(target, nn.Cell):
            construct = type(target).construct
            return JitFunction(construct, config, receiver=target, input_signature=input_signature)
        if isinstance(target, types.MethodType):
            return JitFunction(target.__func__, config, receiver=target.__self__, input_signature=input_signature)
        if isinstance(target, JitFunction):
            return target
        if isinstance(target, types.FunctionType):
            return JitFunction(target, config, input_signature=input_signature)
        raise TypeError(f"jit expects a function, method, Cell or Cell class, got {type(target).__name__}")


def create_pijit() -> PIJitFrontend:
    """Entry point ``mycelia.frontends: pijit``."""
    return PIJitFrontend()
