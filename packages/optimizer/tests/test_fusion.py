"""Golden tests for :class:`ElementwiseFusion`: every ``golden/fusion/<capabilities>/<case>.before.mir`` is
parsed, fused with the capabilities its folder names (``CAPABILITIES``), verified and printed; the text
must equal ``<case>.after.mir`` exactly. Both graphs must compute the same results on random inputs
(the interpreter), and the fused graph compiled by the cpu backend must match the interpreter.

The extra folder level keeps these cases out of ``test_passes_golden.py`` (its ``*/*.before.mir``
glob has no fusion runner, and fusion needs a backend's capabilities). ``MYCELIA_UPDATE_GOLDEN=1``
rewrites the ``.after.mir`` files, as there; ``EXPECTED_FUSED`` pins what each case must fuse.
"""

from __future__ import annotations

import dataclasses
import zlib

import numpy as np
import pytest
from test_passes_golden import GOLDEN, _random_inputs, _tolerance, assert_matches_golden

from mycelia.backends import Capabilities, get_backend
from mycelia.ir import Graph, compile_graph, interpret, parse, verify
from mycelia_optimizer import ElementwiseFusion, PassContext

FUSION = GOLDEN / "fusion"
CAPABILITIES: dict[str, Capabilities] = {
    "cpu": get_backend("cpu").capabilities(),
    # Hand-made: no reductions and no attributes the kernel reads (leaky_relu's alpha=0.1 stays out).
    "minimal": Capabilities(fusible_ops=frozenset({"exp", "leaky_relu", "mul", "tanh"})),
    # The cpu backend's, plus trailing sums (the kernel has them; the backend does not ask for them, so
    # that sums match eager bit for bit).
    "reductions": dataclasses.replace(get_backend("cpu").capabilities(),
                                      fusible_reductions=frozenset({"sum", "mean", "amax", "amin"})),
}
CASES = sorted(p.relative_to(FUSION).as_posix().removesuffix(".before.mir") for p in FUSION.glob("*/*.before.mir"))

# Per case, the fused nodes in order: (kind, number of outputs, number of ops in the region).
EXPECTED_FUSED: dict[str, list[tuple[str, int, int]]] = {
    "cpu/w2_chain": [("elementwise", 1, 10)],
    "cpu/bias_relu_after_matmul": [("elementwise", 1, 2)],
    "cpu/middle_value_is_output": [("elementwise", 2, 3)],
    "cpu/value_read_by_softmax": [("elementwise", 1, 2), ("elementwise", 1, 2)],
    "reductions/trailing_reduction": [("elementwise_reduction", 1, 3), ("elementwise_reduction", 1, 3)],
    "cpu/leading_reduction_kept_out": [("elementwise", 1, 2)],
    "cpu/scalar_constants_copied": [("elementwise", 1, 5)],
    "cpu/integer_ops_kept": [("elementwise", 1, 2)],
    "cpu/unknown_attribute_kept": [("elementwise", 1, 2)],
    "cpu/single_ops_kept": [],
    "cpu/later_operand_starts_new_group": [("elementwise", 1, 2), ("elementwise", 1, 2)],
    "minimal/no_reductions_no_attributes": [("elementwise", 1, 2)],
}


def _fuse(graph: Graph, capabilities: Capabilities | None) -> Graph:
    return ElementwiseFusion().run(graph, PassContext(capabilities=capabilities))


def _read_before(case: str) -> Graph:
    text = (FUSION / f"{case}.before.mir").read_text()
    graph = verify(parse(text))
    assert str(graph) == text, "the .before.mir file is not in canonical printed form"
    return graph


def _assert_close(want: np.ndarray, got: np.ndarray, label: str, tolerance: dict[str, float]) -> None:
    assert got.dtype == want.dtype, label
    if np.issubdtype(want.dtype, np.floating):
        np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), err_msg=label, **tolerance)
    else:
        np.testing.assert_array_equal(got, want, err_msg=label)


def _check_numerics(before: Graph, after: Graph, seed: int, tolerance: dict[str, float]) -> None:
    """Interpreter: ``before`` == ``after``; cpu backend (``after`` compiled as is) == interpreter."""
    inputs = _random_inputs(before, seed)
    expected = [t.asnumpy() for t in interpret(before, *inputs)]
    actual = [t.asnumpy() for t in interpret(after, *inputs)]
    compiled = [t.asnumpy() for t in compile_graph(after, get_backend("cpu"), optimize=False)(*inputs)]
    assert len(expected) == len(actual) == len(compiled)
    for index, (want, got, native) in enumerate(zip(expected, actual, compiled)):
        _assert_close(want, got, f"interpreter, output {index}", tolerance)
        float32 = want.dtype == np.float32
        _assert_close(got, native, f"cpu backend, output {index}",
                      {"rtol": 1e-5, "atol": 1e-5} if float32 else tolerance)


def test_cases_cover_every_capability_set() -> None:
    assert len(CASES) >= 8
    assert set(CASES) == set(EXPECTED_FUSED), "a case without EXPECTED_FUSED (or a stale entry)"
    assert {case.split("/")[0] for case in CASES} == set(CAPABILITIES)


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str) -> None:
    before = _read_before(case)
    capabilities = CAPABILITIES[case.split("/")[0]]
    result = verify(_fuse(before, capabilities))
    assert_matches_golden(before, result, FUSION / f"{case}.after.mir")
    fused = [n for n in result.nodes if n.op == "fused"]
    assert [(n.attribute("kind"), len(n.outputs), len(n.region.nodes)) for n in fused] == EXPECTED_FUSED[case]
    if not fused:  # nothing to do: the pass hands back the very same graph
        assert result is before
    # A second run finds nothing more to do.
    assert _fuse(result, capabilities) is result

    _check_numerics(before, result, zlib.crc32(case.encode()), _tolerance("fusion", case))


@pytest.mark.parametrize("capabilities", [
    None,
    Capabilities(),
    # Reductions and attributes alone fuse nothing: no elementwise op to start a group.
    Capabilities(ops=frozenset({"add", "relu"}), fusible_reductions=frozenset({"sum"}),
                 fusible_attributes=frozenset({"alpha"})),
], ids=["none", "empty", "no_fusible_ops"])
@pytest.mark.parametrize("case", CASES)
def test_nothing_fusible_returns_same_graph(case: str, capabilities: Capabilities | None) -> None:
    before = _read_before(case)
    assert _fuse(before, capabilities) is before


# A scalar constant is copied into the region, but one of higher rank than the other operands
# (f32[1,1] times f32[8] -> f32[1,8]) also raised the iteration shape: the region's inputs now
# broadcast to [8] while its outputs are [1,8], and the cpu fused kernel rejects the outputs.
RANK_RAISING_CONSTANT = """\
graph @rank_raising(%x: f32[8]) -> (f32[1,8]) {
  %0: f32[1,1] = constant {value=dense<f32[1,1]: [[2.0]]>}
  %1: f32[1,8] = mul %x, %0
  %2: f32[1,8] = relu %1
  return %2
}
"""


def test_rank_raising_scalar_constant_keeps_iteration_shape() -> None:
    before = verify(parse(RANK_RAISING_CONSTANT))
    result = verify(_fuse(before, CAPABILITIES["cpu"]))
    _check_numerics(before, result, 0, {"rtol": 1e-6, "atol": 1e-6})

