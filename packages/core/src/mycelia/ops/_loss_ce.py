"""cross_entropy and nll_loss: class-index targets (with ignore_index, class weights, label smoothing) and,
for cross_entropy, class-probability targets. The class dim is dim 1 ((N, C, d1, ...)) or dim 0 for (C,)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._errors import OpError
from mycelia._types import TensorType
from mycelia.ops import _dispatch
from mycelia.ops._define import FLOATS
from mycelia.ops._nn_util import check_float, check_reduction, expect_vector, known, sample_array, shape_text
from mycelia.ops._registry import OpDef, Sample, register_op

__all__ = ["cross_entropy", "nll_loss"]


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


_CE_ATTRS = (("ignore_index", -100), ("reduction", "mean"), ("label_smoothing", 0.0))
_CROSS_ENTROPY = register_op(OpDef(
    name="cross_entropy", group="loss", inputs=("input", "target", "weight"), infer=_cross_entropy_infer,
    reference=_cross_entropy_reference, attrs=_CE_ATTRS, dtypes=FLOATS, promote=(0, 2),
    samples=_class_samples(20, probabilities=True),
    doc="log_softmax over the class dim, then nll_loss (class indices) or -sum(weight * p * log_softmax) "
        "(class probabilities); 'mean' divides by the summed weights of the non-ignored targets (by the sample "
        "count for probabilities)."))
_NLL_LOSS = register_op(OpDef(
    name="nll_loss", group="loss", inputs=("inputs", "target", "weight"), infer=_nll_loss_infer,
    reference=_nll_loss_reference, attrs=_CE_ATTRS, dtypes=FLOATS, promote=(0, 2),
    samples=_class_samples(21, probabilities=False),
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
