"""Mycelia: MindSpore-compatible tensors, eager ops and compiled graphs.

``import mycelia`` loads no plugin: backends are found on first use (``mycelia.backends``).
"""

from __future__ import annotations

from mycelia import common, dataset, dtype, nn, ops
from mycelia._autograd import no_grad
from mycelia._checkpoint import CheckpointError, load_checkpoint, load_param_into_net, save_checkpoint
from mycelia._context import GRAPH_MODE, PYNATIVE_MODE, get_context, set_context, set_device
from mycelia._dlpack import from_dlpack
from mycelia._grad_api import grad, value_and_grad
from mycelia._jit import JitConfig, jit, jit_info
from mycelia._random_state import get_seed, set_seed
from mycelia._tensor import Parameter, Tensor, from_numpy
from mycelia.backends import list_backends
from mycelia.dtype import (
    bfloat16,
    bool_,
    float16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    uint8,
)

__version__ = "0.1.0"

__all__ = [
    "CheckpointError",
    "GRAPH_MODE",
    "JitConfig",
    "PYNATIVE_MODE",
    "Parameter",
    "Tensor",
    "__version__",
    "bfloat16",
    "bool_",
    "common",
    "dataset",
    "nn",
    "dtype",
    "ops",
    "float16",
    "float32",
    "float64",
    "from_dlpack",
    "from_numpy",
    "get_context",
    "get_seed",
    "grad",
    "int8",
    "int16",
    "int32",
    "int64",
    "jit",
    "jit_info",
    "list_backends",
    "load_checkpoint",
    "load_param_into_net",
    "no_grad",
    "save_checkpoint",
    "set_context",
    "set_device",
    "set_seed",
    "uint8",
    "value_and_grad",
]
