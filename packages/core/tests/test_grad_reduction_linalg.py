"""Gradients of the reduction, linear algebra and random ops: semantics the finite-difference
conformance suite does not pin down (ties, zeros, dropped outputs, broadcasting, non-differentiable
ops) and higher-order gradients (grad of grad), checked against finite differences of the gradient."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import mycelia as ms
from mycelia._testing import numeric_gradients

ops = ms.ops
EPSILON = 1e-6


def tensor(values: Any) -> ms.Tensor:
    return ms.Tensor(np.asarray(values, dtype=np.float64))


def grad_of(function: Callable[..., Any], *values: Any, position: int = 0) -> np.ndarray:
    return ms.grad(function, grad_position=position)(*(tensor(v) for v in values)).asnumpy()  # type: ignore[no-any-return]


def second_order(function: Callable[..., Any], values: list[np.ndarray], inner: int, outer: int, seed: int = 0
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(grad of ``sum(grad_inner(function) * v)`` w.r.t. input ``outer``, its central finite differences)."""
    v = np.random.default_rng(seed).standard_normal(values[inner].shape)

    def first(*args: Any) -> Any:
        return ops.sum(ms.grad(function, grad_position=inner)(*args) * ms.Tensor(v))

    analytic = ms.grad(first, grad_position=outer)(*(tensor(x) for x in values)).asnumpy()
    numeric = numeric_gradients(lambda *arrays: first(*(tensor(x) for x in arrays)).item(), values, EPSILON,
                                positions=[outer])[0]
    return analytic, numeric


def weighted(op: Callable[..., Any], seed: int = 1) -> Callable[..., Any]:
    """``sum(op(*args) * w)`` for a fixed random ``w`` of the result's shape."""
    cache: dict[str, np.ndarray] = {}

    def function(*args: Any) -> Any:
        out = op(*args)
        if "w" not in cache:
            cache["w"] = np.random.default_rng(seed).standard_normal(out.shape)
        return ops.sum(out * ms.Tensor(cache["w"]))

    return function


# -- max / min / amax / amin: which entries get the gradient -----------------------------------------
def test_max_and_min_with_ties_give_the_gradient_to_the_returned_index() -> None:
    x = [[1.0, 3.0, 3.0, 2.0], [5.0, 0.0, 5.0, 5.0]]
    assert grad_of(lambda t: ops.sum(ops.max(t, 1)[0]), x).tolist() == [[0, 1, 0, 0], [1, 0, 0, 0]]
    assert grad_of(lambda t: ops.sum(ops.min(t, 0)[0]), x).tolist() == [[1, 0, 1, 1], [0, 1, 0, 0]]
    assert grad_of(lambda t: ops.max(t)[0], x).tolist() == [[0, 0, 0, 0], [1, 0, 0, 0]]  # flat index


def test_max_gradient_with_indices_kept_and_used() -> None:
    def function(t: Any) -> Any:
        values, indices = ops.max(t, 0, keepdims=True)
        assert indices.tolist() == [[1, 0]]
        return ops.sum(values * tensor([[2.0, 3.0]]))

    assert grad_of(function, [[1.0, 4.0], [2.0, -1.0]]).tolist() == [[0, 3], [2, 0]]


def test_amax_and_amin_split_ties_evenly() -> None:
    x = [[1.0, 3.0, 3.0, 2.0], [5.0, 5.0, 5.0, 0.0]]
    np.testing.assert_allclose(grad_of(lambda t: ops.sum(ops.amax(t, 1)), x),
                               [[0, 0.5, 0.5, 0], [1 / 3, 1 / 3, 1 / 3, 0]])
    np.testing.assert_allclose(grad_of(lambda t: ops.amin(t), x), np.array([[0, 0, 0, 0], [0, 0, 0, 1.0]]))
    np.testing.assert_allclose(grad_of(lambda t: t.max(), x), np.array([[0, 0, 0, 0], [1 / 3, 1 / 3, 1 / 3, 0]]))


def test_extremes_from_initial_or_masked_out_entries_get_no_gradient() -> None:
    x = [[1.0, 7.0], [4.0, 2.0]]
    mask = ms.Tensor(np.array([[True, False], [True, True]]))
    assert grad_of(lambda t: ops.sum(ops.amax(t, 1, initial=3.0, where=mask)), x).tolist() == [[0, 0], [1, 0]]
    assert grad_of(lambda t: ops.sum(ops.max(t, 1, initial=3.0, where=mask)[0]), x).tolist() == [[0, 0], [1, 0]]
    assert grad_of(lambda t: ops.sum(ops.amin(t, 0, initial=0.0)), x).tolist() == [[0, 0], [0, 0]]


# -- prod / cumprod with zeros -------------------------------------------------------------------
@pytest.mark.parametrize(("x", "expected"), [
    ([2.0, 3.0, 4.0], [12.0, 8.0, 6.0]),
    ([2.0, 0.0, 4.0], [0.0, 8.0, 0.0]),
    ([0.0, 3.0, 0.0], [0.0, 0.0, 0.0]),
])
def test_prod_gradient_handles_zeros(x: list[float], expected: list[float]) -> None:
    got = grad_of(lambda t: ops.prod(t), x)
    assert got.tolist() == expected and np.isfinite(got).all()


def test_cumprod_gradient_handles_zeros() -> None:
    x = np.array([[2.0, 0.0, 3.0, 0.0, 5.0], [0.5, 1.5, 2.0, -1.0, 3.0]])
    w = np.array([[1.0, 2.0, -1.0, 0.5, 3.0], [0.3, -0.2, 1.0, 2.0, 1.5]])
    got = grad_of(lambda t: ops.sum(ops.cumprod(t, 1) * ms.Tensor(w)), x)
    expected = np.zeros_like(x)
    for row in range(2):
        for i in range(5):
            for k in range(i, 5):
                expected[row, i] += w[row, k] * np.prod(np.delete(x[row, :k + 1], i))
    np.testing.assert_allclose(got, expected, rtol=1e-12)


# -- points where the formula divides by the result ----------------------------------------------
def test_norm_std_and_prod_give_finite_gradients_at_zero() -> None:
    zeros = np.zeros((2, 3))
    assert grad_of(lambda t: ops.norm(t), zeros).tolist() == zeros.tolist()
    assert grad_of(lambda t: ops.sum(ops.std(t, 1)), np.ones((2, 3))).tolist() == zeros.tolist()
    assert grad_of(lambda t: ops.sum(ops.norm(t, 0.5, 1)), [[0.0, 4.0], [1.0, 0.0]]).tolist() == [[0, 1], [1, 0]]


def test_dtype_argument_gradient_comes_back_in_the_input_dtype() -> None:
    result = ms.grad(lambda t: ops.sum(t, dtype=ms.float32))(tensor([[1.0, 2.0]]))
    assert result.dtype is ms.float64 and result.tolist() == [[1.0, 1.0]]
    result = ms.grad(lambda t: ops.sum(ops.prod(t, 1, dtype=ms.float32)))(tensor([[2.0, 3.0]]))
    assert result.dtype is ms.float64 and result.tolist() == [[3.0, 2.0]]


# -- matmul family: 1-D operands and broadcast batch dims --------------------------------------------
@pytest.mark.parametrize(("a_shape", "b_shape"), [
    ((2, 1, 3, 4), (5, 4, 2)), ((4,), (2, 4, 3)), ((2, 3, 4), (4,)), ((4,), (4,)), ((1, 3, 4), (2, 4, 5)),
])
def test_matmul_gradients_sum_broadcast_batch_dims(a_shape: tuple[int, ...], b_shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    w = rng.standard_normal(np.matmul(a, b).shape)
    grads = ms.grad(lambda x, y: ops.sum(ops.matmul(x, y) * ms.Tensor(w)), grad_position=(0, 1))(tensor(a), tensor(b))
    # Reference: the broadcast operands as explicit copies, differentiated by numpy's einsum.
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    w2 = w.reshape((*batch, a2.shape[-2], b2.shape[-1]))
    ga = np.einsum("...ik,...jk->...ij", w2, np.broadcast_to(b2, batch + b2.shape[-2:]))
    gb = np.einsum("...ij,...ik->...jk", np.broadcast_to(a2, batch + a2.shape[-2:]), w2)

    def reduce(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        g = g.sum(axis=tuple(range(g.ndim - len(shape)))) if g.ndim > len(shape) else g
        return np.asarray(g.sum(axis=tuple(i for i, d in enumerate(shape) if d == 1), keepdims=True).reshape(shape))

    np.testing.assert_allclose(grads[0].asnumpy(), reduce(ga.reshape(batch + a2.shape[-2:]), a2.shape).reshape(a_shape))
    np.testing.assert_allclose(grads[1].asnumpy(), reduce(gb, b2.shape).reshape(b_shape))
    assert grads[0].shape == a_shape and grads[1].shape == b_shape


def test_einsum_gradients_of_diagonals_traces_and_sums() -> None:
    x = np.arange(9.0).reshape(3, 3)
    assert grad_of(lambda t: ops.einsum("ii", t), x).tolist() == np.eye(3).tolist()
    assert grad_of(lambda t: ops.sum(ops.einsum("ii->i", t) * tensor([1.0, 2.0, 3.0])), x).tolist() == \
        np.diag([1.0, 2.0, 3.0]).tolist()
    assert grad_of(lambda t: ops.sum(ops.einsum("ij->i", t)), x).tolist() == np.ones((3, 3)).tolist()
    y = np.arange(4.0)
    assert grad_of(lambda a, b: ops.einsum("i,j", a, b).sum(), x[0], y).tolist() == [6.0, 6.0, 6.0]


# -- higher order (grad of grad) ----------------------------------------------------------------------
RNG = np.random.default_rng(5)
SECOND_ORDER: list[tuple[str, Callable[..., Any], list[np.ndarray], int, int]] = [
    ("logsumexp", weighted(lambda x: ops.logsumexp(x, 1)), [RNG.standard_normal((2, 4))], 0, 0),
    ("prod", weighted(lambda x: ops.prod(x, 1)), [RNG.uniform(0.5, 1.5, (2, 4))], 0, 0),
    ("prod one zero", weighted(lambda x: ops.prod(x, 1)), [np.array([[0.0, 2.0, 3.0], [1.5, -2.0, 0.5]])], 0, 0),
    ("std", weighted(lambda x: ops.std(x, 1, ddof=1)), [RNG.standard_normal((2, 5))], 0, 0),
    ("var", weighted(lambda x: ops.var(x, (0, 1))), [RNG.standard_normal((3, 4))], 0, 0),
    ("mean", weighted(lambda x: ops.mean(x, 0) * ops.mean(x, 0)), [RNG.standard_normal((3, 2))], 0, 0),
    ("norm 2", weighted(lambda x: ops.norm(x, dim=1)), [RNG.standard_normal((2, 4))], 0, 0),
    ("norm 3", weighted(lambda x: ops.norm(x, 3, 0)), [RNG.standard_normal((4, 2))], 0, 0),
    ("cumsum", weighted(lambda x: ops.cumsum(x, 1) * ops.cumsum(x, 1)), [RNG.standard_normal((2, 4))], 0, 0),
    ("cumprod", weighted(lambda x: ops.cumprod(x, 1)), [RNG.uniform(0.5, 1.5, (2, 4))], 0, 0),
    ("amax", weighted(lambda x: ops.amax(x, 1) * ops.amax(x, 1)), [RNG.standard_normal((3, 4))], 0, 0),
    ("max", weighted(lambda x: ops.max(x, 0)[0] * ops.sum(x, 0)), [RNG.standard_normal((3, 4))], 0, 0),
    ("matmul mixed", weighted(lambda a, b: ops.matmul(a, b)),
     [RNG.standard_normal((2, 1, 3, 4)), RNG.standard_normal((5, 4, 2))], 0, 1),
    ("matmul 1-D", weighted(lambda a, b: ops.matmul(a, b) * ops.matmul(a, b)),
     [RNG.standard_normal((4,)), RNG.standard_normal((2, 4, 3))], 0, 0),
    ("bmm", weighted(lambda a, b: ops.bmm(a, b) * ops.bmm(a, b)),
     [RNG.standard_normal((2, 3, 4)), RNG.standard_normal((2, 4, 2))], 1, 0),
    ("dot", weighted(lambda a, b: ops.dot(a, b)), [RNG.standard_normal((2, 3)), RNG.standard_normal((4, 3, 2))], 1, 0),
    ("outer", weighted(lambda a, b: ops.outer(a, b) * ops.outer(a, b)),
     [RNG.standard_normal((3,)), RNG.standard_normal((2,))], 0, 1),
    ("tensor_dot", weighted(lambda a, b: ops.tensor_dot(a, b, ((0, 2), (1, 0)))),
     [RNG.standard_normal((2, 3, 4)), RNG.standard_normal((4, 2, 5))], 0, 1),
    ("einsum diagonal", weighted(lambda a, b: ops.einsum("iji,j->ij", a, b) * ops.einsum("iji,j->ij", a, b)),
     [RNG.standard_normal((3, 2, 3)), RNG.standard_normal((2,))], 0, 1),
    ("einsum ellipsis", weighted(lambda a, b: ops.einsum("a...b,...b->a...", a, b)),
     [RNG.standard_normal((2, 3, 4)), RNG.standard_normal((5, 1, 4))], 1, 0),
]


@pytest.mark.parametrize(("function", "values", "inner", "outer"), [case[1:] for case in SECOND_ORDER],
                         ids=[case[0] for case in SECOND_ORDER])
def test_second_order_gradients_match_finite_differences(function: Callable[..., Any], values: list[np.ndarray],
                                                         inner: int, outer: int) -> None:
    analytic, numeric = second_order(function, values, inner, outer)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-7)
    assert np.abs(analytic).max() > 0  # the gradient really depends on the input


def test_spectral_norm_gradients_are_first_order_only() -> None:
    x = np.random.default_rng(3).standard_normal((3, 4))
    for ord in ("nuc", 2, -2):
        u, _, vh = np.linalg.svd(x, full_matrices=False)
        expected = {"nuc": u @ vh, 2: np.outer(u[:, 0], vh[0]), -2: np.outer(u[:, -1], vh[-1])}[ord]
        np.testing.assert_allclose(grad_of(lambda t, o=ord: ops.norm(t, o), x), expected, rtol=1e-10)
        with pytest.raises(NotImplementedError, match="second derivative"):
            second_order(lambda t, o=ord: ops.norm(t, o), [x], 0, 0)


# -- not differentiable ----------------------------------------------------------------------------
NOT_DIFFERENTIABLE = ["argmax", "argmin", "all", "any", "rand", "randn", "randint", "rand_like", "randn_like",
                      "randint_like", "uniform", "normal", "bernoulli", "multinomial"]


@pytest.mark.parametrize("name", NOT_DIFFERENTIABLE)
def test_index_boolean_and_random_ops_are_marked_not_differentiable(name: str) -> None:
    assert ops.get_op(name).differentiable is False


def test_random_ops_pass_no_gradient_to_their_parameters() -> None:
    mean, scale = tensor([0.5, -1.0]), tensor([2.0, 3.0])
    grads = ms.grad(lambda m, s: ops.sum(ops.normal((2,), m, s, seed=3)), grad_position=(0, 1))(mean, scale)
    assert [g.tolist() for g in grads] == [[0.0, 0.0], [0.0, 0.0]]
    assert ms.grad(lambda p: ops.sum(ops.bernoulli(p, p, seed=1)))(tensor([0.2, 0.7])).tolist() == [0.0, 0.0]


def test_argmax_inside_a_gradient_is_a_constant() -> None:
    x = tensor([[1.0, 3.0], [4.0, 2.0]])
    got = ms.grad(lambda t: ops.sum(t * ops.argmax(t, 1, keepdim=True).astype(ms.float64)))(x)
    assert got.tolist() == [[1.0, 1.0], [0.0, 0.0]]


def test_norm_inf_and_matrix_norm_gradients() -> None:
    x = [[1.0, -4.0, 2.0], [-3.0, 0.5, 1.0]]
    assert grad_of(lambda t: ops.norm(t, math.inf, 1).sum(), x).tolist() == [[0, -1, 0], [-1, 0, 0]]
    assert grad_of(lambda t: ops.norm(t, 1), x).tolist() == [[0, -1, 0], [0, 1, 0]]  # largest column sum
    assert grad_of(lambda t: ops.norm(t, -math.inf), x).tolist() == [[0, 0, 0], [-1, 1, 1]]  # smallest row sum
