from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
import pytest

import mycelia as ms
from mycelia import nn


def _param(value: float, name: str = "Parameter", requires_grad: bool = True) -> ms.Parameter:
    return ms.Parameter(ms.Tensor(np.full((2,), value, np.float32)), name=name, requires_grad=requires_grad)


class Affine(nn.Cell):
    def __init__(self) -> None:
        super().__init__()
        self.weight = _param(2.0)
        self.bias = _param(1.0)

    def construct(self, x: Any) -> Any:
        return x * self.weight + self.bias


class Net(nn.Cell):
    def __init__(self) -> None:
        super().__init__()
        self.layer1 = Affine()
        self.layer2 = Affine()
        self.scale = _param(3.0, requires_grad=False)

    def construct(self, x: Any) -> Any:
        return self.layer2(self.layer1(x)) * self.scale


def test_parameters_register_with_mindspore_names() -> None:
    net = Net()
    names = [name for name, _ in net.parameters_and_names()]
    assert names == ["scale", "layer1.weight", "layer1.bias", "layer2.weight", "layer2.bias"]
    assert [p.name for p in net.get_parameters()] == names
    assert [p.name for p in net.trainable_params()] == ["layer1.weight", "layer1.bias", "layer2.weight", "layer2.bias"]
    assert [p.name for p in net.untrainable_params()] == ["scale"]
    assert [name for name, _ in net.cells_and_names()] == ["", "layer1", "layer2"]


def test_call_runs_construct_and_hooks_in_order() -> None:
    net = Affine()
    events: list[str] = []
    pre = net.register_forward_pre_hook(lambda cell, inputs: events.append("pre"))
    net.register_forward_hook(lambda cell, inputs, output: output + 100)
    out = net(ms.Tensor(np.array([1.0, 2.0], np.float32)))
    assert events == ["pre"] and out.tolist() == [103.0, 105.0]
    pre.remove()
    net(ms.Tensor(np.zeros(2, np.float32)))
    assert events == ["pre"]


def test_set_train_propagates_and_attribute_rules() -> None:
    net = Net()
    assert not net.training and not net.layer1.training
    net.set_train()
    assert net.training and net.layer2.training
    with pytest.raises(TypeError, match="is a Parameter"):
        net.scale = 3  # type: ignore[assignment]
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        _ = net.missing
    del net.layer2
    assert [name for name, _ in net.cells_and_names()] == ["", "layer1"]


def test_init_must_come_first() -> None:
    class Broken(nn.Cell):
        def __init__(self) -> None:
            self.weight = _param(1.0)

    with pytest.raises(RuntimeError, match="super\\(\\).__init__"):
        Broken()


def test_containers() -> None:
    seq = nn.SequentialCell([Affine(), Affine()])
    x = ms.Tensor(np.ones(2, np.float32))
    assert seq(x).tolist() == [7.0, 7.0] and len(seq) == 2 and isinstance(seq[0], Affine)
    assert [n for n, _ in seq.parameters_and_names()] == ["0.weight", "0.bias", "1.weight", "1.bias"]
    named = nn.SequentialCell(OrderedDict([("first", Affine())]))
    assert [n for n, _ in named.parameters_and_names()] == ["first.weight", "first.bias"]
    layers = nn.CellList([Affine()]).append(Affine())
    assert len(layers) == 2 and len(list(layers.get_parameters())) == 4
    blocks = nn.CellDict({"a": Affine()})
    blocks["b"] = Affine()
    assert list(blocks.keys()) == ["a", "b"] and "a" in blocks
    with pytest.raises(TypeError, match="holds Cells"):
        nn.CellList([3])  # type: ignore[list-item]


def test_shared_parameter_is_listed_once() -> None:
    class Tied(nn.Cell):
        def __init__(self) -> None:
            super().__init__()
            self.a = Affine()
            self.b = Affine()
            self.b.weight = self.a.weight

    assert len(list(Tied().get_parameters())) == 3


def test_parameter_tuple_checks_items() -> None:
    net = Affine()
    params = nn.ParameterTuple(net.get_parameters())
    assert len(params) == 2
    with pytest.raises(TypeError, match="holds Parameters"):
        nn.ParameterTuple([1])


def test_to_float_casts_float_inputs_of_every_cell() -> None:
    class Double(nn.Cell):
        def construct(self, x: Any) -> Any:
            return x * 2

    outer = nn.SequentialCell([Double(), Double()]).to_float(ms.float16)
    out = outer(ms.Tensor(np.ones(3, np.float32)))
    assert out.dtype is ms.float16 and out.tolist() == [4.0, 4.0, 4.0]
    assert outer(ms.Tensor(np.ones(2, np.int32))).dtype is ms.int32  # integers are left alone
    with pytest.raises(ValueError, match="float dtype"):
        Double().to_float(ms.int8)
