"""Loss cells with MindSpore 2.x's constructor signatures, built on the loss ops (``mycelia.ops``).

``reduction`` is ``'none'`` (the per-element loss), ``'mean'`` or ``'sum'`` (a 0-d result); ``KLDivLoss`` also
takes ``'batchmean'``.
"""

from __future__ import annotations

from typing import Any

from mycelia import dtype as dt
from mycelia import ops
from mycelia._tensor import Tensor
from mycelia.nn._cell import Cell

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "KLDivLoss",
    "L1Loss",
    "LossBase",
    "MSELoss",
    "NLLLoss",
    "SmoothL1Loss",
    "SoftmaxCrossEntropyWithLogits",
]

_REDUCTIONS = ("none", "mean", "sum")


def _check_reduction(owner: str, reduction: Any, accepted: tuple[str, ...] = _REDUCTIONS) -> str:
    if not isinstance(reduction, str) or reduction not in accepted:
        raise ValueError(f"{owner}: reduction must be one of {list(accepted)}, got {reduction!r}")
    return reduction


def _check_tensor(owner: str, name: str, value: Any) -> Tensor | None:
    if value is not None and not isinstance(value, Tensor):
        raise TypeError(f"{owner}: {name} must be a Tensor or None, got {type(value).__name__}")
    return value


class LossBase(Cell):
    """Base of the loss cells: ``get_loss(x, weights=1.0)`` applies ``reduction`` to a per-element loss."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = _check_reduction(type(self).__name__, reduction)
        self.average = self.reduction == "mean"
        self.reduce = self.reduction != "none"

    def get_axis(self, x: Any) -> tuple[int, ...]:
        return tuple(range(x.ndim))

    def get_loss(self, x: Any, weights: Any = 1.0) -> Any:
        """``x * weights`` reduced (computed in float32 for lower-precision floats, returned in x's dtype)."""
        input_dtype = x.dtype
        wide = input_dtype if input_dtype in (dt.float32, dt.float64) else dt.float32
        if x.dtype is not wide:
            x = x.astype(wide)
        if not (isinstance(weights, (int, float)) and weights == 1.0):
            x = x * (weights.astype(wide) if isinstance(weights, Tensor) else weights)
        if self.reduction == "mean":
            x = ops.mean(x)
        elif self.reduction == "sum":
            x = ops.sum(x)
        return x if x.dtype is input_dtype else x.astype(input_dtype)

    def construct(self, logits: Any, labels: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define construct(logits, labels)")


class MSELoss(LossBase):
    """``(logits - labels) ** 2``, reduced (labels broadcast to logits)."""

    def construct(self, logits: Any, labels: Any) -> Any:
        return ops.mse_loss(logits, labels, reduction=self.reduction)


class L1Loss(LossBase):
    """``|logits - labels|``, reduced (labels broadcast to logits)."""

    def construct(self, logits: Any, labels: Any) -> Any:
        return ops.l1_loss(logits, labels, reduction=self.reduction)


class SmoothL1Loss(LossBase):
    """``0.5 * d ** 2 / beta`` where ``d = |logits - labels| < beta``, else ``d - 0.5 * beta``; MindSpore's
    default reduction here is ``'none'``."""

    def __init__(self, beta: float = 1.0, reduction: str = "none") -> None:
        super().__init__(reduction)
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or beta < 0:
            raise ValueError(f"SmoothL1Loss: beta must be a float >= 0, got {beta!r}")
        self.beta = float(beta)

    def construct(self, logits: Any, labels: Any) -> Any:
        return ops.smooth_l1_loss(logits, labels, beta=self.beta, reduction=self.reduction)


class CrossEntropyLoss(LossBase):
    """Cross entropy of logits (N, C[, d1, ...]) with class indices or class probabilities."""

    def __init__(self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:
        super().__init__(reduction)
        self.weight = _check_tensor("CrossEntropyLoss", "weight", weight)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def construct(self, logits: Any, labels: Any) -> Any:
        return ops.cross_entropy(logits, labels, self.weight, ignore_index=self.ignore_index,
                                 reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(LossBase):
    """Negative log likelihood of log-probabilities (N, C[, d1, ...]) with integer class indices."""

    def __init__(self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.weight = _check_tensor("NLLLoss", "weight", weight)
        self.ignore_index = ignore_index

    def construct(self, logits: Any, labels: Any) -> Any:
        return ops.nll_loss(logits, labels, self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class SoftmaxCrossEntropyWithLogits(LossBase):
    """Softmax cross entropy of logits (N, C): ``labels`` are class indices (N,) when ``sparse``, else
    class probabilities (N, C). MindSpore's default reduction here is ``'none'`` (one loss per sample)."""

    def __init__(self, sparse: bool = False, reduction: str = "none") -> None:
        super().__init__(reduction)
        if not isinstance(sparse, bool):
            raise TypeError(f"SoftmaxCrossEntropyWithLogits: sparse must be a bool, got {type(sparse).__name__}")
        self.sparse = sparse

    def construct(self, logits: Any, labels: Any) -> Any:
        owner = "SoftmaxCrossEntropyWithLogits"
        if not isinstance(labels, Tensor) or not isinstance(logits, Tensor):
            raise TypeError(f"{owner}: logits and labels must be Tensors")
        if self.sparse and not labels.dtype.is_integer:
            raise TypeError(f"{owner}(sparse=True): labels must be integer class indices, got dtype {labels.dtype}")
        if not self.sparse and not labels.dtype.is_floating_point:
            raise TypeError(f"{owner}(sparse=False): labels must be float class probabilities shaped like the "
                            f"logits, got dtype {labels.dtype}; use sparse=True for class indices")
        return ops.cross_entropy(logits, labels, reduction=self.reduction)


class BCELoss(LossBase):
    """Binary cross entropy of probabilities in [0, 1]; ``weight`` broadcasts to the logits' shape."""

    def __init__(self, weight: Any = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.weight = _check_tensor("BCELoss", "weight", weight)

    def construct(self, logits: Any, labels: Any) -> Any:
        return ops.binary_cross_entropy(logits, labels, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(LossBase):
    """Sigmoid + binary cross entropy from logits, stably; ``weight`` and ``pos_weight`` broadcast."""

    def __init__(self, reduction: str = "mean", weight: Any = None, pos_weight: Any = None) -> None:
        super().__init__(reduction)
        self.weight = _check_tensor("BCEWithLogitsLoss", "weight", weight)
        self.pos_weight = _check_tensor("BCEWithLogitsLoss", "pos_weight", pos_weight)

    def construct(self, logits: Any, labels: Any) -> Any:
        return ops.binary_cross_entropy_with_logits(logits, labels, self.weight, self.pos_weight,
                                                    reduction=self.reduction)


class KLDivLoss(LossBase):
    """``labels * (log(labels) - logits)`` for log-probability logits; reduction also ``'batchmean'``."""

    def __init__(self, reduction: str = "mean") -> None:
        Cell.__init__(self)
        self.reduction = _check_reduction("KLDivLoss", reduction, ("none", "mean", "sum", "batchmean"))
        self.average = self.reduction == "mean"
        self.reduce = self.reduction != "none"

    def construct(self, logits: Any, labels: Any) -> Any:
        return ops.kl_div(logits, labels, reduction=self.reduction)
