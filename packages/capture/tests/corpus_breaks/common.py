"""Shared pieces of the graph-break / side-effect corpus: inputs and the ``reg`` decorator factory.

Each module keeps its own state (``LOG``, ``TABLE``, ``COUNTER``, ``OBJ``, ``S``...), a ``_reset`` that
restores it before every run (eager and jitted alike) and a ``_state`` snapshot compared after the last
call, following ``corpus/unsupported.py``. :func:`registry` turns those into one decorator:

- ``@reg(calls...)``: code with side effects and no break (replayed after the graph), ``compiles=1``;
- ``@reg(calls..., breaks=n)``: a graph-break case (``graph_break=True``, ``n`` distinct break locations,
  compile count data dependent);
- ``@reg(calls..., eager=True)``: code that runs the whole function eagerly, with a reason;
- ``made=True``: the decorated function is the factory (closures, Cells, objects);
- ``since=(3, 12)``: ``supported_from`` (older Pythons run the whole function eagerly).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from differential import a23, fresh, registrar

X0, X1, X2, X3 = a23(0), a23(1), a23(2), a23(3)  # sums: +0.96, -2.64, -1.60, +1.70
P0 = abs(a23(3)) + 0.1  # all positive
P1 = abs(a23(4)) + 0.2
N0 = -abs(a23(2)) - 0.1  # all negative
N1 = -abs(a23(5)) - 0.2
SMALL = (a23(6) * 0.01).astype(np.float32)  # |v| < 0.01
BIG = (a23(7) * 10).astype(np.float32)


def registry(cases: list, prefix: str, reset: Any, state: Any, **defaults: Any) -> Any:
    """``defaults``: Case fields every case of the module gets (e.g. ``jit_kwargs``)."""
    case = registrar(cases, prefix)

    def reg(*calls: Any, breaks: int = 0, eager: bool = False, made: bool = False, compiles: int | None = 1,
            since: tuple[int, int] | None = None, **fields: Any) -> Any:
        def deco(fn: Any) -> Any:
            def factory() -> Any:
                reset()
                return fn() if made else fresh(fn)

            factory.__name__ = fn.__name__
            extra = {**defaults, **fields}
            extra.setdefault("state", state)
            count = compiles
            if eager:
                extra["unsupported"] = True
            elif breaks:
                extra["graph_break"] = True
                extra["expect_breaks"] = breaks
                count = None
            if since is not None:
                extra["supported_from"] = since
            case(*calls, made=True, compiles=count, **extra)(factory)
            return fn

        return deco

    return reg
