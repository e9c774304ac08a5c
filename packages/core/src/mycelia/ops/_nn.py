"""nn op declarations: dropout, embedding, interpolate (and its gradient op interpolate_backward) here;
convolutions, pooling and normalization in ``_nn_conv``, ``_nn_pool`` and ``_nn_norm`` (re-exported)."""

from __future__ import annotations

import importlib
import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._errors import OpError
from mycelia._types import TensorType
from mycelia.ops import _dispatch
from mycelia.ops._define import FLOATS, INTEGERS
from mycelia.ops._nn_conv import conv1d, conv2d, conv_backward_input, conv_backward_weight, conv_transpose2d
from mycelia.ops._nn_norm import batch_norm, group_norm, layer_norm
from mycelia.ops._nn_pool import (
    adaptive_avg_pool2d,
    avg_pool2d,
    avg_pool2d_backward,
    max_pool2d,
    max_pool2d_backward,
)
from mycelia.ops._nn_util import (
    check_float,
    constant,
    expect_rank,
    int_tuple,
    require_tensor,
    sample_array,
    shape_text,
)
from mycelia.ops._registry import OpDef, Sample, register_op

__all__ = [
    "adaptive_avg_pool2d",
    "avg_pool2d",
    "avg_pool2d_backward",
    "batch_norm",
    "conv1d",
    "conv2d",
    "conv_backward_input",
    "conv_backward_weight",
    "conv_transpose2d",
    "dropout",
    "embedding",
    "group_norm",
    "interpolate",
    "interpolate_backward",
    "layer_norm",
    "max_pool2d",
    "max_pool2d_backward",
]

_EXPLICIT_SEED = 1 << 64


# -- dropout --------------------------------------------------------------------------------------
_fallback_offset = 0


def _random_attrs(seed: Any) -> tuple[int, int]:
    """``(seed, offset)`` from the global random stream (``mycelia._random_state.next_seed``), so dropout
    shares it with the random ops; an explicit ``seed`` gives the fixed key ``seed + 2**64``, offset 0."""
    try:
        next_seed = importlib.import_module("mycelia._random_state").next_seed
    except (ImportError, AttributeError):
        next_seed = None
    if next_seed is not None:
        return tuple(next_seed(seed, op="dropout"))  # type: ignore[return-value]
    global _fallback_offset
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < _EXPLICIT_SEED:
            raise OpError("dropout", f"seed must be a non-negative int below 2**64, got {seed!r}")
        return seed | _EXPLICIT_SEED, 0
    _fallback_offset += 1
    return 0, _fallback_offset - 1


def _philox_words(count: int, seed: int, offset: int) -> np.ndarray:
    """Raw 64-bit words of the stream (seed, offset), as specified in ``mycelia.ops._random_spec``."""
    try:
        spec = importlib.import_module("mycelia.ops._random_spec")
        return np.array(spec.philox_words(count, seed, offset), dtype=np.uint64)
    except (ImportError, AttributeError):
        return np.random.Philox(key=seed, counter=offset << 192).random_raw(count)  # type: ignore[no-any-return]


def _dropout_infer(x: TensorType, *, p: float, seed: int, offset: int) -> TensorType:
    return TensorType(x.dtype, x.shape)


def _dropout_reference(x: np.ndarray, p: float = 0.5, training: bool = True, seed: int | None = None) -> np.ndarray:
    if not training:
        return x
    assert seed is not None, "dropout samples give an explicit seed"
    words = _philox_words(x.size, seed + _EXPLICIT_SEED, 0)
    uniform = np.array([int(w) >> 11 for w in words], dtype=np.float64) * 2.0 ** -53
    keep = (uniform >= p).reshape(x.shape)
    return np.zeros(x.shape) if p == 1 else x * keep / (1.0 - p)


def _dropout_samples(dtype: dt.DType) -> Iterable[Sample]:
    rng = np.random.default_rng(10)
    return [
        Sample((sample_array((4, 5), dtype, rng),), {"p": 0.3, "seed": 11}),
        Sample((sample_array((2, 3, 4), dtype, rng),), {"p": 0.5, "seed": 12}),
        Sample((sample_array((3,), dtype, rng),), {"p": 0.0, "seed": 13}, note="p=0"),
        Sample((sample_array((2, 2), dtype, rng),), {"p": 1.0, "seed": 14}, note="p=1"),
        Sample((sample_array((), dtype, rng),), {"p": 0.2, "seed": 15}, note="0-d"),
        Sample((sample_array((0, 3), dtype, rng),), {"p": 0.2, "seed": 16}, note="empty"),
        Sample((sample_array((2, 3), dtype, rng),), {"p": 0.6, "training": False}, note="inference"),
    ]


def _dropout_vjp(ctx: Any, grad: Any) -> tuple[Any]:
    # linear in the input with the mask of the recorded (seed, offset): the same op applied to the gradient
    return (_dispatch.apply(_DROPOUT, (grad,), ctx.attrs),)


_DROPOUT = register_op(OpDef(
    name="dropout", group="nn", inputs=("input",), infer=_dropout_infer, reference=_dropout_reference,
    attrs=(("p", 0.5), ("seed", 0), ("offset", 0)), dtypes=FLOATS, samples=_dropout_samples, vjp=_dropout_vjp,
    doc="Dropout: element i is zeroed where u_i < p and scaled by 1 / (1 - p) otherwise; u_i = (w_i >> 11) * "
        "2**-53 with w_i the i-th word of the Philox stream (seed, offset) of mycelia.ops._random_spec."))


def dropout(input: Any, p: float = 0.5, training: bool = True, seed: int | None = None) -> Any:
    """Dropout (MindSpore ``ops.dropout``): zero each element with probability ``p`` and scale the rest by
    ``1 / (1 - p)``; returns ``input`` itself when ``training`` is False. The mask comes from the global
    random stream (``mycelia.set_seed``), or from ``seed`` alone when given."""
    op = "dropout"
    x = require_tensor(op, "input", input)
    probability = check_float(op, "p", p, minimum=0.0, maximum=1.0)
    if not isinstance(training, (bool, np.bool_)):
        raise OpError(op, f"training must be a bool, got {type(training).__name__}")
    if not training:
        return x
    _dispatch.kernel_for(_DROPOUT, x._backend)  # a backend that refuses to draw does so before the stream moves
    key, offset = _random_attrs(seed)
    return _dispatch.apply(_DROPOUT, (x,), {"p": probability, "seed": key, "offset": offset})


# -- embedding ------------------------------------------------------------------------------------
def _embedding_infer(indices: TensorType, weight: TensorType, *, max_norm: float | None, norm_type: float,
                     padding_idx: int | None, scale_grad_by_freq: bool) -> Any:
    op = "embedding"
    if not indices.dtype.is_integer:
        raise OpError(op, f"input must hold integer indices (int32 or int64), got {indices.dtype}")
    expect_rank(op, "weight", weight, (2,), "(num_embeddings, embedding_dim)")
    if max_norm is not None and not weight.dtype.is_floating_point:
        raise OpError(op, f"max_norm needs a floating-point weight, got {weight.dtype}")
    out = TensorType(weight.dtype, (*indices.shape, weight.shape[1]))
    return (out, TensorType(weight.dtype, weight.shape)) if max_norm is not None else out


def _embedding_reference(indices: np.ndarray, weight: np.ndarray, padding_idx: int | None = None,
                         max_norm: float | None = None, norm_type: float = 2.0,
                         scale_grad_by_freq: bool = False) -> np.ndarray:
    weight = weight.copy()
    if max_norm is not None:
        for row in set(indices.reshape(-1).tolist()):
            norm = np.sum(np.abs(weight[row]) ** norm_type) ** (1.0 / norm_type)
            if norm > max_norm:
                weight[row] = weight[row] * (max_norm / (norm + 1e-7))
    out = np.zeros((*indices.shape, weight.shape[1]), dtype=weight.dtype)
    for position in np.ndindex(*indices.shape):
        out[position] = weight[indices[position]]
    return out


def _embedding_samples(dtype: dt.DType) -> Iterable[Sample]:
    # padding_idx, scale_grad_by_freq and max_norm define the gradient differently from the derivative (as
    # MindSpore): the float64 samples (the finite-difference gradient check) avoid the padding row, repeated
    # indices and rows above max_norm; test_grad_nn_loss checks those conventions.
    rng = np.random.default_rng(11)
    exact = dtype is dt.float64
    cases = [
        Sample((rng.integers(0, 5, (2, 3)), sample_array((5, 4), dtype, rng))),
        Sample((rng.integers(1, 6, (4,)).astype(np.int32), sample_array((6, 3), dtype, rng)), {"padding_idx": 0}),
        Sample((np.array(2), sample_array((4, 2), dtype, rng)), note="0-d index"),
        Sample((np.zeros((0,), dtype=np.int64), sample_array((3, 2), dtype, rng)), note="empty"),
        Sample((rng.integers(0, 4, (2, 2, 2)), sample_array((5, 3), dtype, rng)), {"padding_idx": -1}),
        Sample((np.array([[0, 2, 3]]) if exact else np.array([[0, 1, 3], [3, 3, 1]]), sample_array((4, 3), dtype, rng)),
               {"padding_idx": 1, "scale_grad_by_freq": True}, note="gradient options"),
    ]
    if dtype.is_floating_point:
        cases.append(Sample((rng.integers(0, 5, (2, 3)), sample_array((5, 4), dtype, rng)),
                            {"max_norm": 9.0 if exact else 1.0}, note="max_norm (not reached in float64)"))
        cases.append(Sample((rng.integers(0, 5, (3,)), sample_array((5, 4), dtype, rng)),
                            {"max_norm": 9.0 if exact else 1.5, "norm_type": 1.0}, note="max_norm, L1"))
    return cases


def _embedding_vjp(ctx: Any, grad: Any) -> tuple[None, Any]:
    """Rows of the gradient summed into the looked-up weight rows (none into padding_idx; divided by each
    index's count with scale_grad_by_freq). With max_norm, the gradient is taken at the renormalized weight
    (the value the weight holds after the call), as MindSpore: the in-place renormalization is not differentiated."""
    from mycelia import ops

    indices, weight = ctx.inputs
    if isinstance(grad, tuple):
        grad = grad[0]
    if grad is None:
        return None, None
    padding_idx = ctx.attrs["padding_idx"]
    if padding_idx is not None:
        grad = grad * ops.expand_dims(ops.cast(ops.not_equal(indices, padding_idx), grad.dtype), -1)
    if ctx.attrs["scale_grad_by_freq"]:
        ones = ops.ones_like(indices, dtype=grad.dtype)
        counts = ops.scatter_add(constant(grad, np.zeros(weight.shape[0])), indices, ones)
        grad = grad / ops.expand_dims(ops.gather(counts, indices, 0), -1)
    return None, ops.scatter_add(constant(grad, np.zeros(weight.shape)), indices, grad)


_EMBEDDING = register_op(OpDef(
    name="embedding", group="nn", inputs=("input", "weight"), infer=_embedding_infer, updated_in_place=(1,),
    reference=_embedding_reference,
    attrs=(("max_norm", None), ("norm_type", 2.0), ("padding_idx", None), ("scale_grad_by_freq", False)),
    dtypes=FLOATS | INTEGERS, promote=(1,), samples=_embedding_samples, vjp=_embedding_vjp,
    doc="Rows of weight selected by integer indices; with max_norm, the selected rows whose norm exceeds it "
        "are first rescaled to max_norm / (norm + 1e-7) (the op's second output is the renormalized weight). "
        "padding_idx and scale_grad_by_freq only change the gradient."))


def embedding(input: Any, weight: Any, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False) -> Any:
    """Embedding lookup (MindSpore ``ops.embedding``): ``weight[input]``, shape ``(*input.shape, dim)``.

    ``max_norm``: the looked-up rows with a ``norm_type``-norm above it are renormalized in ``weight`` in place
    (as MindSpore). ``padding_idx``: that row gets no gradient; ``scale_grad_by_freq``: each looked-up row's
    gradient is divided by how often its index occurs in ``input``.
    """
    op = "embedding"
    indices = require_tensor(op, "input", input)
    table = require_tensor(op, "weight", weight)
    rows = table.shape[0] if table.ndim == 2 else 0
    if padding_idx is not None and (isinstance(padding_idx, bool) or not isinstance(padding_idx, (int, np.integer))
                                    or not -rows <= padding_idx < rows):
        raise OpError(op, f"padding_idx must be an int in [{-rows}, {rows}), got {padding_idx!r}")
    attrs = {"max_norm": None if max_norm is None else check_float(op, "max_norm", max_norm, minimum=0.0),
             "norm_type": check_float(op, "norm_type", norm_type, minimum=0.0, open_minimum=True),
             "padding_idx": None if padding_idx is None else int(padding_idx) % rows,
             "scale_grad_by_freq": bool(scale_grad_by_freq)}
    if max_norm is None:
        return _dispatch.apply(_EMBEDDING, (indices, table), attrs)
    out, renormed = _dispatch.apply(_EMBEDDING, (indices, table), attrs)
    table._data = renormed._data
    return out


# -- interpolate ----------------------------------------------------------------------------------
_MODES = {"nearest": (1, 2, 3), "linear": (1,), "bilinear": (2,)}


def _interpolate_infer(x: TensorType, *, size: tuple[int, ...], mode: str, align_corners: bool,
                       scales: tuple[float | None, ...]) -> TensorType:
    if x.rank != len(size) + 2:
        raise OpError("interpolate", f"input shape {shape_text(x.shape)} does not have {len(size)} spatial dims")
    return TensorType(x.dtype, (*x.shape[:2], *size))


def _nearest_index(in_size: int, out_size: int, scale: float | None) -> list[int]:
    step = in_size / out_size if scale is None else scale
    return [min(math.floor(i * step), in_size - 1) for i in range(out_size)]


def _linear_source(in_size: int, out_size: int, align_corners: bool, scale: float | None) -> list[float]:
    if align_corners:
        return [i * (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0 for i in range(out_size)]
    step = in_size / out_size if scale is None else scale
    return [max((i + 0.5) * step - 0.5, 0.0) for i in range(out_size)]


def _interpolate_reference(x: np.ndarray, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                           align_corners: bool | None = None, recompute_scale_factor: bool | None = None) -> np.ndarray:
    nd = x.ndim - 2
    spatial = x.shape[2:]
    if size is not None:
        out_sizes = [size] * nd if isinstance(size, int) else list(size)
        scales: list[float | None] = [None] * nd
    else:
        factors = [scale_factor] * nd if isinstance(scale_factor, (int, float)) else list(scale_factor)
        out_sizes = [math.floor(n * f) for n, f in zip(spatial, factors)]
        scales = [None] * nd if recompute_scale_factor else [1.0 / f for f in factors]
    out = np.zeros((*x.shape[:2], *out_sizes))
    if mode == "nearest":
        index = [_nearest_index(n, o, s) for n, o, s in zip(spatial, out_sizes, scales)]
        for position in np.ndindex(*out_sizes):
            source: tuple[Any, ...] = (Ellipsis, *(index[d][position[d]] for d in range(nd)))
            target: tuple[Any, ...] = (Ellipsis, *position)
            out[target] = x[source]
        return out
    sources = [_linear_source(n, o, bool(align_corners), s) for n, o, s in zip(spatial, out_sizes, scales)]
    for position in np.ndindex(*out_sizes):
        value = np.zeros(x.shape[:2])
        corners: list[list[tuple[int, float]]] = []
        for d in range(nd):
            src = sources[d][position[d]]
            low = min(math.floor(src), spatial[d] - 1)
            high = min(low + 1, spatial[d] - 1)
            frac = src - low
            corners.append([(low, 1.0 - frac), (high, frac)])
        for combination in np.ndindex(*([2] * nd)):
            weight = 1.0
            corner: list[int] = []
            for d, choice in enumerate(combination):
                weight *= corners[d][choice][1]
                corner.append(corners[d][choice][0])
            where: tuple[Any, ...] = (Ellipsis, *corner)
            value = value + weight * x[where]
        destination: tuple[Any, ...] = (Ellipsis, *position)
        out[destination] = value
    return out


def _interpolate_samples(dtype: dt.DType) -> Iterable[Sample]:
    rng = np.random.default_rng(12)

    def a(*shape: int) -> np.ndarray:
        return sample_array(shape, dtype, rng)

    return [
        Sample((a(1, 2, 3, 4),), {"size": (5, 7)}),
        Sample((a(2, 1, 4, 4),), {"scale_factor": 2.0}),
        Sample((a(1, 2, 5, 6),), {"scale_factor": (0.5, 1.5)}),
        Sample((a(1, 2, 5, 6),), {"scale_factor": 1.7, "recompute_scale_factor": True}),
        Sample((a(1, 2, 3, 4),), {"size": (5, 7), "mode": "bilinear"}),
        Sample((a(1, 2, 3, 4),), {"size": (5, 7), "mode": "bilinear", "align_corners": True}),
        Sample((a(1, 2, 5, 6),), {"scale_factor": (0.5, 1.5), "mode": "bilinear"}),
        Sample((a(1, 2, 5, 6),), {"scale_factor": 1.7, "mode": "bilinear", "recompute_scale_factor": True}),
        Sample((a(1, 1, 1, 3),), {"size": (3, 1), "mode": "bilinear", "align_corners": True}, note="size-1 dims"),
        Sample((a(2, 3, 5),), {"size": 8, "mode": "linear"}),
        Sample((a(2, 3, 5),), {"scale_factor": 0.6, "mode": "linear", "align_corners": True}),
        Sample((a(2, 3, 5),), {"size": 3}, note="nearest 1-D"),
        Sample((a(1, 1, 2, 3, 2),), {"scale_factor": 2}, note="nearest 3-D"),
        Sample((a(0, 2, 3, 3),), {"size": 4, "mode": "bilinear"}, note="empty batch"),
    ]


def _interpolate_vjp(ctx: Any, grad: Any) -> tuple[Any]:
    attrs = {"input_size": tuple(ctx.inputs[0].shape[2:]), "mode": ctx.attrs["mode"],
             "align_corners": ctx.attrs["align_corners"], "scales": ctx.attrs["scales"]}
    return (_dispatch.apply(_INTERPOLATE_BACKWARD, (grad,), attrs),)


_INTERPOLATE = register_op(OpDef(
    name="interpolate", group="nn", inputs=("input",), infer=_interpolate_infer, reference=_interpolate_reference,
    attrs=(("size", ()), ("mode", "nearest"), ("align_corners", False), ("scales", ())), dtypes=FLOATS,
    samples=_interpolate_samples, vjp=_interpolate_vjp,
    doc="Resize the spatial dims: 'nearest' (src = floor(dst * scale)), 'linear' / 'bilinear' (half-pixel "
        "centres, or align_corners). scale = 1 / scale_factor when given (and not recomputed), else in / out."))


def interpolate(input: Any, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None) -> Any:
    """Resize (MindSpore ``ops.interpolate``) an (N, C, *spatial) tensor to ``size`` or by ``scale_factor``.

    Modes: ``"nearest"`` (1-3 spatial dims), ``"linear"`` (1), ``"bilinear"`` (2). With ``scale_factor`` the
    output size is ``floor(in * scale_factor)`` and coordinates map with ``1 / scale_factor`` unless
    ``recompute_scale_factor`` (then ``in / out``, as for ``size``).
    """
    op = "interpolate"
    x = require_tensor(op, "input", input)
    if mode not in _MODES:
        raise OpError(op, f"mode must be one of {', '.join(repr(m) for m in _MODES)}, got {mode!r}")
    nd = x.ndim - 2
    if nd not in _MODES[mode]:
        accepted = " or ".join(f"{n + 2}-D" for n in _MODES[mode])
        raise OpError(op, f"mode {mode!r} needs a {accepted} input, got shape {shape_text(x.shape)}")
    if align_corners is not None and mode == "nearest":
        raise OpError(op, "align_corners can only be set with the 'linear' and 'bilinear' modes")
    if (size is None) == (scale_factor is None):
        raise OpError(op, "give exactly one of size and scale_factor")
    spatial = x.shape[2:]
    if min(spatial, default=1) < 1:
        raise OpError(op, f"input spatial dims must be non-empty, got shape {shape_text(x.shape)}")
    if size is not None:
        if recompute_scale_factor:
            raise OpError(op, "recompute_scale_factor is meaningless with an explicit size")
        sizes = int_tuple(op, "size", size, nd, minimum=1)
        scales: tuple[float | None, ...] = (None,) * nd
    else:
        items = scale_factor if isinstance(scale_factor, (tuple, list)) else [scale_factor] * nd
        if len(items) != nd:
            raise OpError(op, f"scale_factor must be a number or a tuple of {nd}, got {scale_factor!r}")
        factors = [check_float(op, "scale_factor", f, minimum=0.0, open_minimum=True) for f in items]
        sizes = tuple(math.floor(n * f) for n, f in zip(spatial, factors))
        if min(sizes, default=1) < 1:
            raise OpError(op, f"scale_factor {scale_factor!r} gives an empty output for input shape "
                              f"{shape_text(x.shape)}")
        scales = (None,) * nd if recompute_scale_factor else tuple(1.0 / f for f in factors)
    attrs = {"size": sizes, "mode": mode, "align_corners": bool(align_corners), "scales": scales}
    return _dispatch.apply(_INTERPOLATE, (x,), attrs)


# -- interpolate_backward -------------------------------------------------------------------------
def _interpolate_backward_infer(g: TensorType, *, input_size: tuple[int, ...], mode: str, align_corners: bool,
                                scales: tuple[float | None, ...]) -> TensorType:
    op = "interpolate_backward"
    if g.rank != len(input_size) + 2 or len(scales) != len(input_size):
        raise OpError(op, f"grad_output shape {shape_text(g.shape)} must have {len(input_size)} spatial dims "
                          f"(input_size {list(input_size)}, scales {list(scales)})")
    return TensorType(g.dtype, (*g.shape[:2], *input_size))


def _resize_matrix(in_size: int, out_size: int, mode: str, align_corners: bool, scale: float | None) -> np.ndarray:
    """(out_size, in_size): row i holds the weights interpolate gives the input positions for output i."""
    matrix = np.zeros((out_size, in_size))
    if mode == "nearest":
        for i, j in enumerate(_nearest_index(in_size, out_size, scale)):
            matrix[i, j] = 1.0
        return matrix
    for i, src in enumerate(_linear_source(in_size, out_size, align_corners, scale)):
        low = min(math.floor(src), in_size - 1)
        matrix[i, low] += 1.0 - (src - low)
        matrix[i, min(low + 1, in_size - 1)] += src - low
    return matrix


def _interpolate_backward_reference(g: np.ndarray, input_size: Any, mode: str = "nearest",
                                    align_corners: bool | None = None, scales: Any = None) -> np.ndarray:
    sizes = [input_size] if isinstance(input_size, int) else list(input_size)
    factors = [None] * len(sizes) if scales is None else list(scales)
    out = g
    for axis, (n, s) in enumerate(zip(sizes, factors)):
        matrix = _resize_matrix(n, g.shape[2 + axis], mode, bool(align_corners), s)
        out = np.moveaxis(np.tensordot(out, matrix, axes=([2 + axis], [0])), -1, 2 + axis)
    return out


def _interpolate_backward_samples(dtype: dt.DType) -> Iterable[Sample]:
    rng = np.random.default_rng(13)

    def a(*shape: int) -> np.ndarray:
        return sample_array(shape, dtype, rng)

    return [
        Sample((a(1, 2, 5, 7),), {"input_size": (3, 4)}),
        Sample((a(1, 2, 2, 9),), {"input_size": (5, 6), "scales": (2.0, 1 / 1.5)}, note="nearest, scales"),
        Sample((a(1, 2, 5, 7),), {"input_size": (3, 4), "mode": "bilinear"}),
        Sample((a(1, 2, 5, 7),), {"input_size": (3, 4), "mode": "bilinear", "align_corners": True}),
        Sample((a(1, 2, 2, 9),), {"input_size": (5, 6), "mode": "bilinear", "scales": (2.0, 1 / 1.5)},
               note="downsampling rows"),
        Sample((a(1, 1, 3, 1),), {"input_size": (1, 3), "mode": "bilinear", "align_corners": True}, note="size-1"),
        Sample((a(2, 3, 8),), {"input_size": 5, "mode": "linear"}),
        Sample((a(2, 3, 3),), {"input_size": (5,), "mode": "linear", "align_corners": True}),
        Sample((a(1, 1, 4, 6, 4),), {"input_size": (2, 3, 2)}, note="nearest 3-D"),
        Sample((a(0, 2, 4, 4),), {"input_size": (3, 3), "mode": "bilinear"}, note="empty batch"),
    ]


def _interpolate_backward_vjp(ctx: Any, grad: Any) -> tuple[Any]:
    attrs = {"size": tuple(ctx.inputs[0].shape[2:]), "mode": ctx.attrs["mode"],
             "align_corners": ctx.attrs["align_corners"], "scales": ctx.attrs["scales"]}
    return (_dispatch.apply(_INTERPOLATE, (grad,), attrs),)


_INTERPOLATE_BACKWARD = register_op(OpDef(
    name="interpolate_backward", group="nn", inputs=("grad_output",), infer=_interpolate_backward_infer,
    reference=_interpolate_backward_reference,
    attrs=(("input_size", ()), ("mode", "nearest"), ("align_corners", False), ("scales", ())), dtypes=FLOATS,
    samples=_interpolate_backward_samples, vjp=_interpolate_backward_vjp,
    doc="Gradient of interpolate (its adjoint): each output gradient is added to the input positions it was "
        "interpolated from, times their weights; the output size is grad_output's."))


def interpolate_backward(grad_output: Any, input_size: Any, mode: str = "nearest", align_corners: bool | None = None,
                         scales: Any = None) -> Any:
    """Gradient of ``interpolate`` (a mycelia extension, used by autograd) for an input of spatial size
    ``input_size``; ``scales`` are the coordinate scales per dim (``1 / scale_factor``, None: in / out)."""
    op = "interpolate_backward"
    g = require_tensor(op, "grad_output", grad_output)
    if mode not in _MODES or g.ndim - 2 not in _MODES[mode]:
        raise OpError(op, f"mode {mode!r} with grad_output shape {shape_text(g.shape)} is not supported")
    nd = g.ndim - 2
    sizes = int_tuple(op, "input_size", input_size, nd, minimum=1)
    items = (None,) * nd if scales is None else tuple(scales)
    if len(items) != nd:
        raise OpError(op, f"scales must have {nd} entries, got {scales!r}")
    factors = tuple(None if f is None else check_float(op, "scales", f, minimum=0.0, open_minimum=True) for f in items)
    attrs = {"input_size": sizes, "mode": mode, "align_corners": bool(align_corners), "scales": factors}
    return _dispatch.apply(_INTERPOLATE_BACKWARD, (g,), attrs)
