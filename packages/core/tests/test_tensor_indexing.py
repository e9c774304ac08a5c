"""Tensor.__getitem__ / __setitem__: numpy's semantics, copies (no aliasing), value semantics, errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import mycelia as ms
from mycelia._types import Symbol, TensorType
from mycelia.ops._indexing_tensor import index_plan, normalize_index

HERE = __file__


def _tensor_index(index: Any, to_tensor: bool) -> Any:
    """The same index with numpy arrays turned into Tensors (when ``to_tensor``)."""
    items = index if isinstance(index, tuple) else (index,)
    converted = tuple(ms.Tensor(i) if to_tensor and isinstance(i, np.ndarray) else i for i in items)
    return converted if isinstance(index, tuple) else converted[0]


def _random_index(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[Any, ...]:
    """A random numpy-valid index mixing ints, slices, None, Ellipsis, integer arrays and bool masks."""
    items: list[Any] = []
    axis = 0
    used_ellipsis = False
    while axis < len(shape) and rng.random() < 0.85:
        size = shape[axis]
        kind = rng.integers(0, 7)
        if kind == 0 and size:
            items.append(int(rng.integers(-size, size)))
        elif kind == 1:
            step = int(rng.choice([1, 2, -1, -2, 3]))
            start = None if rng.random() < 0.3 else int(rng.integers(-size - 2, size + 3))
            stop = None if rng.random() < 0.3 else int(rng.integers(-size - 2, size + 3))
            items.append(slice(start, stop, step))
        elif kind == 2:
            items.append(None)
            continue
        elif kind == 3 and not used_ellipsis:
            items.append(Ellipsis)
            used_ellipsis = True
            axis = len(shape) - int(rng.integers(0, len(shape) - axis + 1))
            continue
        elif kind == 4 and size:
            items.append(rng.integers(-size, size, size=tuple(rng.integers(0, 3, size=int(rng.integers(0, 3))))))
        elif kind == 5 and axis + 1 < len(shape) and rng.random() < 0.5:
            items.append(rng.random(shape[axis:axis + 2]) < 0.5)
            axis += 2
            continue
        elif kind == 6:
            items.append(rng.random(size) < 0.5)
        else:
            items.append(slice(None))
        axis += 1
    return tuple(items)


def _numpy_result(array: np.ndarray, index: tuple[Any, ...]) -> np.ndarray | None:
    try:
        return np.asarray(array[index])
    except IndexError:  # e.g. arrays that do not broadcast together
        return None


@pytest.mark.parametrize("seed", range(6))
def test_getitem_matches_numpy_on_random_indices(seed: int) -> None:
    rng = np.random.default_rng(seed)
    checked = 0
    for _ in range(150):
        shape = tuple(int(d) for d in rng.integers(0, 5, size=int(rng.integers(0, 5))))
        array = rng.standard_normal(shape).astype(np.float32)
        index = _random_index(rng, shape)
        expected = _numpy_result(array, index)
        if expected is None:
            continue
        tensor = ms.Tensor(array)
        for to_tensor in (False, True):
            got = tensor[_tensor_index(index, to_tensor)]
            assert got.shape == expected.shape, (shape, index)
            np.testing.assert_array_equal(got.asnumpy(), expected)
        checked += 1
    assert checked > 100


@pytest.mark.parametrize("seed", range(4))
def test_inferred_shape_matches_numpy(seed: int) -> None:
    """The op's infer (used by graphs) gives numpy's shape; a mask count is a symbol."""
    rng = np.random.default_rng(100 + seed)
    for _ in range(200):
        shape = tuple(int(d) for d in rng.integers(1, 5, size=int(rng.integers(1, 5))))
        array = np.zeros(shape, np.float32)
        index = _random_index(rng, shape)
        expected = _numpy_result(array, index)
        if expected is None:
            continue
        entries, tensors = normalize_index("getitem", ms.Tensor(array), index)
        types = tuple(TensorType(t.dtype, t.shape) for t in tensors)
        inferred, _ = index_plan("getitem", shape, entries, types)
        assert len(inferred) == expected.ndim, (shape, index, inferred, expected.shape)
        for got, want in zip(inferred, expected.shape):
            assert isinstance(got, Symbol) or got == want, (shape, index, inferred, expected.shape)


def test_infer_handles_symbolic_dims() -> None:
    batch = Symbol("B")
    shape, _ = index_plan("getitem", (batch, 4), (("slice", None, None, None), 1), ())
    assert shape == (batch,)
    shape, _ = index_plan("getitem", (batch, 4), (("slice", 1, None, None), None), ())
    assert isinstance(shape[0], Symbol) and shape[1:] == (1, 4)


def test_basic_examples() -> None:
    x = ms.Tensor(np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    a = x.asnumpy()
    np.testing.assert_array_equal(x[1].asnumpy(), a[1])
    np.testing.assert_array_equal(x[-1, ::-1, 1::2].asnumpy(), a[-1, ::-1, 1::2])
    np.testing.assert_array_equal(x[..., None, 2].asnumpy(), a[..., None, 2])
    np.testing.assert_array_equal(x[[1, 0], :, [3, 2]].asnumpy(), a[[1, 0], :, [3, 2]])
    np.testing.assert_array_equal(x[0, [True, False, True]].asnumpy(), a[0, [True, False, True]])
    np.testing.assert_array_equal(x[x.asnumpy() > 10].asnumpy(), a[a > 10])
    np.testing.assert_array_equal(x[ms.Tensor(a > 10)].asnumpy(), a[a > 10])
    np.testing.assert_array_equal(x[ms.Tensor([1, 0], ms.int32)].asnumpy(), a[[1, 0]])
    np.testing.assert_array_equal(x[ms.Tensor(1)].asnumpy(), a[1])
    np.testing.assert_array_equal(x[1:ms.Tensor(2)].asnumpy(), a[1:2])
    assert x[0, 1, 2].shape == () and x[0, 1, 2].item() == 6.0
    assert x[None].shape == (1, 2, 3, 4) and x[...].shape == (2, 3, 4)
    assert x[True].shape == (1, 2, 3, 4) and x[False].shape == (0, 2, 3, 4)
    assert x[1].dtype is ms.float32


def test_getitem_returns_a_copy_never_a_view() -> None:
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    x = ms.Tensor(array)
    for index in (0, (slice(None), 1), (Ellipsis,), slice(None, None, -1)):
        part = x[index]
        assert not np.shares_memory(part.asnumpy(), x.asnumpy()), index
    row = x[0]
    x[0, 0] = 100.0
    assert row.asnumpy()[0] == 0.0


def test_setitem_scalars_tensors_and_array_likes() -> None:
    a = np.zeros((3, 4), np.float32)
    x = ms.Tensor(a)
    x[0] = 1
    a[0] = 1
    x[:, 1] = ms.Tensor([1, 2, 3], ms.int64)  # cast to the target dtype
    a[:, 1] = [1, 2, 3]
    x[[1, 2], [0, 3]] = [7.5, 8.5]
    a[[1, 2], [0, 3]] = [7.5, 8.5]
    x[np.array([[False] * 4, [True] * 4, [False] * 4])] = -1.0
    a[1] = -1.0
    x[..., 2:] = np.array([[4.0, 5.0]])  # leading 1-dims of the value are dropped, as numpy does
    a[..., 2:] = [[4.0, 5.0]]
    x[ms.Tensor([True, False, True])] = ms.Tensor(9.0, ms.float64)
    a[[True, False, True]] = 9.0
    np.testing.assert_array_equal(x.asnumpy(), a)
    assert x.dtype is ms.float32 and x.shape == (3, 4)


def test_setitem_casts_to_the_target_dtype() -> None:
    x = ms.Tensor(np.zeros(4, np.int32))
    x[1] = 2.9
    x[2:] = ms.Tensor([True, True])
    assert x.dtype is ms.int32
    np.testing.assert_array_equal(x.asnumpy(), [0, 2, 1, 1])
    flags = ms.Tensor([False, False])
    flags[0] = 5
    assert flags.tolist() == [True, False]


def test_setitem_has_value_semantics() -> None:
    """Views made by reshape/transpose share the buffer; setitem must never write into it."""
    x = ms.Tensor(np.arange(6, dtype=np.float32))
    reshaped = x.reshape(2, 3)
    transposed = ms.ops.transpose(reshaped, (1, 0))
    copied_ref = x
    assert np.shares_memory(reshaped.asnumpy(), x.asnumpy())
    x[0] = 50.0
    assert reshaped.asnumpy()[0, 0] == 0.0 and transposed.asnumpy()[0, 0] == 0.0
    assert copied_ref is x and x.asnumpy()[0] == 50.0
    reshaped[1, 2] = -1.0
    assert x.asnumpy()[5] == 5.0 and transposed.asnumpy()[2, 1] == 5.0
    numpy_source = np.ones(3, np.float32)
    shared = ms.from_numpy(numpy_source)
    shared[1] = 0.0
    assert numpy_source[1] == 1.0 and shared.asnumpy()[1] == 0.0


def test_setitem_on_broadcast_and_parameter() -> None:
    wide = ms.ops.broadcast_to(ms.Tensor([1.0, 2.0]), (3, 2))
    wide[0, 0] = 9.0
    np.testing.assert_array_equal(wide.asnumpy(), [[9, 2], [1, 2], [1, 2]])
    param = ms.Parameter(ms.Tensor(np.zeros((2, 2), np.float32)), name="w")
    param[1] = 3.0
    assert isinstance(param, ms.Parameter) and param.asnumpy()[1].tolist() == [3.0, 3.0]


def test_out_of_range_index_errors_name_index_axis_size_and_line() -> None:
    x = ms.Tensor(np.zeros((2, 3), np.float32))
    cases: list[tuple[Any, str]] = [
        (2, "index 2 is out of bounds for axis 0 with size 2"),
        ((0, -4), "index -4 is out of bounds for axis 1 with size 3"),
        ((slice(None), [0, 3]), "index 3 is out of bounds for axis 1 with size 3"),
        (ms.Tensor([-3]), "index -3 is out of bounds for axis 0 with size 2"),
        ((0, 1, 2), "too many indices for a tensor of rank 2"),
        ((Ellipsis, Ellipsis), "single ellipsis"),
        ([True, False, True], "boolean index of shape [3] does not match"),
        (ms.Tensor([0.5]), "must be integer or bool"),
        ("a", "valid indices"),
    ]
    for index, message in cases:
        with pytest.raises(IndexError) as info:
            x[index]
        assert message in str(info.value), (index, str(info.value))
        assert f"{HERE}:" in str(info.value)
        with pytest.raises(IndexError):
            x[index] = 1.0
    np.testing.assert_array_equal(x.asnumpy(), np.zeros((2, 3)))


def test_bad_setitem_value_leaves_the_tensor_unchanged() -> None:
    x = ms.Tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    before = x.asnumpy().copy()
    buffer = x._data
    with pytest.raises(ValueError, match=r"setitem: cannot assign a value of shape \[2\] to the indexed shape \[3\]"):
        x[0] = ms.Tensor([1.0, 2.0])
    with pytest.raises(ValueError, match="setitem"):
        x[0] = "text"
    assert x._data is buffer
    np.testing.assert_array_equal(x.asnumpy(), before)


def test_iteration_and_len() -> None:
    x = ms.Tensor(np.arange(6).reshape(3, 2))
    rows = list(x)
    assert len(rows) == 3 and [r.tolist() for r in rows] == [[0, 1], [2, 3], [4, 5]]
    with pytest.raises(TypeError, match="0-d"):
        iter(ms.Tensor(1.0))
    assert [int(v) for v in ms.Tensor([4, 5])] == [4, 5]


def test_index_is_a_hashable_attribute_with_tensor_inputs() -> None:
    x = ms.Tensor(np.zeros((4, 5), np.float32))
    entries, tensors = normalize_index("getitem", x, (slice(1, None, 2), [0, 3], None, Ellipsis))
    hash(entries)
    assert entries == (("slice", 1, None, 2), ("tensor", 1), None, Ellipsis)
    assert len(tensors) == 1 and tensors[0].dtype is ms.int64 and tensors[0].tolist() == [0, 3]
    mask_entries, masks = normalize_index("getitem", x, np.ones(4, bool))
    assert mask_entries == (("tensor", 1),) and masks[0].dtype is ms.bool_


def test_getitem_and_setitem_are_ops() -> None:
    getitem = ms.ops.get_op("getitem")
    setitem = ms.ops.get_op("setitem")
    assert getitem.group == setitem.group == "indexing"
    x = ms.Tensor(np.arange(4, dtype=np.float32))
    updated = ms.ops.setitem(x, 1, 10.0)
    assert updated.tolist() == [0.0, 10.0, 2.0, 3.0] and x.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert ms.ops.getitem(x, slice(1, 3)).tolist() == [1.0, 2.0]
