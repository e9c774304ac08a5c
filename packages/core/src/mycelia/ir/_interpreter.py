"""The reference interpreter: runs any graph through the eager kernels (DESIGN §3).

It is the oracle for passes and backends, and — run on the recording backend under autograd — the
way graph autodiff reuses every op's ``vjp`` rule (``mycelia.ir.value_and_grad_graph``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._context import current_backend
from mycelia._tensor import Tensor
from mycelia._types import Symbol
from mycelia.ir._builder import IRError
from mycelia.ir._graph import Graph, Node, Value
from mycelia.ops._dispatch import _make_tensor, apply
from mycelia.ops._registry import get_op

__all__ = ["bind_inputs", "interpret"]


def bind_inputs(graph: Graph, args: tuple[Any, ...]) -> list[Tensor]:
    """``args`` (Tensors or numpy arrays) checked against the graph's input types; a symbolic dim
    must take one size everywhere it appears."""
    if len(args) != len(graph.inputs):
        raise IRError(f"graph @{graph.name} takes {len(graph.inputs)} inputs, got {len(args)}")
    sizes: dict[Symbol, Any] = {}
    tensors = []
    for value, arg in zip(graph.inputs, args):
        tensor = arg if isinstance(arg, Tensor) else _host_tensor(np.asarray(arg), value.dtype)
        if tensor.dtype is not value.dtype or len(tensor.shape) != len(value.shape):
            raise IRError(f"graph @{graph.name}: input %{value.name} is {value.type}, got "
                          f"{tensor.dtype.short_name}{list(tensor.shape)}")
        for dim, size in zip(value.shape, tensor.shape):
            if isinstance(dim, Symbol):
                if sizes.setdefault(dim, size) != size:
                    raise IRError(f"graph @{graph.name}: symbol {dim} is {sizes[dim]} elsewhere but {size} "
                                  f"in input %{value.name}")
            elif dim != size:
                raise IRError(f"graph @{graph.name}: input %{value.name} is {value.type}, "
                              f"got shape {list(tensor.shape)}")
        tensors.append(tensor)
    for relation in graph.relations:
        _check_relation(graph, relation, sizes)
    return tensors


def _check_relation(graph: Graph, relation: Any, sizes: dict[Symbol, Any]) -> None:
    def size(dim: Any) -> Any:
        return sizes.get(dim) if isinstance(dim, Symbol) else dim

    value = size(relation.symbol)
    operands = [size(d) for d in relation.operands]
    if value is None or any(o is None for o in operands):
        return  # a symbol no input binds: nothing to check yet
    if relation.kind == "at_least":
        holds = value >= operands[0]
    elif relation.kind == "equal":
        holds = value == operands[0]
    else:
        product = 1
        for operand in operands:
            product *= operand
        holds = value == product
    if not holds:
        raise IRError(f"graph @{graph.name}: the inputs break `{relation}` ({relation.symbol} = {value})")


def _host_tensor(array: np.ndarray, dtype: dt.DType) -> Tensor:
    backend = current_backend()
    return _make_tensor(backend.from_numpy(np.array(array, order="C")), dt.from_numpy(array.dtype), backend)


def _run_node(node: Node, operands: list[Any]) -> tuple[Any, ...]:
    if node.op == "constant":
        constant = node.attribute("value")
        backend = current_backend()
        return (_make_tensor(backend.from_numpy(constant.array.copy()), constant.dtype, backend),)
    if node.op == "fused":
        assert node.region is not None
        return interpret(node.region, *operands)
    opdef = get_op(node.op)
    if opdef.variadic:
        count = len(operands) - (len(opdef.inputs) - 1)
        args: tuple[Any, ...] = (operands[:count], *operands[count:])
    else:
        args = tuple(operands)
    result = apply(opdef, args, node.attributes)
    return result if isinstance(result, tuple) else (result,)


def interpret(graph: Graph, *args: Any) -> tuple[Tensor, ...]:
    """Run ``graph`` on ``args`` eagerly, node by node; returns its outputs as a tuple of Tensors."""
    environment: dict[Value, Any] = dict(zip(graph.inputs, bind_inputs(graph, args)))
    for node in graph.nodes:
        outputs = _run_node(node, [environment[value] for value in node.inputs])
        if len(outputs) != len(node.outputs):
            raise IRError(f"graph @{graph.name}: {node.op} produced {len(outputs)} results for "
                          f"{len(node.outputs)} outputs")
        environment.update(zip(node.outputs, outputs))
    return tuple(environment[value] for value in graph.outputs)
