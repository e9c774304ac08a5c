"""Gradients of the shape, indexing and creation ops: semantics the finite-difference suite can't show
(in-place assignment on the tape, repeated indices, unused outputs, dtypes) and higher-order gradients."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import mycelia as ms
from mycelia import ops
from mycelia._errors import OpError


def _t(values: Any) -> ms.Tensor:
    return ms.Tensor(np.asarray(values, dtype=np.float64))


# -- Tensor.__setitem__ / setitem ---------------------------------------------------------------------
def test_assignment_into_a_tracked_tensor_is_a_node_on_that_tensor() -> None:
    def f(x: Any) -> Any:
        y = x * 1
        y[0] = 5.0
        return ops.sum(y * y)

    x = _t([1.0, 2.0, 3.0])
    np.testing.assert_allclose(ms.grad(f)(x).asnumpy(), [0.0, 4.0, 6.0])
    value, _ = ms.value_and_grad(f)(x)
    assert value.item() == pytest.approx(25.0 + 4.0 + 9.0)
    assert x.tolist() == [1.0, 2.0, 3.0]  # the input itself is untouched


def test_augmented_assignment_reads_the_old_value() -> None:
    def f(x: Any, v: Any) -> Any:
        y = x * 1
        y[0] += v  # getitem, add, setitem: the getitem reads y before the assignment
        y[1:] = y[:-1] * 2
        y[...] = y
        return ops.sum(y * _t([1.0, 2.0, 3.0]))

    x, v = _t([1.0, 2.0, 3.0]), _t(4.0)
    assert f(x, v).item() == pytest.approx(5.0 + 2 * 10.0 + 3 * 4.0)
    gx, gv = ms.grad(f, grad_position=(0, 1))(x, v)
    np.testing.assert_allclose(gx.asnumpy(), [1.0 + 4.0, 6.0, 0.0])
    assert gv.item() == pytest.approx(5.0)
    np.testing.assert_allclose(ms.grad(ms.grad(lambda a: f(a * a, v)))(x).asnumpy(), [10.0, 12.0, 0.0])


def test_assigned_values_receive_the_gradient_of_the_positions_they_fill() -> None:
    def f(w: Any) -> Any:
        buffer = ops.zeros((2, 3), ms.float64)
        buffer[:, 1:] = w * 2  # (2,) broadcast over the rows
        buffer[0, 0] = ops.sum(w)
        return ops.sum(buffer * _t([[1.0, 10.0, 100.0], [2.0, 20.0, 200.0]]))

    w = _t([1.0, 3.0])
    # d/dw of 2 * (w0 * (10 + 20) + w1 * (100 + 200)) + (w0 + w1) * 1
    np.testing.assert_allclose(ms.grad(f)(w).asnumpy(), [61.0, 601.0])


def test_repeated_integer_indices_in_assignment_keep_the_last_write() -> None:
    def f(v: Any, x: Any) -> Any:
        y = x * 1
        y[ms.Tensor(np.array([0, 2, 0]))] = v
        return ops.sum(y * _t([1.0, 2.0, 3.0, 4.0]))

    v, x = _t([7.0, 8.0, 9.0]), _t([1.0, 1.0, 1.0, 1.0])
    gv, gx = ms.grad(f, grad_position=(0, 1))(v, x)
    np.testing.assert_allclose(gv.asnumpy(), [0.0, 3.0, 1.0])  # v[0] was overwritten by v[2] at position 0
    np.testing.assert_allclose(gx.asnumpy(), [0.0, 2.0, 0.0, 4.0])
    assert f(v, x).item() == pytest.approx(9.0 + 2.0 + 8.0 * 3 + 4.0)


def test_assignment_with_a_value_that_has_leading_ones() -> None:
    def f(v: Any) -> Any:
        y = ops.zeros((2, 3), ms.float64)
        y[1] = v  # v is (1, 1, 3): numpy drops the leading 1s
        return ops.sum(y * _t([[5.0, 5.0, 5.0], [1.0, 2.0, 3.0]]))

    np.testing.assert_allclose(ms.grad(f)(_t([[[1.0, 1.0, 1.0]]])).asnumpy(), [[[1.0, 2.0, 3.0]]])


def test_assigning_into_the_tensor_being_differentiated_is_an_error() -> None:
    def f(x: Any) -> Any:
        x[0] = 1.0
        return ops.sum(x)

    with pytest.raises(OpError, match="setitem: cannot update in place"):
        ms.grad(f)(_t([1.0, 2.0]))


def test_a_buffer_assigned_in_one_gradient_call_can_be_assigned_in_the_next() -> None:
    buffer = ops.zeros((3,), ms.float64)

    def f(w: Any) -> Any:
        buffer[0] = w * 2
        return ops.sum(buffer * _t([3.0, 1.0, 1.0]))

    assert ms.grad(f)(_t(1.5)).item() == pytest.approx(6.0)
    assert ms.grad(f)(_t(2.5)).item() == pytest.approx(6.0)
    assert buffer.tolist() == [5.0, 0.0, 0.0]


def test_assignment_outside_gradients_is_unchanged() -> None:
    x = _t([1.0, 2.0])
    x[1] = 7.0
    assert x.tolist() == [1.0, 7.0] and x._autograd is None
    with ms.no_grad():
        y = _t([1.0, 2.0])
        y[0] = 3.0
    assert y.tolist() == [3.0, 2.0]


def test_scatter_add_into_a_parameter_updates_it_without_tape_state() -> None:
    table = ms.Parameter(_t(np.zeros((3, 2))), name="table")
    weights = _t([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])

    def f(u: Any) -> Any:
        out = ops.scatter_add(table, ms.Tensor(np.array([2, 0, 2])), u)
        assert out is table
        return ops.sum(table * weights * u[0, 0])

    (g_table,) = ms.grad(f, grad_position=None, weights=[table])(_t(np.ones((3, 2))))
    np.testing.assert_allclose(g_table.asnumpy(), weights.asnumpy())  # scatter_add passes d/d input_x through
    assert table._autograd is None
    np.testing.assert_allclose(table.asnumpy(), [[1.0, 1.0], [0.0, 0.0], [2.0, 2.0]])
    g = ms.grad(lambda u: ops.sum(ops.scatter_add(_t(np.zeros((3, 2))), ms.Tensor(np.array([2, 0, 2])), u)
                                  * weights))(_t(np.ones((3, 2))))
    np.testing.assert_allclose(g.asnumpy(), [[5.0, 6.0], [1.0, 2.0], [5.0, 6.0]])


# -- getitem and the gather family ----------------------------------------------------------------------
def test_getitem_with_repeated_indices_accumulates() -> None:
    x = _t([1.0, 2.0, 3.0, 4.0])
    g = ms.grad(lambda a: ops.sum(a[ms.Tensor(np.array([0, 0, 3, -1]))] * _t([1.0, 2.0, 3.0, 4.0])))(x)
    np.testing.assert_allclose(g.asnumpy(), [3.0, 0.0, 0.0, 7.0])
    mask = ms.Tensor(np.array([[True, False], [False, True]]))
    g2 = ms.grad(lambda a: ops.sum(a[mask] * 3))(_t([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_allclose(g2.asnumpy(), [[3.0, 0.0], [0.0, 3.0]])
    g3 = ms.grad(lambda a: ops.sum(a[1:, ::-1] * _t([[1.0, 2.0]])))(_t([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_allclose(g3.asnumpy(), [[0.0, 0.0], [2.0, 1.0]])


def test_gather_index_select_and_gather_elements_accumulate_repeats() -> None:
    x = _t([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    index = ms.Tensor(np.array([2, 2, 0]))
    expected = [[1.0, 1.0], [0.0, 0.0], [2.0, 2.0]]
    np.testing.assert_allclose(ms.grad(lambda a: ops.sum(ops.gather(a, index, 0)))(x).asnumpy(), expected)
    np.testing.assert_allclose(ms.grad(lambda a: ops.sum(ops.index_select(a, 0, index)))(x).asnumpy(), expected)
    positions = ms.Tensor(np.array([[1, 1], [0, 0]]))
    g = ms.grad(lambda a: ops.sum(ops.gather_elements(a, 1, positions)))(x)
    np.testing.assert_allclose(g.asnumpy(), [[0.0, 2.0], [2.0, 0.0], [0.0, 0.0]])


def test_scatter_masks_the_input_and_gathers_for_src() -> None:
    x, src = _t([[1.0, 2.0, 3.0]]), _t([[10.0, 20.0, 30.0]])
    index = ms.Tensor(np.array([[2, 0]]))
    weights = _t([[1.0, 2.0, 3.0]])
    gx, gsrc = ms.grad(lambda a, s: ops.sum(ops.scatter(a, 1, index, s) * weights), grad_position=(0, 1))(x, src)
    np.testing.assert_allclose(gx.asnumpy(), [[0.0, 2.0, 0.0]])
    np.testing.assert_allclose(gsrc.asnumpy(), [[3.0, 1.0, 0.0]])  # src[0, 2] is beyond the index: unused


def test_masked_fill_and_masked_select() -> None:
    mask = ms.Tensor(np.array([True, False, True]))
    gx, gv = ms.grad(lambda a, v: ops.sum(ops.masked_fill(a, mask, v) * _t([1.0, 2.0, 3.0])),
                     grad_position=(0, 1))(_t([1.0, 1.0, 1.0]), _t(5.0))
    np.testing.assert_allclose(gx.asnumpy(), [0.0, 2.0, 0.0])
    assert gv.shape == () and gv.item() == pytest.approx(4.0)
    rows = ms.Tensor(np.array([[True], [False]]))  # broadcast against (2, 3)
    g = ms.grad(lambda a: ops.sum(ops.masked_select(a, rows) * 2))(_t([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(g.asnumpy(), [2.0, 2.0, 2.0])


# -- multi-output and reordering ops ---------------------------------------------------------------------
def test_unused_pieces_of_split_and_chunk_get_zeros() -> None:
    x = _t([1.0, 2.0, 3.0, 4.0, 5.0])
    np.testing.assert_allclose(ms.grad(lambda a: ops.sum(ops.split(a, 2)[1] * 3))(x).asnumpy(),
                               [0.0, 0.0, 3.0, 3.0, 0.0])

    def both(a: Any) -> Any:
        first, _, last = ops.chunk(a, 3)
        return ops.sum(first * 2) + ops.sum(last * 5)

    np.testing.assert_allclose(ms.grad(both)(x).asnumpy(), [2.0, 2.0, 0.0, 0.0, 5.0])


def test_sort_and_topk_values_route_the_gradient_through_the_order() -> None:
    x = _t([3.0, 1.0, 2.0])
    g = ms.grad(lambda a: ops.sum(ops.sort(a)[0] * _t([1.0, 10.0, 100.0])))(x)
    np.testing.assert_allclose(g.asnumpy(), [100.0, 1.0, 10.0])
    g = ms.grad(lambda a: ops.sum(ops.sort(a, descending=True)[0] * _t([1.0, 10.0, 100.0])))(x)
    np.testing.assert_allclose(g.asnumpy(), [1.0, 100.0, 10.0])
    assert ops.topk(x, 2)[1].tolist() == [0, 2]
    g = ms.grad(lambda a: ops.sum(ops.topk(a, 2)[0] * _t([1.0, 10.0])))(x)
    np.testing.assert_allclose(g.asnumpy(), [1.0, 0.0, 10.0])


def test_pad_modes_send_copied_positions_back() -> None:
    x = _t([1.0, 2.0, 3.0])
    reflect = ms.grad(lambda a: ops.sum(ops.pad(a, (2, 1), mode="reflect")))(x)
    np.testing.assert_allclose(reflect.asnumpy(), [1.0, 3.0, 2.0])  # [3 2 | 1 2 3 | 2]
    replicate = ms.grad(lambda a: ops.sum(ops.pad(a, (2, 1), mode="replicate")))(x)
    np.testing.assert_allclose(replicate.asnumpy(), [3.0, 1.0, 2.0])
    circular = ms.grad(lambda a: ops.sum(ops.pad(a, (1, 2), mode="circular")))(x)
    np.testing.assert_allclose(circular.asnumpy(), [2.0, 2.0, 2.0])
    crop = ms.grad(lambda a: ops.sum(ops.pad(a, (-1, 1), value=4.0)))(x)
    np.testing.assert_allclose(crop.asnumpy(), [0.0, 1.0, 1.0])


def test_tile_repeat_interleave_and_meshgrid_sum_their_copies() -> None:
    x = _t([1.0, 2.0])
    np.testing.assert_allclose(ms.grad(lambda a: ops.sum(ops.tile(a, (3, 2))))(x).asnumpy(), [6.0, 6.0])
    g = ms.grad(lambda a: ops.sum(ops.repeat_interleave(a, (3, 1), 0) * _t([1.0, 2.0, 3.0, 4.0])))(x)
    np.testing.assert_allclose(g.asnumpy(), [6.0, 4.0])
    gx, gy = ms.grad(lambda a, b: ops.sum(ops.meshgrid(a, b)[0]) + 2 * ops.sum(ops.meshgrid(a, b)[1]),
                     grad_position=(0, 1))(x, _t([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(gx.asnumpy(), [3.0, 3.0])
    np.testing.assert_allclose(gy.asnumpy(), [4.0, 4.0, 4.0])


# -- dtypes and non-differentiable ops ---------------------------------------------------------------------
def test_cast_gradient_comes_back_in_the_input_dtype() -> None:
    x = ms.Tensor(np.array([1.5, 2.5], dtype=np.float32))
    g = ms.grad(lambda a: ops.sum(ops.cast(a, ms.float64) * _t([2.0, 3.0])))(x)
    assert g.dtype == ms.float32 and g.tolist() == [2.0, 3.0]
    g_int = ms.grad(lambda a: ops.sum(ops.cast(ops.cast(a, ms.int32), ms.float64)) + ops.sum(a))(x)
    assert g_int.tolist() == [1.0, 1.0]  # the path through int32 carries no gradient


def test_non_differentiable_ops_pass_no_gradient_instead_of_failing() -> None:
    for name in ("zeros_like", "ones_like", "full_like", "one_hot", "argsort", "nonzero", "unique", "zeros",
                 "ones", "full", "arange", "linspace", "eye"):
        assert not ops.get_op(name).differentiable, name
    x = _t([3.0, 1.0, 3.0])
    g = ms.grad(lambda a: ops.sum(a * ops.ones_like(a) + ops.full_like(a, 2.0)) + ops.sum(ops.unique(a)[0]))(x)
    np.testing.assert_allclose(g.asnumpy(), [1.0, 1.0, 1.0])


# -- higher order ---------------------------------------------------------------------------------------------
def test_second_derivatives_through_indexing_and_movement() -> None:
    x = _t([1.0, 2.0, 3.0])
    index = ms.Tensor(np.array([0, 0, 2]))

    def gathered(a: Any) -> Any:  # x0^3 counted twice plus x2^3
        return ops.sum(a[index] ** 3)

    np.testing.assert_allclose(ms.grad(gathered)(x).asnumpy(), [6.0, 0.0, 27.0])
    np.testing.assert_allclose(ms.grad(ms.grad(gathered))(x).asnumpy(), [12.0, 0.0, 18.0])

    def moved(a: Any) -> Any:
        grid = ops.reshape(ops.tile(a, (2,)), (2, 3))
        return ops.sum(ops.pad(ops.transpose(grid, (1, 0)), (1, 1), mode="reflect") ** 2)

    first = ms.grad(moved)(x)
    second = ms.grad(ms.grad(moved))(x)
    # sum of squares over every copy: d/dx_i = 2 * copies_i * x_i and d2/dx_i2 = 2 * copies_i
    picks = np.pad(np.tile(np.arange(3), 2).reshape(2, 3).T, ((0, 0), (1, 1)), mode="reflect")
    copies = np.bincount(picks.reshape(-1), minlength=3).astype(np.float64)
    assert copies.tolist() == [4.0, 4.0, 4.0]
    np.testing.assert_allclose(first.asnumpy(), 2 * copies * x.asnumpy())
    np.testing.assert_allclose(second.asnumpy(), 2 * copies)


def test_second_derivative_through_setitem_and_sort() -> None:
    def f(a: Any) -> Any:
        y = a * a
        y[1] = 0.0
        return ops.sum(ops.sort(y, descending=True)[0] * _t([1.0, 2.0, 3.0]))

    x = _t([1.0, 5.0, 2.0])  # y = [1, 0, 4]: sorted descending [4, 1, 0] from positions 2, 0, 1
    np.testing.assert_allclose(ms.grad(f)(x).asnumpy(), [2.0 * 2 * 1.0, 0.0, 1.0 * 2 * 2.0])
    np.testing.assert_allclose(ms.grad(ms.grad(f))(x).asnumpy(), [4.0, 0.0, 2.0])
