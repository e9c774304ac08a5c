"""Liveness and buffer reuse: which node reads a value last, and a slot assignment in which values
whose lifetimes do not overlap share one buffer (backends allocate the slots once per shape set)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mycelia.ir._graph import Graph, Value

__all__ = ["BufferPlan", "last_uses", "plan_buffers"]


def last_uses(graph: Graph) -> dict[Value, int]:
    """Value -> index of the last node reading it; graph outputs live to ``len(graph.nodes)``."""
    last: dict[Value, int] = {}
    for index, node in enumerate(graph.nodes):
        for value in node.inputs:
            last[value] = index
    for value in graph.outputs:
        last[value] = len(graph.nodes)
    return last


@dataclass(frozen=True)
class BufferPlan:
    """``slot_of[value]`` indexes ``slot_sizes`` (bytes); ``naive_bytes`` is what one buffer per value takes."""

    slot_of: Mapping[Value, int]
    slot_sizes: tuple[int, ...]
    naive_bytes: int

    @property
    def planned_bytes(self) -> int:
        return sum(self.slot_sizes)


def plan_buffers(graph: Graph, sizes: Mapping[Value, int], last: Mapping[Value, int] | None = None) -> BufferPlan:
    """Assign a slot to every value in ``sizes`` (bytes) that is not a graph output.

    A value's slot is taken when its node runs and freed after the last node that reads it, so an
    output never shares a buffer with an input of the same node (kernels like matmul cannot run in
    place). Free slots are reused best-fit: the smallest one that is large enough. ``last`` overrides
    :func:`last_uses` (a backend whose kernels return views extends the lifetime of their inputs).
    """
    if last is None:
        last = last_uses(graph)
    outputs = set(graph.outputs)
    slot_sizes: list[int] = []
    free: list[int] = []
    slot_of: dict[Value, int] = {}
    dying: dict[int, list[Value]] = {}
    for index, node in enumerate(graph.nodes):
        for value in node.outputs:
            if value not in sizes or value in outputs:
                continue
            need = sizes[value]
            fitting = [slot for slot in free if slot_sizes[slot] >= need]
            if fitting:
                slot = min(fitting, key=lambda s: slot_sizes[s])
                free.remove(slot)
            else:
                slot = len(slot_sizes)
                slot_sizes.append(need)
            slot_of[value] = slot
            dying.setdefault(last.get(value, index), []).append(value)
        for value in dying.pop(index, []):
            free.append(slot_of[value])
    return BufferPlan(slot_of, tuple(slot_sizes), sum(sizes[v] for v in slot_of))
