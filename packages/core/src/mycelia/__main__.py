"""``python -m mycelia info``: what is installed, loaded and available."""

from __future__ import annotations

import argparse
import platform
import sys
from importlib import metadata

from mycelia import _plugins

__all__ = ["info_text", "main"]


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def _native_info() -> str:
    try:
        from mycelia import _native  # type: ignore[attr-defined]
    except ImportError as error:
        return f"not built ({error})"
    info = _native.build_info()
    return ", ".join(f"{key}={value}" for key, value in sorted(info.items()))


def info_text() -> str:
    from mycelia.backends import list_backends

    lines = [
        f"Python    {sys.version.split()[0]} ({platform.python_implementation()}, {platform.machine()})",
        f"numpy     {_version('numpy')}",
        f"ml_dtypes {_version('ml_dtypes')}",
        f"native    {_native_info()}",
        "",
        "Mycelia distributions:",
    ]
    names = sorted({dist.metadata["Name"] for dist in metadata.distributions()
                    if (dist.metadata["Name"] or "").lower().startswith("mycelia")})
    lines += [f"  {name:28} {_version(name)}" for name in names] or ["  (none)"]
    lines += ["", "Backends (mycelia.backends):"]
    for row in list_backends():
        if row.available is None:
            state = f"broken: {row.reason}"
        elif row.available:
            state = f"available (priority {row.priority})"
        else:
            state = f"unavailable: {row.reason}"
        lines.append(f"  {row.name:10} {row.distribution} {row.version}: {state}")
    for group in (_plugins.FRONTENDS, _plugins.OPTIMIZER):
        entries = _plugins.plugin_entries(group)
        lines += ["", f"Plugins ({group}):"]
        lines += [f"  {e.name:10} {e.value} ({e.distribution} {e.version})" for e in entries] or ["  (none)"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mycelia")
    parser.add_argument("command", choices=["info"], help="what to show")
    parser.parse_args(argv)
    print(info_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
