from __future__ import annotations

import numpy as np
import pytest

import mycelia as ms


def test_construction_like_mindspore() -> None:
    assert ms.Tensor(np.ones((2, 3), np.float32)).dtype is ms.float32
    assert ms.Tensor([1, 2, 3]).dtype is ms.int64
    assert ms.Tensor([1.0, 2.0]).dtype is ms.float32  # Python floats default to float32
    assert ms.Tensor(3.0).shape == () and ms.Tensor(True).dtype is ms.bool_
    assert ms.Tensor([1, 2], dtype=ms.float16).dtype is ms.float16
    zeros = ms.Tensor(shape=(2, 3), dtype=ms.int32, init="zeros")
    assert zeros.shape == (2, 3) and zeros.dtype is ms.int32 and not zeros.asnumpy().any()
    ones = ms.Tensor(shape=[4], dtype=ms.float32, init=lambda shape, dtype: np.ones(shape))
    assert ones.asnumpy().tolist() == [1.0] * 4
    assert ms.Tensor(np.arange(3, dtype=np.int8), dtype=ms.float64).dtype is ms.float64


def test_construction_errors_are_clear() -> None:
    with pytest.raises(TypeError, match="needs input_data"):
        ms.Tensor()
    with pytest.raises(TypeError, match="mycelia dtype"):
        ms.Tensor([1], dtype=np.float32)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"complex128.*not supported"):
        ms.Tensor(np.ones(2, np.complex128))
    with pytest.raises(ValueError, match="init string"):
        ms.Tensor(shape=(2,), dtype=ms.float32, init="bogus")


def test_constructor_copies_its_input() -> None:
    source = np.zeros(3, np.float32)
    tensor = ms.Tensor(source)
    source[0] = 5
    assert tensor.asnumpy()[0] == 0


def test_metadata() -> None:
    x = ms.Tensor(np.zeros((2, 3, 4), np.float16))
    assert (x.shape, x.ndim, x.size, x.itemsize, x.nbytes) == ((2, 3, 4), 3, 24, 2, 48)
    assert len(x) == 2 and x.dim() == 3 and x.numel() == 24 and x.device == "cpu:0"
    with pytest.raises(TypeError, match="0-d"):
        len(ms.Tensor(1.0))


def test_repr_and_str_follow_mindspore() -> None:
    x = ms.Tensor(np.array([[1, 2], [3, 4]], np.int32))
    assert repr(x) == "Tensor(shape=[2, 2], dtype=Int32, value=\n[[1, 2],\n [3, 4]])"
    assert repr(ms.Tensor(np.array([1.5, 2], np.float32))) == "Tensor(shape=[2], dtype=Float32, value= [1.5, 2. ])"
    assert str(x) == str(x.asnumpy())
    assert "BFloat16" in repr(ms.Tensor(np.ones(2, np.float32), dtype=ms.bfloat16))


def test_scalar_conversions() -> None:
    assert ms.Tensor(2.5).item() == 2.5 and float(ms.Tensor([3.0])) == 3.0 and int(ms.Tensor(7)) == 7
    assert ms.Tensor([[1, 2]]).tolist() == [[1, 2]]
    assert bool(ms.Tensor(True)) is True
    with pytest.raises(ValueError, match="ambiguous"):
        bool(ms.Tensor([1, 2]))
    with pytest.raises(ValueError, match=r"one element.*\[2\]"):
        ms.Tensor([1, 2]).item()
    assert [10, 20, 30][ms.Tensor(1)] == 20
    with pytest.raises(TypeError, match="integer tensors"):
        [1, 2][ms.Tensor(1.0)]


def test_numpy_interop_and_dlpack_share_memory() -> None:
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    shared = ms.from_numpy(array)
    assert np.shares_memory(shared.asnumpy(), array)
    assert np.asarray(shared).dtype == np.float32 and np.asarray(shared, dtype=np.float64).dtype == np.float64
    via_dlpack = ms.from_dlpack(array)
    assert np.shares_memory(via_dlpack.asnumpy(), array)
    back = np.from_dlpack(ms.Tensor(array))
    assert back.tolist() == array.tolist()
    with pytest.raises(TypeError, match="__dlpack__"):
        ms.from_dlpack([1, 2])


def test_copy_is_independent() -> None:
    x = ms.Tensor([1.0, 2.0])
    y = x.copy()
    assert not np.shares_memory(x.asnumpy(), y.asnumpy()) and y.tolist() == [1.0, 2.0]


def test_parameter_has_name_and_requires_grad() -> None:
    weight = ms.Parameter(ms.Tensor(np.ones((2, 2), np.float32)), name="fc.weight")
    assert weight.name == "fc.weight" and weight.requires_grad and isinstance(weight, ms.Tensor)
    assert "fc.weight" in repr(weight)
    frozen = ms.Parameter(np.zeros(3, np.float32), name="b", requires_grad=False)
    assert not frozen.requires_grad and (weight + weight).asnumpy().sum() == 8


def test_mindspore_common_spellings() -> None:
    from mycelia.common import dtype as mstype

    assert mstype.float32 is ms.float32 and ms.common.Tensor is ms.Tensor


def test_copy_deepcopy_and_pickle_share_the_backend() -> None:
    import copy
    import pickle

    x = ms.Tensor([1.0, 2.0])
    for clone in (copy.copy(x), copy.deepcopy(x), pickle.loads(pickle.dumps(x))):
        assert clone._backend is x._backend and clone.tolist() == [1.0, 2.0]
        assert not np.shares_memory(clone.asnumpy(), x.asnumpy())
        assert (clone + x).tolist() == [2.0, 4.0]
    weight = ms.Parameter(ms.Tensor([1.0]), name="w", requires_grad=False)
    twin = copy.deepcopy(weight)
    assert isinstance(twin, ms.Parameter) and twin.name == "w" and not twin.requires_grad
    restored = pickle.loads(pickle.dumps(weight))
    assert isinstance(restored, ms.Parameter) and restored.name == "w" and restored.tolist() == [1.0]
