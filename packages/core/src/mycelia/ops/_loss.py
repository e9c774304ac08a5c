"""loss op declarations: elementwise losses here, cross_entropy / nll_loss in ``_loss_ce`` (re-exported).

Every loss takes ``reduction`` ``'none'`` (the per-element loss), ``'mean'`` or ``'sum'`` (a 0-d result).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._errors import OpError
from mycelia._types import TensorType
from mycelia.ops import _dispatch
from mycelia.ops._define import FLOATS
from mycelia.ops._loss_ce import cross_entropy, cross_entropy_backward, nll_loss
from mycelia.ops._nn_util import check_float, check_reduction, known, needed, sample_array, shape_text
from mycelia.ops._registry import OpDef, Sample, register_op
from mycelia.ops._shapes import broadcast_shapes

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "cross_entropy_backward",
    "kl_div",
    "l1_loss",
    "mse_loss",
    "nll_loss",
    "smooth_l1_loss",
]


def _reduce_reference(loss: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "none":
        return loss
    if reduction == "sum":
        return np.asarray(loss.sum())
    return np.asarray(loss.mean() if loss.size else np.nan)


def _result(op: str, x: TensorType, shape: tuple[Any, ...], reduction: str) -> TensorType:
    return TensorType(x.dtype, shape if reduction == "none" else ())


def _same_shape(op: str, what: str, a: TensorType, b: TensorType) -> None:
    if known(*a.shape, *b.shape) and a.shape != b.shape:
        raise OpError(op, f"{what} must have the input's shape {shape_text(a.shape)}, got {shape_text(b.shape)}")


def _broadcasts_to(op: str, what: str, shape: tuple[Any, ...], other: TensorType) -> None:
    try:
        fits = broadcast_shapes(op, shape, other.shape) == shape
    except OpError:
        fits = False
    if not fits:
        raise OpError(op, f"{what} of shape {shape_text(other.shape)} must broadcast to the input shape "
                          f"{shape_text(shape)}")


def _scaled(grad: Any, reduction: str, count: int) -> Any:
    """The upstream gradient per loss element: 'mean' divides by the element count (a 0-d grad broadcasts)."""
    return grad * (1.0 / count) if reduction == "mean" and count else grad


def _count(ctx: Any) -> int:
    """Loss elements: the broadcast size of the tensor inputs."""
    shapes = [v.shape for v in ctx.inputs if hasattr(v, "shape")]
    return math.prod(broadcast_shapes("loss", *shapes)) if shapes else 1  # type: ignore[arg-type]


def _difference_vjp(derivative: Callable[[Any, dict[str, Any]], Any]) -> Callable[..., tuple[Any, Any]]:
    """vjp of a loss of d = input - target: (f'(d) * g, -f'(d) * g)."""
    def vjp(ctx: Any, grad: Any) -> tuple[Any, Any]:
        x, t = ctx.inputs
        grad_x = derivative(x - t, ctx.attrs) * _scaled(grad, ctx.attrs["reduction"], _count(ctx))
        return grad_x, -grad_x if needed(t) else None

    return vjp


def _smooth_l1_derivative(d: Any, attrs: dict[str, Any]) -> Any:
    beta = attrs["beta"]
    return d.sign() if beta == 0 else d.clamp(-1.0 * beta, 1.0 * beta) * (1.0 / beta)


# -- mse_loss, l1_loss, smooth_l1_loss ------------------------------------------------------------
_SHAPES = (((2, 3), (2, 3)), ((4, 1), (3,)), ((), ()), ((0, 3), (0, 3)), ((2, 1, 3, 1, 2), (2, 1, 3, 1, 2)))


def _pair_samples(seed: int, broadcast: bool) -> Callable[[dt.DType], Iterable[Sample]]:
    def samples(dtype: dt.DType) -> Iterable[Sample]:
        rng = np.random.default_rng(seed)
        cases = []
        for index, (a, b) in enumerate(_SHAPES):
            if not broadcast and a != b:
                b = a
            for reduction in ("none", "mean", "sum"):
                cases.append(Sample((sample_array(a, dtype, rng), sample_array(b, dtype, rng)),
                                    {"reduction": reduction}, note=f"shapes {index}"))
        if broadcast:
            cases.append(Sample((sample_array((2, 3), dtype, rng), 0.5), note="python scalar target"))
        return cases

    return samples


def _pair_infer(op: str, broadcast: bool) -> Callable[..., TensorType]:
    def infer(x: TensorType, t: TensorType, *, reduction: str, **_: Any) -> TensorType:
        if broadcast:
            return _result(op, x, broadcast_shapes(op, x.shape, t.shape), reduction)
        _same_shape(op, "target", x, t)
        return _result(op, x, x.shape, reduction)

    return infer


def _mse_reference(x: np.ndarray, t: Any, reduction: str = "mean") -> np.ndarray:
    return _reduce_reference((x - t) ** 2, reduction)


def _l1_reference(x: np.ndarray, t: Any, reduction: str = "mean") -> np.ndarray:
    return _reduce_reference(np.abs(x - t), reduction)


def _smooth_l1_reference(x: np.ndarray, t: np.ndarray, beta: float = 1.0, reduction: str = "none") -> np.ndarray:
    diff = np.abs(x - t)
    if beta == 0:
        return _reduce_reference(diff, reduction)
    return _reduce_reference(np.where(diff < beta, 0.5 * diff ** 2 / beta, diff - 0.5 * beta), reduction)


def _smooth_l1_samples(dtype: dt.DType) -> Iterable[Sample]:
    cases = list(_pair_samples(13, broadcast=False)(dtype))
    rng = np.random.default_rng(14)
    x, t = sample_array((3, 4), dtype, rng), sample_array((3, 4), dtype, rng)
    cases += [Sample((x, t), {"beta": 0.5, "reduction": "mean"}), Sample((x, t), {"beta": 0.0}, note="beta 0")]
    return cases


_MSE = register_op(OpDef(
    name="mse_loss", group="loss", inputs=("input", "target"), infer=_pair_infer("mse_loss", True),
    reference=_mse_reference, attrs=(("reduction", "mean"),), dtypes=FLOATS, promote=(0, 1),
    samples=_pair_samples(15, broadcast=True), vjp=_difference_vjp(lambda d, attrs: d * 2.0),
    doc="Squared error (input - target) ** 2, reduced."))
_L1 = register_op(OpDef(
    name="l1_loss", group="loss", inputs=("input", "target"), infer=_pair_infer("l1_loss", True),
    reference=_l1_reference, attrs=(("reduction", "mean"),), dtypes=FLOATS, promote=(0, 1),
    samples=_pair_samples(16, broadcast=True), vjp=_difference_vjp(lambda d, attrs: d.sign()),
    doc="Absolute error |input - target|, reduced (gradient sign(input - target), 0 where equal)."))
_SMOOTH_L1 = register_op(OpDef(
    name="smooth_l1_loss", group="loss", inputs=("input", "target"), infer=_pair_infer("smooth_l1_loss", False),
    reference=_smooth_l1_reference, attrs=(("beta", 1.0), ("reduction", "none")), dtypes=FLOATS, promote=(0, 1),
    samples=_smooth_l1_samples, vjp=_difference_vjp(_smooth_l1_derivative),
    doc="0.5 * d ** 2 / beta where d = |input - target| < beta, else d - 0.5 * beta (beta 0: d), reduced."))


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Any:
    """Mean squared error (MindSpore ``ops.mse_loss``); ``target`` broadcasts against ``input``."""
    return _dispatch.apply(_MSE, (input, target), {"reduction": check_reduction("mse_loss", reduction)})


def l1_loss(input: Any, target: Any, reduction: str = "mean") -> Any:
    """Mean absolute error (MindSpore ``ops.l1_loss``); ``target`` broadcasts against ``input``."""
    return _dispatch.apply(_L1, (input, target), {"reduction": check_reduction("l1_loss", reduction)})


def smooth_l1_loss(input: Any, target: Any, beta: float = 1.0, reduction: str = "none") -> Any:
    """Smooth L1 loss (MindSpore ``ops.smooth_l1_loss``; note ``reduction`` defaults to ``'none'``)."""
    op = "smooth_l1_loss"
    return _dispatch.apply(_SMOOTH_L1, (input, target), {"beta": check_float(op, "beta", beta, minimum=0.0),
                                                         "reduction": check_reduction(op, reduction)})


# -- binary_cross_entropy, binary_cross_entropy_with_logits ---------------------------------------
def _bce_infer(x: TensorType, t: TensorType, w: TensorType | None = None, *, reduction: str) -> TensorType:
    op = "binary_cross_entropy"
    _same_shape(op, "labels", x, t)
    if w is not None:
        _broadcasts_to(op, "weight", x.shape, w)
    return _result(op, x, x.shape, reduction)


def _bce_reference(x: np.ndarray, t: np.ndarray, w: np.ndarray | None = None, reduction: str = "mean") -> np.ndarray:
    loss = -(t * np.log(x + 1e-12) + (1 - t) * np.log(1 - x + 1e-12))
    return _reduce_reference(loss if w is None else loss * w, reduction)


def _bce_samples(dtype: dt.DType) -> Iterable[Sample]:
    rng = np.random.default_rng(17)

    def probs(*shape: int) -> np.ndarray:
        return sample_array(shape, dtype, rng, 0.05, 0.95)

    return [
        Sample((probs(2, 3), probs(2, 3))),
        Sample((probs(4,), np.round(probs(4,)), probs(4,)), {"reduction": "none"}),
        Sample((probs(2, 3), probs(2, 3), probs(3)), {"reduction": "sum"}, note="broadcast weight"),
        Sample((probs(), probs()), {"reduction": "none"}, note="0-d"),
        Sample((probs(0, 2), probs(0, 2)), {"reduction": "sum"}, note="empty"),
        Sample((probs(2, 1, 2, 1, 2), probs(2, 1, 2, 1, 2)), note="rank 5"),
    ]


def _bce_vjp(ctx: Any, grad: Any) -> tuple[Any, ...]:
    from mycelia import ops

    x, y = ctx.inputs[:2]
    weight = ctx.inputs[2] if len(ctx.inputs) > 2 else None
    g = _scaled(grad, ctx.attrs["reduction"], x.size)
    if weight is not None:
        g = g * weight
    grad_x = ((1.0 - y) / (1.0 - x + 1e-12) - y / (x + 1e-12)) * g
    grads = [grad_x, None, None][:len(ctx.inputs)]
    if needed(y) or needed(weight):  # labels and weight are usually data
        log_p, log_not_p = ops.log(x + 1e-12), ops.log(1.0 - x + 1e-12)
        grads[1] = (log_not_p - log_p) * g
        if weight is not None:
            grads[2] = -(y * log_p + (1.0 - y) * log_not_p) * _scaled(grad, ctx.attrs["reduction"], x.size)
    return tuple(grads)


_BCE = register_op(OpDef(
    name="binary_cross_entropy", group="loss", inputs=("logits", "labels", "weight"), infer=_bce_infer,
    reference=_bce_reference, attrs=(("reduction", "mean"),), dtypes=FLOATS, promote=(0, 1, 2),
    samples=_bce_samples, vjp=_bce_vjp,
    doc="-weight * (y * log(x + 1e-12) + (1 - y) * log(1 - x + 1e-12)) for probabilities x (MindSpore's CPU "
        "kernel's epsilon), reduced."))


def binary_cross_entropy(logits: Any, labels: Any, weight: Any = None, reduction: str = "mean") -> Any:
    """Binary cross entropy of probabilities ``logits`` in [0, 1] (MindSpore ``ops.binary_cross_entropy``);
    ``weight`` broadcasts to ``logits``' shape."""
    args = (logits, labels) if weight is None else (logits, labels, weight)
    return _dispatch.apply(_BCE, args, {"reduction": check_reduction("binary_cross_entropy", reduction)})


def _bce_logits_infer(x: TensorType, t: TensorType, w: TensorType | None = None, pw: TensorType | None = None, *,
                      reduction: str) -> TensorType:
    op = "binary_cross_entropy_with_logits"
    _same_shape(op, "target", x, t)
    for what, other in (("weight", w), ("pos_weight", pw)):
        if other is not None:
            _broadcasts_to(op, what, x.shape, other)
    return _result(op, x, x.shape, reduction)


def _bce_logits_reference(x: np.ndarray, t: np.ndarray, w: np.ndarray | None = None, pw: np.ndarray | None = None,
                          reduction: str = "mean") -> np.ndarray:
    log_p = -np.logaddexp(0.0, -x)  # log(sigmoid(x))
    log_not_p = -np.logaddexp(0.0, x)  # log(1 - sigmoid(x))
    loss = -((1.0 if pw is None else pw) * t * log_p + (1 - t) * log_not_p)
    return _reduce_reference(loss if w is None else loss * w, reduction)


def _bce_logits_samples(dtype: dt.DType) -> Iterable[Sample]:
    rng = np.random.default_rng(18)

    def a(*shape: int, low: float = -3.0, high: float = 3.0) -> np.ndarray:
        return sample_array(shape, dtype, rng, low, high)

    big = np.array([[-60.0, 60.0, 0.0], [30.0, -30.0, 2.0]], dtype=dtype.numpy)
    return [
        Sample((a(2, 3), a(2, 3, low=0, high=1))),
        Sample((a(2, 3), a(2, 3, low=0, high=1), a(3, low=0, high=2)), {"reduction": "sum"}),
        Sample((a(2, 3), a(2, 3, low=0, high=1), a(2, 1, low=0, high=2), a(3, low=0.5, high=3)),
               {"reduction": "none"}, note="weight and pos_weight"),
        Sample((big, np.array([[0, 1, 1], [0, 1, 0]], dtype=dtype.numpy)), {"reduction": "none"}, note="large logits"),
        Sample((a(), a(low=0, high=1)), {"reduction": "none"}, note="0-d"),
        Sample((a(0, 3), a(0, 3, low=0, high=1)), {"reduction": "sum"}, note="empty"),
    ]


def _bce_logits_vjp(ctx: Any, grad: Any) -> tuple[Any, ...]:
    # loss = weight * ((1 - t) * x + c * softplus(-x)), c = 1 + (pos_weight - 1) * t
    from mycelia import ops

    x, t = ctx.inputs[:2]
    weight = ctx.inputs[2] if len(ctx.inputs) > 2 else None
    pos_weight = ctx.inputs[3] if len(ctx.inputs) > 3 else None
    g = _scaled(grad, ctx.attrs["reduction"], x.size)
    weighted = g if weight is None else g * weight
    c = 1.0 if pos_weight is None else (pos_weight - 1.0) * t + 1.0
    grads: list[Any] = [(1.0 - t - ops.sigmoid(-x) * c) * weighted, None, None, None][:len(ctx.inputs)]
    if not any(needed(v) for v in ctx.inputs[1:]):  # target, weight and pos_weight are usually data
        return tuple(grads)
    softplus = -ops.logsigmoid(x)  # softplus(-x), stable
    grads[1] = (-x if pos_weight is None else (pos_weight - 1.0) * softplus - x) * weighted
    if weight is not None and needed(weight):
        grads[2] = ((1.0 - t) * x + softplus * c) * g
    if pos_weight is not None:
        grads[3] = t * softplus * weighted
    return tuple(grads)


_BCE_LOGITS = register_op(OpDef(
    name="binary_cross_entropy_with_logits", group="loss", inputs=("input", "target", "weight", "pos_weight"),
    infer=_bce_logits_infer, reference=_bce_logits_reference, attrs=(("reduction", "mean"),), dtypes=FLOATS,
    promote=(0, 1, 2, 3), samples=_bce_logits_samples, vjp=_bce_logits_vjp,
    doc="-weight * (pos_weight * y * log(sigmoid(x)) + (1 - y) * log(1 - sigmoid(x))), computed stably from "
        "the logits x, reduced."))


def binary_cross_entropy_with_logits(input: Any, target: Any, weight: Any = None, pos_weight: Any = None,
                                     reduction: str = "mean") -> Any:
    """Sigmoid + binary cross entropy in one stable op (MindSpore ``ops.binary_cross_entropy_with_logits``).
    ``weight`` and ``pos_weight`` (the positive-class weight, e.g. shape (C,)) broadcast to ``input``."""
    op = "binary_cross_entropy_with_logits"
    attrs = {"reduction": check_reduction(op, reduction)}
    if pos_weight is not None and weight is None:
        weight = 1.0  # a Python scalar at a promoted position: a 0-d one of the common dtype
    args = tuple(a for a in (input, target, weight, pos_weight) if a is not None)
    return _dispatch.apply(_BCE_LOGITS, args, attrs)


# -- kl_div ---------------------------------------------------------------------------------------
def _kl_div_infer(x: TensorType, t: TensorType, *, reduction: str, log_target: bool) -> TensorType:
    return _result("kl_div", x, broadcast_shapes("kl_div", x.shape, t.shape), reduction)


def _kl_div_reference(x: np.ndarray, t: np.ndarray, reduction: str = "mean", log_target: bool = False) -> np.ndarray:
    if log_target:
        loss = np.exp(t) * (t - x)
    else:
        loss = np.where(t > 0, t * (np.log(np.where(t > 0, t, 1.0)) - x), 0.0)
    if reduction == "batchmean":
        return np.asarray(loss.sum() / x.shape[0] if x.ndim else loss.sum())
    return _reduce_reference(loss, reduction)


def _kl_div_samples(dtype: dt.DType) -> Iterable[Sample]:
    rng = np.random.default_rng(19)

    def a(*shape: int, low: float = -3.0, high: float = 0.0) -> np.ndarray:
        return sample_array(shape, dtype, rng, low, high)

    labels = a(3, 4, low=0.05, high=1.0)
    cases = [Sample((a(3, 4), labels), {"reduction": r}) for r in ("none", "mean", "sum", "batchmean")]
    cases += [
        # labels of exactly 0 (where the loss is 0 and not differentiable in the labels): integer one-hot
        # labels, promoted, which the gradient check does not perturb
        Sample((a(3, 4), np.eye(4, dtype=np.int64)[[1, 3, 0]]), {"reduction": "sum"}, note="one-hot labels"),
        Sample((a(2, 3), a(2, 3)), {"reduction": "batchmean", "log_target": True}, note="log_target"),
        Sample((a(2, 3), a(2, 3)), {"reduction": "none", "log_target": True}, note="log_target"),
        Sample((a(4, 1), a(3, low=0, high=1)), {"reduction": "sum"}, note="broadcast"),
        Sample((a(), a(low=0, high=1)), {"reduction": "batchmean"}, note="0-d"),
        Sample((a(0, 2), a(0, 2, low=0, high=1)), {"reduction": "sum"}, note="empty"),
    ]
    return cases


def _kl_div_vjp(ctx: Any, grad: Any) -> tuple[Any, Any]:
    from mycelia import ops

    x, t = ctx.inputs
    reduction = ctx.attrs["reduction"]
    if reduction == "batchmean":
        g = grad * (1.0 / x.shape[0]) if x.ndim and x.shape[0] else grad
    else:
        g = _scaled(grad, reduction, _count(ctx))
    shape = broadcast_shapes("kl_div", x.shape, t.shape)
    if ctx.attrs["log_target"]:
        p = ops.exp(t) * g
        return ops.broadcast_to(-p, shape), (t - x + 1.0) * p if needed(t) else None
    positive = ops.cast(ops.greater(t, 0), t.dtype)
    grad_x = ops.broadcast_to(-(t * positive) * g, shape)
    if not needed(t):
        return grad_x, None
    # d/dt of t * log(t) - t * x is log(t) + 1 - x where t > 0; 0 elsewhere (as MindSpore / torch)
    safe = ops.where(ops.greater(t, 0), t, ops.ones_like(t))
    return grad_x, (ops.log(safe) + 1.0 - x) * positive * g


_KL_DIV = register_op(OpDef(
    name="kl_div", group="loss", inputs=("logits", "labels"), infer=_kl_div_infer, reference=_kl_div_reference,
    attrs=(("reduction", "mean"), ("log_target", False)), dtypes=FLOATS, promote=(0, 1), samples=_kl_div_samples,
    vjp=_kl_div_vjp,
    doc="Pointwise KL divergence labels * (log(labels) - logits) (0 where labels is 0; exp(labels) * (labels - "
        "logits) with log_target), reduced; 'batchmean' divides the sum by logits.shape[0]."))


def kl_div(logits: Any, labels: Any, reduction: str = "mean", log_target: bool = False) -> Any:
    """KL divergence (MindSpore ``ops.kl_div``): ``logits`` are log-probabilities, ``labels`` probabilities
    (log-probabilities when ``log_target``). ``reduction``: 'none', 'mean', 'sum' or 'batchmean'."""
    op = "kl_div"
    attrs = {"reduction": check_reduction(op, reduction, ("none", "mean", "sum", "batchmean")),
             "log_target": bool(log_target)}
    return _dispatch.apply(_KL_DIV, (logits, labels), attrs)
