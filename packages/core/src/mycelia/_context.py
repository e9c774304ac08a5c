"""``set_context`` / ``get_context`` / ``set_device`` with MindSpore's names and checks."""

from __future__ import annotations

import threading
from typing import Any

from mycelia.backends import Backend, select_backend
from mycelia.backends._registry import normalize_name

__all__ = ["GRAPH_MODE", "PYNATIVE_MODE", "current_backend", "get_context", "set_context", "set_device"]

GRAPH_MODE = 0
PYNATIVE_MODE = 1

_MODES = {GRAPH_MODE: "GRAPH_MODE", PYNATIVE_MODE: "PYNATIVE_MODE"}


class _Context:
    def __init__(self) -> None:
        self.mode = PYNATIVE_MODE
        self.device_target: str | None = None  # None: the selection rules decide
        self.device_id = 0
        self.backend: Backend | None = None  # resolved lazily, reset when the target changes


_context = _Context()
_lock = threading.Lock()


def _check_mode(value: Any) -> int:
    if isinstance(value, bool) or value not in _MODES:
        raise ValueError(f"set_context: mode must be mycelia.GRAPH_MODE (0) or mycelia.PYNATIVE_MODE "
                         f"(1), got {value!r}")
    return int(value)


def _check_device_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"set_context: device_id must be a non-negative int, got {value!r}")
    return value


def _check_device_target(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"set_context: device_target must be a string such as 'CPU', 'GPU' or "
                        f"'Ascend', got {type(value).__name__}")
    return normalize_name(value)


_SETTERS = {"mode": _check_mode, "device_target": _check_device_target, "device_id": _check_device_id}


def set_context(**kwargs: Any) -> None:
    """Set ``mode``, ``device_target`` and ``device_id``; the target is checked at once."""
    unknown = sorted(set(kwargs) - set(_SETTERS))
    if unknown:
        raise ValueError(f"set_context: unknown key(s) {', '.join(unknown)}; "
                         f"supported: {', '.join(sorted(_SETTERS))}")
    values = {key: _SETTERS[key](value) for key, value in kwargs.items()}
    target = values.get("device_target")
    backend = select_backend(str(target)) if target is not None else None
    with _lock:
        for key, value in values.items():
            setattr(_context, key, value)
        if backend is not None:
            _context.backend = backend


def set_device(device_target: str, device_id: int | None = None) -> None:
    """MindSpore 2.x spelling: ``set_device("CPU")`` / ``set_device("GPU", 0)``."""
    if device_id is None:
        set_context(device_target=device_target)
    else:
        set_context(device_target=device_target, device_id=device_id)


def get_context(key: str) -> Any:
    if key == "device_target":
        backend = current_backend()
        return {"cpu": "CPU", "gpu": "GPU", "ascend": "Ascend"}.get(backend.name, backend.name)
    if key not in _SETTERS:
        raise ValueError(f"get_context: unknown key {key!r}; supported: {', '.join(sorted(_SETTERS))}")
    return getattr(_context, key)


def current_backend() -> Backend:
    """The backend new tensors live on; chosen by the selection rules on first use."""
    backend = _context.backend
    if backend is None:
        with _lock:
            if _context.backend is None:
                _context.backend = select_backend(_context.device_target)
            backend = _context.backend
    return backend


def reset_context() -> None:
    """Back to defaults (tests)."""
    with _lock:
        _context.__init__()  # type: ignore[misc]
