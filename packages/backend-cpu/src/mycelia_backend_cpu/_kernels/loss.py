"""CPU kernels: loss ops (float16/bfloat16 math and reductions in float32)."""

from __future__ import annotations

import numpy as np

from mycelia.backends import Kernel
from mycelia_backend_cpu._kernels.nn_conv import work

__all__ = ["KERNELS"]


def _fresh(value: np.ndarray | np.generic) -> np.ndarray:
    """ufuncs on 0-d arrays return scalars; in-place steps need an array."""
    return value if isinstance(value, np.ndarray) else np.asarray(value)


def _reduce(loss: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "none":
        return loss
    if reduction == "sum":
        return np.asarray(loss.sum())
    return np.asarray(loss.mean() if loss.size else np.nan, dtype=loss.dtype)


def _mse_loss(x: np.ndarray, t: np.ndarray, *, reduction: str) -> np.ndarray:
    diff = _fresh(np.subtract(work(x), work(t)))
    np.square(diff, out=diff)
    return _reduce(diff, reduction)


def _l1_loss(x: np.ndarray, t: np.ndarray, *, reduction: str) -> np.ndarray:
    diff = _fresh(np.subtract(work(x), work(t)))
    np.abs(diff, out=diff)
    return _reduce(diff, reduction)


def _smooth_l1_loss(x: np.ndarray, t: np.ndarray, *, beta: float, reduction: str) -> np.ndarray:
    diff = _fresh(np.subtract(work(x), work(t)))
    np.abs(diff, out=diff)
    if beta > 0:
        quadratic = diff < beta
        small = np.square(diff[quadratic]) * (0.5 / beta)
        diff -= 0.5 * beta
        diff[quadratic] = small
    return _reduce(diff, reduction)


def _binary_cross_entropy(x: np.ndarray, t: np.ndarray, w: np.ndarray | None = None, *,
                          reduction: str) -> np.ndarray:
    xw, tw = work(x), work(t)
    eps = 1e-12
    positive = _fresh(np.log(xw + eps))
    negative = np.log(1.0 - xw + eps)  # loss = -(t * log(x) + (1 - t) * log(1 - x)) = -(n + t * (p - n))
    positive -= negative
    positive *= tw
    positive += negative
    np.negative(positive, out=positive)
    if w is not None:
        positive *= work(w)
    return _reduce(positive, reduction)


def _binary_cross_entropy_with_logits(x: np.ndarray, t: np.ndarray, w: np.ndarray | None = None,
                                      pw: np.ndarray | None = None, *, reduction: str) -> np.ndarray:
    xw, tw = work(x), work(t)
    # log(1 + exp(-|x|)) + max(-x, 0) = -log(sigmoid(x)), stable for any x
    soft = _fresh(np.abs(xw))
    np.negative(soft, out=soft)
    np.exp(soft, out=soft)
    np.log1p(soft, out=soft)
    soft += np.maximum(-xw, 0)
    if pw is None:
        loss = _fresh((1.0 - tw) * xw)  # -log(1 - sigmoid(x)) = x - log(sigmoid(x))
        loss += soft
    else:
        # (1 - t) * x + (1 + (pw - 1) * t) * softplus(-x)
        loss = _fresh((1.0 - tw) * xw)
        scale = _fresh((work(pw) - 1.0) * tw)
        scale += 1.0
        scale *= soft
        loss += scale
    if w is not None:
        loss *= work(w)
    return _reduce(loss, reduction)


def _kl_div(x: np.ndarray, t: np.ndarray, *, reduction: str, log_target: bool) -> np.ndarray:
    xw, tw = work(x), work(t)
    if log_target:
        loss = np.exp(tw) * (tw - xw)
    else:
        positive = tw > 0
        logs = np.log(np.where(positive, tw, 1.0)) - xw  # broadcast
        logs *= tw
        loss = np.where(positive, logs, 0.0).astype(logs.dtype, copy=False)
    if reduction == "batchmean":
        return np.asarray(loss.sum() / x.shape[0] if x.ndim else loss.sum())
    return _reduce(loss, reduction)


def _log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    out = _fresh(x - x.max(axis=axis, keepdims=True))
    total = np.exp(out).sum(axis=axis, keepdims=True)
    out -= np.log(total)
    return out


def _targets(t: np.ndarray, ignore_index: int, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """(valid mask, class indices with ignored ones as 0), checked to lie in [0, classes)."""
    valid = t != ignore_index
    safe = np.where(valid, t, 0).astype(np.intp, copy=False)
    if safe.size:
        low, high = int(safe.min()), int(safe.max())
        if low < 0 or high >= classes:
            raise ValueError(f"target value {low if low < 0 else high} is out of range [0, {classes}) "
                             f"(ignore_index={ignore_index})")
    return valid, safe


def _picked(rows: np.ndarray, safe: np.ndarray) -> np.ndarray:
    """rows[..., safe] per row (classes last)."""
    if rows.ndim == 2:
        return rows[np.arange(rows.shape[0]), safe]  # type: ignore[no-any-return]
    return np.take_along_axis(rows, safe[..., None], axis=-1)[..., 0]  # type: ignore[no-any-return]


def _classes_last(array: np.ndarray, class_axis: int) -> np.ndarray:
    return array if class_axis == array.ndim - 1 else np.moveaxis(array, class_axis, -1)


def _mean(losses: np.ndarray, denominator: np.ndarray | float) -> np.ndarray:
    total = losses.sum()
    return np.asarray(total / denominator if denominator else np.nan, dtype=losses.dtype)


def _nll(log_probs: np.ndarray, t: np.ndarray, w: np.ndarray | None, ignore_index: int, reduction: str,
         label_smoothing: float) -> np.ndarray:
    class_axis = 0 if log_probs.ndim == 1 else 1
    rows = _classes_last(log_probs, class_axis)
    classes = rows.shape[-1]
    weight = None if w is None else work(w)
    eps = label_smoothing
    if t.dtype.kind not in "iub":  # class probabilities (float16/32/64 or bfloat16)
        targets = _classes_last(work(t), class_axis)
        if eps:
            targets = targets * (1.0 - eps) + eps / classes
        if weight is not None:
            targets = targets * weight
        losses = _fresh(-np.einsum("...c,...c->...", rows, targets))
        if reduction == "none":
            return losses
        return np.asarray(losses.sum()) if reduction == "sum" else _mean(losses, losses.size)
    valid, safe = _targets(t, ignore_index, classes)
    losses = _fresh(_picked(rows, safe))
    np.negative(losses, out=losses)
    picked_weight = None if weight is None else weight[safe]
    if picked_weight is not None:
        losses *= picked_weight
    if eps:
        smooth = -(rows.sum(axis=-1) if weight is None else rows @ weight)
        losses *= 1.0 - eps
        losses += smooth * (eps / classes)
    losses *= valid
    if reduction == "none":
        return losses
    if reduction == "sum":
        return np.asarray(losses.sum())
    return _mean(losses, valid.sum() if picked_weight is None else (picked_weight * valid).sum())


def _cross_entropy(x: np.ndarray, t: np.ndarray, w: np.ndarray | None = None, *, ignore_index: int, reduction: str,
                   label_smoothing: float) -> np.ndarray:
    log_probs = _log_softmax(work(x), 0 if x.ndim == 1 else 1)
    return _nll(log_probs, t, w, ignore_index, reduction, label_smoothing)


def _nll_loss(x: np.ndarray, t: np.ndarray, w: np.ndarray | None = None, *, ignore_index: int, reduction: str,
              label_smoothing: float) -> np.ndarray:
    return _nll(work(x), t, w, ignore_index, reduction, label_smoothing)


def _cross_entropy_backward(g: np.ndarray, x: np.ndarray, t: np.ndarray, w: np.ndarray | None = None, *,
                            ignore_index: int, reduction: str, label_smoothing: float,
                            from_logits: bool) -> np.ndarray:
    xw = work(x)
    axis = 0 if x.ndim == 1 else 1
    classes = x.shape[axis]
    along = (classes,) + (1,) * (x.ndim - axis - 1)
    weight = None if w is None else work(w).astype(xw.dtype, copy=False).reshape(along)
    upstream = work(g).astype(xw.dtype, copy=False)
    eps = label_smoothing
    if t.dtype.kind not in "iub":  # class probabilities: d loss / d lp = -(t (1 - eps) + eps / C) * weight * g
        coefficients = work(t).astype(xw.dtype, copy=True)
        if eps:
            coefficients *= 1.0 - eps
            coefficients += eps / classes
        if reduction == "mean":
            upstream = upstream / max(x.size // classes, 1)
    else:  # one-hot of the valid targets (times 1 - eps), plus eps / C on every class of a valid target
        valid, safe = _targets(t, ignore_index, classes)
        coefficients = np.zeros(x.shape, dtype=xw.dtype)
        if x.ndim == 2:
            coefficients[np.arange(x.shape[0]), safe] = 1.0 - eps
        else:
            np.put_along_axis(coefficients, np.expand_dims(safe, axis), 1.0 - eps, axis=axis)
        if eps:
            coefficients += eps / classes
        if not valid.all():
            coefficients *= np.expand_dims(valid, axis)
        if reduction == "mean":
            total = (valid if w is None else valid * work(w)[safe]).sum()
            if not total:  # no valid target: the mean loss is nan, and so is its gradient
                return np.full(x.shape, np.nan, dtype=xw.dtype)
            upstream = upstream / np.asarray(total, dtype=xw.dtype)
    if weight is not None:
        coefficients *= weight
    coefficients *= upstream if reduction != "none" else np.expand_dims(upstream, axis)
    np.negative(coefficients, out=coefficients)  # the gradient at the log-probabilities
    if not from_logits:
        return coefficients
    # through log_softmax: grad - softmax * sum(grad over classes)
    softmax = _fresh(xw - xw.max(axis=axis, keepdims=True))
    np.exp(softmax, out=softmax)
    softmax *= coefficients.sum(axis=axis, keepdims=True) / softmax.sum(axis=axis, keepdims=True)
    coefficients -= softmax
    return coefficients


KERNELS: dict[str, Kernel] = {
    "binary_cross_entropy": _binary_cross_entropy,
    "binary_cross_entropy_with_logits": _binary_cross_entropy_with_logits,
    "cross_entropy": _cross_entropy,
    "cross_entropy_backward": _cross_entropy_backward,
    "kl_div": _kl_div,
    "l1_loss": _l1_loss,
    "mse_loss": _mse_loss,
    "nll_loss": _nll_loss,
    "smooth_l1_loss": _smooth_l1_loss,
}
