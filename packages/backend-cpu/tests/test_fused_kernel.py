"""mycelia_backend_cpu._fused: fused elementwise (+ reduction) kernels against numpy / mycelia references."""

from __future__ import annotations

import threading

import ml_dtypes
import numpy as np
import pytest

import mycelia as ms
from mycelia_backend_cpu import _fused_native
from mycelia_backend_cpu._fused import SUPPORTED_OPS, FusedKernel, num_threads, set_num_threads

BF16 = np.dtype(ml_dtypes.bfloat16)
REFERENCES = {op.name: op.reference for op in ms.ops.all_ops()}
TOLERANCE = {np.float32: {"rtol": 1e-5, "atol": 1e-6}, np.float64: {"rtol": 1e-11, "atol": 1e-13}}
COMPUTE = {np.float32: "float32", np.float64: "float64"}

# Sample domains (low, high) per op; the rest use (-3, 3).
DOMAINS = {
    "log": (0.05, 10.0), "log2": (0.05, 10.0), "sqrt": (0.0, 4.0), "rsqrt": (0.1, 4.0), "log1p": (-0.9, 5.0),
    "asin": (-0.99, 0.99), "acos": (-0.99, 0.99), "atanh": (-0.95, 0.95), "acosh": (1.0, 5.0), "tan": (-1.4, 1.4),
    "reciprocal": (0.2, 4.0), "softplus": (-30.0, 30.0), "logsigmoid": (-30.0, 30.0), "sigmoid": (-12.0, 12.0),
    "pow": (0.2, 2.5), "elu": (-4.0, 4.0), "selu": (-4.0, 4.0), "hardswish": (-5.0, 5.0),
    "hardsigmoid": (-5.0, 5.0), "relu6": (-3.0, 9.0),
}
ATTRIBUTES = {"leaky_relu": {"alpha": 0.01}, "elu": {"alpha": 0.5}, "softplus": {"beta": 2.0, "threshold": 5.0}}
ARITY = {name: code_arity[1] for name, code_arity in _fused_native.ops().items()}
SPECIAL = {"const", "cast", "where"}


def run(instructions, inputs, out_dtype=None, outputs=None, compute="float32", reduce=None, out_shape=None):
    """Run a one-output kernel; the output register is the last one."""
    n = len(inputs)
    last = n + len(instructions) - 1 if outputs is None else outputs[-1]
    shape = np.broadcast_shapes(*(np.shape(a) for a in inputs)) if out_shape is None else out_shape
    out = np.empty(shape, out_dtype or compute)
    FusedKernel(instructions, n, [last] if outputs is None else outputs, compute, reduce)(inputs, [out])
    return out


def samples(op, dtype, size=1000, seed=0):
    rng = np.random.default_rng(seed)
    low, high = DOMAINS.get(op, (-3.0, 3.0))
    arrays = [rng.uniform(low, high, size).astype(dtype) for _ in range(ARITY[op])]
    if op == "pow":
        arrays[1] = rng.uniform(-2.0, 2.0, size).astype(dtype)
    if op in ("maximum", "minimum", "equal", "not_equal", "greater_equal", "less_equal"):
        arrays[1][::3] = arrays[0][::3]  # ties
    if op.startswith("logical"):
        arrays = [np.where(rng.random(size) < 0.5, 0, a).astype(dtype) for a in arrays]
    return arrays


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", sorted(SUPPORTED_OPS - SPECIAL))
def test_op_matches_reference(op, dtype):
    arrays = samples(op, dtype)
    attrs = ATTRIBUTES.get(op, {})
    n = len(arrays)
    got = run([(op, tuple(range(n)), attrs)], arrays, compute=COMPUTE[dtype])
    with np.errstate(all="ignore"):
        want = np.asarray(REFERENCES[op](*arrays, **attrs)).astype(dtype)
    np.testing.assert_allclose(got, want, **TOLERANCE[dtype], err_msg=op)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_modes(approximate):
    (x,) = samples("gelu", np.float32)
    got = run([("gelu", (0,), {"approximate": approximate})], [x])
    np.testing.assert_allclose(got, REFERENCES["gelu"](x, approximate=approximate), rtol=1e-5, atol=1e-6)


def test_const_where_and_multiple_outputs():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((2, 5, 7)).astype(np.float32)
    program = [("const", (), {"value": 2.0}), ("mul", (0, 2)), ("greater", (0, 1)), ("where", (4, 3, 1)),
               ("exp", (5,))]
    outs = [np.empty((5, 7), np.float32) for _ in range(3)]
    FusedKernel(program, 2, [3, 5, 6])([x, y], outs)
    np.testing.assert_array_equal(outs[0], x * 2)
    np.testing.assert_array_equal(outs[1], np.where(x > y, x * 2, y))
    np.testing.assert_allclose(outs[2], np.exp(outs[1]), rtol=1e-6)
    np.testing.assert_array_equal(run([("const", (), {"value": -1.5})], [x]), np.full((5, 7), -1.5, np.float32))


def test_w2_chain_matches_numpy_chain():
    rng = np.random.default_rng(2)
    x, y = rng.uniform(-1, 1, (2, 100_003)).astype(np.float32)
    program = [("mul", (0, 1)), ("add", (2, 0)), ("sin", (3,)), ("mul", (4, 1)), ("neg", (5,)), ("exp", (6,)),
               ("tanh", (7,)), ("sub", (8, 0)), ("cos", (9,)), ("mul", (10, 1))]
    t = np.cos(np.tanh(np.exp(-(np.sin(x * y + x) * y))) - x) * y
    np.testing.assert_allclose(run(program, [x, y]), t, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("a_shape", "b_shape"), [((), (3, 4)), ((4, 1), (3,)), ((64, 512), (512,)),
                                                  ((2, 1, 3), (1, 5, 1)), ((1,), ()), ((0, 3), (3,))])
def test_broadcasting(a_shape, b_shape):
    rng = np.random.default_rng(3)
    a = np.asarray(rng.standard_normal(a_shape), np.float32)
    b = np.asarray(rng.standard_normal(b_shape), np.float64)  # converted on load
    got = run([("mul", (0, 1)), ("add", (2, 0))], [a, b])
    assert got.shape == np.broadcast_shapes(a_shape, b_shape)
    np.testing.assert_allclose(got, a * b.astype(np.float32) + a, rtol=1e-6)


def test_non_contiguous_and_integer_inputs():
    rng = np.random.default_rng(4)
    base = rng.standard_normal((300, 200)).astype(np.float32)
    views = [base.T, base[::2, ::3], base[:, 5], base.T[::-1]]
    for view in views:
        np.testing.assert_allclose(run([("sin", (0,))], [view]), np.sin(view), rtol=1e-6, atol=1e-7)
    ints = [np.arange(-6, 6).astype(t).reshape(3, 4) for t in (np.int32, np.int64, np.int8, np.uint8)]
    for array in ints:
        np.testing.assert_array_equal(run([("square", (0,))], [array]), np.square(array.astype(np.float32)))
    raw = np.zeros(401, np.uint8)
    misaligned = raw[1:].view(np.float32)  # offset by one byte
    misaligned[:] = np.arange(100)
    assert not misaligned.flags.aligned
    np.testing.assert_array_equal(run([("neg", (0,))], [misaligned]), -misaligned)
    mask = np.array([[True, False], [False, True]])
    np.testing.assert_array_equal(run([("logical_not", (0,))], [mask]), [[0, 1], [1, 0]])


def test_rank_0_and_empty():
    got = run([("exp", (0,))], [np.array(1.0, np.float32)])
    assert got.shape == () and got == np.float32(np.exp(np.float32(1.0)))
    assert run([("exp", (0,))], [np.empty((0, 5), np.float32)]).shape == (0, 5)
    assert run([("add", (0, 1))], [np.float32(2.0), np.float64(3.0)]) == 5.0  # numpy scalars


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_large_threaded_with_odd_tail(threads):
    rng = np.random.default_rng(5)
    x = rng.uniform(-2, 2, 1_000_003).astype(np.float32)
    previous = num_threads()
    set_num_threads(threads)
    try:
        got = run([("tanh", (0,)), ("mul", (1, 0)), ("sigmoid", (2,))], [x])
        total = run([("abs", (0,))], [x], reduce=("sum", 1), out_shape=())
    finally:
        set_num_threads(previous)
    np.testing.assert_allclose(got, 1 / (1 + np.exp(-(np.tanh(x) * x))), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(total, np.abs(x).astype(np.float64).sum(), rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float16, BF16])
def test_half_precision_in_and_out(dtype):
    rng = np.random.default_rng(6)
    x = rng.standard_normal(4099).astype(dtype)
    y = rng.standard_normal(4099).astype(np.float32)
    got = run([("mul", (0, 1)), ("add", (2, 0))], [x, y], out_dtype=dtype)
    want = (x.astype(np.float32) * y + x.astype(np.float32)).astype(dtype)  # round to nearest even
    np.testing.assert_array_equal(got.view(np.uint16), want.view(np.uint16))
    specials = np.array([np.nan, np.inf, -np.inf, 65504, 70000, 1e-8, -0.0, 6e-5], np.float32)
    with np.errstate(over="ignore"):
        want = (-specials).astype(dtype).astype(np.float32)
    np.testing.assert_array_equal(run([("neg", (0,))], [specials], out_dtype=dtype).astype(np.float32), want)
    from_f64 = rng.standard_normal(1000) * 1e3
    np.testing.assert_array_equal(run([("abs", (0,))], [from_f64], out_dtype=np.float16, compute="float64"),
                                  np.abs(from_f64).astype(np.float16))


@pytest.mark.parametrize("target", ["float16", "bfloat16", "float32", "bool"])
def test_cast_rounds_and_returns(target):
    x = np.random.default_rng(7).standard_normal(3000) * 100
    x[:4] = [np.nan, np.inf, 0.0, 1e-9]
    got = run([("cast", (0,), {"dtype": target})], [x], compute="float64")
    dtype = BF16 if target == "bfloat16" else np.dtype(target)
    want = (x != 0) if target == "bool" else x.astype(np.float32 if target == "bfloat16" else dtype)
    np.testing.assert_array_equal(got, np.asarray(want).astype(dtype).astype(np.float64))


def test_comparisons_into_bool_outputs():
    x = np.array([1.0, np.nan, -2.0, 3.0], np.float32)
    y = np.array([1.0, 1.0, np.nan, 2.0], np.float32)
    for op in ("greater", "less", "greater_equal", "less_equal", "equal", "not_equal"):
        got = run([(op, (0, 1))], [x, y], out_dtype=np.bool_)
        np.testing.assert_array_equal(got, getattr(np, op)(x, y), err_msg=op)
    np.testing.assert_array_equal(run([("sub", (0, 1))], [x, y], out_dtype=np.bool_), (x - y).astype(bool))


def test_nan_and_inf_propagation():
    x = np.array([np.nan, 1.0, np.inf, -np.inf, np.nan, 0.0], np.float32)
    y = np.array([1.0, np.nan, 2.0, np.nan, np.nan, -0.0], np.float32)
    with np.errstate(all="ignore"):
        for op, ref in (("maximum", np.maximum), ("minimum", np.minimum), ("add", np.add), ("pow", np.power)):
            np.testing.assert_array_equal(run([(op, (0, 1))], [x, y]), ref(x, y), err_msg=op)
        for op in ("relu", "exp", "log", "tanh", "sigmoid", "sqrt", "sign", "floor", "relu6", "softplus"):
            np.testing.assert_allclose(run([(op, (0,))], [x]), REFERENCES[op](x), rtol=1e-6, err_msg=op)
    np.testing.assert_array_equal(run([("where", (0, 1, 2))], [np.array([0.0, np.nan]), x[:2], y[:2]]),
                                  [1.0, 1.0])


@pytest.mark.parametrize("kind", ["sum", "mean", "max", "min"])
@pytest.mark.parametrize(("shape", "k"), [((64, 10), 1), ((6, 7, 300), 2), ((5, 3, 2), 1), ((2000, 3), 1),
                                          ((3, 40000), 1), ((70000,), 1)])
def test_reductions(kind, shape, k):
    x = np.random.default_rng(8).standard_normal(shape).astype(np.float32)
    axes = tuple(range(len(shape) - k, len(shape)))
    want = getattr(np, kind)(np.exp(x).astype(np.float64), axis=axes)
    keep = run([("exp", (0,))], [x], reduce=(kind, k), out_shape=want.shape)
    np.testing.assert_allclose(keep, want, rtol=2e-6)
    flat = np.empty(int(np.prod(want.shape)), np.float64)  # any shape of the right size
    FusedKernel([("exp", (0,))], 1, [1], "float64", (kind, k))([x], [flat])
    want = getattr(np, kind)(np.exp(x.astype(np.float64)), axis=axes)
    np.testing.assert_allclose(flat, want.ravel(), rtol=1e-12)


def test_reduction_with_elementwise_outputs_and_nan():
    x = np.random.default_rng(9).uniform(0, 1, (40, 1000)).astype(np.float32)
    x[3, 17] = np.nan
    y, total = np.empty_like(x), np.empty((40, 1), np.float32)
    FusedKernel([("square", (0,)), ("relu", (1,))], 1, [1, 2], reduce=("max", 1))([x], [y, total])
    np.testing.assert_array_equal(y, np.square(x))
    np.testing.assert_array_equal(total.ravel(), np.max(np.square(x), axis=1))
    big = np.random.default_rng(10).uniform(0, 1, 1_000_000).astype(np.float32)
    np.testing.assert_allclose(run([("abs", (0,))], [big], reduce=("sum", 1), out_shape=()), np.sum(big), rtol=1e-5)
    assert np.isnan(run([("abs", (0,))], [np.empty((3, 0), np.float32)], reduce=("mean", 1), out_shape=(3,))).all()
    assert (run([("abs", (0,))], [np.empty((3, 0), np.float32)], reduce=("sum", 1), out_shape=(3,)) == 0).all()


def test_in_place_and_overlapping_outputs():
    x = np.random.default_rng(11).standard_normal((300, 300)).astype(np.float32)
    want = np.exp(x)
    FusedKernel([("exp", (0,))], 1, [1])([x], [x])  # in place: safe block by block
    np.testing.assert_allclose(x, want, rtol=1e-6)
    want = x.T * 2
    FusedKernel([("add", (0, 0))], 1, [1])([x.T], [x])  # overlapping transposed view: copied first
    np.testing.assert_array_equal(x, want)


def test_generic_fallback_matches_native():
    x = np.random.default_rng(12).uniform(0.1, 3, 5000).astype(np.float16)
    program = [("sin", (0,)), ("exp", (1,)), ("log", (2,)), ("pow", (3, 0)), ("gelu", (4,)), ("cast", (5,),
               {"dtype": "float16"})]
    native = run(program, [x], out_dtype=np.float16)
    _fused_native.set_isa("generic")
    try:
        generic = run(program, [x], out_dtype=np.float16)
    finally:
        _fused_native.set_isa("native")
    np.testing.assert_allclose(generic.astype(np.float32), native.astype(np.float32), rtol=1e-3)


def test_concurrent_calls_from_python_threads():
    x = np.random.default_rng(13).standard_normal(300_000).astype(np.float32)
    kernel = FusedKernel([("sin", (0,)), ("cos", (1,))], 1, [2])
    outs = [np.empty_like(x) for _ in range(4)]
    threads = [threading.Thread(target=kernel, args=([x], [out])) for out in outs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for out in outs:
        np.testing.assert_allclose(out, np.cos(np.sin(x)), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(("instructions", "n_inputs", "outputs", "kwargs", "message"), [
    ([("nope", (0,))], 1, [1], {}, "unknown op"),
    ([("add", (0,))], 1, [1], {}, "takes 2 operand"),
    ([("exp", (1,))], 1, [1], {}, "out of range"),
    ([("exp", (0,))], 1, [2], {}, "output register"),
    ([("exp", (0,), {"alpha": 1})], 1, [1], {}, "unknown attribute"),
    ([("const", ())], 0, [0], {}, "required"),
    ([("gelu", (0,), {"approximate": "fast"})], 1, [1], {}, "approximate"),
    ([("cast", (0,), {"dtype": "int7"})], 1, [1], {}, "dtype"),
    ([("exp", (0,))], 1, [1], {"compute": "float16"}, "compute"),
    ([("exp", (0,))], 1, [1], {"reduce": ("prod", 1)}, "reduce"),
    ([("exp", (0,))], 1, [], {}, "at least one output"),
])
def test_bad_programs_raise(instructions, n_inputs, outputs, kwargs, message):
    with pytest.raises(ValueError, match=message):
        FusedKernel(instructions, n_inputs, outputs, **kwargs)


def test_bad_calls_raise():
    kernel = FusedKernel([("add", (0, 1))], 2, [2])
    x, out = np.ones((3, 4), np.float32), np.empty((3, 4), np.float32)
    with pytest.raises(ValueError, match=r"output 0 has shape \(4, 3\), expected \(3, 4\)"):
        kernel([x, x], [np.empty((4, 3), np.float32)])
    with pytest.raises(ValueError, match=r"input 1 with shape \(5,\) does not broadcast"):
        kernel([x, np.ones(5, np.float32)], [out])
    with pytest.raises(ValueError, match="expected 2 input"):
        kernel([x], [out])
    with pytest.raises(ValueError, match="expected 1 output"):
        kernel([x, x], [out, out])
    with pytest.raises(TypeError, match="unsupported dtype"):
        kernel([x, x.astype(np.complex64)], [out])
    with pytest.raises(TypeError, match="unsupported dtype"):
        kernel([x, x], [np.empty((3, 4), np.int32)])
    with pytest.raises(TypeError, match="numpy array"):
        kernel([x, [1.0]], [out])
    with pytest.raises(ValueError, match="C-contiguous"):
        kernel([x, x], [np.empty((4, 3), np.float32).T])
    with pytest.raises(ValueError, match="last 3 dims"):
        FusedKernel([("exp", (0,))], 1, [1], reduce=("sum", 3))([x], [np.empty(1, np.float32)])
    with pytest.raises(ValueError, match="no identity"):
        FusedKernel([("exp", (0,))], 1, [1], reduce=("max", 1))([np.ones((2, 0))], [np.empty(2, np.float32)])
    with pytest.raises(ValueError, match=r"output 0 has shape \(4,\), expected \(3,\)"):
        FusedKernel([("exp", (0,))], 1, [1], reduce=("sum", 1))([x], [np.empty(4, np.float32)])
