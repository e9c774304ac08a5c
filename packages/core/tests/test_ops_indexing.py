"""Indexing ops: MindSpore 2.x semantics (dtypes of indices, ties, in-place Parameter updates) and errors."""

from __future__ import annotations

import numpy as np
import pytest

import mycelia as ms
from mycelia import ops

HERE = __file__


def test_gather_with_axis_and_batch_dims() -> None:
    params = ms.Tensor(np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    indices = ms.Tensor(np.array([[0, 2], [1, 1]], np.int32))
    a = params.asnumpy()
    np.testing.assert_array_equal(ops.gather(params, indices, 1).asnumpy(), np.take(a, [[0, 2], [1, 1]], axis=1))
    batched = ops.gather(params, indices, 1, batch_dims=1)
    assert batched.shape == (2, 2, 4)
    np.testing.assert_array_equal(batched.asnumpy()[1], a[1][[1, 1]])
    assert params.gather(indices, -1).shape == (2, 3, 2, 2)
    with pytest.raises(IndexError) as info:
        ops.gather(params, ms.Tensor([0, 3]), 1)
    assert "gather: index 3 is out of bounds for axis 1 with size 3" in str(info.value) and HERE in str(info.value)
    with pytest.raises(TypeError, match="gather: input_indices must be an integer tensor, got Float32"):
        ops.gather(params, ms.Tensor([0.0]), 0)


def test_gather_elements_index_select() -> None:
    x = ms.Tensor(np.array([[1, 2], [3, 4]], np.float32))
    index = ms.Tensor(np.array([[0, 0], [1, 0]], np.int64))
    assert ops.gather_elements(x, 1, index).tolist() == [[1, 1], [4, 3]]
    assert x.gather_elements(0, index).tolist() == [[1, 2], [3, 2]]
    assert ops.index_select(x, 1, ms.Tensor([1, 1, 0])).tolist() == [[2, 2, 1], [4, 4, 3]]
    with pytest.raises(ValueError, match="index_select: index must be 1-d"):
        ops.index_select(x, 0, ms.Tensor([[0]]))
    with pytest.raises(IndexError, match="index_select: index 2 is out of bounds for axis 0 with size 2"):
        ops.index_select(x, 0, ms.Tensor([2]))


def test_scatter_is_functional() -> None:
    x = ms.Tensor(np.zeros((3, 3), np.float32))
    src = ms.Tensor(np.arange(1, 10, dtype=np.float32).reshape(3, 3))
    index = ms.Tensor(np.array([[2, 0, 1]], np.int64))
    out = ops.scatter(x, 0, index, src)
    assert out.tolist() == [[0, 2, 0], [0, 0, 3], [1, 0, 0]]
    assert x.asnumpy().sum() == 0
    assert ops.scatter(x, 1, index, ms.Tensor(np.ones((3, 3), np.int32))).dtype is ms.float32  # src cast


def test_scatter_add_updates_a_parameter_in_place() -> None:
    """MindSpore's example: repeats accumulate; the Parameter itself is updated and returned."""
    param = ms.Parameter(ms.Tensor(np.zeros((2, 3), np.float32)), name="x")
    indices = ms.Tensor(np.array([[0, 1], [1, 1]], np.int32))
    updates = ms.Tensor(np.array([[[1.0] * 3, [3.0] * 3], [[7.0] * 3, [9.0] * 3]], np.float32))
    result = ops.scatter_add(param, indices, updates)
    assert result is param
    assert param.tolist() == [[1, 1, 1], [19, 19, 19]]
    plain = ms.Tensor(np.zeros((2, 3), np.float32))
    out = ops.scatter_add(plain, indices, updates)
    assert out is not plain and plain.asnumpy().sum() == 0 and out.tolist() == [[1, 1, 1], [19, 19, 19]]
    with pytest.raises(ValueError, match=r"updates must have shape indices.shape \+ input_x.shape\[1:\] = \[2, 2, 3\]"):
        ops.scatter_add(param, indices, ms.Tensor(np.zeros((2, 3), np.float32)))
    with pytest.raises(IndexError, match="index 2 is out of bounds for axis 0 with size 2"):
        ops.scatter_add(param, ms.Tensor([2]), ms.Tensor(np.zeros((1, 3), np.float32)))
    assert param.tolist() == [[1, 1, 1], [19, 19, 19]]


def test_masked_fill_and_masked_select() -> None:
    x = ms.Tensor(np.array([1, 2, 3, 4], np.int32))
    mask = ms.Tensor([True, False, True, False])
    filled = ops.masked_fill(x, mask, 0.5)
    assert filled.dtype is ms.int32 and filled.tolist() == [0, 2, 0, 4]
    assert x.masked_fill(mask, ms.Tensor(9.0)).tolist() == [9, 2, 9, 4]
    assert ops.masked_fill(ms.Tensor(np.zeros((2, 1))), ms.Tensor([True, False]), 1.0).shape == (2, 2)
    assert ops.masked_select(x, mask).tolist() == [1, 3]
    assert x.masked_select(ms.Tensor([[True], [False]]) ).tolist() == [1, 2, 3, 4]
    with pytest.raises(TypeError, match="masked_fill: mask must be a bool tensor, got Int32"):
        ops.masked_fill(x, x, 1)
    with pytest.raises(ValueError, match="value must be a number or a 0-d tensor"):
        ops.masked_fill(x, mask, ms.Tensor([1, 2]))


def test_one_hot_dtypes_axis_and_out_of_range() -> None:
    indices = ms.Tensor(np.array([0, 1, 2, 4]))
    out = ops.one_hot(indices, 3)
    assert out.dtype is ms.int64 and out.tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]]
    assert ops.one_hot(indices, 3, 1.0, 0.0).dtype is ms.float32
    on, off = ms.Tensor(1.0, ms.float16), ms.Tensor(0.0, ms.float16)
    assert ops.one_hot(indices, 3, on, off).dtype is ms.float16
    pairs = ms.Tensor(np.array([[0, 2], [1, -1]]))
    axis0 = ops.one_hot(pairs, 3, 10, 4, axis=0)
    assert axis0.shape == (3, 2, 2) and axis0.asnumpy()[:, 1, 1].tolist() == [4, 4, 4]
    with pytest.raises(ValueError, match="input 0"):
        ops.one_hot([0, 1], 2)
    with pytest.raises(ValueError, match="dtype Float32 is not supported"):
        ops.one_hot(ms.Tensor([0.0]), 2)


def test_nonzero() -> None:
    x = ms.Tensor(np.array([[0, 1], [2, 0]]))
    out = ops.nonzero(x)
    assert out.dtype is ms.int64 and out.tolist() == [[0, 1], [1, 0]]
    rows, cols = ops.nonzero(x, as_tuple=True)
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0]
    assert ops.nonzero(ms.Tensor(5)).shape == (1, 0) and x.nonzero().shape == (2, 2)


def test_unique_returns_sorted_values_and_int32_idx() -> None:
    values, idx = ops.unique(ms.Tensor(np.array([1, 2, 5, 2], np.int32)))
    assert values.tolist() == [1, 2, 5] and idx.tolist() == [0, 1, 2, 1] and idx.dtype is ms.int32
    values, idx = ops.unique(ms.Tensor(np.array([[3.0, 1.0], [3.0, 2.0]], np.float32)))
    assert values.tolist() == [1, 2, 3] and idx.shape == (2, 2)
    np.testing.assert_array_equal(values.asnumpy()[idx.asnumpy()], [[3, 1], [3, 2]])


def test_sort_is_stable_both_ways_with_int32_indices() -> None:
    x = ms.Tensor(np.array([3, 1, 3, 2, 1], np.float32))
    values, indices = ops.sort(x)
    assert values.tolist() == [1, 1, 2, 3, 3] and indices.tolist() == [1, 4, 3, 0, 2] and indices.dtype is ms.int32
    values, indices = ops.sort(x, descending=True)
    assert values.tolist() == [3, 3, 2, 1, 1] and indices.tolist() == [0, 2, 3, 1, 4]
    assert ops.argsort(x, descending=True).tolist() == [0, 2, 3, 1, 4]
    assert x.argsort().tolist() == [1, 4, 3, 0, 2]
    grid = ms.Tensor(np.array([[8, 2, 1], [5, 9, 3], [4, 6, 7]], np.float16))
    assert grid.sort(axis=0)[1].tolist() == [[2, 0, 0], [1, 2, 1], [0, 1, 2]]
    with pytest.raises(ValueError, match="sort: axis 2 is out of range for a tensor of rank 2"):
        ops.sort(grid, 2)


def test_topk_prefers_the_lower_index_on_ties() -> None:
    x = ms.Tensor(np.array([[0.5368, 0.2447, 0.4302, 0.9673], [0.4388, 0.6525, 0.4685, 0.1868],
                            [0.3563, 0.5152, 0.9675, 0.8230]], np.float32))
    values, indices = ops.topk(x, 2, dim=1)
    assert indices.dtype is ms.int32 and indices.tolist() == [[3, 0], [1, 2], [2, 3]]
    np.testing.assert_allclose(values.asnumpy(), [[0.9673, 0.5368], [0.6525, 0.4685], [0.9675, 0.8230]])
    ties = ms.Tensor([1, 3, 3, 1, 3])
    assert ops.topk(ties, 2)[1].tolist() == [1, 2]
    assert ops.topk(ties, 2, largest=False)[1].tolist() == [0, 3]
    assert x.topk(1, 0)[1].tolist() == [[0, 1, 2, 0]]
    with pytest.raises(ValueError, match=r"topk: k 5 is out of range for dim -1 of size 4"):
        ops.topk(x, 5)
