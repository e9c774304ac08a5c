"""Functional ops with MindSpore's names and signatures, generated from the op registry."""

from __future__ import annotations

from typing import Any

from mycelia._grad_api import GradOperation, grad, stop_gradient, value_and_grad
from mycelia.ops import (
    _activation,
    _assign,
    _comparison,
    _creation,
    _elementwise,
    _indexing,
    _linalg,
    _loss,
    _nn,
    _random,
    _reduction,
    _shape_ops,
)
from mycelia.ops._activation import *  # noqa: F403
from mycelia.ops._assign import *  # noqa: F403
from mycelia.ops._comparison import *  # noqa: F403
from mycelia.ops._coverage import coverage
from mycelia.ops._creation import *  # noqa: F403
from mycelia.ops._elementwise import *  # noqa: F403
from mycelia.ops._indexing import *  # noqa: F403
from mycelia.ops._linalg import *  # noqa: F403
from mycelia.ops._loss import *  # noqa: F403
from mycelia.ops._methods import attach_methods
from mycelia.ops._nn import *  # noqa: F403
from mycelia.ops._random import *  # noqa: F403
from mycelia.ops._reduction import *  # noqa: F403
from mycelia.ops._registry import OpDef, Sample, all_ops, get_op
from mycelia.ops._shape_ops import *  # noqa: F403

_FAMILIES = (_activation, _assign, _comparison, _creation, _elementwise, _indexing, _linalg, _loss, _nn,
             _random, _reduction, _shape_ops)

__all__ = ["GradOperation", "OpDef", "Sample", "all_ops", "coverage", "get_op", "grad", "stop_gradient",
           "value_and_grad"]
for _family in _FAMILIES:
    __all__ += _family.__all__

_functions: dict[str, Any] = {name: globals()[name] for name in __all__}
_functions["stop_gradient"] = stop_gradient
attach_methods(_functions)
