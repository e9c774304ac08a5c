"""Functional gradients with MindSpore's spellings: ``grad``, ``value_and_grad``, ``GradOperation``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from mycelia import _autograd
from mycelia._tensor import Parameter, Tensor

__all__ = ["GradOperation", "grad", "stop_gradient", "value_and_grad"]

_LEAF = _autograd.Leaf()


def _positions(grad_position: int | Sequence[int] | None, count: int) -> tuple[int, ...] | None:
    if grad_position is None:
        return None
    positions = (grad_position,) if isinstance(grad_position, int) else tuple(grad_position)
    for position in positions:
        if isinstance(position, bool) or not isinstance(position, int) or not -count <= position < count:
            raise ValueError(f"grad: grad_position {grad_position!r} is out of range for {count} positional inputs")
    return tuple(p % count for p in positions)


def _weights(weights: Any) -> list[Parameter]:
    if weights is None:
        return []
    if hasattr(weights, "trainable_params"):
        weights = weights.trainable_params()
    if isinstance(weights, Tensor):
        return [weights]  # type: ignore[list-item]
    found = list(weights)
    for weight in found:
        if not isinstance(weight, Tensor):
            raise TypeError(f"grad: weights must be Parameters (or a Cell / list of them), got {type(weight).__name__}")
    return found


def _differentiated_outputs(value: Any, has_aux: bool) -> list[Tensor]:
    """Outputs whose sum is differentiated: all of a tuple/dict output, or the first with has_aux."""
    if has_aux:
        if not isinstance(value, (tuple, list)) or not value:
            raise TypeError("grad with has_aux=True: the function must return a tuple (output, aux...)")
        value = value[0]
    if isinstance(value, dict):
        value = list(value.values())
    outputs = list(value) if isinstance(value, (tuple, list)) else [value]
    for output in outputs:
        if not isinstance(output, Tensor):
            raise TypeError(f"grad: the function must return Tensors, got {type(output).__name__}")
    return outputs


def _detach(value: Any) -> Any:
    if isinstance(value, Tensor):
        value._autograd = None
    elif isinstance(value, (tuple, list)):
        for item in value:
            _detach(item)
    elif isinstance(value, dict):
        for item in value.values():
            _detach(item)
    return value


def _ones_like(tensor: Tensor) -> Tensor:
    import numpy as np

    data = tensor._backend.from_numpy(np.ones(tensor.shape, dtype=tensor.dtype.numpy))
    return Tensor._make(data, tensor.dtype, tensor._backend)


def _zeros_like(tensor: Tensor) -> Tensor:
    import numpy as np

    data = tensor._backend.from_numpy(np.zeros(tensor.shape, dtype=tensor.dtype.numpy))
    return Tensor._make(data, tensor.dtype, tensor._backend)


def run_with_gradients(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
                       grad_position: int | Sequence[int] | None, weights: Any, has_aux: bool,
                       sens: Any = None) -> tuple[Any, tuple[Tensor, ...] | None, tuple[Tensor, ...]]:
    """Call ``fn`` recording a tape; returns (value, input grads or None, weight grads)."""
    positions = _positions(grad_position, len(args))
    params = _weights(weights)
    arguments = list(args)
    targets: list[Tensor] = []
    for position in positions or ():
        value = arguments[position]
        if not isinstance(value, Tensor):
            raise TypeError(f"grad: input {position} must be a Tensor to differentiate it, got {type(value).__name__}")
        if value._autograd is None:  # otherwise an outer gradient tracks it: differentiate it as is
            value = Tensor._make(value._data, value._dtype, value._backend)
            value._autograd = _LEAF
            arguments[position] = value
        targets.append(value)
    marked = [param for param in params if param._autograd is None]
    for param in marked:
        param._autograd = _LEAF
    state = _autograd.state
    state.depth += 1
    try:
        value = fn(*arguments, **kwargs)
        outputs = _differentiated_outputs(value, has_aux)
        if sens is None:
            output_grads = [_ones_like(output) for output in outputs]
        else:
            sens_list = list(sens) if isinstance(sens, (tuple, list)) else [sens]
            if len(sens_list) != len(outputs):
                raise ValueError(f"grad: {len(sens_list)} sens values for {len(outputs)} outputs")
            output_grads = sens_list
        all_targets = targets + list(params)
        grads = _autograd.backward(outputs, output_grads, all_targets)
        filled = tuple(grad if grad is not None else _zeros_like(target) for grad, target in zip(grads, all_targets))
    finally:
        state.depth -= 1
        for param in marked:
            param._autograd = None
    if state.depth == 0:
        _detach(value)
        _detach(filled)
    input_grads = filled[:len(targets)] if positions is not None else None
    return value, input_grads, filled[len(targets):]


def _pack(positions: int | Sequence[int] | None, input_grads: tuple[Tensor, ...] | None,
          weight_grads: tuple[Tensor, ...], has_weights: bool, return_ids: bool,
          weight_names: list[str]) -> Any:
    inputs: Any = None
    if input_grads is not None:
        index_list = [positions] if isinstance(positions, int) else list(positions or ())
        pairs = list(zip(index_list, input_grads))
        if return_ids:
            inputs = pairs[0] if isinstance(positions, int) else tuple(pairs)
        else:
            inputs = input_grads[0] if isinstance(positions, int) else tuple(input_grads)
    weights: Any = tuple(zip(weight_names, weight_grads)) if return_ids else tuple(weight_grads)
    if not has_weights:
        return inputs
    if input_grads is None:
        return weights
    return inputs, weights


def _gradient_function(api: str, fn: Callable[..., Any], grad_position: int | Sequence[int] | None, weights: Any,
                       has_aux: bool, return_ids: bool) -> Callable[..., tuple[Any, Any]]:
    """``f(*args) -> (value, grads packed as MindSpore returns them)``, shared by grad and value_and_grad."""
    if grad_position is None and weights is None:
        raise ValueError(f"{api}: grad_position and weights cannot both be None")

    def compute(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        value, input_grads, weight_grads = run_with_gradients(fn, args, kwargs, grad_position, weights, has_aux)
        names = [getattr(w, "name", str(i)) for i, w in enumerate(_weights(weights))]
        return value, _pack(grad_position, input_grads, weight_grads, weights is not None, return_ids, names)

    return compute


def value_and_grad(fn: Callable[..., Any], grad_position: int | Sequence[int] | None = 0, weights: Any = None,
                   has_aux: bool = False, return_ids: bool = False) -> Callable[..., Any]:
    """``value_and_grad(fn)(*args) -> (value, grads)``, as ``mindspore.value_and_grad``."""
    return _gradient_function("value_and_grad", fn, grad_position, weights, has_aux, return_ids)


def grad(fn: Callable[..., Any], grad_position: int | Sequence[int] | None = 0, weights: Any = None,
         has_aux: bool = False, return_ids: bool = False) -> Callable[..., Any]:
    """``grad(fn)(*args) -> grads`` (``(grads, aux)`` with ``has_aux``), as ``mindspore.grad``."""
    compute = _gradient_function("grad", fn, grad_position, weights, has_aux, return_ids)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        value, grads = compute(*args, **kwargs)
        if has_aux:
            aux = tuple(value[1:])
            return grads, aux[0] if len(aux) == 1 else aux
        return grads

    return wrapper


class GradOperation:
    """``ops.GradOperation(get_all=False, get_by_list=False, sens_param=False)(fn[, weights])``."""

    def __init__(self, get_all: bool = False, get_by_list: bool = False, sens_param: bool = False) -> None:
        self.get_all = get_all
        self.get_by_list = get_by_list
        self.sens_param = sens_param

    def __call__(self, fn: Callable[..., Any], weights: Any = None) -> Callable[..., Any]:
        if self.get_by_list and weights is None:
            raise ValueError("GradOperation(get_by_list=True) needs weights: grad_op(fn, weights)")

        def wrapper(*args: Any) -> Any:
            sens = None
            if self.sens_param:
                if not args:
                    raise TypeError("GradOperation(sens_param=True): the last argument must be the sens value")
                *rest, sens = args
                args = tuple(rest)
            positions: tuple[int, ...] | None = tuple(range(len(args))) if self.get_all else (0,)
            if self.get_by_list and not self.get_all:
                positions = None
            _, input_grads, weight_grads = run_with_gradients(
                fn, args, {}, positions, weights if self.get_by_list else None, False, sens)
            if self.get_by_list and self.get_all:
                return tuple(input_grads or ()), tuple(weight_grads)
            if self.get_by_list:
                return tuple(weight_grads)
            assert input_grads is not None
            return tuple(input_grads) if self.get_all else input_grads[0]

        return wrapper


def stop_gradient(value: Tensor) -> Tensor:
    """The same values, cut off from any gradient being taken."""
    if not isinstance(value, Tensor):
        raise TypeError(f"stop_gradient expects a Tensor, got {type(value).__name__}")
    return Tensor._make(value._data, value._dtype, value._backend)
