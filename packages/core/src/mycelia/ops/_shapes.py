"""Shape rules shared by op inference (pure: types in, types out)."""

from __future__ import annotations

from mycelia._types import Dim, Shape

__all__ = ["broadcast_shapes"]


def broadcast_shapes(op: str, *shapes: Shape) -> Shape:
    """Numpy broadcasting, with symbolic dims allowed when equal or against 1."""
    from mycelia._errors import OpError

    rank = max((len(shape) for shape in shapes), default=0)
    result: list[Dim] = []
    for axis in range(rank):
        dim: Dim = 1
        for shape in shapes:
            index = len(shape) - rank + axis
            if index < 0:
                continue
            current = shape[index]
            if current == 1 or current == dim:
                continue
            if dim == 1:
                dim = current
            else:
                shown = " and ".join(str(list(s)) for s in shapes)
                raise OpError(op, f"shapes {shown} cannot be broadcast together (axis {axis})")
        result.append(dim)
    return tuple(result)
