"""Finding, loading and choosing backends.

Order of selection: an explicit ``set_context(device_target=...)`` / ``set_device(...)``, then
``MYCELIA_BACKEND=gpu,cpu`` (first available in that order; an unknown name or none available is
an error), then the highest-priority available backend.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from mycelia import _config, _plugins
from mycelia.backends._errors import (
    BackendError,
    BackendLoadError,
    BackendNotInstalledError,
    BackendUnavailableError,
    BackendVersionError,
)
from mycelia.backends._interface import API_VERSION, Backend

__all__ = [
    "BackendInfo",
    "get_backend",
    "installed_backends",
    "list_backends",
    "register_backend",
    "select_backend",
]

_FIRST_PARTY = {"cpu", "gpu", "ascend"}


@dataclass(frozen=True)
class _Source:
    name: str
    distribution: str
    version: str
    factory_loader: Callable[[], Callable[[], Backend]]


@dataclass(frozen=True)
class BackendInfo:
    """One row of :func:`list_backends`."""

    name: str
    distribution: str
    version: str
    loaded: bool
    available: bool | None
    reason: str
    priority: int | None


_lock = threading.RLock()
_registered: dict[str, _Source] = {}
_loaded: dict[str, Backend] = {}
_entry_sources: dict[str, _Source] | None = None


def normalize_name(name: str) -> str:
    """``"CPU"``, ``"Ascend"`` and ``"cpu:0"`` all name a backend by its lower-case name."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"a backend name must be a non-empty string, got {name!r}")
    return name.strip().split(":", 1)[0].lower()


def register_backend(name: str, factory: Callable[[], Backend], *, distribution: str = "(registered)",
                     version: str = "") -> None:
    """Add a backend without an entry point (works with autoloading switched off)."""
    key = normalize_name(name)
    with _lock:
        _registered[key] = _Source(key, distribution, version, lambda: factory)
        _loaded.pop(key, None)


def _sources() -> dict[str, _Source]:
    global _entry_sources
    with _lock:
        if _entry_sources is None:
            _entry_sources = {
                entry.name: _Source(entry.name, entry.distribution, entry.version, entry.load)
                for entry in _plugins.plugin_entries(_plugins.BACKENDS)
            }
        return {**_entry_sources, **_registered}


def reset_discovery() -> None:
    """Forget discovered and loaded backends (tests, or after installing a plugin at run time)."""
    global _entry_sources
    with _lock:
        _entry_sources = None
        _loaded.clear()


def installed_backends() -> list[str]:
    return sorted(_sources())


def _not_installed(name: str) -> BackendNotInstalledError:
    installed = ", ".join(installed_backends()) or "none"
    hint = (f"pip install mycelia-backend-{name}" if name in _FIRST_PARTY
            else f"install the package that provides the {name!r} backend")
    return BackendNotInstalledError(
        f"backend {name!r} is not installed: {hint}. Installed backends: {installed}.")


def _check_version(backend: Backend, source: _Source) -> None:
    version = tuple(getattr(backend, "api_version", ()))
    if len(version) != 2 or version[0] != API_VERSION[0] or version[1] > API_VERSION[1]:
        shown = ".".join(map(str, version)) or "missing"
        raise BackendVersionError(
            f"backend {source.name!r} from {source.distribution} {source.version} implements "
            f"backend API {shown}, but this mycelia-core provides API "
            f"{API_VERSION[0]}.{API_VERSION[1]} (same major, minor up to "
            f"{API_VERSION[1]} needed); upgrade whichever is older.")


def get_backend(name: str) -> Backend:
    """Import (once) and return the backend called ``name``, whether or not it is available."""
    key = normalize_name(name)
    with _lock:
        if key in _loaded:
            return _loaded[key]
        source = _sources().get(key)
        if source is None:
            raise _not_installed(key)
        try:
            backend = source.factory_loader()()
        except Exception as error:
            raise BackendLoadError(
                f"backend plugin {key!r} from {source.distribution} {source.version} failed to "
                f"load: {type(error).__name__}: {error}. Disable it with "
                f"{_config.DISABLED_PLUGINS_VARIABLE}={key} (or all autoloading with "
                f"{_config.AUTOLOAD_VARIABLE}=0).") from error
        if not isinstance(backend, Backend):
            raise BackendLoadError(
                f"backend plugin {key!r} from {source.distribution} {source.version}: its factory "
                f"returned {type(backend).__name__}, not a mycelia.backends.Backend.")
        _check_version(backend, source)
        backend.name = backend.name or key
        _loaded[key] = backend
        return backend


def _require_available(backend: Backend) -> Backend:
    availability = backend.is_available()
    if not availability:
        raise BackendUnavailableError(
            f"backend {backend.name!r} is installed but unavailable here: {availability.reason}")
    return backend


def select_backend(explicit: str | None = None) -> Backend:
    """Apply the selection rules (module docstring) and return an available backend."""
    if explicit is not None:
        return _require_available(get_backend(explicit))
    preference = _config.backend_preference()
    if preference:
        reasons = []
        for name in preference:
            backend = get_backend(name)  # unknown names fail loudly
            availability = backend.is_available()
            if availability:
                return backend
            reasons.append(f"{name}: {availability.reason}")
        raise BackendUnavailableError(
            f"{_config.BACKEND_VARIABLE}={','.join(preference)} but none is available ("
            + "; ".join(reasons) + ")")
    candidates = sorted((get_backend(name) for name in installed_backends()),
                        key=lambda backend: -backend.priority)
    reasons = []
    for backend in candidates:
        availability = backend.is_available()
        if availability:
            return backend
        reasons.append(f"{backend.name}: {availability.reason}")
    if not candidates:
        raise BackendNotInstalledError(
            "no mycelia backend is installed: pip install mycelia-backend-cpu")
    raise BackendError("no installed backend is available (" + "; ".join(reasons) + ")")


def list_backends() -> list[BackendInfo]:
    """Every installed backend, loading each to ask for its availability (errors shown, not raised)."""
    rows = []
    for name, source in sorted(_sources().items()):
        try:
            backend = get_backend(name)
        except BackendError as error:
            rows.append(BackendInfo(name, source.distribution, source.version, False, None,
                                    str(error), None))
            continue
        availability = backend.is_available()
        rows.append(BackendInfo(name, source.distribution, source.version, True,
                                availability.available, availability.reason, backend.priority))
    return rows
