"""The cheap Ascend probe: find CANN, load ACL, initialise it and count NPUs.

ACL is reached through ctypes (CANN is not on PyPI), so nothing here is imported or loaded until
the first probe. No device is opened and no memory is allocated.
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_TOOLKIT_PATH",
    "ENVIRONMENT_VARIABLES",
    "LIBRARY_NAME",
    "LIBRARY_SUBDIRECTORIES",
    "AscendProbe",
    "find_cann",
    "probe_ascend",
    "read_environment",
]

# Set by CANN's set_env.sh, newest name first; ASCEND_OPP_PATH points at <toolkit>/opp.
ENVIRONMENT_VARIABLES = ("ASCEND_HOME_PATH", "ASCEND_TOOLKIT_HOME", "ASCEND_OPP_PATH")
DEFAULT_TOOLKIT_PATH = Path("/usr/local/Ascend/ascend-toolkit/latest")
LIBRARY_NAME = "libascendcl.so"
# Where CANN releases keep libascendcl.so under the toolkit, newest layout first.
LIBRARY_SUBDIRECTORIES = ("lib64", "runtime/lib64", "acllib/lib64")

_ACL_SUCCESS = 0
# Another library in this process (torch_npu, MindSpore) initialised ACL first: that is fine.
_ACL_ERROR_REPEAT_INITIALIZE = 100002


@dataclass(frozen=True)
class AscendProbe:
    """What the probe found; ``reason`` is empty exactly when ``available`` is set."""

    available: bool
    reason: str
    device_count: int = 0
    cann_home: Path | None = None


def read_environment(name: str) -> str:
    """The only place this package reads the environment (core keeps its own in mycelia._config)."""
    return os.environ.get(name, "").strip()


def find_cann() -> tuple[Path | None, str]:
    """The CANN toolkit directory, or None and a reason that lists every place looked at."""
    notes = []
    for variable in ENVIRONMENT_VARIABLES:
        value = read_environment(variable)
        if not value:
            continue
        home = Path(value)
        if variable == "ASCEND_OPP_PATH":
            home = home.parent
        if home.is_dir():
            return home, ""
        notes.append(f"{variable}={value} is not a directory")
    if DEFAULT_TOOLKIT_PATH.is_dir():
        return DEFAULT_TOOLKIT_PATH, ""
    if not notes:
        notes.append("no " + ", ".join(ENVIRONMENT_VARIABLES[:-1]) + " or " + ENVIRONMENT_VARIABLES[-1])
    notes.append(f"{DEFAULT_TOOLKIT_PATH} missing")
    return None, "CANN not found (" + ", ".join(notes) + ")"


def _recent_error(library: Any) -> str:
    """ACL's own description of the last failure, when this CANN release offers one."""
    try:
        recent = library.aclGetRecentErrMsg
        recent.argtypes = []
        recent.restype = ctypes.c_char_p
        message = recent()
    except (AttributeError, OSError):
        return ""
    if not message:
        return ""
    text = bytes(message).decode("utf-8", "replace").strip()
    return f": {text}" if text else ""


def _load_library(home: Path) -> tuple[Any, str]:
    candidates = [home / subdirectory / LIBRARY_NAME for subdirectory in LIBRARY_SUBDIRECTORIES]
    existing = [candidate for candidate in candidates if candidate.exists()]
    if not existing:
        looked_in = ", ".join(LIBRARY_SUBDIRECTORIES)
        return None, f"{LIBRARY_NAME} not found under {home} (looked in {looked_in})"
    try:
        return ctypes.CDLL(str(existing[0])), ""
    except OSError as error:
        # Usually a dependency (libascend_hal.so from the driver, or CANN's own libraries when
        # set_env.sh was not sourced); the loader's message names it.
        return None, f"{LIBRARY_NAME} failed to load: {error}"


def probe_ascend() -> AscendProbe:
    """Find CANN, load ACL, initialise it and count devices; stop at the first gap."""
    home, reason = find_cann()
    if home is None:
        return AscendProbe(False, reason)
    library, reason = _load_library(home)
    if library is None:
        return AscendProbe(False, reason, cann_home=home)

    # ACL stays initialised afterwards: the backend will use it, and several CANN releases
    # refuse a second aclInit after aclFinalize in the same process.
    initialise = library.aclInit
    initialise.argtypes = [ctypes.c_char_p]
    initialise.restype = ctypes.c_int
    code = int(initialise(None))
    if code not in (_ACL_SUCCESS, _ACL_ERROR_REPEAT_INITIALIZE):
        return AscendProbe(False, f"CANN found at {home} but aclInit failed with error {code}"
                                  f"{_recent_error(library)}", cann_home=home)

    get_count = library.aclrtGetDeviceCount
    get_count.argtypes = [ctypes.POINTER(ctypes.c_uint32)]
    get_count.restype = ctypes.c_int
    count = ctypes.c_uint32(0)
    code = int(get_count(ctypes.pointer(count)))
    if code != _ACL_SUCCESS:
        return AscendProbe(False, f"CANN found at {home} but aclrtGetDeviceCount failed with error "
                                  f"{code}{_recent_error(library)}", cann_home=home)
    if count.value == 0:
        return AscendProbe(False, "no Ascend device (aclrtGetDeviceCount returned 0)", cann_home=home)
    return AscendProbe(True, "", int(count.value), home)
