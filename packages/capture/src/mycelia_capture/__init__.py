"""PIJit (bytecode) and PSJit (AST) frontends for mycelia.jit.

Status: package skeleton; its entry points are registered when the feature lands, so core
reports it as installed but providing nothing until then.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
