"""Neural-network building blocks with MindSpore's names (``mycelia.nn``)."""

from __future__ import annotations

from mycelia.nn._cell import Cell, ParameterTuple
from mycelia.nn._containers import CellDict, CellList, SequentialCell

__all__ = ["Cell", "CellDict", "CellList", "ParameterTuple", "SequentialCell"]
