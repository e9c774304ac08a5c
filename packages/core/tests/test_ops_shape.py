"""Shape ops: MindSpore-specific signatures and defaults, errors, promotion, views and peak memory."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import mycelia as ms
from mycelia import ops

HERE = __file__


def _t(shape: tuple[int, ...], dtype: Any = np.float32) -> ms.Tensor:
    return ms.Tensor(np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape))


def test_flatten_defaults_differ_between_function_and_method() -> None:
    x = _t((2, 3, 4))
    assert ops.flatten(x).shape == (2, 12)  # MindSpore 2.x: start_dim=1
    assert x.flatten().shape == (24,)  # Tensor.flatten: start_dim=0
    assert ops.flatten(x, start_dim=0, end_dim=1).shape == (6, 4)
    assert ops.flatten(ms.Tensor(3.0)).shape == (1,) and ops.flatten(_t((5,))).shape == (5,)
    np.testing.assert_array_equal(ops.flatten(x, "F").asnumpy(), x.asnumpy().T.reshape(4, 6))
    with pytest.raises(ValueError, match="flatten: start_dim 2 comes after end_dim 1"):
        ops.flatten(x, start_dim=2, end_dim=1)
    with pytest.raises(ValueError, match="order must be 'C' or 'F'"):
        ops.flatten(x, "K")


def test_varargs_methods() -> None:
    x = _t((2, 3))
    assert x.reshape(3, 2).shape == (3, 2) and x.reshape((6,)).shape == (6,) and x.reshape([1, 6]).shape == (1, 6)
    assert x.view(3, 2).shape == (3, 2)
    assert x.transpose().shape == (3, 2) and x.transpose(1, 0).shape == (3, 2) and x.T.shape == (3, 2)
    assert x.permute(1, 0).shape == (3, 2) and x.permute((1, 0)).shape == (3, 2)
    assert x.unsqueeze(0).shape == (1, 2, 3) and x.expand_dims(-1).shape == (2, 3, 1)
    assert x[0].expand_as(x).shape == (2, 3)
    assert x.astype(ms.int32).dtype is ms.int32 and x.astype(np.float16).dtype is ms.float16
    assert x.astype(ms.float32, copy=False) is x
    assert x.ravel().shape == (6,) and x.repeat(2).shape == (12,) and x.repeat(2, 0).shape == (4, 3)
    assert x.new_zeros((4,)).dtype is ms.float32 and x.new_ones(2, dtype=ms.int8).tolist() == [1, 1]
    assert x.swapaxes(0, 1).shape == (3, 2) and x.squeeze().shape == (2, 3) and x.tile((2,)).shape == (2, 6)


def test_transpose_and_permute() -> None:
    x = _t((2, 3, 4))
    np.testing.assert_array_equal(ops.transpose(x, (2, 0, 1)).asnumpy(), x.asnumpy().transpose(2, 0, 1))
    np.testing.assert_array_equal(ops.permute(x, (-1, 0, 1)).asnumpy(), x.asnumpy().transpose(2, 0, 1))
    with pytest.raises(ValueError, match=r"transpose: input_perm \[0, 0, 1\] is not a permutation"):
        ops.transpose(x, (0, 0, 1))
    with pytest.raises(ValueError, match="one entry per axis"):
        ops.transpose(x, (1, 0))


def test_reshape_errors_name_op_shapes_and_user_line() -> None:
    x = _t((2, 3))
    with pytest.raises(ValueError) as info:
        ops.reshape(x, (4, 2))
    message = str(info.value)
    assert message.startswith("reshape: cannot reshape a tensor of shape [2, 3] (6 elements) into shape [4, 2]")
    assert f"{HERE}:" in message
    with pytest.raises(ValueError, match="at most one -1"):
        ops.reshape(x, (-1, -1))
    with pytest.raises(TypeError, match="shape must be an int, or a tuple/list of ints"):
        ops.reshape(x, "23")
    with pytest.raises(ValueError, match="input 0 must be a Tensor"):
        ops.reshape(np.zeros(6), (2, 3))


def test_squeeze_requires_size_one_axes_as_mindspore() -> None:
    x = _t((2, 1, 3, 1))
    assert ops.squeeze(x).shape == (2, 3) and ops.squeeze(x, 1).shape == (2, 3, 1)
    assert ops.squeeze(x, (1, -1)).shape == (2, 3)
    with pytest.raises(ValueError, match=r"cannot squeeze axis 0 of a tensor of shape \[2, 1, 3, 1\]"):
        ops.squeeze(x, 0)
    with pytest.raises(ValueError, match="axis 4 is out of range for a tensor of rank 4"):
        ops.squeeze(x, 4)


def test_expand_dims_unsqueeze_broadcast_to_tile() -> None:
    x = _t((2, 3))
    assert ops.expand_dims(x, 2).shape == (2, 3, 1) and ops.unsqueeze(x, -3).shape == (1, 2, 3)
    with pytest.raises(ValueError, match="expand_dims: axis 3 is out of range"):
        ops.expand_dims(x, 3)
    assert ops.broadcast_to(_t((3, 1)), (2, -1, 4)).shape == (2, 3, 4)
    with pytest.raises(ValueError, match=r"cannot broadcast shape \[2, 3\] to \[4, 3\]"):
        ops.broadcast_to(x, (4, 3))
    assert ops.tile(x, (2, 1, 2)).shape == (2, 2, 6)


def test_concat_stack_promote_and_check_shapes() -> None:
    a = ms.Tensor(np.ones((2, 2), np.int32))
    b = ms.Tensor(np.full((1, 2), 0.5, np.float32))
    joined = ops.concat([a, b])
    assert joined.dtype is ms.float32 and joined.shape == (3, 2)
    np.testing.assert_array_equal(joined.asnumpy(), [[1, 1], [1, 1], [0.5, 0.5]])
    assert ops.cat((a, a), axis=-1).shape == (2, 4)
    assert ops.stack([a, a, a], axis=1).shape == (2, 3, 2)
    with pytest.raises(ValueError, match=r"concat: tensor 1 has shape \[2, 3\], which differs"):
        ops.concat([a, _t((2, 3))])
    with pytest.raises(ValueError, match=r"concat: tensor 1 has rank 1 but tensor 0 has rank 2"):
        ops.concat([a, _t((3,))])
    with pytest.raises(ValueError, match="concat: tensors must hold at least one Tensor"):
        ops.concat([])
    with pytest.raises(TypeError, match="tuple or list of Tensors"):
        ops.concat(a)
    with pytest.raises(ValueError, match="stack: all tensors must have the same shape"):
        ops.stack([a, b])


def test_split_and_chunk_return_tuples() -> None:
    x = _t((7, 2))
    pieces = ops.split(x, 3)
    assert isinstance(pieces, tuple) and [p.shape[0] for p in pieces] == [3, 3, 1]
    assert [p.shape[1] for p in ops.split(x, [1, 1], axis=1)] == [1, 1]
    with pytest.raises(ValueError, match=r"sections \[3, 3\] must be non-negative and add up to the size 7"):
        ops.split(x, [3, 3])
    assert [c.shape[0] for c in ops.chunk(x, 3)] == [3, 3, 1]
    assert len(ops.chunk(_t((3,)), 5)) == 3  # fewer pieces than asked, as MindSpore/torch
    assert len(x.split(2)) == 4 and len(x.chunk(2, 1)) == 2


def test_pad_modes() -> None:
    x = _t((2, 3))
    a = x.asnumpy()
    np.testing.assert_array_equal(ops.pad(x, (1, 2), value=7).asnumpy(),
                                  np.pad(a, ((0, 0), (1, 2)), constant_values=7))
    np.testing.assert_array_equal(ops.pad(x, (2, 1, 1, 0), "reflect").asnumpy(),
                                  np.pad(a, ((1, 0), (2, 1)), mode="reflect"))
    np.testing.assert_array_equal(ops.pad(x, (3, 0), "replicate").asnumpy(), np.pad(a, ((0, 0), (3, 0)), mode="edge"))
    np.testing.assert_array_equal(ops.pad(x, (1, 1), "circular").asnumpy(), np.pad(a, ((0, 0), (1, 1)), mode="wrap"))
    np.testing.assert_array_equal(ops.pad(x, (-1, 1)).asnumpy(), np.pad(a[:, 1:], ((0, 0), (0, 1))))
    with pytest.raises(ValueError, match=r"reflect padding \(3, 0\) is not possible for dim 1 of size 3"):
        ops.pad(x, (3, 0), "reflect")
    with pytest.raises(ValueError, match="mode must be one of"):
        ops.pad(x, (1, 1), "mirror")
    with pytest.raises(ValueError, match="pairs"):
        ops.pad(x, (1,))


def test_other_movement_ops() -> None:
    x = _t((3, 4))
    a = x.asnumpy()
    np.testing.assert_array_equal(ops.roll(x, 1).asnumpy(), np.roll(a, 1))
    np.testing.assert_array_equal(ops.roll(x, (1, -1), (0, 1)).asnumpy(), np.roll(a, (1, -1), (0, 1)))
    np.testing.assert_array_equal(ops.flip(x, (0,)).asnumpy(), a[::-1])
    np.testing.assert_array_equal(ops.tril(x, 1).asnumpy(), np.tril(a, 1))
    np.testing.assert_array_equal(ops.triu(x, -1).asnumpy(), np.triu(a, -1))
    with pytest.raises(ValueError, match="tril: input must have at least 2 dims"):
        ops.tril(_t((3,)))
    np.testing.assert_array_equal(ops.repeat_interleave(x, 2, 0).asnumpy(), np.repeat(a, 2, 0))
    np.testing.assert_array_equal(ops.repeat_interleave(x, ms.Tensor([1, 0, 2, 1]), 1).asnumpy(),
                                  np.repeat(a, [1, 0, 2, 1], 1))
    np.testing.assert_array_equal(ops.narrow(x, 1, 1, 2).asnumpy(), a[:, 1:3])
    np.testing.assert_array_equal(ops.slice(x, (1, 0), (2, -1)).asnumpy(), a[1:3])
    with pytest.raises(ValueError, match="narrow: start 3 \\+ length 2 exceeds axis 1 of size 4"):
        ops.narrow(x, 1, 3, 2)
    with pytest.raises(ValueError, match="slice: begin 2 \\+ size 2 exceeds axis 0 of size 3"):
        ops.slice(x, (2, 0), (2, 1))
    assert ops.swapaxes(_t((2, 3, 4)), 0, -1).shape == (4, 3, 2)


def test_meshgrid_variadic_and_indexing() -> None:
    x, y = ms.Tensor([1, 2, 3]), ms.Tensor([4, 5])
    grid_x, grid_y = ops.meshgrid(x, y)
    assert grid_x.shape == grid_y.shape == (2, 3)
    ij = ops.meshgrid((x, y), indexing="ij")
    assert ij[0].shape == (3, 2)
    np.testing.assert_array_equal(ij[1].asnumpy(), np.meshgrid([1, 2, 3], [4, 5], indexing="ij")[1])
    with pytest.raises(ValueError, match="indexing must be 'xy' or 'ij'"):
        ops.meshgrid(x, y, indexing="yx")


def test_cast() -> None:
    x = ms.Tensor([1.7, -2.2, 0.0])
    assert ops.cast(x, ms.int32).tolist() == [1, -2, 0]
    assert ops.cast(x, ms.bool_).tolist() == [True, True, False]
    assert ops.cast(x, ms.bfloat16).dtype is ms.bfloat16
    with pytest.raises(TypeError, match="cast: dtype must be a mycelia dtype"):
        ops.cast(x, "int32")


def test_views_are_shared_but_never_written() -> None:
    """reshape/transpose return views (no copy); any later write goes to a fresh buffer."""
    x = _t((4, 6))
    for view in (x.reshape(6, 4), ops.transpose(x, (1, 0)), ops.expand_dims(x, 0), ops.flip(x, (1,))):
        assert np.shares_memory(view.asnumpy(), x.asnumpy())
    before = x.asnumpy().copy()
    y = x.reshape(24)
    y[0] = -5.0
    np.testing.assert_array_equal(x.asnumpy(), before)


def test_bad_input_never_modifies_inputs() -> None:
    x = _t((2, 3))
    before = x.asnumpy().copy()
    for call in (lambda: ops.reshape(x, (5,)), lambda: ops.pad(x, (4, 0), "reflect"),
                 lambda: ops.concat([x, _t((2, 2))]), lambda: ops.squeeze(x, 0)):
        with pytest.raises(ValueError):
            call()
    np.testing.assert_array_equal(x.asnumpy(), before)


# -- memory: an op on a large tensor peaks at input + output, no hidden copies --------------------------
_LARGE = (4096, 4096)  # 16M float32 = 64 MiB
_SLACK = 1 << 20


def _peak_extra(function: Callable[[], Any]) -> tuple[int, Any]:
    """Bytes allocated at the peak while ``function`` runs, beyond what was live before, and its result."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = function()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak - base, result


def test_large_tensor_ops_peak_at_input_plus_output() -> None:
    x = ms.Tensor(np.ones(_LARGE, np.float32))  # the input is already live: it is not counted
    size = x.nbytes
    extra, view = _peak_extra(lambda: x.reshape(-1))
    assert extra < _SLACK and view.shape == (size // 4,)
    extra, view = _peak_extra(lambda: ops.transpose(x, (1, 0)))
    assert extra < _SLACK and view.shape == _LARGE[::-1]
    extra, joined = _peak_extra(lambda: ops.concat([x, x]))
    assert joined.nbytes == 2 * size and extra < 2 * size + _SLACK
    del joined
    extra, part = _peak_extra(lambda: x[1:])
    assert extra < part.nbytes + _SLACK
    del part
    extra, half = _peak_extra(lambda: ops.cast(x, ms.float16))
    assert extra < half.nbytes + _SLACK
    del half
    extra, padded = _peak_extra(lambda: ops.pad(x, (1, 1)))
    assert extra < padded.nbytes + _SLACK
    del padded
    extra, _ = _peak_extra(lambda: x.__setitem__((0, 0), 5.0))
    assert extra < size + _SLACK and x[0, 0].item() == 5.0
