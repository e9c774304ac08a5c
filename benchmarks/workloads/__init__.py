"""Workloads W1-W10, each written once over a per-framework op table (``_ops.Ops``)."""

from __future__ import annotations

from benchmarks.workloads import breaks, elementwise, mlp, transformer
from benchmarks.workloads._base import Case, Workload
from benchmarks.workloads._ops import Unsupported

_ALL = [*elementwise.WORKLOADS, *mlp.WORKLOADS, *transformer.WORKLOADS, *breaks.WORKLOADS]
WORKLOADS: dict[str, Workload] = {w.key: w for w in sorted(_ALL, key=lambda w: w.key)}

__all__ = ["WORKLOADS", "Case", "Unsupported", "Workload"]
