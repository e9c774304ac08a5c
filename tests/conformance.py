"""The op conformance harness: every registered op, on every available backend that claims it,
for every dtype it accepts, against its numpy reference (DESIGN §8)."""

from __future__ import annotations

from typing import Any

import numpy as np

import mycelia as ms
from mycelia import dtype as dt
from mycelia.ops import OpDef, Sample

# (rtol, atol) by dtype; low-precision results are compared against a float64 reference.
TOLERANCE = {
    dt.float64: (1e-9, 1e-12),
    dt.float32: (2e-5, 2e-6),
    dt.float16: (2e-3, 2e-3),
    dt.bfloat16: (1.6e-2, 1.6e-2),
}


def available_backends() -> list[str]:
    return [row.name for row in ms.list_backends() if row.available]


def cases(backends: list[str]) -> list[tuple[str, str, str]]:
    """(op, dtype name, backend) for every combination a backend claims."""
    from mycelia.backends import get_backend

    result = []
    for backend_name in backends:
        capabilities = get_backend(backend_name).capabilities()
        for op in ms.ops.all_ops():
            if op.samples is None or op.name not in capabilities.ops:
                continue
            for dtype in dt.all_dtypes():
                if dtype in op.dtypes and dtype.numpy.name in capabilities.dtypes:
                    result.append((op.name, dtype.numpy.name, backend_name))
    return result


def _to_reference(value: Any) -> Any:
    """Float arrays go to float64 so the oracle is more precise than what it checks."""
    if (isinstance(value, np.ndarray) and value.dtype.kind == "f") or (
            isinstance(value, np.ndarray) and value.dtype == np.dtype("bfloat16")):
        return value.astype(np.float64)
    if isinstance(value, (list, tuple)):
        return type(value)(_to_reference(v) for v in value)
    return value


def _to_tensors(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return ms.Tensor(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_to_tensors(v) for v in value)
    return value


def _compare(op: OpDef, sample: Sample, got: Any, expected: Any, dtype: dt.DType) -> None:
    if isinstance(expected, (tuple, list)) and not isinstance(got, ms.Tensor):
        assert len(got) == len(expected), f"{op.name}: {len(got)} outputs, expected {len(expected)}"
        for g, e in zip(got, expected):
            _compare(op, sample, g, e, dtype)
        return
    assert isinstance(got, ms.Tensor), f"{op.name}: returned {type(got).__name__}, not a Tensor"
    actual = got.asnumpy()
    wanted = np.asarray(expected)
    where = f"{op.name}[{dtype}] {sample.note} inputs {[getattr(a, 'shape', a) for a in sample.args]}"
    assert actual.shape == wanted.shape, f"{where}: shape {actual.shape}, expected {wanted.shape}"
    if got.dtype.is_floating_point:
        rtol, atol = TOLERANCE.get(got.dtype, (1e-5, 1e-6))
        np.testing.assert_allclose(actual.astype(np.float64), wanted.astype(np.float64), rtol=rtol, atol=atol,
                                   equal_nan=True, err_msg=where)
    else:
        np.testing.assert_array_equal(actual, wanted.astype(actual.dtype), err_msg=where)


def check_op(op_name: str, dtype_name: str, backend: str) -> int:
    """Run every sample; returns how many were checked (a case with none fails)."""
    op = ms.ops.get_op(op_name)
    dtype = dt.from_numpy(np.dtype(dtype_name))
    function = getattr(ms.ops, op_name)
    assert op.samples is not None
    count = 0
    ms.set_context(device_target=backend)
    for sample in op.samples(dtype):
        inputs = _to_tensors(sample.args)
        got = sample.call(*inputs, **sample.attrs) if sample.call else function(*inputs, **sample.attrs)
        expected = op.reference(*_to_reference(sample.args), **sample.attrs)
        _compare(op, sample, got, expected, dtype)
        count += 1
    assert count, f"{op_name} has no samples for {dtype}"
    return count
