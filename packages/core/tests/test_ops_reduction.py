"""MindSpore-specific semantics and error messages of the reduction ops (values are checked by
the conformance suite; this file checks dtypes, signatures, aliases, edge cases and errors)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mycelia as ms
from mycelia._errors import OpError

ops = ms.ops


def tensor(values: object, dtype: ms.dtype.DType = ms.float32) -> ms.Tensor:
    return ms.Tensor(np.asarray(values), dtype=dtype)


@pytest.fixture
def x() -> ms.Tensor:
    return tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])


# -- result dtypes ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [ms.int8, ms.uint8, ms.int16, ms.int32, ms.int64])
def test_sum_and_prod_keep_integer_dtypes(dtype: ms.dtype.DType) -> None:
    values = tensor([[1, 2], [3, 4]], dtype)
    assert ops.sum(values).dtype is dtype and ops.sum(values).item() == 10
    assert ops.prod(values, 1).dtype is dtype and ops.prod(values, 1).tolist() == [2, 12]
    assert ops.cumsum(values, 0).dtype is dtype


def test_bool_sums_give_int64() -> None:
    mask = ms.Tensor(np.array([True, False, True]))
    assert ops.sum(mask).dtype is ms.int64 and ops.sum(mask).item() == 2
    assert ops.cumsum(mask, 0).dtype is ms.int64 and ops.cumsum(mask, 0).tolist() == [1, 1, 2]
    assert ops.prod(mask).dtype is ms.int64


def test_dtype_argument_casts_before_reducing() -> None:
    values = tensor([100, 100, 100], ms.int8)
    assert ops.sum(values, dtype=ms.int32).item() == 300  # int8 would wrap
    assert ops.sum(values, dtype=ms.float16).dtype is ms.float16
    assert ops.sum(tensor([1.7, 2.7]), dtype=ms.int32).item() == 3  # truncated first, as a cast does
    assert ops.prod(values, dtype=ms.float32).item() == 1e6
    assert ops.cumsum(values, 0, dtype=ms.int64).tolist() == [100, 200, 300]
    assert ops.cumprod(tensor([2, 3], ms.int16), 0, dtype=ms.float64).dtype is ms.float64


@pytest.mark.parametrize("dtype", [ms.bool_, ms.uint8, ms.int32, ms.int64])
def test_averages_of_integers_are_float32(dtype: ms.dtype.DType) -> None:
    values = tensor([[1, 0], [1, 1]], dtype)
    for result in (ops.mean(values), ops.var(values), ops.std(values, 0)):
        assert result.dtype is ms.float32
    if dtype is not ms.bool_:  # logsumexp and norm take numbers only
        assert ops.logsumexp(values, 1).dtype is ms.float32 and ops.norm(values, dim=0).dtype is ms.float32
    assert ops.mean(values).item() == 0.75


def test_low_precision_results_keep_their_dtype() -> None:
    for dtype in (ms.float16, ms.bfloat16):
        values = tensor([[1, 2], [3, 4]], dtype)
        for result in (ops.sum(values), ops.mean(values, 0), ops.std(values), ops.norm(values), ops.amax(values),
                       ops.logsumexp(values, 0), ops.cumsum(values, 1)):
            assert result.dtype is dtype


def test_float16_accumulates_in_float32() -> None:
    # Along axis 0 numpy adds row by row; in float16, 0.1 stops registering once the total reaches 256.
    column = ms.Tensor(np.full((10000, 2), 0.1, np.float16))
    assert abs(ops.sum(column, 0).asnumpy().astype(np.float64)[0] - 1000) < 1
    assert abs(ops.mean(column, 0).asnumpy().astype(np.float64)[0] - 0.1) < 1e-3
    assert abs(ops.cumsum(column, 0).asnumpy().astype(np.float64)[-1, 0] - 1000) < 1
    bf16 = ms.Tensor(np.full((4000, 1), 0.1, np.float32), dtype=ms.bfloat16)
    assert abs(float(ops.sum(bf16, 0).asnumpy().astype(np.float32)[0]) - 400) < 3


def test_argmax_is_int64_and_argmin_int32_as_in_mindspore(x: ms.Tensor) -> None:
    assert ops.argmax(x).dtype is ms.int64 and ops.argmax(x).item() == 5
    assert ops.argmin(x).dtype is ms.int32 and ops.argmin(x).item() == 0
    assert ops.argmax(x, 1).tolist() == [1, 2] and ops.argmax(x, dim=-1, keepdim=True).shape == (2, 1)
    assert ops.argmin(x, axis=0, keepdims=True).tolist() == [[0, 1, 0]]
    assert ops.argmax(x, keepdim=True).shape == ()  # keepdim is ignored without dim, as in MindSpore


def test_all_any_give_bool() -> None:
    values = tensor([[1, 0], [2, 3]], ms.int32)
    assert ops.all(values).dtype is ms.bool_ and ops.all(values).item() is False
    assert ops.any(values, 1).tolist() == [True, True]
    assert ops.all(values, axis=0, keep_dims=True).tolist() == [[True, False]]


# -- max / min ---------------------------------------------------------------------------------
def test_max_min_return_values_and_int64_indices(x: ms.Tensor) -> None:
    values, indices = ops.max(x, 1)
    assert values.tolist() == [5.0, 6.0] and indices.tolist() == [1, 2] and indices.dtype is ms.int64
    values, indices = ops.min(x, axis=0, keepdims=True)
    assert values.tolist() == [[1.0, 2.0, 3.0]] and indices.tolist() == [[0, 1, 0]]


def test_max_without_axis_reduces_everything_and_ignores_keepdims(x: ms.Tensor) -> None:
    values, indices = ops.max(x, keepdims=True)
    assert values.shape == () and values.item() == 6.0
    assert indices.shape == () and indices.item() == 5  # the flat position (MindSpore documents 0 here)


def test_max_picks_the_first_of_equal_maxima() -> None:
    assert ops.max(tensor([1, 3, 3, 2], ms.int32), 0)[1].item() == 1
    assert ops.min(tensor([2, 1, 1], ms.int32), 0)[1].item() == 1


def test_max_initial_and_where(x: ms.Tensor) -> None:
    values, _ = ops.max(x, 1, initial=5.5)
    assert values.tolist() == [5.5, 6.0]
    mask = ms.Tensor(np.array([True, False, True]))
    values, indices = ops.max(x, 1, initial=0.0, where=mask)
    assert values.tolist() == [3.0, 6.0] and indices.tolist() == [2, 2]
    assert ops.amax(x, 1, initial=0.0, where=mask).tolist() == [3.0, 6.0]
    assert ops.amin(x, initial=2.5).item() == 1.0
    assert x.tolist() == [[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]]  # inputs untouched


def test_amax_of_empty_needs_initial() -> None:
    empty = ms.Tensor(np.zeros((0, 3), np.float32))
    assert ops.amax(empty, 0, initial=-1.0).tolist() == [-1.0, -1.0, -1.0]
    assert ops.amax(empty, 1).shape == (0,)  # reducing the non-empty axis is fine
    with pytest.raises(OpError, match=r"amax: cannot reduce a 0-size axis of an input of shape \[0, 3\]"):
        ops.amax(empty, 0)


@pytest.mark.parametrize("call", [lambda t: ops.max(t), lambda t: ops.min(t, 0), lambda t: ops.argmax(t),
                                  lambda t: ops.argmin(t, 0), lambda t: ops.amin(t)])
def test_extrema_of_empty_inputs_raise(call: object) -> None:
    with pytest.raises(OpError, match=r"cannot reduce a 0-size axis.*test_ops_reduction\.py"):
        call(ms.Tensor(np.zeros((0,), np.float32)))  # type: ignore[operator]


def test_tensor_max_min_follow_the_tensor_method_signature(x: ms.Tensor) -> None:
    assert x.max().item() == 6.0  # Tensor.max returns the values, not (values, indices)
    assert x.min(axis=(0, 1)).item() == 1.0
    assert x.max(axis=1, keepdims=True).tolist() == [[5.0], [6.0]]
    values, indices = x.max(axis=1, return_indices=True)
    assert values.tolist() == [5.0, 6.0] and indices.tolist() == [1, 2]
    assert x.min(axis=0, initial=1.5, where=True).tolist() == [1.0, 1.5, 1.5]


def test_where_needs_initial_and_a_bool_mask(x: ms.Tensor) -> None:
    with pytest.raises(OpError, match="where= needs initial="):
        ops.amax(x, where=ms.Tensor(np.array([True, False, True])))
    with pytest.raises(OpError, match="where must be a Bool tensor, got Int64"):
        ops.max(x, 1, initial=0, where=ms.Tensor(np.array([1, 0, 1])))
    with pytest.raises(OpError, match=r"does not broadcast to the input shape \[2, 3\]"):
        ops.amax(x, initial=0.0, where=ms.Tensor(np.array([True, False])))


# -- empty and scalar inputs ------------------------------------------------------------------------
def test_empty_reductions_give_identities() -> None:
    empty = ms.Tensor(np.zeros((0, 2), np.float32))
    assert ops.sum(empty).item() == 0.0 and ops.sum(empty, 0).tolist() == [0.0, 0.0]
    assert ops.prod(empty, 0).tolist() == [1.0, 1.0]
    assert ops.all(empty).item() is True and ops.any(empty).item() is False
    assert math.isnan(ops.mean(empty).item())
    assert ops.logsumexp(empty, 0).tolist() == [-math.inf, -math.inf]
    assert ops.sum(ms.Tensor(np.zeros((0,), np.int32))).dtype is ms.int32


def test_scalar_inputs() -> None:
    scalar = tensor(3.0)
    assert ops.sum(scalar).item() == 3.0 and ops.mean(scalar, keep_dims=True).shape == ()
    assert ops.max(scalar)[1].item() == 0 and ops.argmax(scalar).item() == 0
    assert ops.cumsum(scalar).shape == (1,) and ops.norm(tensor(-2.0)).item() == 2.0
    assert ops.logsumexp(scalar, ()).item() == 3.0


# -- axes, aliases and signatures --------------------------------------------------------------------
def test_axis_forms(x: ms.Tensor) -> None:
    assert ops.sum(x, (0, 1)).item() == 21.0
    assert ops.sum(x, [-1]).tolist() == [9.0, 12.0]
    assert ops.sum(x, ()).item() == 21.0  # () reduces every axis, MindSpore's reduce-op convention
    assert ops.mean(x, -2, keep_dims=True).shape == (1, 3)
    assert ops.sum(x, np.int64(1)).tolist() == [9.0, 12.0]
    assert ops.sum(x, ms.Tensor(np.array([0, 1]))).item() == 21.0


def test_tensor_method_spellings(x: ms.Tensor) -> None:
    assert x.sum(axis=1, keepdims=True).shape == (2, 1)  # Tensor.sum(axis, dtype, keepdims)
    assert x.sum(1, ms.float64).dtype is ms.float64
    assert x.sum(dim=0, keepdim=True).shape == (1, 3)
    assert x.argmax(axis=1).tolist() == [1, 2] and x.argmin(axis=1).tolist() == [0, 1]
    assert x.logsumexp(1, keepdims=True).shape == (2, 1)
    assert x.mean(1).tolist() == [3.0, 4.0] and x.prod(0, True).shape == (1, 3)
    assert x.amax(axis=0).tolist() == [4.0, 5.0, 6.0] and x.amin().item() == 1.0
    assert x.std(ddof=1).dtype is ms.float32 and x.var(0).shape == (3,)
    assert x.all().item() is True and x.any(axis=1).shape == (2,)
    assert x.cumsum().shape == (6,) and x.cumsum(axis=1).shape == (2, 3) and x.cumprod(0).shape == (2, 3)
    assert x.norm(ord=1, dim=1).tolist() == [9.0, 12.0]


def test_var_std_default_to_ddof_0_as_mindspore() -> None:
    values = tensor([[1, 2, 3, 4], [-1, 1, 4, -10]])
    np.testing.assert_allclose(ops.var(values, 1, 2, True).asnumpy(), [[2.5], [54.5]])  # MindSpore's example
    np.testing.assert_allclose(ops.var(values).item(), np.var(values.asnumpy()), rtol=1e-6)
    np.testing.assert_allclose(ops.std(values, ddof=True).item(), np.std(values.asnumpy(), ddof=1), rtol=1e-6)
    assert math.isnan(ops.var(tensor([1.0]), ddof=1).item())


def test_logsumexp_is_stable() -> None:
    big = tensor([1000.0, 1000.0])
    np.testing.assert_allclose(ops.logsumexp(big, 0).item(), 1000 + math.log(2), rtol=1e-6)
    tiny = tensor([-math.inf, -math.inf])
    assert ops.logsumexp(tiny, 0).item() == -math.inf


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({}, 13.0), ({"ord": 1}, 19.0), ({"ord": 0}, 3.0), ({"ord": math.inf}, 12.0), ({"ord": -math.inf}, 3.0),
    ({"ord": 2}, 13.0), ({"ord": 3}, (27 + 64 + 1728) ** (1 / 3)),
])
def test_vector_norms(kwargs: dict[str, object], expected: float) -> None:
    np.testing.assert_allclose(ops.norm(tensor([3.0, 4.0, 12.0]), **kwargs).item(), expected, rtol=1e-6)


def test_matrix_norms() -> None:
    m = tensor([[1.0, -2.0], [3.0, 4.0]])
    np.testing.assert_allclose(ops.norm(m).item(), math.sqrt(30), rtol=1e-6)
    assert ops.norm(m, "fro", (0, 1)).item() == pytest.approx(math.sqrt(30))
    assert ops.norm(m, 1).item() == 6.0 and ops.norm(m, math.inf).item() == 7.0
    assert ops.norm(m, -1).item() == 4.0 and ops.norm(m, -math.inf).item() == 3.0
    np.testing.assert_allclose(ops.norm(m, 2).item(), np.linalg.norm(m.asnumpy(), 2), rtol=1e-5)
    np.testing.assert_allclose(ops.norm(m, "nuc").item(), np.linalg.norm(m.asnumpy(), "nuc"), rtol=1e-5)
    assert ops.norm(m, dim=1).shape == (2,) and ops.norm(m, dim=(0, 1), keepdim=True).shape == (1, 1)
    assert ops.norm(tensor([[3, 4]], ms.int32)).dtype is ms.float32
    assert ops.norm(m, dtype=ms.float64).dtype is ms.float64


def test_norm_errors() -> None:
    cube = ms.Tensor(np.ones((2, 2, 2), np.float32))
    with pytest.raises(OpError, match=r"norm: with dim=None and ord=1 the input must be 1-D or 2-D, got shape"):
        ops.norm(cube, 1)
    with pytest.raises(OpError, match="ord=3 is not a matrix norm"):
        ops.norm(cube, 3, (0, 1))
    with pytest.raises(OpError, match="ord='fro' is a matrix norm but a vector norm is computed"):
        ops.norm(cube, "fro", 0)
    with pytest.raises(OpError, match="ord must be None, a number"):
        ops.norm(cube, "bogus")
    with pytest.raises(OpError, match="dim must be an int .* or a 2-tuple"):
        ops.norm(cube, None, (0, 1, 2))


def test_cumsum_and_cumprod() -> None:
    values = tensor([[1, 2, 3], [4, 5, 6]], ms.int32)
    assert ops.cumsum(values, 1).tolist() == [[1, 3, 6], [4, 9, 15]]
    assert ops.cumsum(values, axis=0).tolist() == [[1, 2, 3], [5, 7, 9]]
    assert ops.cumsum(values).tolist() == [1, 3, 6, 10, 15, 21]  # axis None: flattened (Tensor.cumsum default)
    assert ops.cumprod(values, -1).tolist() == [[1, 2, 6], [4, 20, 120]]
    with pytest.raises(TypeError):
        ops.cumprod(values)  # type: ignore[call-arg]  # dim is required, as in MindSpore
    with pytest.raises(OpError, match="cumprod: dim must be an int, got None"):
        ops.cumprod(values, None)


# -- errors --------------------------------------------------------------------------------------
def test_axis_errors_name_the_op_the_shape_and_the_range(x: ms.Tensor) -> None:
    with pytest.raises(OpError, match=r"sum: axis 2 is out of range for an input of shape \[2, 3\]; accepted: "
                                      r"\[-2, 2\).*test_ops_reduction\.py:\d+"):
        ops.sum(x, 2)
    with pytest.raises(OpError, match=r"mean: axis \[1, -1\] names an axis twice"):
        ops.mean(x, (1, -1))
    with pytest.raises(OpError, match="sum: dim must be None, an int or a tuple/list of ints, got 1.5"):
        ops.sum(x, 1.5)
    with pytest.raises(OpError, match="max: axis must be an int or None, got"):
        ops.max(x, (0, 1))
    with pytest.raises(OpError, match="keep_dims must be a bool, got 'yes'"):
        ops.mean(x, 0, "yes")
    with pytest.raises(OpError, match=r"argmax: axis 0 is out of range .*use axis=None"):
        ops.argmax(tensor(1.0), 0)
    with pytest.raises(OpError, match="got both dim and axis"):
        ops.sum(x, 0, axis=1)


def test_dtype_errors(x: ms.Tensor) -> None:
    with pytest.raises(OpError, match=r"argmax on backend 'cpu': dtype Bool is not supported"):
        ops.argmax(ms.Tensor(np.array([True, False])))
    with pytest.raises(OpError, match="dtype must be a mycelia dtype"):
        ops.sum(x, dtype=np.float32)
    with pytest.raises(OpError, match="sum: needs at least one Tensor operand"):
        ops.sum(3.0)


def test_results_never_alias_inputs(x: ms.Tensor) -> None:
    scalar = tensor(2.0)
    pairs = [(ops.max(x)[0], x), (ops.max(scalar)[0], scalar), (ops.amax(scalar), scalar), (ops.sum(scalar), scalar),
             (ops.cumsum(x, 0), x), (ops.max(x, 0, keepdims=True)[0], x), (ops.prod(scalar, ()), scalar)]
    for result, source in pairs:
        assert not np.shares_memory(result.asnumpy(), source.asnumpy())
