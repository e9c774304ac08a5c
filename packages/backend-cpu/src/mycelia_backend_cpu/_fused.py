"""Fused elementwise (+ trailing reduction) CPU kernels: one pass over memory for a chain of ops.

A kernel is a small register program::

    kernel = FusedKernel([("mul", (0, 1)), ("sin", (2,)), ("const", (), {"value": 2.0}),
                          ("mul", (3, 4))], n_inputs=2, outputs=[5])
    kernel([x, y], [out])            # out = sin(x * y) * 2

Registers ``0..n_inputs-1`` hold the inputs (converted to ``compute`` on load); instruction ``i``
defines register ``n_inputs + i``. The iteration shape is the numpy broadcast of the inputs;
outputs are preallocated C-contiguous arrays of that shape (float16, bfloat16, float32, float64 or
bool). With ``reduce=(kind, k)`` (kind: sum, mean, max, min) the last output receives the
reduction of its register over the last ``k`` dims instead.

Op semantics follow numpy / mycelia's references (``mycelia.ops``): comparisons and logical ops
give 1.0/0.0, ``where(cond, a, b)`` takes ``a`` where ``cond != 0``, ``maximum``/``minimum``
propagate NaN, ``cast`` rounds to a dtype's precision and back.

The C++ side (``_fused_native``) works in blocks of a few thousand elements held in per-thread
scratch, uses AVX2 + libmvec when the CPU has it and a thread pool above ~32K elements; it
releases the GIL while it runs. ``set_num_threads`` sets the pool size (default: the hardware
threads, capped by ``MYCELIA_NUM_THREADS``).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mycelia_backend_cpu import _fused_native as _native  # type: ignore[attr-defined]

__all__ = ["SUPPORTED_OPS", "FusedKernel", "num_threads", "set_num_threads"]

_OPS: dict[str, tuple[int, int]] = {name: (int(code), int(arity)) for name, (code, arity) in _native.ops().items()}
SUPPORTED_OPS: frozenset[str] = frozenset(_OPS)

# Storage dtype codes (fused.h ``DType``).
_F16, _BF16, _F32, _F64, _BOOL = 0, 1, 2, 3, 4
_DTYPE_CODES: dict[np.dtype, int] = {
    np.dtype(np.float16): _F16, np.dtype(np.float32): _F32, np.dtype(np.float64): _F64, np.dtype(np.bool_): _BOOL,
    np.dtype(np.int8): 5, np.dtype(np.uint8): 6, np.dtype(np.int16): 7, np.dtype(np.uint16): 8,
    np.dtype(np.int32): 9, np.dtype(np.uint32): 10, np.dtype(np.int64): 11, np.dtype(np.uint64): 12,
}
_CAST_TARGETS = {"float16": _F16, "bfloat16": _BF16, "float32": _F32, "float64": _F64, "bool": _BOOL}
try:
    import ml_dtypes

    _DTYPE_CODES[np.dtype(ml_dtypes.bfloat16)] = _BF16
except ImportError:  # pragma: no cover - ml_dtypes is a dependency of mycelia-core
    pass
_OUTPUT_CODES = frozenset((_F16, _BF16, _F32, _F64, _BOOL))
_REDUCTIONS = {"sum": 0, "mean": 1, "max": 2, "min": 3}

# Attributes: op -> ((name, default), ...), in the order the C++ side reads them (p[0], p[1]).
# A default of None means the attribute is required.
_ATTRS: dict[str, tuple[tuple[str, Any], ...]] = {
    "const": (("value", None),),
    "leaky_relu": (("alpha", 0.2),),
    "elu": (("alpha", 1.0),),
    "softplus": (("beta", 1.0), ("threshold", 20.0)),
    "gelu": (("approximate", "none"),),
    "cast": (("dtype", None),),
}


def num_threads() -> int:
    """Threads a large call uses."""
    return int(_native.num_threads())


def set_num_threads(n: int) -> None:
    """Use ``n`` threads for large calls (the pool grows on demand)."""
    _native.set_num_threads(int(n))


def _cast_code(index: int, value: Any) -> int:
    name = value if isinstance(value, str) else getattr(value, "name", None)
    if name is None:
        try:
            name = np.dtype(value).name
        except TypeError:
            name = None
    if name not in _CAST_TARGETS:
        raise ValueError(f"instruction {index} (cast): dtype must be one of {sorted(_CAST_TARGETS)}, got {value!r}")
    return _CAST_TARGETS[name]


def _params(index: int, op: str, attrs: Mapping[str, Any]) -> list[float]:
    spec = _ATTRS.get(op, ())
    unknown = set(attrs) - {name for name, _ in spec}
    if unknown:
        allowed = ", ".join(name for name, _ in spec) or "none"
        raise ValueError(f"instruction {index} ({op}): unknown attribute(s) {sorted(unknown)}; accepted: {allowed}")
    values: list[float] = []
    for name, default in spec:
        if name not in attrs and default is None:
            raise ValueError(f"instruction {index} ({op}): attribute {name!r} is required")
        value = attrs.get(name, default)
        if op == "cast":
            values.append(float(_cast_code(index, value)))
        elif op == "gelu":
            if value not in ("none", "tanh"):
                raise ValueError(f"instruction {index} (gelu): approximate must be 'none' or 'tanh', got {value!r}")
            values.append(0.0 if value == "none" else 1.0)
        else:
            if isinstance(value, np.generic):
                value = value.item()
            if not isinstance(value, numbers.Real):
                raise TypeError(f"instruction {index} ({op}): attribute {name!r} must be a real number, got {value!r}")
            values.append(float(value))
    if op == "softplus" and values[0] == 0.0:
        raise ValueError(f"instruction {index} (softplus): beta must be non-zero")
    return values


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


class FusedKernel:
    """A compiled register program; call it with input arrays and preallocated outputs."""

    __slots__ = ("_n_inputs", "_n_outputs", "_program", "compute", "instructions", "outputs", "reduce")

    def __init__(self, instructions: Sequence[tuple[Any, ...]], n_inputs: int, outputs: Sequence[int],
                 compute: str = "float32", reduce: tuple[str, int] | None = None) -> None:
        if not _is_int(n_inputs) or n_inputs < 0:
            raise ValueError(f"n_inputs must be a non-negative int, got {n_inputs!r}")
        if compute not in ("float32", "float64"):
            raise ValueError(f"compute must be 'float32' or 'float64', got {compute!r}")
        codes: list[int] = []
        operands: list[list[int]] = []
        params: list[list[float]] = []
        for index, instruction in enumerate(instructions):
            register = n_inputs + index
            if not isinstance(instruction, (tuple, list)) or len(instruction) not in (2, 3):
                raise ValueError(f"instruction {index} (register {register}) must be (op, operands) or "
                                 f"(op, operands, attrs), got {instruction!r}")
            op, args = instruction[0], instruction[1]
            attrs = instruction[2] if len(instruction) == 3 else {}
            if op not in _OPS:
                raise ValueError(f"instruction {index}: unknown op {op!r}; supported: {', '.join(sorted(_OPS))}")
            if not isinstance(attrs, Mapping):
                raise ValueError(f"instruction {index} ({op}): attributes must be a dict, got {attrs!r}")
            code, arity = _OPS[op]
            if not isinstance(args, (tuple, list)) or len(args) != arity:
                raise ValueError(f"instruction {index} ({op}) takes {arity} operand(s), got {args!r}")
            for arg in args:
                if not _is_int(arg) or not 0 <= arg < register:
                    raise ValueError(f"instruction {index} ({op}): operand {arg!r} is out of range; registers "
                                     f"0..{register - 1} are defined before it (register {register})")
            codes.append(code)
            operands.append([int(arg) for arg in args])
            params.append(_params(index, op, attrs))
        n_registers = n_inputs + len(codes)
        outputs = list(outputs)
        if not outputs:
            raise ValueError("a fused kernel needs at least one output register")
        for register in outputs:
            if not _is_int(register) or not 0 <= register < n_registers:
                raise ValueError(f"output register {register!r} is out of range (0..{n_registers - 1})")
        reduce_kind, reduce_k = -1, 0
        if reduce is not None:
            if (not isinstance(reduce, (tuple, list)) or len(reduce) != 2 or reduce[0] not in _REDUCTIONS
                    or not _is_int(reduce[1]) or reduce[1] < 0):
                raise ValueError(f"reduce must be (kind, k) with kind in {sorted(_REDUCTIONS)} and k >= 0, "
                                 f"got {reduce!r}")
            reduce_kind, reduce_k = _REDUCTIONS[reduce[0]], int(reduce[1])
        self.instructions = tuple(instructions)
        self.outputs = tuple(int(r) for r in outputs)
        self.compute = compute
        self.reduce = None if reduce is None else (reduce[0], reduce_k)
        self._n_inputs = n_inputs
        self._n_outputs = len(outputs)
        self._program = _native.Program(codes, operands, params, n_inputs, [int(r) for r in outputs],
                                        compute == "float64", reduce_kind, reduce_k)

    def __repr__(self) -> str:
        return (f"FusedKernel({len(self.instructions)} instructions, n_inputs={self._n_inputs}, "
                f"outputs={list(self.outputs)}, compute={self.compute!r}, reduce={self.reduce!r})")

    def bind(self, input_dtypes: Sequence[Any], output_dtypes: Sequence[Any]) -> Any:
        """``call(inputs, outputs)`` for arrays of these dtypes (a compiled schedule knows them): the
        dtype codes are worked out once, and each call only checks that every input is an ndarray of its
        dtype (anything else, and misaligned inputs, take the checked path of ``__call__``)."""
        expected = tuple(np.dtype(d) for d in input_dtypes)
        in_codes = [_DTYPE_CODES[d] for d in expected]
        out_codes = [_DTYPE_CODES[np.dtype(d)] for d in output_dtypes]
        if len(expected) != self._n_inputs or len(out_codes) != self._n_outputs or \
                not set(out_codes) <= _OUTPUT_CODES:
            return self
        run, checked = self._program.run_arrays, self.__call__
        ndarray = np.ndarray

        def call(inputs: Sequence[np.ndarray], outputs: list[np.ndarray]) -> None:
            for array, dtype in zip(inputs, expected):
                if type(array) is not ndarray or (array.dtype is not dtype and array.dtype != dtype):
                    checked(inputs, outputs)
                    return
            if not run(list(inputs), in_codes, outputs, out_codes):
                checked(inputs, outputs)

        return call

    def __call__(self, inputs: Sequence[np.ndarray], outputs: Sequence[np.ndarray]) -> None:
        if len(inputs) != self._n_inputs:
            raise ValueError(f"expected {self._n_inputs} input array(s), got {len(inputs)}")
        if len(outputs) != self._n_outputs:
            raise ValueError(f"expected {self._n_outputs} output array(s), got {len(outputs)}")
        arrays, in_codes = list(inputs), []
        for index, array in enumerate(arrays):
            if not isinstance(array, np.ndarray):
                if not isinstance(array, np.generic):
                    raise TypeError(f"input {index} must be a numpy array, got {type(array).__name__}")
                array = arrays[index] = np.asarray(array)
            code = _DTYPE_CODES.get(array.dtype)
            if code is None:
                raise TypeError(f"input {index} has unsupported dtype {array.dtype}")
            in_codes.append(code)
        out_codes = []
        for index, array in enumerate(outputs):
            code = _DTYPE_CODES.get(array.dtype) if isinstance(array, np.ndarray) else None
            if code not in _OUTPUT_CODES:
                if not isinstance(array, np.ndarray):
                    raise TypeError(f"output {index} must be a numpy array, got {type(array).__name__}")
                raise TypeError(f"output {index} has unsupported dtype {array.dtype}; "
                                f"accepted: float16, bfloat16, float32, float64, bool")
            out_codes.append(code)
        outputs = list(outputs)
        if not self._program.run_arrays(arrays, in_codes, outputs, out_codes):  # misaligned input
            arrays = [a if a.flags.aligned else a.copy() for a in arrays]
            self._program.run_arrays(arrays, in_codes, outputs, out_codes)
