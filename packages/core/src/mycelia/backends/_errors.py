"""Errors raised while finding, loading and selecting backends."""

from __future__ import annotations

__all__ = [
    "BackendError",
    "BackendLoadError",
    "BackendNotInstalledError",
    "BackendUnavailableError",
    "BackendVersionError",
]


class BackendError(RuntimeError):
    """Base class of every backend selection or loading problem."""


class BackendNotInstalledError(BackendError):
    """No plugin of that name is installed."""


class BackendUnavailableError(BackendError):
    """The plugin is installed but cannot run here (no driver, no device)."""


class BackendLoadError(BackendError):
    """The plugin's module failed to import or its factory failed."""


class BackendVersionError(BackendError):
    """The plugin was written against an incompatible backend API version."""
