"""Reduction ops with MindSpore 2.x names and signatures (numpy references are the spec).

Conventions shared by the family (see ``_reduction_common``):

* an axis argument is None, an int, or a tuple/list of ints; negative axes count from the end;
  ``None`` and ``()`` both reduce every axis (MindSpore's reduce-op convention);
* ``sum``/``prod``/``cumsum`` keep the input dtype (integers are not widened, as MindSpore's
  ReduceSum/ReduceProd), except that bool gives int64; ``dtype=`` casts before reducing;
* ``mean``/``std``/``var``/``logsumexp``/``norm`` give float32 for integer and bool inputs;
* float16/bfloat16 inputs are accumulated in float32 by the CPU kernels;
* reducing a 0-size axis: ``sum`` gives 0, ``prod`` 1, ``all`` True, ``any`` False, ``mean`` NaN,
  ``logsumexp`` -inf; ``max``/``min``/``amax``/``amin``/``argmax``/``argmin`` raise an OpError
  (``amax``/``amin`` accept ``initial=`` for it).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._errors import OpError
from mycelia._tensor import Tensor
from mycelia._types import TensorType
from mycelia.ops import _dispatch
from mycelia.ops._define import ALL, NUMERIC, random_array
from mycelia.ops._reduction_common import (
    amax_vjp,
    axes_attr,
    check_bool,
    check_dtype_attr,
    extreme_vjp,
    float_result,
    logsumexp_vjp,
    mean_vjp,
    prod_vjp,
    reduce_samples,
    reduce_shape,
    single_axis,
    sum_result,
    sum_vjp,
)
from mycelia.ops._reduction_stats import cumprod, cumsum, norm, std, var
from mycelia.ops._registry import OpDef, Sample, register_op
from mycelia.ops._shapes import broadcast_shapes

__all__ = ["all", "amax", "amin", "any", "argmax", "argmin", "cumprod", "cumsum", "logsumexp", "max", "mean",
           "min", "norm", "prod", "std", "sum", "var"]


def _ref_axis(axis: Any) -> Any:
    if isinstance(axis, list):
        axis = tuple(axis)
    return None if axis == () else axis


def _alias(op: str, value: Any, alias: Any, names: str) -> Any:
    """Tensor-method spellings (``axis=``/``keepdims=``) accepted beside the ops spelling."""
    if alias is None:
        return value
    if value is not None and value is not False:
        raise OpError(op, f"got both {names}; give one")
    return alias


# -- sum / prod -------------------------------------------------------------------------------
def _accumulate_infer(name: str) -> Any:
    def infer(x: TensorType, *, axis: tuple[int, ...] | None, keepdims: bool, dtype: dt.DType | None) -> TensorType:
        return TensorType(sum_result(x.dtype, dtype), reduce_shape(name, x.shape, axis, keepdims))

    return infer


def _accumulate_reference(function: Any, x: np.ndarray, axis: Any, keepdims: bool, dtype: dt.DType | None) -> Any:
    if dtype is not None and not dtype.is_floating_point:
        x = x.astype(dtype.numpy)
    return function(x, axis=_ref_axis(axis), keepdims=keepdims)


def _sum_reference(input: np.ndarray, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Any:
    return _accumulate_reference(np.sum, input, dim, keepdim, dtype)


def _prod_reference(input: np.ndarray, axis: Any = None, keep_dims: bool = False, dtype: Any = None) -> Any:
    return _accumulate_reference(np.prod, input, axis, keep_dims, dtype)


def _accumulate_samples(name: str, names: tuple[str, str], domain: tuple[float, float] | None) -> Any:
    def samples(dtype: dt.DType) -> Iterable[Sample]:
        span = domain if dtype.is_floating_point else None  # integers: small values of both signs
        cases = [Sample((x, ), attrs) for x, attrs in reduce_samples(dtype, len(name), names=names, domain=span)]
        rng = np.random.default_rng(1)
        # float64 keeps its precision (a float32 result could not be checked by finite differences)
        target = dt.float64 if dtype is dt.float64 else dt.float32
        cases.append(Sample((random_array((3, 4), dtype, rng, span),),
                            {names[0]: 1, names[1]: False, "dtype": target}, note=f"dtype={target}"))
        if name == "prod":  # zeros: one in row 0 (and in the whole), two in row 1
            x = random_array((3, 4), dtype, rng, span)
            x[0, 2] = x[1, 0] = x[1, 3] = 0
            cases.append(Sample((x,), {"axis": 1, "keep_dims": False}, note="zeros"))
            cases.append(Sample((x[0],), {}, note="one zero"))
        return cases

    return samples


_SUM = register_op(OpDef(
    name="sum", group="reduction", inputs=("input",), infer=_accumulate_infer("sum"), reference=_sum_reference,
    attrs=(("axis", None), ("keepdims", False), ("dtype", None)), dtypes=ALL,
    samples=_accumulate_samples("sum", ("dim", "keepdim"), None), method="sum", vjp=sum_vjp,
    doc="Sum over ``dim`` (None: all). Integers keep their dtype, bool gives int64; ``dtype`` casts first."))

_PROD = register_op(OpDef(
    name="prod", group="reduction", inputs=("input",), infer=_accumulate_infer("prod"), reference=_prod_reference,
    attrs=(("axis", None), ("keepdims", False), ("dtype", None)), dtypes=ALL,
    samples=_accumulate_samples("prod", ("axis", "keep_dims"), (0.5, 1.5)), method="prod", vjp=prod_vjp,
    doc="Product over ``axis`` (None: all). Integers keep their dtype, bool gives int64; ``dtype`` casts first."))


def sum(input: Any, dim: Any = None, keepdim: Any = False, *, dtype: Any = None, axis: Any = None,
        keepdims: Any = None) -> Any:
    """``mindspore.ops.sum(input, dim=None, keepdim=False, *, dtype=None)``.

    ``axis=``/``keepdims=`` (the ``Tensor.sum`` spelling) are accepted too, and so is the
    ``Tensor.sum(axis, dtype)`` positional form."""
    dim = _alias("sum", dim, axis, "dim and axis")
    keepdim = _alias("sum", keepdim, keepdims, "keepdim and keepdims")
    if isinstance(keepdim, dt.DType) and dtype is None:
        dtype, keepdim = keepdim, False
    return _dispatch.apply(_SUM, (input,), {"axis": axes_attr("sum", dim, "dim"),
                                            "keepdims": check_bool("sum", "keepdim", keepdim),
                                            "dtype": check_dtype_attr("sum", dtype)})


def prod(input: Any, axis: Any = None, keep_dims: Any = False, dtype: Any = None) -> Any:
    """``mindspore.ops.prod(input, axis=None, keep_dims=False, dtype=None)``."""
    return _dispatch.apply(_PROD, (input,), {"axis": axes_attr("prod", axis),
                                             "keepdims": check_bool("prod", "keep_dims", keep_dims),
                                             "dtype": check_dtype_attr("prod", dtype)})


# -- mean / logsumexp / all / any ---------------------------------------------------------------
def _float_infer(name: str) -> Any:
    def infer(x: TensorType, *, axis: tuple[int, ...] | None, keepdims: bool) -> TensorType:
        return TensorType(float_result(x.dtype), reduce_shape(name, x.shape, axis, keepdims))

    return infer


def _bool_infer(name: str) -> Any:
    def infer(x: TensorType, *, axis: tuple[int, ...] | None, keepdims: bool) -> TensorType:
        return TensorType(dt.bool_, reduce_shape(name, x.shape, axis, keepdims))

    return infer


def _mean_reference(x: np.ndarray, axis: Any = None, keep_dims: bool = False) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.mean(x.astype(np.float64), axis=_ref_axis(axis), keepdims=keep_dims)


def _logsumexp_reference(input: np.ndarray, axis: Any, keep_dims: bool = False) -> Any:
    with np.errstate(divide="ignore"):
        return np.log(np.sum(np.exp(input.astype(np.float64)), axis=_ref_axis(axis), keepdims=keep_dims))


def _all_reference(input: np.ndarray, axis: Any = None, keep_dims: bool = False) -> Any:
    return np.all(input, axis=_ref_axis(axis), keepdims=keep_dims)


def _any_reference(input: np.ndarray, axis: Any = None, keep_dims: bool = False) -> Any:
    return np.any(input, axis=_ref_axis(axis), keepdims=keep_dims)


def _simple_samples(name: str, names: tuple[str, str], domain: tuple[float, float] | None = None) -> Any:
    def samples(dtype: dt.DType) -> Iterable[Sample]:
        return [Sample((x,), attrs) for x, attrs in reduce_samples(dtype, len(name), names=names, domain=domain)]

    return samples


_MEAN = register_op(OpDef(
    name="mean", group="reduction", inputs=("input",), infer=_float_infer("mean"), reference=_mean_reference,
    attrs=(("axis", None), ("keepdims", False)), dtypes=ALL, samples=_simple_samples("mean", ("axis", "keep_dims")),
    method="mean", vjp=mean_vjp, doc="Mean over ``axis`` (None: all); integer and bool inputs give float32."))

_LOGSUMEXP = register_op(OpDef(
    name="logsumexp", group="reduction", inputs=("input",), infer=_float_infer("logsumexp"),
    reference=_logsumexp_reference, attrs=(("axis", None), ("keepdims", False)), dtypes=NUMERIC,
    samples=_simple_samples("logsumexp", ("axis", "keep_dims"), (-3.0, 3.0)), method="logsumexp", vjp=logsumexp_vjp,
    doc="``log(sum(exp(input)))`` over ``axis``, computed stably; integers give float32."))

_ALL = register_op(OpDef(
    name="all", group="reduction", inputs=("input",), infer=_bool_infer("all"), reference=_all_reference,
    attrs=(("axis", None), ("keepdims", False)), dtypes=ALL, samples=_simple_samples("all", ("axis", "keep_dims")),
    method="all", differentiable=False, doc="Logical AND over ``axis`` (None: all); the result is bool."))

_ANY = register_op(OpDef(
    name="any", group="reduction", inputs=("input",), infer=_bool_infer("any"), reference=_any_reference,
    attrs=(("axis", None), ("keepdims", False)), dtypes=ALL, samples=_simple_samples("any", ("axis", "keep_dims")),
    method="any", differentiable=False, doc="Logical OR over ``axis`` (None: all); the result is bool."))


def mean(x: Any, axis: Any = None, keep_dims: Any = False) -> Any:
    """``mindspore.ops.mean(x, axis=None, keep_dims=False)``."""
    return _dispatch.apply(_MEAN, (x,), {"axis": axes_attr("mean", axis),
                                         "keepdims": check_bool("mean", "keep_dims", keep_dims)})


def logsumexp(input: Any, axis: Any, keep_dims: Any = False, *, keepdims: Any = None) -> Any:
    """``mindspore.ops.logsumexp(input, axis, keep_dims=False)`` (``keepdims=``: the Tensor spelling)."""
    keep_dims = _alias("logsumexp", keep_dims, keepdims, "keep_dims and keepdims")
    return _dispatch.apply(_LOGSUMEXP, (input,), {"axis": axes_attr("logsumexp", axis),
                                                  "keepdims": check_bool("logsumexp", "keep_dims", keep_dims)})


def all(input: Any, axis: Any = None, keep_dims: Any = False) -> Any:
    """``mindspore.ops.all(input, axis=None, keep_dims=False)``."""
    return _dispatch.apply(_ALL, (input,), {"axis": axes_attr("all", axis),
                                            "keepdims": check_bool("all", "keep_dims", keep_dims)})


def any(input: Any, axis: Any = None, keep_dims: Any = False) -> Any:
    """``mindspore.ops.any(input, axis=None, keep_dims=False)``."""
    return _dispatch.apply(_ANY, (input,), {"axis": axes_attr("any", axis),
                                            "keepdims": check_bool("any", "keep_dims", keep_dims)})


# -- amax / amin / max / min ----------------------------------------------------------------------
def _check_where(op: str, x: TensorType, where: TensorType | None, initial: Any) -> None:
    if where is None:
        return
    if where.dtype is not dt.bool_:
        raise OpError(op, f"where must be a Bool tensor, got {where.dtype}")
    if initial is None:
        raise OpError(op, "where= needs initial= (the value used where the mask is False)")
    try:
        fits = broadcast_shapes(op, x.shape, where.shape) == x.shape
    except OpError:
        fits = False
    if not fits:
        raise OpError(op, f"where of shape {list(where.shape)} does not broadcast to the input shape {list(x.shape)}")


def _initial_attr(op: str, initial: Any) -> Any:
    if initial is None or isinstance(initial, (bool, int, float)):
        return initial
    if isinstance(initial, np.generic):
        return initial.item()
    raise OpError(op, f"initial must be a Python number or None, got {initial!r}")


def _where_args(op: str, where: Any) -> tuple[Any, ...]:
    if where is None or where is True:
        return ()
    if isinstance(where, Tensor):
        return (where,)
    if isinstance(where, (bool, list, tuple, np.ndarray)):
        return (Tensor(np.asarray(where, dtype=bool)),)
    raise OpError(op, f"where must be a Bool tensor or None, got {type(where).__name__}")


def _amax_infer(name: str) -> Any:
    def infer(x: TensorType, where: TensorType | None = None, *, axis: tuple[int, ...] | None, keepdims: bool,
              initial: Any) -> TensorType:
        _check_where(name, x, where, initial)
        return TensorType(x.dtype, reduce_shape(name, x.shape, axis, keepdims, nonempty=initial is None))

    return infer


def _extreme_infer(name: str) -> Any:
    def infer(x: TensorType, where: TensorType | None = None, *, axis: int | None, keepdims: bool,
              initial: Any) -> tuple[TensorType, TensorType]:
        _check_where(name, x, where, initial)
        if axis is None:  # as in MindSpore, keepdims is ignored without an axis
            reduce_shape(name, x.shape, None, False, nonempty=True)
            shape: tuple[Any, ...] = ()
        else:
            shape = reduce_shape(name, x.shape, (axis,), keepdims, nonempty=True)
        return TensorType(x.dtype, shape), TensorType(dt.int64, shape)

    return infer


def _masked(x: np.ndarray, where: np.ndarray | None, initial: Any, combine: Any) -> Any:
    if initial is None:
        return x
    values = combine(x, initial)
    return values if where is None else np.where(where, values, initial)


def _amax_reference(input: np.ndarray, where: Any = None, *, axis: Any = None, keepdims: bool = False,
                    initial: Any = None) -> Any:
    values = _masked(input, where, initial, np.maximum)
    if values.size == 0:
        return np.full(reduce_shape("amax", values.shape, axes_attr("amax", axis), keepdims), initial)
    return np.amax(values, axis=_ref_axis(axis), keepdims=keepdims)


def _amin_reference(input: np.ndarray, where: Any = None, *, axis: Any = None, keepdims: bool = False,
                    initial: Any = None) -> Any:
    values = _masked(input, where, initial, np.minimum)
    if values.size == 0:
        return np.full(reduce_shape("amin", values.shape, axes_attr("amin", axis), keepdims), initial)
    return np.amin(values, axis=_ref_axis(axis), keepdims=keepdims)


def _extreme_reference(combine: Any, pick: Any) -> Any:
    def reference(input: np.ndarray, where: Any = None, *, axis: Any = None, keepdims: bool = False,
                  initial: Any = None) -> Any:
        values = _masked(input, where, initial, combine)
        if axis is None:
            index = pick(values)
            return values.reshape(-1)[index], np.int64(index)
        index = np.expand_dims(pick(values, axis=axis), axis)
        chosen = np.take_along_axis(values, index, axis)
        return (chosen, index) if keepdims else (chosen.squeeze(axis), index.squeeze(axis))

    return reference


def _extreme_samples(name: str, with_indices: bool) -> Any:
    def samples(dtype: dt.DType) -> Iterable[Sample]:
        cases = []
        for x, attrs in reduce_samples(dtype, len(name), nonempty=True):
            axis = attrs["axis"]
            if with_indices and not (axis is None or isinstance(axis, int)):
                continue
            cases.append(Sample((x,), attrs))
        rng = np.random.default_rng(2)
        function = globals()[name]
        empty_ok = () if with_indices else ((random_array((0, 3), dtype, rng), {"axis": 0, "initial": 1}),)
        for x, attrs in empty_ok:
            cases.append(Sample((x,), attrs, note="empty with initial"))
        x, mask = random_array((3, 4), dtype, rng), rng.random((3, 4)) < 0.5
        cases.append(Sample((x, mask), {"axis": 1, "keepdims": True, "initial": 2},
                            call=lambda t, w, **a: function(t, where=w, **a), note="where + initial"))
        return cases

    return samples


_AMAX = register_op(OpDef(
    name="amax", group="reduction", inputs=("input", "where"), infer=_amax_infer("amax"), reference=_amax_reference,
    attrs=(("axis", None), ("keepdims", False), ("initial", None)), dtypes=NUMERIC,
    samples=_extreme_samples("amax", False), method="amax", vjp=amax_vjp,
    doc="Maximum over ``axis`` (None: all); ``initial`` is a lower bound, ``where`` masks elements out."))

_AMIN = register_op(OpDef(
    name="amin", group="reduction", inputs=("input", "where"), infer=_amax_infer("amin"), reference=_amin_reference,
    attrs=(("axis", None), ("keepdims", False), ("initial", None)), dtypes=NUMERIC,
    samples=_extreme_samples("amin", False), method="amin", vjp=amax_vjp,
    doc="Minimum over ``axis`` (None: all); ``initial`` is an upper bound, ``where`` masks elements out."))

# Tensor.max/Tensor.min differ from ops.max/ops.min in MindSpore (they return values unless
# return_indices=True), so their methods are the wrappers at the end of this file, not the ops.
_MAX = register_op(OpDef(
    name="max", group="reduction", inputs=("input", "where"), infer=_extreme_infer("max"),
    reference=_extreme_reference(np.maximum, np.argmax), attrs=(("axis", None), ("keepdims", False), ("initial", None)),
    dtypes=NUMERIC, samples=_extreme_samples("max", True), method=None, vjp=extreme_vjp("max"),
    doc="``(values, indices)`` of the maximum along ``axis``; indices are int64, the first maximum wins."))

_MIN = register_op(OpDef(
    name="min", group="reduction", inputs=("input", "where"), infer=_extreme_infer("min"),
    reference=_extreme_reference(np.minimum, np.argmin), attrs=(("axis", None), ("keepdims", False), ("initial", None)),
    dtypes=NUMERIC, samples=_extreme_samples("min", True), method=None, vjp=extreme_vjp("min"),
    doc="``(values, indices)`` of the minimum along ``axis``; indices are int64, the first minimum wins."))


def _extreme_call(op: OpDef, input: Any, axis: Any, keepdims: Any, initial: Any, where: Any, *, single: bool) -> Any:
    attrs = {"axis": single_axis(op.name, axis) if single else axes_attr(op.name, axis),
             "keepdims": check_bool(op.name, "keepdims", keepdims), "initial": _initial_attr(op.name, initial)}
    return _dispatch.apply(op, (input, *_where_args(op.name, where)), attrs)


def amax(input: Any, axis: Any = None, keepdims: Any = False, *, initial: Any = None, where: Any = None) -> Any:
    """``mindspore.ops.amax(input, axis=None, keepdims=False, *, initial=None, where=None)``."""
    return _extreme_call(_AMAX, input, axis, keepdims, initial, where, single=False)


def amin(input: Any, axis: Any = None, keepdims: Any = False, *, initial: Any = None, where: Any = None) -> Any:
    """``mindspore.ops.amin(input, axis=None, keepdims=False, *, initial=None, where=None)``."""
    return _extreme_call(_AMIN, input, axis, keepdims, initial, where, single=False)


def max(input: Any, axis: Any = None, keepdims: Any = False, *, initial: Any = None, where: Any = None) -> Any:
    """``mindspore.ops.max(input, axis=None, keepdims=False, *, initial=None, where=None)`` -> ``(values, indices)``.

    With ``axis=None`` the result is over all elements and ``keepdims`` is ignored, as in MindSpore;
    unlike MindSpore (which documents the index as always 0 there) the index is the flat position
    of the maximum."""
    return _extreme_call(_MAX, input, axis, keepdims, initial, where, single=True)


def min(input: Any, axis: Any = None, keepdims: Any = False, *, initial: Any = None, where: Any = None) -> Any:
    """``mindspore.ops.min(input, axis=None, keepdims=False, *, initial=None, where=None)`` -> ``(values, indices)``."""
    return _extreme_call(_MIN, input, axis, keepdims, initial, where, single=True)


# -- argmax / argmin ------------------------------------------------------------------------------
def _arg_infer(name: str, index_dtype: dt.DType) -> Any:
    def infer(x: TensorType, *, axis: int | None, keepdims: bool) -> TensorType:
        if axis is None:  # flat index; keepdims is ignored, as in MindSpore
            reduce_shape(name, x.shape, None, False, nonempty=True)
            return TensorType(index_dtype, ())
        return TensorType(index_dtype, reduce_shape(name, x.shape, (axis,), keepdims, nonempty=True))

    return infer


def _arg_reference(pick: Any, names: tuple[str, str]) -> Any:
    def reference(input: np.ndarray, *args: Any, **kwargs: Any) -> Any:
        given = dict(zip(names, args), **kwargs)
        axis, keepdims = given.get(names[0]), given.get(names[1], False)
        if axis is None:
            return np.asarray(pick(input))
        return pick(input, axis=axis, keepdims=keepdims)

    return reference


def _arg_samples(name: str, names: tuple[str, str]) -> Any:
    def samples(dtype: dt.DType) -> Iterable[Sample]:
        return [Sample((x,), attrs) for x, attrs in reduce_samples(dtype, len(name), nonempty=True, names=names)
                if attrs[names[0]] is None or isinstance(attrs[names[0]], int)]

    return samples


_ARGMAX = register_op(OpDef(
    name="argmax", group="reduction", inputs=("input",), infer=_arg_infer("argmax", dt.int64),
    reference=_arg_reference(np.argmax, ("dim", "keepdim")), attrs=(("axis", None), ("keepdims", False)),
    dtypes=NUMERIC, samples=_arg_samples("argmax", ("dim", "keepdim")), method="argmax", differentiable=False,
    doc="Index (int64) of the maximum along ``dim`` (None: of the flattened input); the first maximum wins."))

_ARGMIN = register_op(OpDef(
    name="argmin", group="reduction", inputs=("input",), infer=_arg_infer("argmin", dt.int32),
    reference=_arg_reference(np.argmin, ("axis", "keepdims")), attrs=(("axis", None), ("keepdims", False)),
    dtypes=NUMERIC, samples=_arg_samples("argmin", ("axis", "keepdims")), method="argmin", differentiable=False,
    doc="Index (int32, as in MindSpore) of the minimum along ``axis`` (None: of the flattened input)."))


def argmax(input: Any, dim: Any = None, keepdim: Any = False, *, axis: Any = None, keepdims: Any = None) -> Any:
    """``mindspore.ops.argmax(input, dim=None, keepdim=False)``; ``axis=``/``keepdims=`` are the Tensor spelling."""
    dim = _alias("argmax", dim, axis, "dim and axis")
    keepdim = _alias("argmax", keepdim, keepdims, "keepdim and keepdims")
    return _dispatch.apply(_ARGMAX, (input,), {"axis": single_axis("argmax", dim, "dim"),
                                               "keepdims": check_bool("argmax", "keepdim", keepdim)})


def argmin(input: Any, axis: Any = None, keepdims: Any = False) -> Any:
    """``mindspore.ops.argmin(input, axis=None, keepdims=False)``."""
    return _dispatch.apply(_ARGMIN, (input,), {"axis": single_axis("argmin", axis),
                                               "keepdims": check_bool("argmin", "keepdims", keepdims)})


# -- Tensor.max / Tensor.min (MindSpore's Tensor methods, which differ from the ops) ---------------
def _tensor_extreme(function: Any, reduce: Any) -> Any:
    def method(self: Any, axis: Any = None, keepdims: bool = False, *, initial: Any = None, where: Any = None,
               return_indices: bool = False) -> Any:
        if return_indices:
            return function(self, axis, keepdims, initial=initial, where=where)
        return reduce(self, axis, keepdims, initial=initial, where=where)

    method.__name__ = method.__qualname__ = function.__name__
    method.__doc__ = (f"``Tensor.{function.__name__}(axis=None, keepdims=False, *, initial=None, where=None, "
                      f"return_indices=False)``: the values, or ``(values, indices)`` with return_indices.")
    return method


Tensor.max = _tensor_extreme(max, amax)  # type: ignore[attr-defined]
Tensor.min = _tensor_extreme(min, amin)  # type: ignore[attr-defined]
