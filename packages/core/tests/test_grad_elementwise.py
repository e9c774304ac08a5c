"""Gradients of the elementwise, comparison and activation families: higher order (grad of grad),
the conventions at non-differentiable points, and what gets no gradient."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import mycelia as ms
from mycelia import ops
from mycelia._testing import numeric_gradients


def _t(values: Any, dtype: Any = np.float64) -> ms.Tensor:
    return ms.Tensor(np.asarray(values, dtype=dtype))


def _numeric_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    return numeric_gradients(f, [x], eps)[0]


def _check_second_order(f: Callable[[Any], Any], x: np.ndarray) -> None:
    """grad(h) against finite differences of h, where h(x) = sum(grad(f)(x) * c)."""
    c = np.random.default_rng(3).standard_normal(x.shape)

    def h(value: Any) -> Any:
        return ops.sum(ms.grad(f)(value) * _t(c))

    analytic = ms.grad(h)(_t(x)).asnumpy()
    numeric = _numeric_gradient(lambda v: h(_t(v)).item(), x)
    assert np.all(np.isfinite(analytic))
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-7)


X = np.array([[-1.3, -0.4, 0.2], [0.7, 1.1, 2.0]])


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "exp", "log1p", "sin", "sqrt", "erf", "gelu", "silu",
                                  "softplus", "mish", "logsigmoid", "elu", "softsign", "atan", "rsqrt"])
def test_second_derivative_of_unary_ops(name: str) -> None:
    function = getattr(ops, name)
    x = np.abs(X) + 0.1 if name in ("sqrt", "rsqrt", "log1p") else X
    _check_second_order(lambda a: ops.sum(function(a)), x)


def test_tanh_and_sigmoid_second_derivatives_in_closed_form() -> None:
    x = _t(X)
    t, s = np.tanh(X), 1 / (1 + np.exp(-X))
    np.testing.assert_allclose(ms.grad(ms.grad(lambda a: ops.sum(ops.tanh(a))))(x).asnumpy(),
                               -2 * t * (1 - t * t), rtol=1e-12)
    np.testing.assert_allclose(ms.grad(ms.grad(lambda a: ops.sum(ops.sigmoid(a))))(x).asnumpy(),
                               s * (1 - s) * (1 - 2 * s), rtol=1e-12)
    third = ms.grad(ms.grad(ms.grad(lambda a: ops.sum(ops.tanh(a)))))(x).asnumpy()
    np.testing.assert_allclose(third, -2 * (1 - t * t) * (1 - 3 * t * t), rtol=1e-10)


def test_mul_second_order_and_mixed_partials() -> None:
    x, y = _t([1.0, -2.0, 3.0]), _t([0.5, 4.0, -1.0])

    def f(a: Any, b: Any) -> Any:
        return ops.sum(a * a * b)

    np.testing.assert_allclose(ms.grad(ms.grad(f))(x, y).asnumpy(), 2 * y.asnumpy())
    mixed = ms.grad(lambda a, b: ops.sum(ms.grad(f)(a, b)), grad_position=1)(x, y)  # d/db of 2ab
    np.testing.assert_allclose(mixed.asnumpy(), 2 * x.asnumpy())


def test_pow_second_order_in_base_and_exponent() -> None:
    x, e = _t([0.5, 1.5, 2.0]), _t([3.0, -1.5, 0.5])
    np.testing.assert_allclose(ms.grad(ms.grad(lambda a: ops.sum(a ** 3)))(x).asnumpy(), 6 * x.asnumpy())
    _check_second_order(lambda a: ops.sum(ops.pow(a, e)), x.asnumpy())
    _check_second_order(lambda b: ops.sum(ops.pow(x, b)), e.asnumpy())
    # d/de (d/dx x^e) = x^(e-1) (1 + e log x)
    mixed = ms.grad(lambda a, b: ops.sum(ms.grad(lambda u, v: ops.sum(ops.pow(u, v)))(a, b)), grad_position=1)(x, e)
    xs, es = x.asnumpy(), e.asnumpy()
    np.testing.assert_allclose(mixed.asnumpy(), xs ** (es - 1) * (1 + es * np.log(xs)), rtol=1e-10)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [-1, 0])
def test_softmax_second_order(name: str, axis: int) -> None:
    function = getattr(ops, name)
    weights = _t(np.random.default_rng(5).standard_normal(X.shape))
    _check_second_order(lambda a: ops.sum(function(a, axis) * weights), X)


def test_gradients_keep_the_input_dtype() -> None:
    x = _t([[0.5, -1.0, 2.0]], np.float32)
    for f in (lambda a: ops.sum(ops.tanh(a) * 2.0), lambda a: ops.sum(ops.softmax(a, dtype=ms.float64) * a)):
        g = ms.grad(f)(x)
        assert g.dtype == ms.float32
    g16 = ms.grad(lambda a: ops.sum(ops.sigmoid(a)))(_t([0.0, 1.0], np.float16))
    assert g16.dtype == ms.float16
    np.testing.assert_allclose(g16.asnumpy().astype(np.float64), [0.25, 0.19661193], rtol=2e-3)


def test_kinks_take_the_documented_side() -> None:
    zero = _t([0.0, 0.0])
    assert ms.grad(lambda a: ops.sum(ops.relu(a)))(zero).tolist() == [0.0, 0.0]
    assert ms.grad(lambda a: ops.sum(ops.abs(a)))(zero).tolist() == [0.0, 0.0]
    assert ms.grad(lambda a: ops.sum(ops.leaky_relu(a, 0.1)))(zero).tolist() == pytest.approx([0.1, 0.1])
    # maximum/minimum: on ties the whole gradient goes to the first operand (as MindSpore)
    x, y = _t([1.0, 2.0, 3.0]), _t([1.0, 5.0, 0.0])
    gx, gy = ms.grad(lambda a, b: ops.sum(ops.maximum(a, b)), grad_position=(0, 1))(x, y)
    assert gx.tolist() == [1.0, 0.0, 1.0] and gy.tolist() == [0.0, 1.0, 0.0]
    gx, gy = ms.grad(lambda a, b: ops.sum(ops.minimum(a, b)), grad_position=(0, 1))(x, y)
    assert gx.tolist() == [1.0, 1.0, 0.0] and gy.tolist() == [0.0, 0.0, 1.0]


def test_clamp_routes_the_gradient_to_the_bound_that_was_picked() -> None:
    x = _t([-2.0, 0.5, 3.0])
    low, high = _t([-1.0, -1.0, -1.0]), _t([1.0, 1.0, 1.0])
    gx, gl, gh = ms.grad(lambda a, b, c: ops.sum(ops.clamp(a, b, c)), grad_position=(0, 1, 2))(x, low, high)
    assert gx.tolist() == [0.0, 1.0, 0.0] and gl.tolist() == [1.0, 0.0, 0.0] and gh.tolist() == [0.0, 0.0, 1.0]
    assert ms.grad(lambda a: ops.sum(ops.clamp(a, min=0.0)))(x).tolist() == [0.0, 1.0, 1.0]
    # min > max: the result is max everywhere, so only max gets a gradient
    gx, gh = ms.grad(lambda a, c: ops.sum(ops.clamp(a, 2.0, c)), grad_position=(0, 1))(x, _t([1.0, 1.0, 1.0]))
    assert gx.tolist() == [0.0, 0.0, 0.0] and gh.tolist() == [1.0, 1.0, 1.0]


def test_piecewise_constant_ops_have_zero_gradient() -> None:
    x = _t([-1.7, 0.3, 2.5])
    for f in (ops.floor, ops.ceil, ops.trunc, ops.round, ops.sign,
              lambda a: ops.div(a, 2.0, rounding_mode="floor"), lambda a: ops.floor_divide(a, 0.7)):
        assert ms.grad(lambda a, f=f: ops.sum(f(a) * a))(x).tolist() == pytest.approx(f(x).tolist())


def test_remainder_and_fmod_gradients() -> None:
    x, y = _t([5.5, -5.5]), _t([2.0, 2.0])
    gx, gy = ms.grad(lambda a, b: ops.sum(ops.remainder(a, b)), grad_position=(0, 1))(x, y)
    assert gx.tolist() == [1.0, 1.0] and gy.tolist() == [-2.0, 3.0]  # -floor(x / y)
    gx, gy = ms.grad(lambda a, b: ops.sum(ops.fmod(a, b)), grad_position=(0, 1))(x, y)
    assert gx.tolist() == [1.0, 1.0] and gy.tolist() == [-2.0, 2.0]  # -trunc(x / y)


def test_pow_exponent_gradient_is_zero_where_the_base_is_not_positive() -> None:
    base, exponent = _t([-2.0, 0.0, 2.0]), _t([2.0, 2.0, 2.0])
    gb, ge = ms.grad(lambda a, b: ops.sum(ops.pow(a, b)), grad_position=(0, 1))(base, exponent)
    assert gb.tolist() == [-4.0, 0.0, 4.0]
    assert ge.tolist() == pytest.approx([0.0, 0.0, 4 * np.log(2.0)])
    # a zero exponent gives the base a zero gradient even at 0 (not 0 * inf)
    assert ms.grad(lambda a: ops.sum(ops.pow(a, _t([0.0, 0.0]))))(_t([0.0, 3.0])).tolist() == [0.0, 0.0]
    assert ms.grad(lambda a: ops.sum(a ** 0))(_t([0.0, 3.0])).tolist() == [0.0, 0.0]
    assert ms.grad(lambda b: ops.sum(2.0 ** b))(_t([1.0, 3.0])).tolist() == pytest.approx(
        [2 * np.log(2.0), 8 * np.log(2.0)])


def test_comparisons_and_masks_give_no_gradient() -> None:
    x = _t([-1.0, 2.0, 3.0])
    assert ms.grad(lambda a: ops.sum(ops.where(a > 0, a * a, -a)))(x).tolist() == [-1.0, 4.0, 6.0]
    assert ms.grad(lambda a: ops.sum((a > 0).astype(ms.float64) * a))(x).tolist() == [0.0, 1.0, 1.0]
    for op in ("greater", "equal", "isclose", "logical_and", "isnan", "isfinite"):
        assert not ops.get_op(op).differentiable
    # a bool output differentiated directly: zeros, no error
    assert ms.grad(lambda a: ops.greater(a, 0.0))(x).tolist() == [0.0, 0.0, 0.0]


def test_nan_to_num_passes_the_gradient_only_where_finite() -> None:
    x = _t([np.nan, 1.0, np.inf, -2.0])
    assert ms.grad(lambda a: ops.sum(ops.nan_to_num(a, 0.0, 1.0, -1.0) * 3.0))(x).tolist() == [0.0, 3.0, 0.0, 3.0]


def test_python_scalar_operands_and_untracked_tensors() -> None:
    x = _t([1.0, 2.0])
    constant = _t([3.0, 4.0])
    assert ms.grad(lambda a: ops.sum(2.0 / a))(x).tolist() == [-2.0, -0.5]
    assert ms.grad(lambda a: ops.sum(ops.atan2(1.0, a)))(x).tolist() == pytest.approx([-0.5, -0.2])
    assert ms.grad(lambda a: ops.sum(ops.lerp(a, constant, 0.25)))(x).tolist() == [0.75, 0.75]
    assert ms.grad(lambda a: ops.sum(ops.addcmul(constant, a, constant, 0.5)))(x).tolist() == [1.5, 2.0]
    gw = ms.grad(lambda w: ops.sum(ops.lerp(x, constant, w)))(_t([0.5, 0.5]))
    assert gw.tolist() == [2.0, 2.0]
