"""The op registry: an op is declared once (DESIGN §2.1) and everything else derives from it.

From one :class:`OpDef` come the functional API (``mycelia.ops.<name>``), the Tensor method, the
IR node kind (same name), autodiff (``vjp``, filled by the autograd issue) and the conformance
tests run on every backend (``samples`` + ``reference``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from mycelia.dtype import DType, all_dtypes

__all__ = ["OpDef", "Sample", "all_ops", "get_op", "register_op"]


@dataclass(frozen=True)
class Sample:
    """One conformance case: numpy arrays / Python scalars for the inputs, plus attributes.

    ``call`` overrides how the functional API is invoked (for ops whose front function takes
    arguments in another shape than ``(*inputs, **attrs)``); it receives Tensors for arrays.
    """

    args: tuple[Any, ...]
    attrs: dict[str, Any] = field(default_factory=dict)
    call: Callable[..., Any] | None = None
    note: str = ""


@dataclass(frozen=True)
class OpDef:
    """One op.

    * ``inputs`` names the tensor operands (``variadic``: the single input is a sequence).
    * ``promote`` lists the input positions promoted to one common dtype (with Python scalars);
      the other inputs keep their dtype (indices, masks, conditions).
    * ``infer(*types, **attrs)`` maps input :class:`~mycelia._types.TensorType` s to the output
      type (or a tuple for multi-output ops) without allocating; a data-dependent dim is a Symbol.
    * ``reference(*arrays, **attrs)`` is the numpy spec and test oracle.
    * ``samples(dtype)`` yields :class:`Sample` s for the conformance suite.
    * ``dtypes`` are the accepted dtypes of the first promoted input.
    * ``vjp(ctx, grad)`` returns one gradient (or None) per input, written in mycelia ops; the
      engine sums broadcast gradients back to each input's shape and casts to its dtype.
    """

    name: str
    group: str
    inputs: tuple[str, ...]
    infer: Callable[..., Any]
    reference: Callable[..., Any]
    attrs: tuple[tuple[str, Any], ...] = ()
    dtypes: frozenset[DType] = field(default_factory=lambda: frozenset(all_dtypes()))
    promote: tuple[int, ...] = (0,)
    variadic: bool = False
    samples: Callable[[DType], Iterable[Sample]] | None = None
    vjp: Callable[..., Any] | None = None
    decomposition: Callable[..., Any] | None = None
    method: str | None = None  # Tensor method name, when MindSpore has one
    differentiable: bool = True  # False for ops with integer/bool results or zero gradients by definition
    # Inputs the op's front function rebinds after the call (running statistics, renormalised embedding
    # rows). Their gradient never reads their values, so autograd's in-place check skips them.
    updated_in_place: tuple[int, ...] = ()
    doc: str = ""


_OPS: dict[str, OpDef] = {}


def register_op(op: OpDef) -> OpDef:
    if op.name in _OPS:
        raise ValueError(f"op {op.name!r} is already registered")
    _OPS[op.name] = op
    return op


def get_op(name: str) -> OpDef:
    try:
        return _OPS[name]
    except KeyError:
        raise KeyError(f"no op named {name!r} is registered") from None


def all_ops() -> list[OpDef]:
    return sorted(_OPS.values(), key=lambda op: op.name)
