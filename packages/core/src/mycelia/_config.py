"""The one place that reads environment variables (DESIGN §9)."""

from __future__ import annotations

import os

__all__ = [
    "backend_preference",
    "disabled_plugins",
    "jit_logs",
    "plugin_autoload_enabled",
    "pure_python_dispatch",
]

BACKEND_VARIABLE = "MYCELIA_BACKEND"
AUTOLOAD_VARIABLE = "MYCELIA_PLUGIN_AUTOLOAD"
DISABLED_PLUGINS_VARIABLE = "MYCELIA_DISABLE_PLUGINS"
PURE_PYTHON_VARIABLE = "MYCELIA_PURE_PYTHON_DISPATCH"
JIT_LOGS_VARIABLE = "MYCELIA_JIT_LOGS"


def _names(variable: str) -> tuple[str, ...]:
    raw = os.environ.get(variable, "")
    return tuple(part.strip().lower() for part in raw.split(",") if part.strip())


def backend_preference() -> tuple[str, ...]:
    """``MYCELIA_BACKEND=gpu,cpu``: backends to try, in order (empty: no preference)."""
    return _names(BACKEND_VARIABLE)


def plugin_autoload_enabled() -> bool:
    """``MYCELIA_PLUGIN_AUTOLOAD=0`` stops entry points from being read at all."""
    return os.environ.get(AUTOLOAD_VARIABLE, "1").strip().lower() not in ("0", "false", "no", "off")


def disabled_plugins() -> tuple[str, ...]:
    """``MYCELIA_DISABLE_PLUGINS=example,gpu``: entry points to skip by name."""
    return _names(DISABLED_PLUGINS_VARIABLE)


def pure_python_dispatch() -> bool:
    """``MYCELIA_PURE_PYTHON_DISPATCH=1`` skips the C++ hot path (read once, at import)."""
    return os.environ.get(PURE_PYTHON_VARIABLE, "0").strip().lower() in ("1", "true", "yes", "on")


def jit_logs() -> frozenset[str]:
    """``MYCELIA_JIT_LOGS=passes,guard``: what the compiler prints (``all`` turns every topic on).
    Read on every call, so tests and users can switch it while a program runs."""
    return frozenset(_names(JIT_LOGS_VARIABLE))
