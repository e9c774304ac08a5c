"""The graph-break / side-effect differential corpus (issue 7): every module's ``CASES`` in
``ALL_CASES`` (names unique)."""

from __future__ import annotations

from differential import gather

from corpus_breaks import branches, callees, effects, exceptions, host_reads, loops, mixed, prints, try_with

MODULES = (effects, prints, host_reads, branches, loops, callees, try_with, exceptions, mixed)
ALL_CASES, counts = gather(MODULES)
