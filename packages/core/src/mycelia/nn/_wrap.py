"""Training wrappers with MindSpore's names: ``WithLossCell``, ``WithEvalCell``, ``TrainOneStepCell``."""

from __future__ import annotations

from typing import Any

from mycelia import dtype as dt
from mycelia._grad_api import run_with_gradients
from mycelia.nn._cell import Cell

__all__ = ["TrainOneStepCell", "WithEvalCell", "WithLossCell"]


def _check_cell(owner: str, name: str, value: Any) -> Cell:
    if not isinstance(value, Cell):
        raise TypeError(f"{owner}: {name} must be a Cell, got {type(value).__name__}")
    return value


class WithLossCell(Cell):
    """``loss_fn(backbone(data), label)``. Parameter names stay the backbone's (no prefix is added)."""

    def __init__(self, backbone: Cell, loss_fn: Cell) -> None:
        super().__init__(auto_prefix=False)
        self._backbone = _check_cell("WithLossCell", "backbone", backbone)
        self._loss_fn = _check_cell("WithLossCell", "loss_fn", loss_fn)

    def construct(self, data: Any, label: Any) -> Any:
        return self._loss_fn(self._backbone(data), label)

    @property
    def backbone_network(self) -> Cell:
        return self._backbone


class WithEvalCell(Cell):
    """``(loss, outputs, label)`` of ``network(data)`` (outputs cast to float32 when ``add_cast_fp32``)."""

    def __init__(self, network: Cell, loss_fn: Cell, add_cast_fp32: bool = False) -> None:
        super().__init__(auto_prefix=False)
        self._network = _check_cell("WithEvalCell", "network", network)
        self._loss_fn = _check_cell("WithEvalCell", "loss_fn", loss_fn)
        self.add_cast_fp32 = bool(add_cast_fp32)

    def construct(self, data: Any, label: Any) -> Any:
        outputs = self._network(data)
        if self.add_cast_fp32:
            label = label.astype(dt.float32)
            outputs = outputs.astype(dt.float32)
        return self._loss_fn(outputs, label), outputs, label


class TrainOneStepCell(Cell):
    """One training step: the loss of ``network(*inputs)``, its gradients with respect to
    ``optimizer.parameters`` (times ``sens``), and ``optimizer(grads)``. Returns the loss (and a dict
    name -> gradient with ``return_grad``). ``network`` usually is a :class:`WithLossCell`."""

    def __init__(self, network: Cell, optimizer: Cell, sens: float | None = None, return_grad: bool = False) -> None:
        super().__init__(auto_prefix=False)
        self.network = _check_cell("TrainOneStepCell", "network", network)
        self.optimizer = _check_cell("TrainOneStepCell", "optimizer", optimizer)
        weights = getattr(optimizer, "parameters", None)
        if weights is None:
            raise TypeError("TrainOneStepCell: optimizer must be an nn.Optimizer (it has no .parameters)")
        self.weights = weights
        if sens is not None and (isinstance(sens, bool) or not isinstance(sens, (int, float))):
            raise TypeError(f"TrainOneStepCell: sens must be a float, got {type(sens).__name__}")
        self.sens = 1.0 if sens is None else float(sens)
        self.return_grad = bool(return_grad)

    def grad_reducer(self, grads: tuple[Any, ...]) -> tuple[Any, ...]:
        """Identity in a single process (MindSpore averages gradients across devices here)."""
        return grads

    def construct(self, *inputs: Any) -> Any:
        grads: Any
        loss, _, grads = run_with_gradients(self.network, inputs, {}, None, self.weights, False)
        if self.sens != 1.0:  # d(sens * loss) = sens * d(loss): the gradients are linear in sens
            grads = tuple(g * self.sens for g in grads)
        grads = self.grad_reducer(grads)
        self.optimizer(grads)
        if self.return_grad:
            names = [getattr(w, "name", str(i)) for i, w in enumerate(self.weights)]
            return loss, dict(zip(names, grads))
        return loss
