"""Tensor: a backend array with its dtype and backend, plus autograd metadata.

Operators and op methods are attached by ``mycelia.ops._methods`` from the op registry, so this
file holds only construction, conversion and printing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from mycelia import dtype as dt
from mycelia._context import current_backend
from mycelia.backends import Backend

__all__ = ["Parameter", "Tensor", "from_numpy", "tensor_from_host"]

_DEFAULT_SCALAR_DTYPES = {bool: dt.bool_, int: dt.int64, float: dt.float32}


def _host_array(value: Any, dtype: dt.DType | None) -> np.ndarray:
    """Python data as a fresh host array: Python floats default to float32, ints to int64."""
    if isinstance(value, Tensor):
        array = np.array(value.asnumpy())
    elif isinstance(value, np.ndarray):
        array = np.array(value)
    elif isinstance(value, np.generic):
        array = np.array(value)
    else:
        if isinstance(value, (list, tuple)) and any(isinstance(v, Tensor) for v in value):
            value = [v.asnumpy() if isinstance(v, Tensor) else v for v in value]
        array = np.array(value)
        if dtype is None:
            if array.dtype == np.float64:
                array = array.astype(np.float32)
            elif array.dtype.kind == "i":
                array = array.astype(np.int64)
    if dtype is not None and array.dtype != dtype.numpy:
        array = array.astype(dtype.numpy)
    return _contiguous(array)


def _contiguous(array: np.ndarray) -> np.ndarray:
    # np.ascontiguousarray would turn a 0-d array into a 1-d one.
    return array if array.flags.c_contiguous else np.ascontiguousarray(array).reshape(array.shape)


def _initial_values(shape: Any, dtype: dt.DType, init: Any) -> np.ndarray:
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if isinstance(init, str):
        fills = {"zeros": 0, "zero": 0, "ones": 1, "one": 1}
        if init.lower() not in fills:
            raise ValueError(f"Tensor: init string must be one of {sorted(fills)}, got {init!r}")
        return np.full(shape, fills[init.lower()], dtype=dtype.numpy)
    if callable(init):
        return np.asarray(init(shape, dtype), dtype=dtype.numpy)
    raise TypeError(f"Tensor: init must be a string or an initializer, got {type(init).__name__}")


class Tensor:
    """``Tensor(numpy_array)``, ``Tensor([1, 2], dtype=mycelia.int32)``, ``Tensor(3.0)``, or
    ``Tensor(shape=(2, 3), dtype=mycelia.float32, init="zeros")``. The data is copied."""

    __slots__ = ("__weakref__", "_autograd", "_backend", "_data", "_dtype")

    _data: Any
    _dtype: dt.DType
    _backend: Backend
    _autograd: Any
    __array_priority__ = 100  # numpy defers `ndarray + Tensor` to Tensor.__radd__

    if TYPE_CHECKING:
        # Op methods and operators are attached from the op registry (mycelia.ops._methods).
        def __getattr__(self, name: str) -> Any: ...

    def __init__(self, input_data: Any = None, dtype: dt.DType | None = None, shape: Any = None,
                 init: Any = None, const_arg: bool = False) -> None:
        if dtype is not None and not isinstance(dtype, dt.DType):
            raise TypeError(f"Tensor: dtype must be a mycelia dtype such as mycelia.float32, got {dtype!r}")
        if input_data is None:
            if shape is None or init is None:
                raise TypeError("Tensor() needs input_data, or shape and init (with dtype)")
            array = _initial_values(shape, dtype or dt.float32, init)
        else:
            if shape is not None or init is not None:
                raise TypeError("Tensor: give input_data or shape/init, not both")
            array = _host_array(input_data, dtype)
        self._dtype = dt.from_numpy(array.dtype)
        self._backend = current_backend()
        self._data = self._backend.from_numpy(array)
        self._autograd = None

    @classmethod
    def _make(cls, data: Any, dtype: dt.DType, backend: Backend) -> Tensor:
        tensor = object.__new__(cls)
        tensor._data = data
        tensor._dtype = dtype
        tensor._backend = backend
        tensor._autograd = None
        return tensor

    # -- metadata ---------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._data.shape)

    @property
    def dtype(self) -> dt.DType:
        return self._dtype

    @property
    def ndim(self) -> int:
        return len(self._data.shape)

    @property
    def size(self) -> int:
        size = 1
        for dim in self._data.shape:
            size *= dim
        return size

    @property
    def itemsize(self) -> int:
        return int(self._dtype.itemsize)

    @property
    def nbytes(self) -> int:
        return self.size * int(self._dtype.itemsize)

    @property
    def strides(self) -> tuple[int, ...]:
        return tuple(self.asnumpy().strides)

    @property
    def device(self) -> str:
        return f"{self._backend.name}:0"

    def dim(self) -> int:
        return self.ndim

    def numel(self) -> int:
        return self.size

    def __len__(self) -> int:
        if not self._data.shape:
            raise TypeError("len() of a 0-d tensor")
        return int(self._data.shape[0])  # type: ignore[no-any-return]

    # -- conversion -------------------------------------------------------------------------
    def asnumpy(self) -> np.ndarray:
        """The values as a numpy array (shares memory on the CPU backend; do not write to it)."""
        return self._backend.to_numpy(self._data)

    def numpy(self) -> np.ndarray:
        return self.asnumpy()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        array = self.asnumpy()
        if dtype is not None:
            array = array.astype(dtype, copy=False)
        return array.copy() if copy else array

    def __dlpack__(self, *args: Any, **kwargs: Any) -> Any:
        return self._data.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self) -> Any:
        return self._data.__dlpack_device__()

    def item(self) -> bool | int | float:
        if self.size != 1:
            raise ValueError(f"item(): only a tensor with one element converts to a Python scalar, "
                             f"this one has shape {list(self.shape)}")
        return self.asnumpy().reshape(()).item()  # type: ignore[no-any-return]

    def tolist(self) -> Any:
        return self.asnumpy().tolist()

    def __bool__(self) -> bool:
        if self.size != 1:
            raise ValueError(f"the truth value of a tensor with shape {list(self.shape)} is ambiguous; "
                             f"use .any() or .all()")
        return bool(self.item())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._dtype.is_floating_point or self._dtype is dt.bool_:
            raise TypeError(f"only integer tensors can be used as an index, got {self._dtype}")
        return int(self.item())

    def __hash__(self) -> int:
        return id(self)

    def __copy__(self) -> Tensor:
        return self.copy()

    def __deepcopy__(self, memo: dict[int, Any]) -> Tensor:
        # The backend is a process-wide singleton: copy the values, share the backend.
        clone = type(self).__new__(type(self))
        clone._data = self._backend.from_numpy(np.array(self.asnumpy()))
        clone._dtype = self._dtype
        clone._backend = self._backend
        clone._autograd = None
        for name in ("name", "requires_grad"):  # Parameter's extra slots
            if hasattr(self, name):
                setattr(clone, name, getattr(self, name))
        memo[id(self)] = clone
        return clone

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_tensor, (np.array(self.asnumpy()),))

    def copy(self) -> Tensor:
        if not self._backend.hot_path:  # a tensor of a graph being recorded: values are immutable there
            return Tensor._make(self._data, self._dtype, self._backend)
        return Tensor._make(self._backend.from_numpy(np.array(self.asnumpy())), self._dtype, self._backend)

    # -- printing (MindSpore's format) --------------------------------------------------------
    def __repr__(self) -> str:
        array = self.asnumpy()
        if self._dtype is dt.bfloat16:
            array = array.astype(np.float32)
        body = np.array2string(array, separator=", ")
        joiner = "\n" if array.ndim > 1 else " "
        return f"Tensor(shape={list(self.shape)}, dtype={self._dtype}, value={joiner}{body})"

    def __str__(self) -> str:
        return str(self.asnumpy())

    def __format__(self, spec: str) -> str:
        if self.size == 1 and spec:
            return format(self.item(), spec)
        return format(str(self), spec)


class Parameter(Tensor):
    """A trainable tensor with a name (``Parameter(Tensor(...), name="w")``)."""

    __slots__ = ("name", "requires_grad")

    def __init__(self, default_input: Any, name: str | None = None, requires_grad: bool = True) -> None:
        source = default_input if isinstance(default_input, Tensor) else Tensor(default_input)
        self._data = source._backend.from_numpy(np.array(source.asnumpy()))
        self._dtype = source._dtype
        self._backend = source._backend
        self._autograd = None
        self.name = name or "Parameter"
        self.requires_grad = bool(requires_grad)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Parameter, (np.array(self.asnumpy()), self.name, self.requires_grad))

    def __repr__(self) -> str:
        return f"Parameter (name={self.name}, shape={list(self.shape)}, dtype={self._dtype}, " \
               f"requires_grad={self.requires_grad})"


def _rebuild_tensor(array: np.ndarray) -> Tensor:
    """Unpickling: values come back on the current backend."""
    return tensor_from_host(array)


def tensor_from_host(array: np.ndarray, backend: Backend | None = None) -> Tensor:
    """Wrap a host array without copying when the backend is host memory."""
    backend = backend or current_backend()
    return Tensor._make(backend.from_numpy(array), dt.from_numpy(array.dtype), backend)


def from_numpy(array: np.ndarray) -> Tensor:
    """``mycelia.from_numpy``: a Tensor sharing memory with ``array`` on the CPU backend."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    return tensor_from_host(_contiguous(array))
