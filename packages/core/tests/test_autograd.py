"""The functional gradient API (MindSpore semantics) and the tape's behaviour."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import numpy as np
import pytest

import mycelia as ms
from mycelia import nn, ops


def _t(values: Any) -> ms.Tensor:
    return ms.Tensor(np.asarray(values, dtype=np.float64))


def test_grad_of_first_input_by_default() -> None:
    def f(x: Any, y: Any) -> Any:
        return ops.sum(x * x * y)

    x, y = _t([1.0, 2.0]), _t([3.0, 4.0])
    np.testing.assert_allclose(ms.grad(f)(x, y).asnumpy(), [6.0, 16.0])
    _, gy = ms.grad(f, grad_position=(0, 1))(x, y)
    np.testing.assert_allclose(gy.asnumpy(), [1.0, 4.0])
    value, gx_only = ms.value_and_grad(f)(x, y)
    assert value.item() == pytest.approx(19.0) and gx_only.shape == (2,)


def test_tuple_output_sums_gradients_and_has_aux_uses_the_first() -> None:
    x = _t([1.0, 2.0])
    np.testing.assert_allclose(ms.grad(lambda a: (ops.sum(a), ops.sum(a * a)))(x).asnumpy(), [3.0, 5.0])
    grads, aux = ms.grad(lambda a: (ops.sum(a * a), a + 1), has_aux=True)(x)
    np.testing.assert_allclose(grads.asnumpy(), [2.0, 4.0])
    np.testing.assert_allclose(aux.asnumpy(), [2.0, 3.0])
    (out, aux2), g = ms.value_and_grad(lambda a: (ops.sum(a * 3), a), has_aux=True)(x)
    assert out.item() == 9.0 and g.tolist() == [3.0, 3.0] and aux2 is not None


def test_dict_output() -> None:
    x = _t([1.0, 2.0])
    g = ms.grad(lambda a: {"a": ops.sum(a), "b": ops.sum(a * 2)})(x)
    assert g.tolist() == [3.0, 3.0]


class Linear(nn.Cell):
    def __init__(self) -> None:
        super().__init__()
        self.w = ms.Parameter(_t([[1.0, 2.0], [3.0, 4.0]]), name="w")
        self.b = ms.Parameter(_t([0.5, -0.5]), name="b")

    def construct(self, x: Any) -> Any:
        return ops.sum(ops.matmul(x, self.w) + self.b)


def test_weights_and_return_ids() -> None:
    net = Linear()
    x = _t([[1.0, 1.0]])
    weight_grads = ms.grad(net, grad_position=None, weights=net.trainable_params())(x)
    np.testing.assert_allclose(weight_grads[0].asnumpy(), [[1.0, 1.0], [1.0, 1.0]])
    np.testing.assert_allclose(weight_grads[1].asnumpy(), [1.0, 1.0])
    input_grads, _ = ms.grad(net, 0, net.trainable_params())(x)
    np.testing.assert_allclose(input_grads.asnumpy(), [[3.0, 7.0]])
    named = ms.grad(net, None, net.trainable_params(), return_ids=True)(x)
    assert [name for name, _ in named] == ["w", "b"]
    assert net.w._autograd is None and net.b._autograd is None  # nothing left tracked


def test_sens_and_grad_operation() -> None:
    x = _t([1.0, 2.0])
    grad_all = ops.GradOperation(get_all=True, sens_param=True)
    (gx,) = grad_all(lambda a: a * a)(x, _t([10.0, 100.0]))
    np.testing.assert_allclose(gx.asnumpy(), [20.0, 400.0])
    net = Linear()
    by_list = ops.GradOperation(get_by_list=True)(net, ms.nn.ParameterTuple(net.trainable_params()))
    assert len(by_list(_t([[1.0, 1.0]]))) == 2


def test_unused_input_gets_zeros_and_integers_get_no_tracking() -> None:
    gx, gy = ms.grad(lambda a, b: ops.sum(a * 2), grad_position=(0, 1))(_t([1.0]), _t([5.0, 6.0]))
    assert gy.tolist() == [0.0, 0.0] and gx.tolist() == [2.0]


def test_higher_order_gradients() -> None:
    def cube(x: Any) -> Any:
        return ops.sum(x * x * x)

    x = _t([2.0, 3.0])
    second = ms.grad(ms.grad(cube))(x)  # d2/dx2 of x^3 summed: 6x
    np.testing.assert_allclose(second.asnumpy(), [12.0, 18.0])
    third = ms.grad(ms.grad(ms.grad(cube)))(x)
    np.testing.assert_allclose(third.asnumpy(), [6.0, 6.0])


def test_stop_gradient_and_no_grad() -> None:
    x = _t([1.0, 2.0])
    g = ms.grad(lambda a: ops.sum(a * ops.stop_gradient(a)))(x)
    np.testing.assert_allclose(g.asnumpy(), [1.0, 2.0])
    with ms.no_grad():
        g2 = ms.grad(lambda a: ops.sum(a * 2))(x)
    assert g2.tolist() == [0.0, 0.0]  # nothing was recorded


def test_bad_positions_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="out of range"):
        ms.grad(lambda a: ops.sum(a), grad_position=3)(_t([1.0]))
    with pytest.raises(TypeError, match="input 0 must be a Tensor"):
        ms.grad(lambda a: a)(1.0)
    with pytest.raises(ValueError, match="cannot both be None"):
        ms.grad(lambda a: a, grad_position=None)


def test_results_are_detached_and_tape_is_freed() -> None:
    x = _t(np.ones(1000))
    value, g = ms.value_and_grad(lambda a: ops.sum(ops.sin(a) * 2))(x)
    assert value._autograd is None and g._autograd is None
    intermediate: list[Any] = []

    def f(a: Any) -> Any:
        middle = ops.sin(a)
        intermediate.append(weakref.ref(middle))
        return ops.sum(middle * 3)

    ms.grad(f)(x)
    gc.collect()
    assert intermediate[0]() is None  # the tape kept nothing alive after backward


def test_tensor_kept_from_an_earlier_gradient_is_a_constant_later() -> None:
    kept: list[Any] = []

    def first(a: Any) -> Any:
        middle = a * 3
        kept.append(middle)
        return ops.sum(middle)

    ms.grad(first)(_t([1.0, 2.0]))
    g = ms.grad(lambda w: ops.sum(kept[0] * w))(_t([1.0, 1.0]))
    np.testing.assert_allclose(g.asnumpy(), [3.0, 6.0])


def test_non_differentiable_op_on_the_path_gives_no_gradient() -> None:
    g = ms.grad(lambda a: ops.sum(a * 2) + ops.sum(ops.argmax(a, 0).astype(ms.float64)))(_t([1.0, 3.0]))
    np.testing.assert_allclose(g.asnumpy(), [2.0, 2.0])


def test_assigning_into_a_tensor_after_an_op_used_it_is_a_clear_error() -> None:
    def f(a: Any) -> Any:
        y = a * 1
        z = y * y  # reads y's current value
        y[0] = 0.0  # ... which is then replaced
        return ops.sum(z)

    with pytest.raises(RuntimeError, match=r"mul: input \d was modified in place"):
        ms.grad(f)(_t([1.0, 2.0]))

    def g(a: Any) -> Any:  # assigning before use, and y[i] += v, are fine
        y = a * 1
        y[0] = 5.0
        y[1] += a[0]
        return ops.sum(y * y)

    np.testing.assert_allclose(ms.grad(g)(_t([1.0, 2.0])).asnumpy(), [2 * 3.0, 2 * 3.0])
