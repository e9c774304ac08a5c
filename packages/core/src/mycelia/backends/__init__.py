"""Backend plugin API: the interface a backend implements, and how core finds and picks one."""

from mycelia.backends._errors import (
    BackendError,
    BackendLoadError,
    BackendNotInstalledError,
    BackendUnavailableError,
    BackendVersionError,
)
from mycelia.backends._interface import API_VERSION, Availability, Backend, Capabilities, Kernel
from mycelia.backends._registry import (
    BackendInfo,
    get_backend,
    installed_backends,
    list_backends,
    register_backend,
    reset_discovery,
    select_backend,
)

__all__ = [
    "API_VERSION",
    "Availability",
    "Backend",
    "BackendError",
    "BackendInfo",
    "BackendLoadError",
    "BackendNotInstalledError",
    "BackendUnavailableError",
    "BackendVersionError",
    "Capabilities",
    "Kernel",
    "get_backend",
    "installed_backends",
    "list_backends",
    "register_backend",
    "reset_discovery",
    "select_backend",
]
