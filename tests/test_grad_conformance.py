"""Generated from the registry: each differentiable op's vjp against finite differences (float64)."""

from __future__ import annotations

import pytest
from gradcheck import check_gradients, differentiable_ops

import mycelia as ms

OPS = [op.name for op in differentiable_ops() if op.vjp is not None]


@pytest.mark.parametrize("op_name", OPS)
def test_vjp_matches_finite_differences(op_name: str) -> None:
    assert check_gradients(ms.ops.get_op(op_name)) > 0


def test_every_differentiable_op_has_a_vjp() -> None:
    missing = sorted(op.name for op in differentiable_ops() if op.vjp is None)
    assert not missing, f"differentiable ops without a vjp: {missing}"
