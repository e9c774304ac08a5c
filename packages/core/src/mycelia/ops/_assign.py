"""``ops.assign`` / ``assign_add`` / ``assign_sub`` (MindSpore's names) and ``ops.clip_by_global_norm``.

The assign family is not in the op registry: it changes a Parameter (or Tensor) in place by giving it a
new backend array of the same dtype and shape. Arrays are never written to (other tensors may share
them), so ``assign`` can take the value's array as is; nothing is recorded for autograd.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import mycelia.ops as _ops_module
from mycelia import _autograd
from mycelia import dtype as dt
from mycelia._tensor import Tensor

_ops: Any = _ops_module  # op functions are generated from the registry

__all__ = ["assign", "assign_add", "assign_sub", "clip_by_global_norm"]


def _name(variable: Tensor) -> str:
    name = getattr(variable, "name", None)
    return f" {name!r}" if name else ""


def _check_variable(op: str, variable: Any) -> Tensor:
    if not isinstance(variable, Tensor):
        raise TypeError(f"{op}: variable must be a Parameter or Tensor, got {type(variable).__name__}")
    return variable


def _host_value(op: str, variable: Tensor, value: Any) -> Any:
    """A numpy array or Python scalar value as a backend array of the variable's dtype and shape."""
    target = variable._dtype
    if isinstance(value, np.ndarray):
        array = value
    elif isinstance(value, (bool, int, float, np.generic)):
        if isinstance(value, float) and not target.is_floating_point:
            raise TypeError(f"{op}: cannot assign a float to{_name(variable)} of dtype {target} (shape "
                            f"{list(variable.shape)}); cast the value first")
        array = np.full(variable.shape, value, dtype=target.numpy)
    else:
        raise TypeError(f"{op}: value must be a Tensor, numpy array or Python scalar, got {type(value).__name__}")
    if array.dtype != target.numpy:
        raise TypeError(f"{op}: value dtype {array.dtype} does not match{_name(variable)} of dtype {target}; "
                        f"cast it first")
    if tuple(array.shape) != variable.shape:
        raise ValueError(f"{op}: value shape {list(array.shape)} does not match{_name(variable)} of shape "
                         f"{list(variable.shape)}")
    return variable._backend.from_numpy(np.array(array, order="C"))


def assign(variable: Any, value: Any) -> Any:
    """``variable`` takes ``value`` (same dtype and shape; a Python scalar fills it). Returns ``variable``."""
    _check_variable("assign", variable)
    if isinstance(value, Tensor):
        if value._dtype is not variable._dtype:
            raise TypeError(f"assign: value dtype {value._dtype} does not match{_name(variable)} of dtype "
                            f"{variable._dtype}; cast it first (value.astype(...))")
        if value._data.shape != variable._data.shape:
            raise ValueError(f"assign: value shape {list(value.shape)} does not match{_name(variable)} of shape "
                             f"{list(variable.shape)}")
        if value._backend is not variable._backend:
            raise ValueError(f"assign: value is on backend {value._backend.name!r}, {_name(variable).strip() or 'the'}"
                             f" variable on {variable._backend.name!r}")
        variable._data = value._data
    else:
        variable._data = _host_value("assign", variable, value)
    return variable


def _update(op: str, variable: Any, value: Any, subtract: bool) -> Any:
    _check_variable(op, variable)
    if isinstance(value, Tensor) and value._dtype is not variable._dtype:
        raise TypeError(f"{op}: value dtype {value._dtype} does not match{_name(variable)} of dtype "
                        f"{variable._dtype}; cast it first")
    if isinstance(value, float) and not variable._dtype.is_floating_point:
        raise TypeError(f"{op}: cannot add a float to{_name(variable)} of dtype {variable._dtype}")
    if isinstance(value, np.ndarray):
        value = Tensor._make(_host_value(op, variable, value), variable._dtype, variable._backend)
    with _autograd.no_grad():
        result = _ops.sub(variable, value) if subtract else _ops.add(variable, value)
    if result._data.shape != variable._data.shape:
        raise ValueError(f"{op}: value of shape {list(getattr(value, 'shape', ()))} does not broadcast to"
                         f"{_name(variable)} of shape {list(variable.shape)}")
    if result._dtype is not variable._dtype:
        raise TypeError(f"{op}: the result dtype {result._dtype} differs from{_name(variable)} dtype {variable._dtype}")
    variable._data = result._data
    return variable


def assign_add(variable: Any, value: Any) -> Any:
    """``variable = variable + value`` in place (value broadcasts to variable's shape). Returns ``variable``."""
    return _update("assign_add", variable, value, subtract=False)


def assign_sub(variable: Any, value: Any) -> Any:
    """``variable = variable - value`` in place (value broadcasts to variable's shape). Returns ``variable``."""
    return _update("assign_sub", variable, value, subtract=True)


def clip_by_global_norm(x: Sequence[Any], clip_norm: float = 1.0, use_norm: Any = None) -> tuple[Any, ...]:
    """Scale every tensor of ``x`` by ``clip_norm / max(global_norm, clip_norm)``, where ``global_norm`` is the
    L2 norm of all of them together (or ``use_norm`` when given). Returns a tuple, each in its input's dtype."""
    if isinstance(x, Tensor):
        raise TypeError("clip_by_global_norm: x must be a tuple or list of Tensors, got a single Tensor; wrap it")
    tensors = tuple(x)
    for index, tensor in enumerate(tensors):
        if not isinstance(tensor, Tensor) or not tensor._dtype.is_floating_point:
            what = f"dtype {tensor._dtype}" if isinstance(tensor, Tensor) else type(tensor).__name__
            raise TypeError(f"clip_by_global_norm: x[{index}] must be a float Tensor, got {what}")
    if isinstance(clip_norm, bool) or not isinstance(clip_norm, (int, float, Tensor)):
        raise TypeError(f"clip_by_global_norm: clip_norm must be a float, got {type(clip_norm).__name__}")
    clip = float(clip_norm) if not isinstance(clip_norm, Tensor) else float(clip_norm.item())
    if not clip > 0:
        raise ValueError(f"clip_by_global_norm: clip_norm must be > 0, got {clip}")
    if not tensors:
        return ()
    if use_norm is None:
        total: Any = None
        for tensor in tensors:
            wide = tensor if tensor._dtype in (dt.float32, dt.float64) else _ops.cast(tensor, dt.float32)
            squares = _ops.sum(_ops.square(wide))
            if squares._dtype is not dt.float32:
                squares = _ops.cast(squares, dt.float32)
            total = squares if total is None else _ops.add(total, squares)
        norm = _ops.sqrt(total)
    elif isinstance(use_norm, Tensor):
        norm = _ops.cast(_ops.reshape(use_norm, ()), dt.float32)
    else:
        norm = Tensor(float(use_norm), dt.float32)
    scale = _ops.div(clip, _ops.maximum(norm, clip))
    return tuple(_ops.mul(tensor, scale if tensor._dtype is dt.float32 else _ops.cast(scale, tensor._dtype))
                 for tensor in tensors)
