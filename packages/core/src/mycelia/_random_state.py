"""The global random state: counter-based, so every random op is a pure function of attributes.

The state is a pair ``(seed, offset)``. Each random op call takes the next pair as its ``seed`` and
``offset`` attributes and advances ``offset`` by one; the kernel derives its numbers from
``(seed, offset, shape, dtype)`` only (Philox4x64-10, see ``mycelia.ops._random_spec``). So the
numbers do not depend on where the op runs (eager, or a graph that recorded the attributes) and
``set_seed(s)`` followed by the same calls gives the same numbers.

The ``seed`` attribute is the 128-bit Philox key:

* global stream: key = the global seed (default 0 until ``set_seed``), offset = call counter;
* explicit per-call seed ``s`` (``ops.rand(3, seed=s)``): key = ``s + 2**64``, offset = 0. Such a
  call always returns the same numbers, never meets the global stream (the key differs) and does
  not advance the global counter.
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["EXPLICIT_SEED_BIT", "get_seed", "get_state", "next_seed", "reserve", "set_seed", "set_state"]

SEED_LIMIT = 1 << 64
EXPLICIT_SEED_BIT = 1 << 64  # key bit 64 marks an explicit per-call seed
DEFAULT_SEED = 0


class _State:
    def __init__(self) -> None:
        self.seed: int | None = None  # as given to set_seed; None until then
        self.offset = 0


_state = _State()
_lock = threading.Lock()


def _check_seed(seed: Any, where: str) -> int:
    from mycelia._errors import OpError

    if isinstance(seed, bool) or not isinstance(seed, int):
        raise OpError(where, f"seed must be a non-negative int below 2**64, got {type(seed).__name__} {seed!r}")
    if not 0 <= seed < SEED_LIMIT:
        raise OpError(where, f"seed must be a non-negative int below 2**64, got {seed}")
    return seed


def set_seed(seed: int) -> None:
    """Set the global seed and restart the global random stream (MindSpore's ``set_seed``).

    As in MindSpore, this also seeds ``numpy.random`` (with ``seed mod 2**32``).
    """
    import numpy as np

    value = _check_seed(seed, "set_seed")
    with _lock:
        _state.seed = value
        _state.offset = 0
    np.random.seed(value & 0xFFFFFFFF)


def get_seed() -> int | None:
    """The global seed given to ``set_seed``, or None when it was never set (as in MindSpore).

    Unset, the global stream still is deterministic: it uses seed 0.
    """
    return _state.seed


def next_seed(seed: int | None = None, *, op: str = "random") -> tuple[int, int]:
    """The ``(seed, offset)`` attributes for the next random op call.

    ``seed=None``: the next pair of the global stream (advances it). An explicit ``seed``: the
    fixed pair ``(seed + 2**64, 0)``, leaving the global stream alone. ``op`` names the caller in
    errors. Ops outside this family (dropout) use this too, so they share the stream.
    """
    if seed is not None:
        return _check_seed(seed, op) | EXPLICIT_SEED_BIT, 0
    with _lock:
        offset = _state.offset
        _state.offset = offset + 1
        key = DEFAULT_SEED if _state.seed is None else _state.seed
    return key, offset


def reserve(count: int) -> tuple[int, int]:
    """Take ``count`` consecutive offsets at once: returns ``(seed, first offset)``.

    For a compiled graph holding ``count`` random ops: its i-th random op (in program order) uses
    ``first + i``, which is what the same code run eagerly would have drawn.
    """
    if count < 0:
        raise ValueError(f"reserve: count must be >= 0, got {count}")
    with _lock:
        first = _state.offset
        _state.offset = first + count
        key = DEFAULT_SEED if _state.seed is None else _state.seed
    return key, first


def get_state() -> tuple[int | None, int]:
    """``(global seed or None, offset)``: save it to replay the stream with :func:`set_state`."""
    with _lock:
        return _state.seed, _state.offset


def set_state(state: tuple[int | None, int]) -> None:
    seed, offset = state
    if seed is not None:
        _check_seed(seed, "set_state")
    if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset < SEED_LIMIT:
        raise ValueError(f"set_state: offset must be an int in [0, 2**64), got {offset!r}")
    with _lock:
        _state.seed = seed
        _state.offset = offset
