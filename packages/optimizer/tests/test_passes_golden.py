"""Golden tests: every ``golden/<pass>/<case>.before.mir`` is parsed, run through its pass, verified, and
printed; the text must equal ``<case>.after.mir`` exactly, and both graphs must compute the same
results on random inputs (AMP cases with half-precision tolerances).

``MYCELIA_UPDATE_GOLDEN=1 pytest packages/optimizer/tests`` rewrites the ``.after.mir`` files (review
the diff before committing). An AMP or pipeline case's name starts with its level (``o1_…``) and
uses bfloat16 when it contains ``bf16``.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from mycelia import dtype as dt
from mycelia._types import Symbol
from mycelia.ir import Graph, interpret, parse, verify
from mycelia_optimizer import (
    AlgebraicSimplification,
    AutoMixedPrecision,
    CommonSubexpressionElimination,
    ConstantFolding,
    DeadCodeElimination,
    PassContext,
    default_pipeline,
)

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("MYCELIA_UPDATE_GOLDEN", "").strip().lower() in ("1", "true", "yes", "on")
SYMBOL_SIZE = 3  # every symbolic dim is bound to this size when running a case


def _amp_context(case: str) -> PassContext:
    level = case.split("_", 1)[0].upper()
    return PassContext(amp_level=level, low_dtype=dt.bfloat16 if "bf16" in case else dt.float16)


def _single(pass_: object) -> Callable[[Graph, str], Graph]:
    def run(graph: Graph, case: str) -> Graph:
        context = _amp_context(case) if isinstance(pass_, AutoMixedPrecision) else PassContext()
        return pass_.run(graph, context)  # type: ignore[attr-defined]

    return run


def _pipeline(graph: Graph, case: str) -> Graph:
    context = _amp_context(case)
    return default_pipeline(amp_level=context.amp_level, low_dtype=context.low_dtype, verify=True).run(graph)


RUNNERS: dict[str, Callable[[Graph, str], Graph]] = {
    "dead_code": _single(DeadCodeElimination()),
    "common_subexpressions": _single(CommonSubexpressionElimination()),
    "constant_folding": _single(ConstantFolding()),
    "algebraic": _single(AlgebraicSimplification()),
    "amp": _single(AutoMixedPrecision()),
    "pipeline": _pipeline,
}

CASES = sorted((p.parent.name, p.name.removesuffix(".before.mir")) for p in GOLDEN.glob("*/*.before.mir"))


def _random_inputs(graph: Graph, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    arrays = []
    for value in graph.inputs:
        shape = tuple(SYMBOL_SIZE if isinstance(d, Symbol) else d for d in value.shape)
        if value.dtype.is_floating_point:
            arrays.append(rng.uniform(-1.0, 1.0, shape).astype(value.dtype.numpy))
        elif value.dtype is dt.bool_:
            arrays.append(rng.integers(0, 2, shape).astype(np.bool_))
        else:
            arrays.append(rng.integers(-5, 6, shape).astype(value.dtype.numpy))
    return arrays


def _tolerance(pass_name: str, case: str) -> dict[str, float]:
    if pass_name in ("amp", "pipeline") and not case.startswith("o0"):
        return {"rtol": 5e-2, "atol": 5e-2} if "bf16" in case else {"rtol": 1e-2, "atol": 1e-2}
    return {"rtol": 1e-6, "atol": 1e-6}


def test_every_pass_has_golden_cases() -> None:
    for pass_name in RUNNERS:
        count = sum(1 for p, _ in CASES if p == pass_name)
        assert count >= (2 if pass_name == "pipeline" else 5), f"{pass_name}: only {count} golden cases"
    assert {p for p, _ in CASES} <= set(RUNNERS), "a golden folder without a runner"


def assert_matches_golden(before: Graph, result: Graph, after_path: Path) -> None:
    """``result`` prints exactly as ``after_path`` (rewritten with ``MYCELIA_UPDATE_GOLDEN=1``), that file
    parses back to a graph that verifies, and the signature of ``before`` is kept."""
    if UPDATE:
        after_path.write_text(str(result))
    assert after_path.exists(), f"missing {after_path.name}: run with MYCELIA_UPDATE_GOLDEN=1"
    assert str(result) == after_path.read_text()
    # The printed form is all there is: the .after file parses back to a graph that verifies.
    verify(parse(after_path.read_text()))
    # Signature kept: same inputs (names and types) and output types.
    assert [(v.name, v.type) for v in result.inputs] == [(v.name, v.type) for v in before.inputs]
    assert [v.type for v in result.outputs] == [v.type for v in before.outputs]


@pytest.mark.parametrize(("pass_name", "case"), CASES, ids=[f"{p}/{c}" for p, c in CASES])
def test_golden(pass_name: str, case: str) -> None:
    before_text = (GOLDEN / pass_name / f"{case}.before.mir").read_text()
    before = verify(parse(before_text))
    assert str(before) == before_text, "the .before.mir file is not in canonical printed form"

    result = verify(RUNNERS[pass_name](before, case))
    assert_matches_golden(before, result, GOLDEN / pass_name / f"{case}.after.mir")
    # A second run finds nothing more to do.
    assert str(RUNNERS[pass_name](result, case)) == str(result)

    inputs = _random_inputs(before, zlib.crc32(case.encode()))
    expected = interpret(before, *inputs)
    actual = interpret(result, *inputs)
    assert len(expected) == len(actual)
    for index, (want, got) in enumerate(zip(expected, actual)):
        assert got.dtype is want.dtype, f"output {index}"
        want_array, got_array = want.asnumpy(), got.asnumpy()
        if want.dtype.is_floating_point:
            np.testing.assert_allclose(got_array.astype(np.float64), want_array.astype(np.float64),
                                       err_msg=f"output {index}", **_tolerance(pass_name, case))
        else:
            np.testing.assert_array_equal(got_array, want_array, err_msg=f"output {index}")
