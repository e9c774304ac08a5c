"""Error helpers: point at the user's source line, not at Mycelia's internals."""

from __future__ import annotations

import os
import re
import sys
import threading

__all__ = ["OpError", "TracedValueError", "user_location"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
# Mycelia's own plugin packages (mycelia_capture, mycelia_backend_cpu …) and their generated code.
_PLUGIN_PACKAGE = re.compile(r"[/\\]mycelia_[a-z_]+[/\\]|^<mycelia ")


# Where the jit's interpreter is running user code (its frames are not Python frames): file:line.
interpreted_location = threading.local()


def user_location() -> str:
    """``file:line`` of the innermost frame outside the mycelia package (or ``"<unknown>"``)."""
    hint = getattr(interpreted_location, "value", None)
    if hint is not None:
        return hint  # type: ignore[no-any-return]
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        path = os.path.abspath(filename)
        if not path.startswith(_PACKAGE_DIR) and not _PLUGIN_PACKAGE.search(path):
            return f"{filename}:{frame.f_lineno}"
        frame = frame.f_back  # type: ignore[assignment]
    return "<unknown>"


class OpError(ValueError):
    """Bad input to an op: names the op, what it got, what it accepts and the user's line."""

    def __init__(self, op: str, message: str, backend: str | None = None) -> None:
        where = f" on backend {backend!r}" if backend else ""
        super().__init__(f"{op}{where}: {message} (at {user_location()})")
        self.op = op


class TracedValueError(RuntimeError):
    """A traced tensor's data was needed on the host while its graph was being built (the frontend
    turns this into a graph break)."""
