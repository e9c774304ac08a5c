"""Generated from the op registry: each (op, dtype, backend) is one test."""

from __future__ import annotations

import pytest

import mycelia as ms

from conformance import available_backends, cases, check_op

CASES = cases(available_backends())


@pytest.mark.parametrize(("op_name", "dtype_name", "backend"), CASES)
def test_op_matches_reference(op_name: str, dtype_name: str, backend: str) -> None:
    assert check_op(op_name, dtype_name, backend) > 0


def test_every_op_has_samples_and_a_cpu_kernel() -> None:
    cpu_ops = {case[0] for case in CASES if case[2] == "cpu"}
    missing = [op.name for op in ms.ops.all_ops() if op.name not in cpu_ops]
    assert not missing, f"ops without CPU conformance: {missing}"
