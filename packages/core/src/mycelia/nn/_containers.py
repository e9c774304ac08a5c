"""``SequentialCell``, ``CellList`` and ``CellDict``."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any

from mycelia.nn._cell import Cell

__all__ = ["CellDict", "CellList", "SequentialCell"]


def _check_cell(value: Any, container: str) -> Cell:
    if not isinstance(value, Cell):
        raise TypeError(f"{container} holds Cells, got {type(value).__name__}")
    return value


class SequentialCell(Cell):
    """Runs its cells in order: ``SequentialCell([a, b])`` or ``SequentialCell(OrderedDict(...))``."""

    def __init__(self, *args: Any) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], (dict, OrderedDict)):
            for name, cell in args[0].items():
                self.insert_child_to_cell(name, _check_cell(cell, "SequentialCell"))
            return
        cells = args[0] if len(args) == 1 and isinstance(args[0], (list, tuple)) else args
        for index, cell in enumerate(cells):
            self.insert_child_to_cell(str(index), _check_cell(cell, "SequentialCell"))

    def __getitem__(self, index: int | slice) -> Any:
        cells = list(self._cells.values())
        if isinstance(index, slice):
            return SequentialCell(cells[index])
        return cells[index]

    def __len__(self) -> int:
        return len(self._cells)

    def __iter__(self) -> Iterator[Cell]:
        return iter(self._cells.values())

    def append(self, cell: Cell) -> SequentialCell:
        self.insert_child_to_cell(str(len(self._cells)), _check_cell(cell, "SequentialCell"))
        return self

    def construct(self, *inputs: Any) -> Any:
        output: Any = inputs[0] if len(inputs) == 1 else inputs
        for cell in self._cells.values():
            output = cell(output)
        return output


class CellList(Cell):
    """A list of cells whose parameters belong to the owner (``layers.0.weight``)."""

    def __init__(self, cells: Iterable[Cell] | None = None) -> None:
        super().__init__()
        for cell in cells or ():
            self.append(cell)

    def append(self, cell: Cell) -> CellList:
        self.insert_child_to_cell(str(len(self._cells)), _check_cell(cell, "CellList"))
        return self

    def extend(self, cells: Iterable[Cell]) -> CellList:
        for cell in cells:
            self.append(cell)
        return self

    def insert(self, index: int, cell: Cell) -> None:
        cells = list(self._cells.values())
        cells.insert(index, _check_cell(cell, "CellList"))
        self._cells.clear()
        for position, item in enumerate(cells):
            self._cells[str(position)] = item

    def __getitem__(self, index: int | slice) -> Any:
        cells = list(self._cells.values())
        return CellList(cells[index]) if isinstance(index, slice) else cells[index]

    def __setitem__(self, index: int, cell: Cell) -> None:
        key = list(self._cells)[index]
        self._cells[key] = _check_cell(cell, "CellList")

    def __len__(self) -> int:
        return len(self._cells)

    def __iter__(self) -> Iterator[Cell]:
        return iter(self._cells.values())

    def construct(self, *inputs: Any) -> Any:
        raise NotImplementedError("CellList is a container; iterate over it in the owner's construct")


class CellDict(Cell):
    """A dict of cells whose parameters belong to the owner (``blocks.encoder.weight``)."""

    def __init__(self, cells: dict[str, Cell] | Iterable[tuple[str, Cell]] | None = None) -> None:
        super().__init__()
        if cells is not None:
            self.update(cells)

    def update(self, cells: dict[str, Cell] | Iterable[tuple[str, Cell]]) -> None:
        items = cells.items() if isinstance(cells, dict) else cells
        for name, cell in items:
            self[name] = cell

    def __getitem__(self, key: str) -> Cell:
        return self._cells[key]

    def __setitem__(self, key: str, cell: Cell) -> None:
        self.insert_child_to_cell(key, _check_cell(cell, "CellDict"))

    def __delitem__(self, key: str) -> None:
        del self._cells[key]

    def __contains__(self, key: object) -> bool:
        return key in self._cells

    def __len__(self) -> int:
        return len(self._cells)

    def __iter__(self) -> Iterator[str]:
        return iter(self._cells)

    def keys(self) -> Iterable[str]:
        return self._cells.keys()

    def values(self) -> Iterable[Cell]:
        return self._cells.values()

    def items(self) -> Iterable[tuple[str, Cell]]:
        return self._cells.items()

    def pop(self, key: str) -> Cell:
        return self._cells.pop(key)

    def clear(self) -> None:
        self._cells.clear()

    def construct(self, *inputs: Any) -> Any:
        raise NotImplementedError("CellDict is a container; index it in the owner's construct")
