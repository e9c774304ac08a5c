"""Random ops: reproducibility, the counter-based stream, distributions, MindSpore signatures, errors."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
import pytest

import mycelia as ms
from mycelia import _random_state
from mycelia._errors import OpError
from mycelia._random_state import get_seed, next_seed, reserve, set_seed
from mycelia.ops import _random_spec

ops = ms.ops
N = 100_000


@pytest.fixture(autouse=True)
def keep_random_state() -> Iterator[None]:
    saved = _random_state.get_state()
    yield
    _random_state.set_state(saved)


def values(tensor: ms.Tensor) -> np.ndarray:
    return np.asarray(tensor.asnumpy())


# -- reproducibility and the stream ------------------------------------------------------------------
def test_set_seed_replays_and_consecutive_calls_differ() -> None:
    set_seed(1)
    first, second = values(ops.rand(3, 4)), values(ops.rand(3, 4))
    set_seed(1)
    again = values(ops.rand(3, 4))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, second)
    set_seed(2)
    assert not np.array_equal(first, values(ops.rand(3, 4)))


def test_get_seed_returns_what_set_seed_set() -> None:
    set_seed(12345)
    assert get_seed() == 12345


def test_every_call_takes_one_offset_whatever_its_op_or_size() -> None:
    set_seed(2)
    ops.rand(1000)
    ops.randint(0, 5, (3,))
    expected = values(ops.randn(6))
    set_seed(2)
    ops.multinomial(ms.Tensor([1.0, 2.0]), 4)
    ops.bernoulli(ms.Tensor(np.zeros(50, np.float32)))
    np.testing.assert_array_equal(values(ops.randn(6)), expected)


def test_explicit_seed_is_fixed_and_leaves_the_global_stream_alone() -> None:
    a, b = values(ops.rand(5, seed=3)), values(ops.rand(5, seed=3))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, values(ops.rand(5, seed=4)))
    set_seed(3)
    plain = values(ops.rand(5))
    assert not np.array_equal(plain, a)  # explicit seed 3 is not the global stream of seed 3
    set_seed(3)
    ops.randn(7, seed=11)
    np.testing.assert_array_equal(values(ops.rand(5)), plain)


def test_graph_recorded_pairs_draw_what_eager_code_draws() -> None:
    """A compiled graph reserves its offsets at once and records (seed, offset) attributes: the
    same numbers as the eager calls, because each kernel is a pure function of its attributes."""
    set_seed(4)
    eager = [values(ops.rand(3)), values(ops.randn(2, dtype=ms.float64))]
    set_seed(4)
    seed, first = reserve(2)
    rand_kernel = ms.ops.get_op("rand")
    randn_kernel = ms.ops.get_op("randn")
    replay = [rand_kernel.reference(shape=(3,), dtype=ms.float32, seed=seed, offset=first),
              randn_kernel.reference(shape=(2,), dtype=ms.float64, seed=seed, offset=first + 1)]
    np.testing.assert_array_equal(eager[0], replay[0])
    np.testing.assert_allclose(eager[1], replay[1], rtol=1e-14)
    assert next_seed() == (seed, first + 2)


def test_kernel_words_follow_the_specified_philox_stream() -> None:
    from mycelia_backend_cpu._kernels.random import philox_words

    for seed, offset in ((0, 0), (5 | (1 << 64), 0), ((1 << 128) - 1, (1 << 64) - 1), (987654321, 12)):
        got = [int(w) for w in philox_words(11, seed, offset)]
        assert got == _random_spec.philox_words(11, seed, offset)


def test_unset_global_stream_is_deterministic_seed_zero() -> None:
    _random_state.set_state((None, 0))
    assert get_seed() is None
    unset = values(ops.rand(4))
    set_seed(0)
    np.testing.assert_array_equal(values(ops.rand(4)), unset)


def test_concurrent_calls_never_share_an_offset() -> None:
    taken: list[int] = []

    def work() -> None:
        pairs = [next_seed()[1] for _ in range(500)]
        taken.extend(pairs)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(taken)) == 4000


def test_set_seed_also_seeds_numpy_random() -> None:
    set_seed(21)
    a = np.random.rand(3)
    set_seed(21)
    np.testing.assert_array_equal(np.random.rand(3), a)


# -- distributions -----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [ms.float16, ms.bfloat16, ms.float32, ms.float64])
def test_rand_is_uniform_in_unit_interval(dtype: ms.dtype.DType) -> None:
    x = values(ops.rand(N, dtype=dtype, seed=1)).astype(np.float64)
    assert ops.rand(2, dtype=dtype).dtype == dtype
    assert x.min() >= 0.0 and x.max() < 1.0
    assert abs(x.mean() - 0.5) < 0.005 and abs(x.var() - 1 / 12) < 0.003
    assert len(np.unique(x)) > 200  # not stuck on a few values


def test_randn_moments_and_shape_of_the_distribution() -> None:
    z = values(ops.randn(N, dtype=ms.float64, seed=2))
    assert np.all(np.isfinite(z))
    assert abs(z.mean()) < 0.02 and abs(z.std() - 1.0) < 0.02
    assert abs(np.mean(np.abs(z) < 1.0) - 0.6827) < 0.01
    assert abs(np.mean(np.abs(z) < 2.0) - 0.9545) < 0.005
    assert abs(np.corrcoef(z[0::2], z[1::2])[0, 1]) < 0.02  # the Box-Muller pair is independent


def test_normal_mean_and_stddev_and_broadcast() -> None:
    x = values(ops.normal((N,), 3.0, 2.0, seed=3))
    assert x.dtype == np.float32
    assert abs(x.mean() - 3.0) < 0.04 and abs(x.std() - 2.0) < 0.04
    mean = ms.Tensor(np.array([[-10.0], [10.0]], np.float64))
    y = values(ops.normal((2, N // 2), mean, ms.Tensor(0.5, ms.float64)))
    assert y.dtype == np.float64
    np.testing.assert_allclose(y.mean(axis=1), [-10.0, 10.0], atol=0.02)
    np.testing.assert_array_equal(values(ops.normal((4,), 1.5, 0.0)), np.full(4, 1.5, np.float32))


def test_uniform_range_mean_and_discrete_form() -> None:
    x = values(ops.uniform((N,), ms.Tensor(-2.0), ms.Tensor(5.0), seed=4)).astype(np.float64)
    assert x.min() >= -2.0 and x.max() < 5.0 and abs(x.mean() - 1.5) < 0.03
    k = values(ops.uniform((N,), ms.Tensor(-3, ms.int32), ms.Tensor(7, ms.int32), dtype=ms.int32))
    assert k.dtype == np.int32 and set(np.unique(k)) == set(range(-3, 7))
    ones = ops.uniform((4, 2), ms.Tensor(1, ms.int32), ms.Tensor(2, ms.int32), seed=5, dtype=ms.int32)
    np.testing.assert_array_equal(values(ones), np.ones((4, 2), np.int32))  # MindSpore's example


def test_uniform_float16_never_reaches_maxval() -> None:
    x = values(ops.uniform((N,), ms.Tensor(np.float16(1000)), ms.Tensor(np.float16(1001)), dtype=ms.float16))
    assert x.max() < 1001 and x.min() >= 1000


def test_randint_range_and_frequencies() -> None:
    k = values(ops.randint(-3, 7, (N,), seed=6))
    assert k.dtype == np.int64 and k.min() == -3 and k.max() == 6
    frequencies = np.bincount(k + 3) / N
    assert np.all(np.abs(frequencies - 0.1) < 0.006)
    full = values(ops.randint(-(2**63), 2**63 - 1, (1000,), dtype=ms.int64))
    assert full.min() < -(2**61) and full.max() > 2**61  # wide ranges use all 64 bits
    assert values(ops.randint(0, 256, (N,), dtype=ms.uint8)).max() == 255


def test_bernoulli_frequency_dtype_and_tensor_p() -> None:
    x = ms.Tensor(np.zeros(N, np.float32))
    hits = values(ops.bernoulli(x, 0.3, seed=7))
    assert hits.dtype == np.float32 and set(np.unique(hits)) <= {0.0, 1.0}
    assert abs(hits.mean() - 0.3) < 0.006
    ints = ms.Tensor(np.array([1, 2, 3], np.int8))
    np.testing.assert_array_equal(values(ops.bernoulli(ints, p=1.0)), np.array([1, 1, 1], np.int8))
    p = ms.Tensor(np.array([0.0, 1.0, 1.0], np.float32))
    np.testing.assert_array_equal(values(ops.bernoulli(ints, p)), np.array([0, 1, 1], np.int8))
    rows = values(ops.bernoulli(ms.Tensor(np.zeros((N // 10, 2), np.float32)), ms.Tensor([0.2, 0.9])))
    np.testing.assert_allclose(rows.mean(axis=0), [0.2, 0.9], atol=0.015)
    assert values(ints.bernoulli(0.0)).sum() == 0  # Tensor method


def test_multinomial_with_replacement_follows_weights() -> None:
    weights = np.array([0.0, 9.0, 4.0, 0.0, 7.0], np.float32)
    drawn = values(ops.multinomial(ms.Tensor(weights), N, seed=8))
    assert drawn.dtype == np.int64 and drawn.shape == (N,)
    np.testing.assert_allclose(np.bincount(drawn, minlength=5) / N, weights / weights.sum(), atol=0.006)
    batch = values(ops.multinomial(ms.Tensor(np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)), 9))
    np.testing.assert_array_equal(batch, [[0] * 9, [1] * 9])


def test_multinomial_without_replacement_gives_distinct_indices() -> None:
    weights = ms.Tensor(np.array([[0.0, 9.0, 4.0, 0.0, 1.0, 2.0]] * 500, np.float32))
    drawn = values(ops.multinomial(weights, 4, replacement=False, seed=9))
    assert drawn.shape == (500, 4)
    for row in drawn:
        assert len(set(row.tolist())) == 4 and not {0, 3} & set(row.tolist())
    first = np.bincount(drawn[:, 0], minlength=6) / 500
    assert first[1] > first[2] > first[5] > first[4]  # the heavier the weight, the likelier first
    method = values(ms.Tensor(np.array([0, 9, 4, 0], np.float32)).multinomial(2, False))
    assert sorted(method.tolist()) == [1, 2]


# -- MindSpore signatures --------------------------------------------------------------------------
def test_shapes_and_dtypes_follow_mindspore() -> None:
    assert ops.rand(2, 3).shape == ops.rand((2, 3)).shape == ops.randn([2, 3]).shape == (2, 3)
    assert ops.rand(2, 3).dtype == ms.float32 and ops.randn(2, dtype=ms.float16).dtype == ms.float16
    assert ops.randint(1, 10, (2, 3)).dtype == ms.int64
    minval = ms.Tensor(np.array([[3, 4], [5, 6]]), ms.float32)
    assert ops.uniform((3, 1, 2), minval, ms.Tensor([8.0, 10.0]), seed=5).shape == (3, 2, 2)
    mean = ms.Tensor(np.array([[1, 2, 3], [3, 4, 3], [3, 5, 6]]), ms.float32)
    assert ops.normal((3, 1, 3), mean, ms.Tensor(1.0), seed=5).shape == (3, 3, 3)
    a = ms.Tensor([[2, 3, 4], [1, 2, 3]])
    like = ops.rand_like(a, dtype=ms.float32)
    assert like.shape == (2, 3) and like.dtype == ms.float32
    assert ops.randn_like(ms.Tensor(np.zeros(4, np.float16))).dtype == ms.float16
    assert ops.randint_like(ms.Tensor(np.zeros(3, np.int32)), 0, 5).dtype == ms.int32
    assert ops.randint_like(a, 1, 10, seed=1).dtype == ms.int64
    assert ops.multinomial(ms.Tensor(np.ones((3, 4), np.float32)), 2).shape == (3, 2)
    assert ops.rand(0, 3).shape == (0, 3) and ops.rand().shape == ()


def test_like_ops_take_the_input_shape_and_keep_the_input_unchanged() -> None:
    source = np.arange(6, dtype=np.float32).reshape(2, 3)
    x = ms.Tensor(source)
    for result in (ops.rand_like(x), ops.randn_like(x), ops.randint_like(x, 0, 3, dtype=ms.int8),
                   ops.bernoulli(x, 0.5)):
        assert result.shape == (2, 3)
    np.testing.assert_array_equal(values(x), source)


# -- errors ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("call", "op", "words"), [
    (lambda: ops.rand(-1, 2), "rand", "non-negative"),
    (lambda: ops.rand(2.5), "rand", "non-negative ints"),
    (lambda: ops.rand(2, dtype=ms.int32), "rand", "Int32"),
    (lambda: ops.randn(2, dtype="float32"), "randn", "mycelia dtype"),
    (lambda: ops.randint(5, 5, (2,)), "randint", "low < high"),
    (lambda: ops.randint(0, 300, (2,), dtype=ms.uint8), "randint", "does not fit"),
    (lambda: ops.randint(0, 3, (2,), dtype=ms.float32), "randint", "Float32"),
    (lambda: ops.randint(0.5, 3, (2,)), "randint", "low must be an int"),
    (lambda: ops.rand_like(ms.Tensor([1, 2])), "rand_like", "Int64"),
    (lambda: ops.randint_like(ms.Tensor([1.0]), 0, 4), "randint_like", "Float32"),
    (lambda: ops.rand(3, seed=-1), "rand", "seed"),
    (lambda: ops.rand(3, seed=1.5), "rand", "seed"),
    (lambda: ops.uniform((2,), ms.Tensor(1.0), ms.Tensor(1.0)), "uniform", "minval < maxval"),
    (lambda: ops.uniform((2,), ms.Tensor([1, 2], ms.int32), ms.Tensor(5, ms.int32), dtype=ms.int32), "uniform",
     "one number"),
    (lambda: ops.uniform((3,), ms.Tensor([0.0, 1.0]), ms.Tensor(5.0)), "uniform", "broadcast"),
    (lambda: ops.normal((2,), 0.0, -1.0), "normal", "stddev"),
    (lambda: ops.bernoulli(ms.Tensor([1.0]), 1.5), "bernoulli", "[0, 1]"),
    (lambda: ops.bernoulli(ms.Tensor([1.0, 2.0]), ms.Tensor([0.5, 2.0])), "bernoulli", "[0, 1]"),
    (lambda: ops.bernoulli(ms.Tensor([1.0, 2.0]), ms.Tensor([0.5, 0.2, 0.1])), "bernoulli", "broadcast"),
    (lambda: ops.bernoulli([1.0], 0.5), "bernoulli", "Tensor"),
    (lambda: ops.multinomial(ms.Tensor(np.ones((2, 2, 2), np.float32)), 1), "multinomial", "1-D or 2-D"),
    (lambda: ops.multinomial(ms.Tensor([1.0, -1.0]), 1), "multinomial", ">= 0"),
    (lambda: ops.multinomial(ms.Tensor([[1.0, 1.0], [0.0, 0.0]]), 1), "multinomial", "positive sum"),
    (lambda: ops.multinomial(ms.Tensor([1.0, 1.0]), 3, False), "multinomial", "without replacement"),
    (lambda: ops.multinomial(ms.Tensor([1.0, 0.0, 1.0]), 3, False), "multinomial", "positive probabilities"),
    (lambda: ops.multinomial(ms.Tensor([1, 2]), 1), "multinomial", "Int64"),
    (lambda: set_seed(-3), "set_seed", "non-negative"),
    (lambda: set_seed("7"), "set_seed", "non-negative"),
])
def test_bad_arguments_are_op_errors_naming_the_op(call, op: str, words: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(OpError) as info:
        call()
    assert info.value.op == op
    assert words in str(info.value)
    assert "test_ops_random.py" in str(info.value)  # points at the user's line


def test_a_rejected_call_does_not_move_the_stream() -> None:
    set_seed(5)
    expected = values(ops.rand(3))
    set_seed(5)
    with pytest.raises(OpError):
        ops.rand(-1)
    with pytest.raises(OpError):
        ops.randint(3, 1, (2,))
    with pytest.raises(OpError):
        ops.multinomial(ms.Tensor(np.ones((2, 2, 2), np.float32)), 1)
    np.testing.assert_array_equal(values(ops.rand(3)), expected)


def test_bad_probabilities_leave_the_input_untouched() -> None:
    source = np.array([0.5, -1.0, 2.0], np.float32)
    x = ms.Tensor(source)
    with pytest.raises(OpError):
        ops.multinomial(x, 2)
    np.testing.assert_array_equal(values(x), source)
