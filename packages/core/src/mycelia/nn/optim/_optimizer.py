"""``nn.Optimizer``: the base of every optimizer (MindSpore 2.x's parameter groups, learning rates, state).

An optimizer is a Cell. ``optimizer(grads)`` applies one update, ``grads`` aligned with
``optimizer.parameters``. Its state (moments, ``global_step``, the learning rate) is held in Parameters
registered on the cell, so ``save_checkpoint(optimizer, ...)`` saves it and ``load_checkpoint`` restores it.
Updates run under ``no_grad`` in mycelia ops and replace each Parameter's array with a new one.

The learning rate is a float (a Parameter named ``learning_rate``), a 0-d Tensor, a list or 1-d Tensor (step
``i`` uses element ``i``, the last one once it runs out), a :class:`LearningRateSchedule` cell called with
``global_step``, or any callable taking the step as an int. ``get_lr()`` returns the rate the next update
will use; unlike MindSpore, calling it does not advance ``global_step`` (only an update does).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._autograd import no_grad
from mycelia._tensor import Parameter, Tensor
from mycelia.nn._cell import Cell, ParameterTuple
from mycelia.nn.learning_rate_schedule import LearningRateSchedule

__all__ = ["Optimizer"]

_GROUP_KEYS = ("params", "lr", "weight_decay", "grad_centralization", "order_params")
LrSource = Any  # Parameter (fixed), Cell (schedule) or a callable(step) -> float


def check_float(owner: str, name: str, value: Any, low: float = 0.0, low_open: bool = False,
                high: float | None = None, high_open: bool = True) -> float:
    """``value`` as a float within the bounds, or a TypeError / ValueError naming the argument."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{owner}: {name} must be a float, got {type(value).__name__}")
    value = float(value)
    bad_low = value <= low if low_open else value < low
    bad_high = high is not None and (value >= high if high_open else value > high)
    if bad_low or bad_high or value != value:
        low_text = f"{'>' if low_open else '>='} {low}"
        high_text = "" if high is None else f" and {'<' if high_open else '<='} {high}"
        raise ValueError(f"{owner}: {name} must be {low_text}{high_text}, got {value}")
    return float(value)


def check_bool(owner: str, name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{owner}: {name} must be a bool, got {type(value).__name__}")
    return value


class _IteratorLearningRate(LearningRateSchedule):
    """A list of rates as a schedule: step ``i`` takes element ``i`` (the last once past the end)."""

    def __init__(self, rates: np.ndarray, name: str) -> None:
        super().__init__()
        self.learning_rate = Parameter(Tensor(rates, dt.float32), name=name, requires_grad=False)

    def value(self, step: int) -> float:
        rates = self.learning_rate.asnumpy()
        return float(rates[min(step, rates.shape[0] - 1)])

    def construct(self, global_step: Any) -> Any:
        step = int(np.asarray(global_step.asnumpy() if isinstance(global_step, Tensor) else global_step).reshape(-1)[0])
        return Tensor(np.float32(self.value(step)), dt.float32)


def _lr_source(owner: str, learning_rate: Any, name: str) -> LrSource:
    if isinstance(learning_rate, np.generic):
        learning_rate = learning_rate.item()
    if isinstance(learning_rate, bool):
        raise TypeError(f"{owner}: learning_rate must be a float, Tensor, list, LearningRateSchedule or callable, "
                        f"got bool")
    if isinstance(learning_rate, (int, float)):
        value = check_float(owner, "learning_rate", learning_rate)
        return Parameter(Tensor(np.float32(value), dt.float32), name=name, requires_grad=False)
    if isinstance(learning_rate, Tensor):
        if learning_rate.ndim > 1:
            raise ValueError(f"{owner}: a learning_rate Tensor must be 0-d or 1-d, got shape "
                             f"{list(learning_rate.shape)}")
        if learning_rate.ndim == 0:
            return _lr_source(owner, float(learning_rate.item()), name)
        learning_rate = learning_rate.asnumpy().tolist()
    if isinstance(learning_rate, Cell):
        return learning_rate
    if isinstance(learning_rate, (list, tuple, np.ndarray)) or (
            isinstance(learning_rate, Iterable) and not isinstance(learning_rate, (str, bytes, dict))):
        rates = np.asarray(list(learning_rate), dtype=np.float64)
        if rates.ndim != 1 or rates.size == 0:
            raise ValueError(f"{owner}: a learning_rate list must be a non-empty list of floats")
        if (rates < 0).any() or np.isnan(rates).any():
            raise ValueError(f"{owner}: learning rates must be >= 0, got {rates.min()}")
        return _IteratorLearningRate(rates.astype(np.float32), name)
    if callable(learning_rate):
        return learning_rate
    raise TypeError(f"{owner}: learning_rate must be a float, Tensor, list, LearningRateSchedule or callable, "
                    f"got {type(learning_rate).__name__}")


class Optimizer(Cell):
    """``Optimizer(learning_rate, parameters, weight_decay=0.0, loss_scale=1.0)``.

    ``parameters`` is a list of Parameters, or of dicts (parameter groups) with keys ``params`` (required),
    ``lr``, ``weight_decay``, ``grad_centralization`` and ``order_params``. Without groups, weight decay skips
    parameters whose names contain ``beta`` or ``gamma`` (MindSpore's rule); with groups, it applies to every
    parameter of a group whose ``weight_decay`` is > 0. Subclasses define ``_update(grads, lrs)``.
    """

    parameters: ParameterTuple

    def __init__(self, learning_rate: Any, parameters: Any, weight_decay: float = 0.0,
                 loss_scale: float = 1.0) -> None:
        super().__init__(auto_prefix=False)
        owner = type(self).__name__
        self.loss_scale = check_float(owner, "loss_scale", loss_scale, low_open=True)
        self.need_scale = self.loss_scale != 1.0
        self.reciprocal_scale = 1.0 / self.loss_scale
        weight_decay = check_float(owner, "weight_decay", weight_decay)
        groups, order = self._parse_groups(owner, parameters)
        self.is_group = "__group__" not in groups[0]
        self.is_group_lr = any("lr" in group for group in groups)
        params: list[Parameter] = []
        group_of: dict[int, int] = {}
        raw_decays: list[float] = []
        lr_sources: list[LrSource] = []
        for index, group in enumerate(groups):
            decay = check_float(owner, "weight_decay", group.get("weight_decay", weight_decay))
            if self.is_group_lr:
                lr_sources.append(_lr_source(owner, group.get("lr", learning_rate), f"learning_rate_group_{index}"))
            for param in group["params"]:
                group_of[id(param)] = index
                params.append(param)
            raw_decays.append(decay)
        if order is not None:
            if {id(p) for p in order} != {id(p) for p in params} or len(order) != len(params):
                raise ValueError(f"{owner}: order_params must hold exactly the parameters of the groups")
            params = list(order)
        self.parameters = ParameterTuple(params)
        self._parameters = self.parameters
        self.param_length = len(params)
        self._group_index = tuple(group_of[id(p)] for p in params)
        self._group_flags = tuple(bool(group.get("grad_centralization", False)) for group in groups)
        if not self.is_group:
            self.weight_decay: Any = weight_decay * self.loss_scale
            self.decay_flags = tuple("beta" not in p.name and "gamma" not in p.name for p in params)
        else:
            self.weight_decay = tuple(d * self.loss_scale for d in raw_decays)
            self.decay_flags = tuple(raw_decays[g] > 0 for g in self._group_index)
        # Per parameter: the L2 term decay_weight adds (times loss_scale, as MindSpore) and the group's raw value.
        self._decays = tuple(raw_decays[g] * self.loss_scale if flag else 0.0
                             for g, flag in zip(self._group_index, self.decay_flags))
        self._raw_decays = tuple(raw_decays[g] for g in self._group_index)
        self.exec_weight_decay = any(d > 0 for d in self._decays)
        self.grad_centralization_flags = tuple(self._group_flags[g] and p.ndim >= 3
                                               for g, p in zip(self._group_index, params))
        self._exec_gc = any(self.grad_centralization_flags)
        self.global_step = Parameter(Tensor(np.zeros((1,), np.int32), dt.int32), name="global_step",
                                     requires_grad=False)
        if self.is_group_lr:
            for index, source in enumerate(lr_sources):
                self._register_lr(f"learning_rate_group_{index}", source)
            self.learning_rate: Any = tuple(lr_sources)
            self._lr_sources = tuple(lr_sources)
        else:
            source = _lr_source(owner, learning_rate, "learning_rate")
            self.learning_rate = source  # a Parameter or a schedule Cell registers itself
            self._lr_sources = (source,)
        self.dynamic_lr = not all(isinstance(source, Parameter) for source in self._lr_sources)

    # -- construction helpers -----------------------------------------------------------------
    @staticmethod
    def _parse_groups(owner: str, parameters: Any) -> tuple[list[dict[str, Any]], list[Parameter] | None]:
        if isinstance(parameters, Cell):
            raise TypeError(f"{owner}: params must be a list of Parameters or of group dicts; pass "
                            f"net.trainable_params(), not the Cell")
        if isinstance(parameters, (Parameter, dict)):
            parameters = [parameters]
        items = list(parameters)
        if not items:
            raise ValueError(f"{owner}: params is empty; pass net.trainable_params()")
        if all(isinstance(item, Parameter) for item in items):
            return [{"params": items, "__group__": False}], None
        if not all(isinstance(item, dict) for item in items):
            bad = next(item for item in items if not isinstance(item, (Parameter, dict)))
            raise TypeError(f"{owner}: params must all be Parameters or all group dicts, got {type(bad).__name__}")
        groups: list[dict[str, Any]] = []
        order: list[Parameter] | None = None
        seen: dict[int, str] = {}
        for index, group in enumerate(items):
            unknown = sorted(set(group) - set(_GROUP_KEYS))
            if unknown:
                raise ValueError(f"{owner}: parameter group {index} has unknown keys {unknown}; "
                                 f"accepted: {list(_GROUP_KEYS)}")
            if "order_params" in group:
                order = list(group["order_params"])
                continue
            if "params" not in group:
                raise ValueError(f"{owner}: parameter group {index} has no 'params'")
            members = list(group["params"])
            if not members:
                raise ValueError(f"{owner}: parameter group {index} has an empty 'params' list")
            for param in members:
                if not isinstance(param, Parameter):
                    raise TypeError(f"{owner}: parameter group {index} holds a {type(param).__name__}, "
                                    f"not a Parameter")
                if id(param) in seen:
                    raise ValueError(f"{owner}: parameter {param.name!r} is in more than one group")
                seen[id(param)] = param.name
            if "grad_centralization" in group:
                check_bool(owner, "grad_centralization", group["grad_centralization"])
            groups.append({**group, "params": members})
        if not groups:
            raise ValueError(f"{owner}: no parameter group has 'params'")
        return groups, order

    def _register_lr(self, name: str, source: LrSource) -> None:
        if isinstance(source, Parameter):
            self.insert_param_to_cell(name, source)
        elif isinstance(source, Cell):
            self.insert_child_to_cell(name, source)

    def _clone_state(self, prefix: str, init: float = 0.0, shape: tuple[int, ...] | None = None,
                     dtype: dt.DType | None = None) -> ParameterTuple:
        """One state Parameter per parameter, named ``prefix.<parameter name>``, registered on this cell."""
        states = []
        for index, param in enumerate(self.parameters):
            name = f"{prefix}.{param.name}"
            if name in self._params:
                name = f"{prefix}.{param.name}_{index}"
            target = dtype or param.dtype
            array = np.full(param.shape if shape is None else shape, init, dtype=target.numpy)
            state = Parameter(Tensor._make(param._backend.from_numpy(array), target, param._backend), name=name,
                              requires_grad=False)
            self._params[name] = state
            states.append(state)
        return ParameterTuple(states)

    def _scalar_state(self, name: str, value: float) -> Parameter:
        state = Parameter(Tensor(np.full((1,), value, np.float32), dt.float32), name=name, requires_grad=False)
        self._params[name] = state
        return state

    # -- learning rates -------------------------------------------------------------------------
    def _step(self) -> int:
        return int(self.global_step.asnumpy()[0])

    def _lr_value(self, source: LrSource, step: int) -> float:
        if isinstance(source, Parameter):
            return float(source.asnumpy())
        if isinstance(source, _IteratorLearningRate):
            return source.value(step)
        if isinstance(source, Cell):
            result = source(self.global_step)
        else:
            result = source(step)
        if isinstance(result, Tensor):
            result = result.asnumpy()
        return float(np.asarray(result, dtype=np.float64).reshape(-1)[0])

    def _group_lrs(self) -> list[float]:
        step = self._step() if self.dynamic_lr else 0
        return [self._lr_value(source, step) for source in self._lr_sources]

    def get_lr(self) -> Any:
        """The learning rate the next update uses: a float32 0-d Tensor, or a tuple of them with group rates."""
        rates = [Tensor(np.float32(rate), dt.float32) for rate in self._group_lrs()]
        return tuple(rates) if self.is_group_lr else rates[0]

    def get_lr_parameter(self, param: Any) -> Any:
        """The learning rate (Parameter or schedule) of ``param``, or a list for a list of Parameters."""
        if isinstance(param, (list, tuple)):
            return [self.get_lr_parameter(p) for p in param]
        for index, own in enumerate(self.parameters):
            if own is param:
                return self._lr_sources[self._group_index[index] if self.is_group_lr else 0]
        raise ValueError(f"{type(self).__name__}.get_lr_parameter: {getattr(param, 'name', param)!r} is not "
                         f"optimized by this optimizer")

    # -- gradient preprocessing (public for custom optimizers, as MindSpore's) -----------------
    def flatten_gradients(self, gradients: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(gradients)

    def decay_weight(self, gradients: Sequence[Any]) -> tuple[Any, ...]:
        """``grad + weight_decay * param`` for the parameters weight decay applies to."""
        if not self.exec_weight_decay:
            return tuple(gradients)
        return tuple(g + p * d if d else g for p, g, d in zip(self.parameters, gradients, self._decays))

    def gradients_centralization(self, gradients: Sequence[Any]) -> tuple[Any, ...]:
        """Subtract each convolution weight gradient's mean over all but the output-channel dim."""
        if not self._exec_gc:
            return tuple(gradients)
        return tuple(g - g.mean(axis=tuple(range(1, g.ndim)), keep_dims=True) if flag else g
                     for g, flag in zip(gradients, self.grad_centralization_flags))

    def scale_grad(self, gradients: Sequence[Any]) -> tuple[Any, ...]:
        """Divide by ``loss_scale`` (a no-op when it is 1)."""
        if not self.need_scale:
            return tuple(gradients)
        return tuple(g * self.reciprocal_scale for g in gradients)

    def _preprocess(self, gradients: Sequence[Any], decay: bool) -> tuple[Any, ...]:
        grads = self.decay_weight(gradients) if decay else tuple(gradients)
        return self.scale_grad(self.gradients_centralization(grads))

    def _check_grads(self, gradients: Any) -> list[Any]:
        owner = type(self).__name__
        if isinstance(gradients, Tensor) or not isinstance(gradients, (tuple, list)):
            raise TypeError(f"{owner}: expects a tuple of gradients aligned with optimizer.parameters, got "
                            f"{type(gradients).__name__}")
        if len(gradients) != self.param_length:
            raise ValueError(f"{owner}: got {len(gradients)} gradients for {self.param_length} parameters")
        grads = list(gradients)
        for index, (param, grad) in enumerate(zip(self.parameters, grads)):
            if not isinstance(grad, Tensor):
                raise TypeError(f"{owner}: the gradient of {param.name!r} must be a Tensor, got {type(grad).__name__}")
            if grad._data.shape != param._data.shape:
                raise ValueError(f"{owner}: the gradient of {param.name!r} has shape {list(grad.shape)}, the "
                                 f"parameter {list(param.shape)}")
            if grad._dtype is not param._dtype:
                grads[index] = grad.astype(param._dtype)
        return grads

    # -- the update -------------------------------------------------------------------------------
    def _update(self, grads: list[Any], lrs: list[float]) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define _update(grads, lrs) or construct(gradients)")

    def construct(self, gradients: Any) -> Any:
        with no_grad():
            grads = self._check_grads(gradients)
            group_lrs = self._group_lrs()
            lrs = [group_lrs[g] for g in self._group_index] if self.is_group_lr else [group_lrs[0]] * self.param_length
            self._update(grads, lrs)
            step: Any = self.global_step
            step._data = (step + 1)._data
        return True


def set_data(param: Parameter, value: Tensor) -> None:
    """Give ``param`` the array of ``value`` (an update result of the parameter's dtype and shape)."""
    param._data = value._data


def state_value(state: Parameter) -> float:
    return float(state.asnumpy().reshape(-1)[0])

