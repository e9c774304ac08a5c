"""MindSpore-specific semantics and error messages of the linear algebra ops (values are checked
by the conformance suite; this file checks shapes, dtypes, the ``@`` operator, precision and errors)."""

from __future__ import annotations

import numpy as np
import pytest

import mycelia as ms
from mycelia._errors import OpError

ops = ms.ops


def ones(*shape: int, dtype: ms.dtype.DType = ms.float32) -> ms.Tensor:
    return ms.Tensor(np.ones(shape, np.float32), dtype=dtype)


def arange(*shape: int, dtype: ms.dtype.DType = ms.float32) -> ms.Tensor:
    return ms.Tensor(np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape), dtype=dtype)


def test_matmul_follows_numpy_shapes() -> None:
    assert ops.matmul(ones(2, 3), ones(3, 4)).shape == (2, 4)
    assert ops.matmul(ones(3), ones(3, 2)).shape == (2,)
    assert ops.matmul(ones(2, 3), ones(3)).shape == (2,)
    assert ops.matmul(ones(3), ones(3)).shape == ()
    assert ops.matmul(ones(2, 1, 3, 4), ones(5, 4, 2)).shape == (2, 5, 3, 2)
    assert ops.matmul(ones(0, 3), ones(3, 2)).shape == (0, 2)
    assert ops.matmul(ones(2, 0), ones(0, 3)).tolist() == [[0.0] * 3] * 2


def test_mindspore_matmul_example() -> None:
    out = ops.matmul(arange(2, 3, 4), arange(4, 5))
    assert out.shape == (2, 3, 5) and out.asnumpy()[1, 2].tolist() == [670.0, 756.0, 842.0, 928.0, 1014.0]


def test_matmul_operator_and_methods() -> None:
    a, b = arange(2, 3), arange(3, 2)
    assert (a @ b).tolist() == [[10.0, 13.0], [28.0, 40.0]]
    assert (a @ b).tolist() == a.matmul(b).tolist()
    c = a
    c @= b
    assert c.shape == (2, 2) and a.shape == (2, 3)  # in-place form returns a new tensor


def test_matmul_dtypes() -> None:
    ints = ms.Tensor(np.array([[1, 2], [3, 4]], np.int32))
    assert (ints @ ints).dtype is ms.int32 and (ints @ ints).tolist() == [[7, 10], [15, 22]]
    assert (ones(2, 2, dtype=ms.float16) @ ones(2, 2)).dtype is ms.float32  # promoted first
    for dtype in (ms.float16, ms.bfloat16):
        assert (ones(2, 2, dtype=dtype) @ ones(2, 2, dtype=dtype)).dtype is dtype
    with pytest.raises(OpError, match="matmul on backend 'cpu': dtype Bool is not supported"):
        ops.matmul(ms.Tensor(np.ones((2, 2), bool)), ms.Tensor(np.ones((2, 2), bool)))


def test_half_precision_matmul_accumulates_in_float32() -> None:
    # float16 accumulation stalls at 256: the spacing there is 0.25 and each product is 0.125
    a = ms.Tensor(np.full((1, 8192), 0.5, np.float16))
    b = ms.Tensor(np.full((8192, 1), 0.25, np.float16))
    assert (a @ b).item() == 1024.0
    bf = ms.Tensor(np.full((1, 4096), 1.0, np.float32), dtype=ms.bfloat16)
    assert (bf @ ms.Tensor(np.full((4096, 1), 1.0, np.float32), dtype=ms.bfloat16)).item() == 4096.0
    assert ops.einsum("ij,jk->ik", a, b).item() == 1024.0
    assert ops.dot(a, b).item() == 1024.0


def test_matmul_errors_name_both_shapes() -> None:
    with pytest.raises(OpError, match=r"matmul: inner dimensions do not match: input has shape \[2, 3\] and other "
                                      r"has shape \[4, 5\] \(3 != 4\).*test_ops_linalg\.py:\d+"):
        ops.matmul(ones(2, 3), ones(4, 5))
    with pytest.raises(OpError, match=r"inner dimensions do not match: input has shape \[2, 3\] and other has shape "
                                      r"\[2\]"):
        ones(2, 3) @ ones(2)
    with pytest.raises(OpError, match=r"batch dimensions do not broadcast: input has shape \[2, 3, 4\] and other "
                                      r"has shape \[3, 4, 5\]"):
        ops.matmul(ones(2, 3, 4), ones(3, 4, 5))
    with pytest.raises(OpError, match=r"does not take 0-d \(scalar\) operands"):
        ops.matmul(ones(2), ms.Tensor(np.float32(2)))


def test_bmm() -> None:
    out = ops.bmm(arange(2, 4, 1, 3), arange(2, 4, 3, 3))  # MindSpore's example
    assert out.shape == (2, 4, 1, 3) and out.asnumpy()[0, 0, 0].tolist() == [15.0, 18.0, 21.0]
    assert ops.bmm(ones(3, 2, 4), ones(4, 2)).shape == (3, 2, 2)
    assert arange(2, 1, 3).bmm(ones(2, 3, 4)).shape == (2, 1, 4)
    with pytest.raises(OpError, match=r"bmm: needs input_x of rank >= 3 and mat2 of rank >= 2, got shapes \[2, 3\]"):
        ops.bmm(ones(2, 3), ones(3, 2))
    with pytest.raises(OpError, match=r"bmm: inner dimensions do not match: input_x has shape \[2, 3, 4\] and mat2"):
        ops.bmm(ones(2, 3, 4), ones(2, 3, 4))


def test_dot_is_numpy_dot() -> None:
    assert ops.dot(ones(2, 3), ones(1, 3, 2)).shape == (2, 1, 2)  # MindSpore's examples
    assert ops.dot(ones(1, 2, 3), ones(2, 3, 2)).shape == (1, 2, 2, 2)
    assert ops.dot(ones(3, 2, 3), ones(2, 1, 3, 2)).shape == (3, 2, 2, 1, 2)
    assert ops.dot(ones(2, 3), ones(1, 3, 2)).asnumpy().ravel().tolist() == [3.0] * 4
    assert ops.dot(arange(3), arange(3)).item() == 5.0 and arange(2, 3).dot(arange(3)).tolist() == [5.0, 14.0]
    with pytest.raises(OpError, match=r"dot: inner dimensions do not match: input has shape \[2, 3\] and other has "
                                      r"shape \[2, 2\]"):
        ops.dot(ones(2, 3), ones(2, 2))


def test_outer() -> None:
    a = ms.Tensor(np.array([7, 8, 9], np.int32))
    b = ms.Tensor(np.array([7, 10, 11], np.int32))
    assert ops.outer(a, b).tolist() == [[49, 70, 77], [56, 80, 88], [63, 90, 99]]  # MindSpore's example
    assert a.outer(b).dtype is ms.int32
    with pytest.raises(OpError, match=r"outer: needs two 1-D tensors, got shapes \[2, 2\] and \[2\]"):
        ops.outer(ones(2, 2), ones(2))


def test_tensor_dot() -> None:
    out = ops.tensor_dot(ones(1, 2, 3), ones(3, 1, 2), ((0, 1), (1, 2)))  # MindSpore's example
    assert out.shape == (3, 3) and out.asnumpy().ravel().tolist() == [2.0] * 9
    assert ops.tensor_dot(ones(2, 3), ones(3, 4), 1).shape == (2, 4)
    assert ops.tensor_dot(ones(2, 3), ones(4), 0).shape == (2, 3, 4)
    assert ops.tensor_dot(ones(2, 3), ones(2, 5), (0, 0)).shape == (3, 5)
    assert ops.tensor_dot(ones(3, 4, 2), ones(2, 4), [[-1, -2], [0, 1]]).shape == (3,)
    with pytest.raises(OpError, match=r"tensor_dot: contracted dims differ: x1 has shape \[2, 3\] \(axis 1: 3\) and "
                                      r"x2 has shape \[4, 5\] \(axis 0: 4\)"):
        ops.tensor_dot(ones(2, 3), ones(4, 5), 1)
    with pytest.raises(OpError, match="axes=3 is out of range"):
        ops.tensor_dot(ones(2, 3), ones(3, 4), 3)
    with pytest.raises(OpError, match="name 2 axes of x1 but 1 of x2"):
        ops.tensor_dot(ones(2, 3), ones(3, 4), ((0, 1), (0,)))
    with pytest.raises(OpError, match="axes must be an int or a pair"):
        ops.tensor_dot(ones(2, 3), ones(3, 4), "ij")


def test_einsum() -> None:
    x, y = arange(2, 3), arange(3, 2)
    assert ops.einsum("ij,jk->ik", x, y).tolist() == (x @ y).tolist()
    assert ops.einsum("ij->ji", x).tolist() == x.asnumpy().T.tolist()
    assert ops.einsum("i->", arange(4)).item() == 6.0
    assert ops.einsum("ii->i", arange(3, 3)).tolist() == [0.0, 4.0, 8.0]
    assert ops.einsum("...ij,...jk->...ik", ones(2, 1, 2, 3), ones(4, 3, 2)).shape == (2, 4, 2, 2)
    assert ops.einsum("ij,jk", x, y).shape == (2, 2)  # implicit output
    assert ops.einsum("i j , j k -> i k", x, y).shape == (2, 2)  # spaces are ignored
    assert ops.einsum("ij,jk->ik", [x, y]).shape == (2, 2)  # a list of operands
    assert ops.einsum(x, [0, 1], y, [1, 2], [0, 2]).tolist() == (x @ y).tolist()  # sublist form
    assert ops.einsum(x, [0, 1]).tolist() == x.tolist()
    transposed = ops.einsum("ij->ji", x)
    assert not np.shares_memory(transposed.asnumpy(), x.asnumpy())


@pytest.mark.parametrize(("equation", "shapes", "message"), [
    ("ij,jk->ik", [(2, 3), (4, 5)], r"subscript 'j' stands for dims of size 3 and 4 \(operand 1, shape \[4, 5\]\)"),
    ("ij,jk->ik", [(2, 3)], "names 2 operands, got 1 tensors"),
    ("ijk->i", [(2, 3)], r"operand 0 has shape \[2, 3\] \(2 dims\) but its subscripts 'ijk' name 3"),
    ("ij->ix", [(2, 3)], "output subscript 'x' does not appear"),
    ("ij->ii", [(2, 3)], "output subscript 'i' appears twice"),
    ("i1->i", [(2, 3)], "subscript '1' of operand 0 is not a letter"),
    ("...i->i", [(2, 3)], r"'\.\.\.' stands for dims \[2\] .* but the output has no '\.\.\.'"),
    ("i->i->i", [(2,)], "more than one '->'"),
    ("i.j", [(2, 3)], "stray '.'"),
])
def test_einsum_errors(equation: str, shapes: list[tuple[int, ...]], message: str) -> None:
    with pytest.raises(OpError, match="einsum: .*" + message):
        ops.einsum(equation, *[ones(*shape) for shape in shapes])


def test_einsum_sublist_errors() -> None:
    with pytest.raises(OpError, match=r"sublist entries must be ints in \[0, 52\) or \.\.\., got 60"):
        ops.einsum(ones(2), [60])
