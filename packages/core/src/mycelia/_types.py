"""Tensor types shared by eager inference and the IR: ``dtype[dims]``, a dim an int or a symbol."""

from __future__ import annotations

from dataclasses import dataclass

from mycelia.dtype import DType

__all__ = ["Dim", "Shape", "Symbol", "TensorType"]


@dataclass(frozen=True)
class Symbol:
    """A symbolic dimension such as ``B``."""

    name: str

    def __str__(self) -> str:
        return self.name


Dim = int | Symbol
Shape = tuple[Dim, ...]


@dataclass(frozen=True)
class TensorType:
    dtype: DType
    shape: Shape

    @property
    def rank(self) -> int:
        return len(self.shape)

    def __str__(self) -> str:
        return f"{self.dtype.short_name}[{','.join(str(d) for d in self.shape)}]"
