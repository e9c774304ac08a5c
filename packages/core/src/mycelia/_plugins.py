"""Lazy reading of Mycelia's entry-point groups; nothing here runs at ``import mycelia``."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from mycelia import _config

__all__ = ["BACKENDS", "FRONTENDS", "OPTIMIZER", "PluginEntry", "plugin_entries"]

BACKENDS = "mycelia.backends"
FRONTENDS = "mycelia.frontends"
OPTIMIZER = "mycelia.optimizer"


@dataclass(frozen=True)
class PluginEntry:
    """One entry point: ``name = module:attribute`` in ``distribution`` ``version``."""

    group: str
    name: str
    value: str
    distribution: str
    version: str
    entry_point: metadata.EntryPoint

    def load(self) -> Any:
        return self.entry_point.load()


def _distribution_of(entry_point: metadata.EntryPoint) -> tuple[str, str]:
    dist = getattr(entry_point, "dist", None)
    if dist is None:
        return "unknown", "unknown"
    return dist.metadata["Name"], dist.version


@functools.cache
def _installed_entry_points() -> Any:
    """Every installed entry point, read once per process (a scan of all distributions costs
    milliseconds, and jit's first call looks up two groups)."""
    return metadata.entry_points()


def plugin_entries(group: str) -> list[PluginEntry]:
    """Entry points of ``group``, minus those switched off by configuration."""
    if not _config.plugin_autoload_enabled():
        return []
    disabled = _config.disabled_plugins()
    entries: dict[str, PluginEntry] = {}
    for entry_point in _installed_entry_points().select(group=group):
        name = entry_point.name.lower()
        if name in disabled or name in entries:
            continue
        distribution, version = _distribution_of(entry_point)
        entries[name] = PluginEntry(group, name, entry_point.value, distribution, version,
                                    entry_point)
    return sorted(entries.values(), key=lambda entry: entry.name)
