"""Random ops with MindSpore 2.x names and signatures: reproducible, counter-based streams.

Every call takes the next ``(seed, offset)`` pair of the global stream (``mycelia.set_seed``) as
its ``seed`` and ``offset`` attributes, or a fixed pair when given ``seed=`` (see
``mycelia._random_state``). The kernel is a pure function of its attributes, so a graph that
records them draws exactly what eager code draws; the streams are specified in
``mycelia.ops._random_spec``, which is also each op's ``reference``.

Random ops are not differentiable (``differentiable=False``), as in MindSpore: their results are
constants to autograd, with no gradient with respect to ``mean``/``stddev``/``minval``/``p``...
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._context import current_backend
from mycelia._errors import OpError
from mycelia._random_state import EXPLICIT_SEED_BIT, get_state, next_seed, set_state
from mycelia._tensor import Tensor
from mycelia._types import TensorType
from mycelia.backends import Backend
from mycelia.ops import _dispatch
from mycelia.ops import _random_spec as spec
from mycelia.ops._define import ALL, FLOATS, INTEGERS, NUMERIC, random_array
from mycelia.ops._registry import OpDef, Sample, register_op
from mycelia.ops._shapes import broadcast_shapes

__all__ = [
    "bernoulli",
    "multinomial",
    "normal",
    "rand",
    "rand_like",
    "randint",
    "randint_like",
    "randn",
    "randn_like",
    "uniform",
]

_STREAM_ATTRS = (("seed", 0), ("offset", 0))


# -- argument checks (before a call takes its pair, so a bad call does not move the stream) --------
def _shape(op: str, size: Any, what: str = "size") -> tuple[int, ...]:
    if isinstance(size, Tensor):
        if size.ndim > 1 or not size.dtype.is_integer:
            raise OpError(op, f"{what} as a Tensor must be 1-D of integers, got {size.dtype} shape {list(size.shape)}")
        size = size.asnumpy().tolist()
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        size = (size,)
    if not isinstance(size, (tuple, list)):
        raise OpError(op, f"{what} must be a tuple of non-negative ints, got {type(size).__name__} {size!r}")
    for dim in size:
        if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, (int, np.integer)) or dim < 0:
            raise OpError(op, f"{what} must be a tuple of non-negative ints, got {tuple(size)!r}")
    return tuple(int(dim) for dim in size)


def _varargs_shape(op: str, size: tuple[Any, ...]) -> tuple[int, ...]:
    """``rand(2, 3)``, ``rand((2, 3))`` and ``rand([2, 3])`` all mean shape (2, 3)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list, Tensor)):
        return _shape(op, size[0])
    return _shape(op, size)


def _dtype(op: str, dtype: Any, kind: str) -> dt.DType:
    if not isinstance(dtype, dt.DType):
        raise OpError(op, f"dtype must be a mycelia dtype such as mycelia.float32, got {dtype!r}")
    accepted = {"float": dtype.is_floating_point, "int": dtype.is_integer,
                "number": dtype.is_floating_point or dtype.is_integer}[kind]
    if not accepted:
        names = {"float": FLOATS, "int": INTEGERS, "number": NUMERIC}[kind]
        shown = ", ".join(d.name for d in dt.all_dtypes() if d in names)
        raise OpError(op, f"dtype {dtype} is not accepted; accepted: {shown}")
    return dtype


def _int(op: str, name: str, value: Any) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise OpError(op, f"{name} must be an int, got {type(value).__name__} {value!r}")
    return int(value)


def _tensor(op: str, name: str, value: Any) -> Tensor:
    if not isinstance(value, Tensor):
        raise OpError(op, f"{name} must be a Tensor, got {type(value).__name__}")
    return value


def _operand(op: str, name: str, value: Any, backend: Backend) -> Tensor:
    """A Tensor operand, or a Python number made into a 0-d one (float32 / int64) on ``backend``."""
    if isinstance(value, Tensor):
        if value.dtype is dt.bool_:
            raise OpError(op, f"{name} must be a number or a numeric Tensor, got a Bool Tensor")
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise OpError(op, f"{name} must be a Tensor, int or float, got {type(value).__name__}")
    dtype = dt.int64 if isinstance(value, (int, np.integer)) else dt.float32
    return Tensor._make(backend.from_numpy(np.asarray(value, dtype=dtype.numpy)), dtype, backend)


def _backend_of(values: Iterable[Any]) -> Backend:
    for value in values:
        if isinstance(value, Tensor):
            return value._backend
    return current_backend()


# -- dispatch: like _dispatch.apply, minus its inference cache (each call has new seed/offset attributes) --
def _describe(tensors: tuple[Tensor, ...]) -> str:
    return "[" + ", ".join(f"Tensor[{t.dtype}, shape={list(t.shape)}]" for t in tensors) + "]"


def _draw(op: OpDef, tensors: tuple[Tensor, ...], attrs: dict[str, Any], seed: Any) -> Tensor:
    """Check and infer, then take the call's ``(seed, offset)`` pair and run the kernel."""
    backend = tensors[0]._backend if tensors else current_backend()
    for tensor in tensors:
        if tensor._backend is not backend:
            raise OpError(op.name, f"operands are on different backends ({backend.name} and "
                                   f"{tensor._backend.name}); move them with Tensor.to()")
    if tensors and tensors[0].dtype not in op.dtypes:
        shown = ", ".join(d.name for d in dt.all_dtypes() if d in op.dtypes)
        raise OpError(op.name, f"dtype {tensors[0].dtype} is not supported (inputs: {_describe(tensors)}); "
                               f"accepted: {shown}", backend.name)
    result = op.infer(*(TensorType(t._dtype, tuple(t._data.shape)) for t in tensors), **attrs)
    kernel = _dispatch.kernel_for(op, backend)
    attrs["seed"], attrs["offset"] = next_seed(seed, op=op.name)
    try:
        out = kernel(*(t._data for t in tensors), **attrs)
    except OpError:
        raise
    except (ValueError, TypeError, IndexError, OverflowError) as error:
        raise OpError(op.name, f"{error} (inputs: {_describe(tensors)})", backend.name) from None
    return Tensor._make(backend.conform(out, result.dtype), result.dtype, backend)


# -- samples: fixed (seed, offset) attributes, replayed through the public function -------------------
_STREAMS = ((0, 0), (1234, 7), ((1 << 64) - 1, 1 << 40), (5 | EXPLICIT_SEED_BIT, 0))
_SHAPES: tuple[tuple[int, ...], ...] = ((2, 3), (), (0, 3), (7,), (2, 1, 3, 1, 2))


def _replaying(front: Callable[[tuple[Any, ...], dict[str, Any], int | None], Any]) -> Callable[..., Any]:
    """``Sample.call``: run ``front(tensors, attrs, seed)`` so that it draws the sample's pair."""

    def call(*tensors: Any, **attrs: Any) -> Any:
        key, offset = attrs["seed"], attrs["offset"]
        if key & EXPLICIT_SEED_BIT:
            return front(tensors, attrs, key - EXPLICIT_SEED_BIT)
        saved = get_state()
        set_state((key, offset))
        try:
            return front(tensors, attrs, None)
        finally:
            set_state(saved)

    return call


def _stream_samples(args_for: Callable[[int], tuple[tuple[Any, ...], dict[str, Any]]],
                    call: Callable[..., Any]) -> list[Sample]:
    """One sample per shape, cycling through the streams (global and explicit seeds)."""
    cases = []
    for index in range(len(_SHAPES)):
        seed, offset = _STREAMS[index % len(_STREAMS)]
        args, attrs = args_for(index)
        cases.append(Sample(args, {**attrs, "seed": seed, "offset": offset}, call, note=f"stream {seed}/{offset}"))
    return cases


# -- rand / randn / randint (no tensor input) ------------------------------------------------------
def _creation_infer(*, shape: tuple[int, ...], dtype: dt.DType, **_: Any) -> TensorType:
    return TensorType(dtype, shape)


def _rand_samples(dtype: dt.DType) -> list[Sample]:
    call = _replaying(lambda _, a, seed: rand(*a["shape"], dtype=a["dtype"], seed=seed))
    return _stream_samples(lambda i: ((), {"shape": _SHAPES[i], "dtype": dtype}), call)


def _randn_samples(dtype: dt.DType) -> list[Sample]:
    call = _replaying(lambda _, a, seed: randn(a["shape"], dtype=a["dtype"], seed=seed))
    return _stream_samples(lambda i: ((), {"shape": _SHAPES[i], "dtype": dtype}), call)


def _int_ranges(dtype: dt.DType) -> list[tuple[int, int]]:
    info = np.iinfo(dtype.numpy)
    return [(-5 if info.min < 0 else 2, 9), (int(info.min), int(info.max)), (10, 11), (0, 3), (int(info.min), 0)
            if info.min < 0 else (200, 256)]


def _randint_samples(dtype: dt.DType) -> list[Sample]:
    call = _replaying(lambda _, a, seed: randint(a["low"], a["high"], a["shape"], seed, dtype=a["dtype"]))
    ranges = _int_ranges(dtype)
    return _stream_samples(lambda i: ((), {"low": ranges[i][0], "high": ranges[i][1], "shape": _SHAPES[i],
                                           "dtype": dtype}), call)


_STREAM_DOC = (" Reproducible: the numbers depend only on the global seed and how many random calls came "
               "before (``mycelia.set_seed``); an explicit ``seed`` gives the same numbers on every call "
               "without moving the global stream.")

_RAND = register_op(OpDef(
    name="rand", group="random", differentiable=False,
    inputs=(), infer=_creation_infer, reference=spec.rand_reference,
    attrs=(("shape", ()), ("dtype", dt.float32), *_STREAM_ATTRS), dtypes=FLOATS, promote=(),
    samples=_rand_samples, doc="Uniform samples in [0, 1)." + _STREAM_DOC))
_RANDN = register_op(OpDef(
    name="randn", group="random", differentiable=False,
    inputs=(), infer=_creation_infer, reference=spec.randn_reference,
    attrs=(("shape", ()), ("dtype", dt.float32), *_STREAM_ATTRS), dtypes=FLOATS, promote=(),
    samples=_randn_samples, doc="Standard normal samples." + _STREAM_DOC))
_RANDINT = register_op(OpDef(
    name="randint", group="random", differentiable=False,
    inputs=(), infer=_creation_infer, reference=spec.randint_reference,
    attrs=(("low", 0), ("high", 1), ("shape", ()), ("dtype", dt.int64), *_STREAM_ATTRS), dtypes=INTEGERS,
    promote=(), samples=_randint_samples, doc="Integers drawn uniformly from [low, high)." + _STREAM_DOC))


def _check_int_range(op: str, low: int, high: int, dtype: dt.DType) -> None:
    if low >= high:
        raise OpError(op, f"needs low < high, got low={low}, high={high}")
    info = np.iinfo(dtype.numpy)
    if low < info.min or high - 1 > info.max:
        raise OpError(op, f"[{low}, {high}) does not fit dtype {dtype} ([{info.min}, {info.max}])")


def rand(*size: Any, dtype: dt.DType | None = None, seed: int | None = None) -> Tensor:
    """Uniform samples in [0, 1) of shape ``size`` (ints or one tuple); dtype float32 by default."""
    attrs = {"shape": _varargs_shape("rand", size), "dtype": _dtype("rand", dtype or dt.float32, "float")}
    return _draw(_RAND, (), attrs, seed)


def randn(*size: Any, dtype: dt.DType | None = None, seed: int | None = None) -> Tensor:
    """Standard normal samples of shape ``size`` (ints or one tuple); dtype float32 by default."""
    attrs = {"shape": _varargs_shape("randn", size), "dtype": _dtype("randn", dtype or dt.float32, "float")}
    return _draw(_RANDN, (), attrs, seed)


def randint(low: int, high: int, size: Any, seed: int | None = None, *, dtype: dt.DType | None = None) -> Tensor:
    """Integers uniform in [low, high) of shape ``size``; dtype int64 by default."""
    low, high = _int("randint", "low", low), _int("randint", "high", high)
    resolved = _dtype("randint", dtype or dt.int64, "int")
    _check_int_range("randint", low, high, resolved)
    attrs = {"low": low, "high": high, "shape": _shape("randint", size), "dtype": resolved}
    return _draw(_RANDINT, (), attrs, seed)


rand.__doc__ = _RAND.doc
randn.__doc__ = _RANDN.doc
randint.__doc__ = _RANDINT.doc


# -- rand_like / randn_like / randint_like ---------------------------------------------------------
def _like_infer(x: TensorType, *, dtype: dt.DType, **_: Any) -> TensorType:
    return TensorType(dtype, x.shape)


def _like_samples(front: Callable[..., Any], kind: str) -> Callable[[dt.DType], list[Sample]]:
    def samples(dtype: dt.DType) -> list[Sample]:
        rng = np.random.default_rng(3)
        if kind == "int":
            target = dtype if dtype.is_integer else dt.int32
            ranges = _int_ranges(target)
            extra: Callable[[int], dict[str, Any]] = lambda i: {"low": ranges[i][0], "high": ranges[i][1]}  # noqa: E731
        else:
            target = dtype if dtype.is_floating_point else dt.float32
            extra = lambda i: {}  # noqa: E731
        return _stream_samples(lambda i: ((random_array(_SHAPES[i], dtype, rng),),
                                          {**extra(i), "dtype": target}), _replaying(front))

    return samples


_RAND_LIKE = register_op(OpDef(
    name="rand_like", group="random", differentiable=False,
    inputs=("input",), infer=_like_infer, reference=spec.rand_like_reference,
    attrs=(("dtype", None), *_STREAM_ATTRS), dtypes=ALL,
    samples=_like_samples(lambda t, a, seed: rand_like(t[0], seed, dtype=a["dtype"]), "float"),
    doc="Uniform samples in [0, 1) with ``input``'s shape (and dtype unless ``dtype`` is given)." + _STREAM_DOC))
_RANDN_LIKE = register_op(OpDef(
    name="randn_like", group="random", differentiable=False,
    inputs=("input",), infer=_like_infer, reference=spec.randn_like_reference,
    attrs=(("dtype", None), *_STREAM_ATTRS), dtypes=ALL,
    samples=_like_samples(lambda t, a, seed: randn_like(t[0], seed, dtype=a["dtype"]), "float"),
    doc="Standard normal samples with ``input``'s shape (and dtype unless ``dtype`` is given)." + _STREAM_DOC))
_RANDINT_LIKE = register_op(OpDef(
    name="randint_like", group="random", differentiable=False,
    inputs=("input",), infer=_like_infer,
    reference=spec.randint_like_reference, attrs=(("low", 0), ("high", 1), ("dtype", None), *_STREAM_ATTRS),
    dtypes=ALL,
    samples=_like_samples(lambda t, a, seed: randint_like(t[0], a["low"], a["high"], seed, dtype=a["dtype"]),
                          "int"),
    doc="Integers uniform in [low, high) with ``input``'s shape (and dtype unless ``dtype`` is given)."
        + _STREAM_DOC))


def rand_like(input: Tensor, seed: int | None = None, *, dtype: dt.DType | None = None) -> Tensor:
    input = _tensor("rand_like", "input", input)
    attrs = {"dtype": _dtype("rand_like", dtype or input.dtype, "float")}
    return _draw(_RAND_LIKE, (input,), attrs, seed)


def randn_like(input: Tensor, seed: int | None = None, *, dtype: dt.DType | None = None) -> Tensor:
    input = _tensor("randn_like", "input", input)
    attrs = {"dtype": _dtype("randn_like", dtype or input.dtype, "float")}
    return _draw(_RANDN_LIKE, (input,), attrs, seed)


def randint_like(input: Tensor, low: int, high: int, seed: int | None = None, *,
                 dtype: dt.DType | None = None) -> Tensor:
    input = _tensor("randint_like", "input", input)
    low, high = _int("randint_like", "low", low), _int("randint_like", "high", high)
    resolved = _dtype("randint_like", dtype or input.dtype, "int")
    _check_int_range("randint_like", low, high, resolved)
    return _draw(_RANDINT_LIKE, (input,), {"low": low, "high": high, "dtype": resolved}, seed)


rand_like.__doc__ = _RAND_LIKE.doc
randn_like.__doc__ = _RANDN_LIKE.doc
randint_like.__doc__ = _RANDINT_LIKE.doc

# -- uniform / normal ------------------------------------------------------------------------------
def _uniform_infer(minval: TensorType, maxval: TensorType, *, shape: tuple[int, ...], dtype: dt.DType,
                   **_: Any) -> TensorType:
    out = broadcast_shapes("uniform", shape, minval.shape, maxval.shape)
    if dtype.is_integer:
        if not (minval.dtype.is_integer and maxval.dtype.is_integer):
            raise OpError("uniform", f"an integer dtype ({dtype}) needs integer minval and maxval, got "
                                     f"{minval.dtype} and {maxval.dtype}")
        if any(d != 1 for d in (*minval.shape, *maxval.shape)):
            raise OpError("uniform", f"an integer dtype ({dtype}) needs one number for minval and maxval, got "
                                     f"shapes {list(minval.shape)} and {list(maxval.shape)}")
    return TensorType(dtype, out)


def _uniform_samples(dtype: dt.DType) -> list[Sample]:
    rng = np.random.default_rng(11)
    call = _replaying(lambda t, a, seed: uniform(a["shape"], t[0], t[1], seed, a["dtype"]))
    if dtype.is_integer:
        low, high = _int_ranges(dtype)[0]
        bounds = (np.asarray(low, dtype=dtype.numpy), np.asarray(high, dtype=dtype.numpy))
        return _stream_samples(lambda i: (bounds, {"shape": _SHAPES[i], "dtype": (dtype, dt.int32)[i % 2]}), call)
    cases = [((3, 1, 2), (2, 2), (2,)), ((), (), ()), ((0, 3), (), (3,)), ((7,), (7,), ()), ((2, 1, 3, 1, 2), (), ())]

    def args_for(i: int) -> tuple[tuple[Any, ...], dict[str, Any]]:
        shape, low_shape, high_shape = cases[i]
        bounds = (random_array(low_shape, dtype, rng, (-3, -1)), random_array(high_shape, dtype, rng, (1, 4)))
        return bounds, {"shape": shape, "dtype": dtype if i != 3 else dt.float32}

    return _stream_samples(args_for, call)


_UNIFORM = register_op(OpDef(
    name="uniform", group="random", differentiable=False,
    inputs=("minval", "maxval"), infer=_uniform_infer,
    reference=spec.uniform_reference, attrs=(("shape", ()), ("dtype", dt.float32), *_STREAM_ATTRS),
    dtypes=NUMERIC, promote=(), samples=_uniform_samples,
    doc="Samples uniform in [minval, maxval), shape ``shape`` broadcast with minval and maxval; an integer "
        "``dtype`` draws integers (minval and maxval then are single integers)." + _STREAM_DOC))


def uniform(shape: Any, minval: Any, maxval: Any, seed: int | None = None, dtype: dt.DType = dt.float32) -> Tensor:
    backend = _backend_of((minval, maxval))
    attrs = {"shape": _shape("uniform", shape, "shape"), "dtype": _dtype("uniform", dtype, "number")}
    low, high = _operand("uniform", "minval", minval, backend), _operand("uniform", "maxval", maxval, backend)
    return _draw(_UNIFORM, (low, high), attrs, seed)


def _normal_infer(mean: TensorType, stddev: TensorType, *, shape: tuple[int, ...], dtype: dt.DType,
                  **_: Any) -> TensorType:
    return TensorType(dtype, broadcast_shapes("normal", shape, mean.shape, stddev.shape))


def _normal_samples(dtype: dt.DType) -> list[Sample]:
    rng = np.random.default_rng(13)
    call = _replaying(lambda t, a, seed: normal(a["shape"], t[0], t[1], seed))
    result = dtype if dtype.is_floating_point else dt.float32
    scale = (1, 4) if dtype.is_integer else (0.5, 2.0)
    cases = [((3, 1, 2), (2, 2), ()), ((), (), ()), ((0, 3), (3,), ()), ((5,), (), (5,)),
             ((2, 1, 3, 1, 2), (3, 1, 2), ())]

    def args_for(i: int) -> tuple[tuple[Any, ...], dict[str, Any]]:
        shape, mean_shape, scale_shape = cases[i]
        return ((random_array(mean_shape, dtype, rng), random_array(scale_shape, dtype, rng, scale)),
                {"shape": shape, "dtype": result})

    return _stream_samples(args_for, call)


_NORMAL = register_op(OpDef(
    name="normal", group="random", differentiable=False,
    inputs=("mean", "stddev"), infer=_normal_infer,
    reference=spec.normal_reference, attrs=(("shape", ()), ("dtype", dt.float32), *_STREAM_ATTRS),
    dtypes=NUMERIC, promote=(), samples=_normal_samples,
    doc="Normal samples ``mean + stddev * z``, shape ``shape`` broadcast with mean and stddev; float "
        "tensors give their (promoted) dtype, otherwise float32." + _STREAM_DOC))


def normal(shape: Any, mean: Any, stddev: Any, seed: int | None = None) -> Tensor:
    backend = _backend_of((mean, stddev))
    floats = [v.dtype for v in (mean, stddev) if isinstance(v, Tensor) and v.dtype.is_floating_point]
    result = floats[0] if len(floats) == 1 else dt.promote_types(*floats) if floats else dt.float32
    attrs = {"shape": _shape("normal", shape, "shape"), "dtype": result}
    tensors = (_operand("normal", "mean", mean, backend), _operand("normal", "stddev", stddev, backend))
    return _draw(_NORMAL, tensors, attrs, seed)


uniform.__doc__ = _UNIFORM.doc
normal.__doc__ = _NORMAL.doc


# -- bernoulli / multinomial -----------------------------------------------------------------------
def _bernoulli_infer(x: TensorType, *probabilities: TensorType, **_: Any) -> TensorType:
    for p in probabilities:
        if not p.dtype.is_floating_point:
            raise OpError("bernoulli", f"p must be a float or a floating-point Tensor, got a {p.dtype} Tensor")
        if broadcast_shapes("bernoulli", x.shape, p.shape) != tuple(x.shape):
            raise OpError("bernoulli", f"p of shape {list(p.shape)} does not broadcast to input shape {list(x.shape)}")
    return TensorType(x.dtype, x.shape)


def _bernoulli_samples(dtype: dt.DType) -> list[Sample]:
    rng = np.random.default_rng(17)
    call = _replaying(lambda t, a, seed: bernoulli(t[0], t[1] if len(t) > 1 else a["p"], seed))
    chances = np.array([0.0, 0.25, 0.5, 0.75, 1.0], dtype=np.float32)
    cases: list[tuple[tuple[Any, ...], float | None]] = [
        ((random_array((2, 5), dtype, rng),), 0.3),
        ((random_array((), dtype, rng),), 1.0),
        ((random_array((0, 3), dtype, rng),), 0.5),
        ((random_array((2, 5), dtype, rng), chances), None),
        ((random_array((2, 1, 3, 1, 5), dtype, rng), chances.astype(np.float64)), None),
        ((random_array((9,), dtype, rng),), 0.0),
    ]
    return [Sample(args, {"p": p, "seed": _STREAMS[i % 4][0], "offset": _STREAMS[i % 4][1]}, call)
            for i, (args, p) in enumerate(cases)]


_BERNOULLI = register_op(OpDef(
    name="bernoulli", group="random", differentiable=False,
    inputs=("input", "p"), infer=_bernoulli_infer,
    reference=spec.bernoulli_reference, attrs=(("p", 0.5), *_STREAM_ATTRS), dtypes=ALL, promote=(),
    samples=_bernoulli_samples, method="bernoulli",
    doc="0/1 samples, 1 with probability ``p`` (a float, or a float Tensor broadcasting to ``input``), "
        "with ``input``'s shape and dtype." + _STREAM_DOC))


def bernoulli(input: Tensor, p: Any = 0.5, seed: int | None = None) -> Tensor:
    input = _tensor("bernoulli", "input", input)
    if isinstance(p, Tensor):
        return _draw(_BERNOULLI, (input, p), {"p": None}, seed)
    if isinstance(p, (bool, np.bool_)) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise OpError("bernoulli", f"p must be a float in [0, 1] or a Tensor, got {type(p).__name__}")
    if not 0.0 <= p <= 1.0:
        raise OpError("bernoulli", f"p must lie in [0, 1], got {p}")
    return _draw(_BERNOULLI, (input,), {"p": float(p)}, seed)


def _multinomial_infer(x: TensorType, *, num_samples: int, replacement: bool, **_: Any) -> TensorType:
    if x.rank not in (1, 2):
        raise OpError("multinomial", f"input must be 1-D or 2-D probabilities, got shape {list(x.shape)}")
    categories = x.shape[-1]
    if not replacement and isinstance(categories, int) and num_samples > categories:
        raise OpError("multinomial", f"cannot draw {num_samples} samples without replacement from "
                                     f"{categories} categories")
    return TensorType(dt.int64, (num_samples,) if x.rank == 1 else (x.shape[0], num_samples))


def _multinomial_samples(dtype: dt.DType) -> list[Sample]:
    rng = np.random.default_rng(19)
    call = _replaying(lambda t, a, seed: multinomial(t[0], a["num_samples"], a["replacement"], seed))
    weights = random_array((3, 5), dtype, rng, (0.1, 1.0))
    weights[np.arange(3), np.array([0, 2, 4])] = 0
    cases = [(np.asarray([0, 9, 4, 0], dtype=dtype.numpy), 6, True),
             (np.asarray([0, 9, 4, 0], dtype=dtype.numpy), 2, False),
             (weights, 8, True), (weights, 4, False),
             (np.zeros((0, 5), dtype=dtype.numpy), 3, True), (random_array((7,), dtype, rng, (0.1, 1)), 7, False)]
    return [Sample((x,), {"num_samples": n, "replacement": r, "seed": _STREAMS[i % 4][0],
                          "offset": _STREAMS[i % 4][1]}, call)
            for i, (x, n, r) in enumerate(cases)]


_MULTINOMIAL = register_op(OpDef(
    name="multinomial", group="random", differentiable=False,
    inputs=("input",), infer=_multinomial_infer,
    reference=spec.multinomial_reference, attrs=(("num_samples", 1), ("replacement", True), *_STREAM_ATTRS),
    dtypes=FLOATS, samples=_multinomial_samples, method="multinomial",
    doc="Category indices (int64) drawn from each row of the non-negative weights ``input`` (1-D or 2-D; "
        "rows need not sum to 1); ``num_samples`` per row, with or without replacement." + _STREAM_DOC))


def multinomial(input: Tensor, num_samples: int, replacement: bool = True, seed: int | None = None) -> Tensor:
    input = _tensor("multinomial", "input", input)
    count = _int("multinomial", "num_samples", num_samples)
    if count < 0:
        raise OpError("multinomial", f"num_samples must be >= 0, got {count}")
    if not isinstance(replacement, (bool, np.bool_)):
        raise OpError("multinomial", f"replacement must be a bool, got {type(replacement).__name__}")
    return _draw(_MULTINOMIAL, (input,), {"num_samples": count, "replacement": bool(replacement)}, seed)


bernoulli.__doc__ = _BERNOULLI.doc
multinomial.__doc__ = _MULTINOMIAL.doc
