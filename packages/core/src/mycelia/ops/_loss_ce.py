"""cross_entropy and nll_loss: class-index targets (with ignore_index, class weights, label smoothing) and,
for cross_entropy, class-probability targets. The class dim is dim 1 ((N, C, d1, ...)) or dim 0 for (C,).

Gradients: a composite rule in mycelia ops (differentiable again, for higher-order gradients and for the target
and weight gradients), and the fused first-order op cross_entropy_backward for the usual input gradient."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from mycelia import _autograd
from mycelia import dtype as dt
from mycelia._errors import OpError
from mycelia._types import TensorType
from mycelia.ops import _dispatch
from mycelia.ops._define import FLOATS
from mycelia.ops._nn_util import (
    check_float,
    check_reduction,
    expect_vector,
    known,
    sample_array,
    shape_text,
    sum_except,
)
from mycelia.ops._registry import OpDef, Sample, register_op

__all__ = ["cross_entropy", "cross_entropy_backward", "nll_loss"]


def _class_infer(op: str, x: TensorType, t: TensorType, w: TensorType | None, reduction: str,
                 probabilities: bool) -> TensorType:
    if x.rank == 0:
        raise OpError(op, "input must be (C,), (N, C) or (N, C, d1, ...), got a 0-d tensor")
    classes = x.shape[0] if x.rank == 1 else x.shape[1]
    if classes == 0:
        raise OpError(op, f"input has no classes (shape {shape_text(x.shape)})")
    batch = () if x.rank == 1 else (x.shape[0], *x.shape[2:])
    if t.dtype.is_integer:
        if known(*t.shape, *batch) and t.shape != batch:
            raise OpError(op, f"target of class indices must have shape {shape_text(batch)} for input shape "
                              f"{shape_text(x.shape)}, got {shape_text(t.shape)}")
    elif t.dtype.is_floating_point and probabilities:
        if known(*t.shape, *x.shape) and t.shape != x.shape:
            raise OpError(op, f"target of class probabilities must have the input's shape {shape_text(x.shape)}, "
                              f"got {shape_text(t.shape)}")
    else:
        accepted = "integer class indices or float class probabilities" if probabilities else \
            "integer class indices (int32 or int64)"
        raise OpError(op, f"target must hold {accepted}, got dtype {t.dtype}")
    expect_vector(op, "weight", w, classes)
    return TensorType(x.dtype, batch if reduction == "none" else ())


def _cross_entropy_infer(x: TensorType, t: TensorType, w: TensorType | None = None, *, ignore_index: int,
                         reduction: str, label_smoothing: float) -> TensorType:
    return _class_infer("cross_entropy", x, t, w, reduction, probabilities=True)


def _nll_loss_infer(x: TensorType, t: TensorType, w: TensorType | None = None, *, ignore_index: int,
                    reduction: str, label_smoothing: float) -> TensorType:
    return _class_infer("nll_loss", x, t, w, reduction, probabilities=False)


# -- references -----------------------------------------------------------------------------------
def _nll_reference(log_probs: np.ndarray, t: np.ndarray, w: np.ndarray | None, ignore_index: int, reduction: str,
                   label_smoothing: float) -> np.ndarray:
    class_axis = 0 if log_probs.ndim == 1 else 1
    rows = np.moveaxis(log_probs, class_axis, -1)
    classes = rows.shape[-1]
    weights = np.ones(classes) if w is None else w
    eps = label_smoothing
    if t.dtype.kind not in "iub":
        targets = np.moveaxis(t, class_axis, -1) * (1 - eps) + eps / classes
        losses = np.asarray(-np.sum(rows * targets * weights, axis=-1))
        if reduction == "none":
            return losses
        return np.asarray(losses.sum() if reduction == "sum" else (losses.sum() / losses.size if losses.size
                                                                     else np.nan))
    flat_rows, flat_t = rows.reshape(-1, classes), t.reshape(-1)
    losses = np.zeros(flat_t.shape)
    denominator = 0.0
    for i, target in enumerate(flat_t):
        if target == ignore_index:
            continue
        nll = -weights[target] * flat_rows[i, target]
        smooth = -np.sum(weights * flat_rows[i]) / classes
        losses[i] = (1 - eps) * nll + eps * smooth
        denominator += weights[target]
    losses = losses.reshape(t.shape)
    if reduction == "none":
        return losses
    if reduction == "sum":
        return np.asarray(losses.sum())
    return np.asarray(losses.sum() / denominator if denominator else np.nan)


def _cross_entropy_reference(x: np.ndarray, t: np.ndarray, w: np.ndarray | None = None, ignore_index: int = -100,
                             reduction: str = "mean", label_smoothing: float = 0.0) -> np.ndarray:
    class_axis = 0 if x.ndim == 1 else 1
    shifted = x - x.max(axis=class_axis, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=class_axis, keepdims=True))
    return _nll_reference(log_probs, t, w, ignore_index, reduction, label_smoothing)


def _nll_loss_reference(x: np.ndarray, t: np.ndarray, w: np.ndarray | None = None, ignore_index: int = -100,
                        reduction: str = "mean", label_smoothing: float = 0.0) -> np.ndarray:
    return _nll_reference(x, t, w, ignore_index, reduction, label_smoothing)


# -- samples --------------------------------------------------------------------------------------
def _class_samples(seed: int, probabilities: bool) -> Any:
    def samples(dtype: dt.DType) -> Iterable[Sample]:
        rng = np.random.default_rng(seed)

        def a(*shape: int, low: float = -3.0, high: float = 3.0) -> np.ndarray:
            return sample_array(shape, dtype, rng, low, high)

        spatial_t = rng.integers(0, 3, (2, 4, 2))
        spatial_t[0, 0, 0] = -100
        ignored_t = np.array([2, 0, 2, 3])
        cases = [
            Sample((a(4, 5), rng.integers(0, 5, (4,)))),
            Sample((a(4, 5), rng.integers(0, 5, (4,)), a(5, low=0.2, high=2.0)), {"reduction": "sum"}),
            Sample((a(2, 3, 4, 2), spatial_t), {"label_smoothing": 0.1}, note="spatial, ignored -100"),
            Sample((a(4, 4), ignored_t, a(4, low=0.2, high=2.0)), {"ignore_index": 2, "label_smoothing": 0.2},
                   note="weights, ignore_index, smoothing"),
            Sample((a(4, 4), ignored_t.astype(np.int32)), {"ignore_index": 2, "reduction": "none"}, note="int32"),
            Sample((a(5), np.array(3)), {"reduction": "none"}, note="1-D input"),
            Sample((a(0, 3), np.zeros((0,), dtype=np.int64)), {"reduction": "sum"}, note="empty batch"),
            Sample((a(2, 3), np.array([-100, -100])), note="all ignored: nan"),
        ]
        if probabilities:
            probs = sample_array((3, 4), dtype, rng, 0.0, 1.0)
            cases += [
                Sample((a(3, 4), probs), {"reduction": "none"}, note="probabilities"),
                Sample((a(3, 4), probs, a(4, low=0.2, high=2.0)), {"label_smoothing": 0.1}, note="probabilities"),
                Sample((a(2, 4, 3), sample_array((2, 4, 3), dtype, rng, 0.0, 1.0)), {"reduction": "sum"},
                       note="spatial probabilities"),
            ]
        return cases

    return samples


# -- gradients ------------------------------------------------------------------------------------
def _along(t: Any, axis: int, ndim: int) -> Any:
    """A per-class (C,) tensor shaped to broadcast along the class axis of an ``ndim``-D input."""
    from mycelia import ops

    return ops.reshape(t, (t.shape[0],) + (1,) * (ndim - axis - 1))


def _class_grads(ctx: Any, grad: Any, log_softmax: bool) -> tuple[Any, ...]:
    """loss_i = -sum_c A[i, c] * lp[i, c] (lp: log-probabilities) with A linear in the class weights and the
    (probability) targets; 'mean' divides by D (summed weights of the valid targets, or the sample count)."""
    from mycelia import ops

    x, t = ctx.inputs[0], ctx.inputs[1]
    weight = ctx.inputs[2] if len(ctx.inputs) > 2 else None
    reduction, eps = ctx.attrs["reduction"], ctx.attrs["label_smoothing"]
    axis = 0 if x.ndim == 1 else 1
    classes = x.shape[axis]
    lp = ops.log_softmax(x, axis) if log_softmax else x
    w = None if weight is None else _along(weight, axis, x.ndim)
    per_sample = grad if reduction != "none" else ops.expand_dims(grad, axis)
    grads: list[Any] = [None] * len(ctx.inputs)
    if t.dtype.is_floating_point:  # class probabilities
        if reduction == "mean":
            per_sample = per_sample * (1.0 / max(x.size // classes, 1))
        smoothed = t * (1.0 - eps) + eps / classes if eps else t
        coefficient = smoothed if w is None else smoothed * w
        grads[1] = -(1.0 - eps) * lp * per_sample if w is None else -(1.0 - eps) * lp * w * per_sample
        if w is not None:
            grads[2] = sum_except(-(smoothed * lp) * per_sample, axis)
    else:
        valid = ops.not_equal(t, ctx.attrs["ignore_index"])
        onehot = ops.cast(ops.one_hot(ops.where(valid, t, ops.zeros_like(t)), classes, 1.0, 0.0, axis), x.dtype)
        picked = onehot * ops.cast(ops.expand_dims(valid, axis), x.dtype)  # one-hot of the valid targets
        mix = picked * (1.0 - eps) + ops.sum(picked, axis, keepdim=True) * (eps / classes) if eps else picked
        if reduction == "mean":
            per_sample = per_sample / ops.sum(picked if w is None else picked * w)
        coefficient = mix if w is None else mix * w
        if w is not None:
            grads[2] = sum_except(-(mix * lp) * per_sample, axis)
            if reduction == "mean":  # D depends on the weights too: dD / dw_c = number of valid c targets
                grads[2] = grads[2] - sum_except(picked, axis) * (per_sample * ctx.output)
    grad_lp = -coefficient * per_sample
    grads[0] = grad_lp - ops.exp(lp) * ops.sum(grad_lp, axis, keepdim=True) if log_softmax else grad_lp
    return tuple(grads)


def _class_vjp(log_softmax: bool) -> Any:
    def vjp(ctx: Any, grad: Any) -> tuple[Any, ...]:
        if _autograd.is_recording() or any(_autograd.tracked(v) for v in ctx.inputs[1:]):
            return _class_grads(ctx, grad, log_softmax)  # differentiable again / target or weight gradients
        attrs = {**ctx.attrs, "from_logits": log_softmax}
        return (_dispatch.apply(_CROSS_ENTROPY_BACKWARD, (grad, *ctx.inputs), attrs), *([None] * (len(ctx.inputs) - 1)))

    return vjp


_CE_ATTRS = (("ignore_index", -100), ("reduction", "mean"), ("label_smoothing", 0.0))
_CROSS_ENTROPY = register_op(OpDef(
    name="cross_entropy", group="loss", inputs=("input", "target", "weight"), infer=_cross_entropy_infer,
    reference=_cross_entropy_reference, attrs=_CE_ATTRS, dtypes=FLOATS, promote=(0, 2),
    samples=_class_samples(20, probabilities=True), vjp=_class_vjp(log_softmax=True),
    doc="log_softmax over the class dim, then nll_loss (class indices) or -sum(weight * p * log_softmax) "
        "(class probabilities); 'mean' divides by the summed weights of the non-ignored targets (by the sample "
        "count for probabilities)."))
_NLL_LOSS = register_op(OpDef(
    name="nll_loss", group="loss", inputs=("inputs", "target", "weight"), infer=_nll_loss_infer,
    reference=_nll_loss_reference, attrs=_CE_ATTRS, dtypes=FLOATS, promote=(0, 2),
    samples=_class_samples(21, probabilities=False), vjp=_class_vjp(log_softmax=False),
    doc="-weight[t] * input[t] per sample (0 where t == ignore_index), with label smoothing mixing in "
        "-sum(weight * input) / C; 'mean' divides by the summed weights of the non-ignored targets."))


def _attrs(op: str, ignore_index: Any, reduction: Any, label_smoothing: Any) -> dict[str, Any]:
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
        raise OpError(op, f"ignore_index must be an int, got {ignore_index!r}")
    return {"ignore_index": int(ignore_index), "reduction": check_reduction(op, reduction),
            "label_smoothing": check_float(op, "label_smoothing", label_smoothing, minimum=0.0, maximum=1.0)}


def cross_entropy(input: Any, target: Any, weight: Any = None, ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Any:
    """Cross entropy of logits ``input`` (MindSpore ``ops.cross_entropy``). ``target``: integer class indices
    (shape of ``input`` without the class dim) or float class probabilities (shape of ``input``). ``weight``:
    per-class weights (C,)."""
    attrs = _attrs("cross_entropy", ignore_index, reduction, label_smoothing)
    return _dispatch.apply(_CROSS_ENTROPY, (input, target) if weight is None else (input, target, weight), attrs)


def nll_loss(inputs: Any, target: Any, weight: Any = None, ignore_index: int = -100, reduction: str = "mean",
             label_smoothing: float = 0.0) -> Any:
    """Negative log likelihood of log-probabilities ``inputs`` (MindSpore ``ops.nll_loss``) with integer
    class-index ``target``."""
    attrs = _attrs("nll_loss", ignore_index, reduction, label_smoothing)
    return _dispatch.apply(_NLL_LOSS, (inputs, target) if weight is None else (inputs, target, weight), attrs)


# -- cross_entropy_backward (fused first-order input gradient) ------------------------------------
def _cross_entropy_backward_infer(g: TensorType, x: TensorType, t: TensorType, w: TensorType | None = None, *,
                                  ignore_index: int, reduction: str, label_smoothing: float,
                                  from_logits: bool) -> TensorType:
    op = "cross_entropy_backward"
    loss = _class_infer(op, x, t, w, reduction, probabilities=from_logits)
    if known(*g.shape, *loss.shape) and g.shape != loss.shape:
        raise OpError(op, f"grad_output must have the loss's shape {shape_text(loss.shape)}, got {shape_text(g.shape)}")
    return TensorType(x.dtype, x.shape)


def _cross_entropy_backward_reference(g: np.ndarray, x: np.ndarray, t: np.ndarray, w: np.ndarray | None = None,
                                      ignore_index: int = -100, reduction: str = "mean", label_smoothing: float = 0.0,
                                      from_logits: bool = True) -> np.ndarray:
    rows = np.moveaxis(x, 0 if x.ndim == 1 else 1, -1).reshape(-1, x.shape[0 if x.ndim == 1 else 1])
    classes = rows.shape[1]
    weights = np.ones(classes) if w is None else w
    eps = label_smoothing
    probabilities = t.dtype.kind == "f"
    targets = np.moveaxis(t, 0 if x.ndim == 1 else 1, -1).reshape(-1, classes) if probabilities else t.reshape(-1)
    coefficients = np.zeros(rows.shape)  # loss_i = -sum_c coefficients[i, c] * log_probability[i, c]
    for i in range(rows.shape[0]):
        if probabilities:
            coefficients[i] = (targets[i] * (1 - eps) + eps / classes) * weights
        elif targets[i] != ignore_index:
            coefficients[i] = eps / classes * weights
            coefficients[i, targets[i]] += (1 - eps) * weights[targets[i]]
    batch = (x.shape[:1] + x.shape[2:] if x.ndim > 1 else ()) if probabilities else t.shape
    upstream = np.broadcast_to(g, batch).reshape(-1)
    if reduction == "mean":
        count = rows.shape[0] if probabilities else sum(weights[c] for c in targets if c != ignore_index)
        upstream = upstream / count if count else upstream * np.nan
    grads = np.zeros(rows.shape)
    for i, row in enumerate(rows):
        grads[i] = -coefficients[i] * upstream[i]
        if from_logits:  # through log_softmax: d lp_c / d x_k = [c == k] - softmax_k
            softmax = np.exp(row - row.max()) / np.exp(row - row.max()).sum()
            grads[i] -= softmax * grads[i].sum()
    moved = np.moveaxis(x, 0 if x.ndim == 1 else 1, -1).shape
    return np.moveaxis(grads.reshape(moved), -1, 0 if x.ndim == 1 else 1)


def _cross_entropy_backward_samples(dtype: dt.DType) -> Iterable[Sample]:
    rng = np.random.default_rng(22)
    cases = []
    for from_logits, samples in ((True, _class_samples(20, probabilities=True)),
                                 (False, _class_samples(21, probabilities=False))):
        for sample in samples(dtype):
            x, t = sample.args[0], sample.args[1]
            if sample.attrs.get("reduction", "mean") != "none":
                loss_shape: tuple[int, ...] = ()
            elif t.dtype.kind in "iu":
                loss_shape = t.shape
            else:
                loss_shape = (x.shape[0], *x.shape[2:]) if x.ndim > 1 else ()
            g = sample_array(loss_shape, dtype, rng)
            cases.append(Sample((g, *sample.args), {**sample.attrs, "from_logits": from_logits},
                                note=f"{'logits' if from_logits else 'log-probabilities'}: {sample.note}"))
    return cases


_CROSS_ENTROPY_BACKWARD = register_op(OpDef(
    name="cross_entropy_backward", group="loss", inputs=("grad_output", "input", "target", "weight"),
    infer=_cross_entropy_backward_infer, reference=_cross_entropy_backward_reference,
    attrs=(*_CE_ATTRS, ("from_logits", True)), dtypes=FLOATS, promote=(0, 1, 3),
    samples=_cross_entropy_backward_samples, differentiable=False,
    doc="Gradient of cross_entropy (from_logits) or nll_loss with respect to their input, fused (first-order "
        "gradients use it; higher-order ones the composite rule, so it has no gradient of its own)."))


def cross_entropy_backward(grad_output: Any, input: Any, target: Any, weight: Any = None, ignore_index: int = -100,
                           reduction: str = "mean", label_smoothing: float = 0.0, from_logits: bool = True) -> Any:
    """Gradient of ``cross_entropy`` (``from_logits=True``) or ``nll_loss`` (False) with respect to ``input``
    for the upstream gradient ``grad_output`` (the loss's shape); a mycelia extension used by autograd."""
    attrs = {**_attrs("cross_entropy_backward", ignore_index, reduction, label_smoothing),
             "from_logits": bool(from_logits)}
    args = (grad_output, input, target) if weight is None else (grad_output, input, target, weight)
    return _dispatch.apply(_CROSS_ENTROPY_BACKWARD, args, attrs)
