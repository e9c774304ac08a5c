"""Gradient conformance: every op's vjp against central finite differences in float64."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import mycelia as ms
from mycelia import dtype as dt
from mycelia._testing import numeric_gradients, tensor_objective
from mycelia.ops import OpDef, Sample

EPSILON = 1e-6
RTOL, ATOL = 1e-4, 1e-6


def differentiable_ops() -> list[OpDef]:
    return [op for op in ms.ops.all_ops() if op.differentiable and op.samples is not None
            and dt.float64 in op.dtypes]


def _float_slots(args: tuple[Any, ...]) -> list[tuple[int, int | None]]:
    """(argument index, list index or None) of every float64 array among the sample's arguments."""
    slots: list[tuple[int, int | None]] = []
    for index, arg in enumerate(args):
        if isinstance(arg, np.ndarray) and arg.dtype == np.float64:
            slots.append((index, None))
        elif isinstance(arg, (list, tuple)):
            slots += [(index, inner) for inner, item in enumerate(arg)
                      if isinstance(item, np.ndarray) and item.dtype == np.float64]
    return slots


def _rebuild(args: tuple[Any, ...], slots: list[tuple[int, int | None]], values: list[Any]) -> list[Any]:
    rebuilt: list[Any] = [list(a) if isinstance(a, (list, tuple)) else a for a in args]
    for (index, inner), value in zip(slots, values):
        if inner is None:
            rebuilt[index] = value
        else:
            rebuilt[index][inner] = value
    return [ms.Tensor(a) if isinstance(a, np.ndarray) else
            [ms.Tensor(i) if isinstance(i, np.ndarray) else i for i in a] if isinstance(a, list) else a
            for a in rebuilt]


def _scalar_objective(op: OpDef, sample: Sample, cotangents: list[np.ndarray] | None
                      ) -> tuple[Callable[..., Any], list[np.ndarray]]:
    function = sample.call or getattr(ms.ops, op.name)
    slots = _float_slots(sample.args)
    state: dict[str, Any] = {"cotangents": cotangents}

    def objective(*differentiated: Any) -> Any:
        out = function(*_rebuild(sample.args, slots, list(differentiated)), **sample.attrs)
        outputs = [o for o in (out if isinstance(out, (tuple, list)) else (out,))
                   if isinstance(o, ms.Tensor) and o.dtype.is_floating_point]
        if state["cotangents"] is None:
            rng = np.random.default_rng(7)
            state["cotangents"] = [rng.standard_normal(o.shape) for o in outputs]
        total: Any = None
        for output, cotangent in zip(outputs, state["cotangents"]):
            term = ms.ops.sum(output * ms.Tensor(cotangent))
            total = term if total is None else total + term
        return total

    return objective, state["cotangents"] or []


def check_gradients(op: OpDef) -> int:
    """Compare autograd with finite differences on every float64 sample; returns inputs checked."""
    checked = 0
    for sample in op.samples(dt.float64):  # type: ignore[misc]
        if sample.note.startswith("special values"):
            continue  # nan, infinities, kinks: finite differences are undefined there
        slots = _float_slots(sample.args)
        if not slots:
            continue
        values = [sample.args[i] if j is None else sample.args[i][j] for i, j in slots]
        if all(v.size == 0 for v in values):
            continue
        objective, _ = _scalar_objective(op, sample, None)
        tensors = [ms.Tensor(v) for v in values]
        if objective(*tensors) is None:
            continue  # no float output (e.g. all-integer results)
        analytic = ms.grad(objective, grad_position=tuple(range(len(values))))(*tensors)
        numerics = numeric_gradients(tensor_objective(objective), values, EPSILON)
        for position, numeric in enumerate(numerics):
            got = analytic[position].asnumpy()
            np.testing.assert_allclose(got, numeric, rtol=RTOL, atol=ATOL,
                                       err_msg=f"{op.name} {sample.note}: d/d input {slots[position]}")
            checked += 1
    return checked
