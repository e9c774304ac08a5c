"""MindSpore's ``mindspore.common`` spellings (``from mycelia.common import dtype as mstype``)."""

from __future__ import annotations

from mycelia import dtype
from mycelia._tensor import Parameter, Tensor

__all__ = ["Parameter", "Tensor", "dtype"]
