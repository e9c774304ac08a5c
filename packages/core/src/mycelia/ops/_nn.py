"""nn op declarations: dropout, embedding, interpolate here; convolutions, pooling and normalization in
``_nn_conv``, ``_nn_pool`` and ``_nn_norm`` (re-exported)."""

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
from mycelia.ops._nn_conv import conv1d, conv2d, conv_transpose2d
from mycelia.ops._nn_norm import batch_norm, group_norm, layer_norm
from mycelia.ops._nn_pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from mycelia.ops._nn_util import check_float, expect_rank, int_tuple, require_tensor, sample_array, shape_text
from mycelia.ops._registry import OpDef, Sample, register_op

__all__ = [
    "adaptive_avg_pool2d",
    "avg_pool2d",
    "batch_norm",
    "conv1d",
    "conv2d",
    "conv_transpose2d",
    "dropout",
    "embedding",
    "group_norm",
    "interpolate",
    "layer_norm",
    "max_pool2d",
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


_DROPOUT = register_op(OpDef(
    name="dropout", group="nn", inputs=("input",), infer=_dropout_infer, reference=_dropout_reference,
    attrs=(("p", 0.5), ("seed", 0), ("offset", 0)), dtypes=FLOATS, samples=_dropout_samples,
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
    key, offset = _random_attrs(seed)
    return _dispatch.apply(_DROPOUT, (x,), {"p": probability, "seed": key, "offset": offset})


# -- embedding ------------------------------------------------------------------------------------
def _embedding_infer(indices: TensorType, weight: TensorType, *, max_norm: float | None, norm_type: float) -> Any:
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
    rng = np.random.default_rng(11)
    cases = [
        Sample((rng.integers(0, 5, (2, 3)), sample_array((5, 4), dtype, rng))),
        Sample((rng.integers(0, 6, (4,)).astype(np.int32), sample_array((6, 3), dtype, rng)), {"padding_idx": 0}),
        Sample((np.array(2), sample_array((4, 2), dtype, rng)), note="0-d index"),
        Sample((np.zeros((0,), dtype=np.int64), sample_array((3, 2), dtype, rng)), note="empty"),
        Sample((rng.integers(0, 5, (2, 2, 2)), sample_array((5, 3), dtype, rng)), {"padding_idx": -1}),
    ]
    if dtype.is_floating_point:
        cases.append(Sample((rng.integers(0, 5, (2, 3)), sample_array((5, 4), dtype, rng)), {"max_norm": 1.0}))
        cases.append(Sample((rng.integers(0, 5, (3,)), sample_array((5, 4), dtype, rng)),
                            {"max_norm": 1.5, "norm_type": 1.0}, note="max_norm, L1"))
    return cases


_EMBEDDING = register_op(OpDef(
    name="embedding", group="nn", inputs=("input", "weight"), infer=_embedding_infer,
    reference=_embedding_reference, attrs=(("max_norm", None), ("norm_type", 2.0)), dtypes=FLOATS | INTEGERS,
    promote=(1,), samples=_embedding_samples,
    doc="Rows of weight selected by integer indices; with max_norm, the selected rows whose norm exceeds it "
        "are first rescaled to max_norm / (norm + 1e-7) (the op's second output is the renormalized weight)."))


def embedding(input: Any, weight: Any, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False) -> Any:
    """Embedding lookup (MindSpore ``ops.embedding``): ``weight[input]``, shape ``(*input.shape, dim)``.

    ``max_norm``: the looked-up rows with a ``norm_type``-norm above it are renormalized in ``weight`` in place
    (as MindSpore). ``padding_idx`` and ``scale_grad_by_freq`` only affect gradients (autograd issue).
    """
    op = "embedding"
    indices = require_tensor(op, "input", input)
    table = require_tensor(op, "weight", weight)
    rows = table.shape[0] if table.ndim == 2 else 0
    if padding_idx is not None and (isinstance(padding_idx, bool) or not isinstance(padding_idx, (int, np.integer))
                                    or not -rows <= padding_idx < rows):
        raise OpError(op, f"padding_idx must be an int in [{-rows}, {rows}), got {padding_idx!r}")
    attrs = {"max_norm": None if max_norm is None else check_float(op, "max_norm", max_norm, minimum=0.0),
             "norm_type": check_float(op, "norm_type", norm_type, minimum=0.0, open_minimum=True)}
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


_INTERPOLATE = register_op(OpDef(
    name="interpolate", group="nn", inputs=("input",), infer=_interpolate_infer, reference=_interpolate_reference,
    attrs=(("size", ()), ("mode", "nearest"), ("align_corners", False), ("scales", ())), dtypes=FLOATS,
    samples=_interpolate_samples,
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
