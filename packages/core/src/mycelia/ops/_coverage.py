"""``mycelia.ops.coverage()``: which op runs on which backend for which dtypes."""

from __future__ import annotations

import sys
from typing import TextIO

from mycelia import dtype as dt
from mycelia.ops._registry import all_ops

__all__ = ["coverage"]


def coverage(file: TextIO | None = None) -> dict[str, dict[str, list[str]]]:
    """Print (and return) op -> backend -> supported dtype names, for every available backend.

    A backend supports an op for a dtype when it has a kernel for the op, the op accepts the
    dtype and the backend lists the dtype in its capabilities.
    """
    from mycelia.backends import get_backend, list_backends

    backends = [get_backend(row.name) for row in list_backends() if row.available]
    table: dict[str, dict[str, list[str]]] = {}
    for op in all_ops():
        row: dict[str, list[str]] = {}
        for backend in backends:
            capabilities = backend.capabilities()
            if op.name not in capabilities.ops:
                row[backend.name] = []
                continue
            row[backend.name] = [d.numpy.name for d in dt.all_dtypes()
                                 if d in op.dtypes and d.numpy.name in capabilities.dtypes]
        table[op.name] = row
    out = file or sys.stdout
    names = [backend.name for backend in backends]
    short = {d.numpy.name: d.short_name for d in dt.all_dtypes()}
    print(f"{'op':24}" + "".join(f"{name:40}" for name in names), file=out)
    for op_name, row in table.items():
        cells = [" ".join(short[n] for n in row[name]) or "-" for name in names]
        print(f"{op_name:24}" + "".join(f"{cell:40}" for cell in cells), file=out)
    return table
