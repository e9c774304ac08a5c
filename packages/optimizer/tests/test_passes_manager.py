"""The pass manager (verification, logging, fixed points), the pipeline factory and the rewrite helper."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")

import mycelia._config
import mycelia_optimizer
from mycelia import dtype as dt
from mycelia.backends import Capabilities
from mycelia.ir import Graph, GraphBuilder, IRError, Node, Value, interpret
from mycelia_optimizer import (
    AlgebraicSimplification,
    AutoMixedPrecision,
    CommonSubexpressionElimination,
    ConstantFolding,
    DeadCodeElimination,
    Pass,
    PassContext,
    PassManager,
    PassVerificationError,
    Repeat,
    default_pipeline,
    jit_log_enabled,
    rewrite_graph,
)
from mycelia_optimizer import _pass_manager as pass_manager_module
from mycelia_optimizer.algebraic import exactly_representable


def small_graph() -> Graph:
    b = GraphBuilder("small")
    x = b.input("x", dt.float32, [2, 3])
    unused = b.op("exp", x)
    y = b.op("mul", x, 1.0)
    z = b.op("add", y, y)
    del unused
    return b.build(z)


class BreakOutputType:
    """A broken pass: retypes the last node's output without changing the op."""

    name = "break_output_type"

    def run(self, graph: Graph, context: PassContext) -> Graph:
        last = graph.nodes[-1]
        wrong = Value(type(last.output.type)(dt.float64, last.output.shape))
        node = Node(last.op, last.inputs, (wrong,), last.attrs, None, last.location)
        outputs = tuple(wrong if v is last.output else v for v in graph.outputs)
        return graph.with_nodes([*graph.nodes[:-1], node], outputs)


class DropUsedNode:
    """A broken pass: drops the first node whose result another node reads."""

    name = "drop_used_node"

    def run(self, graph: Graph, context: PassContext) -> Graph:
        users = graph.users()
        victim = next(node for node in graph.nodes if any(users.get(v) for v in node.outputs))
        return graph.with_nodes([node for node in graph.nodes if node is not victim])


class AlwaysChanges:
    """Returns a new (equal) graph every time: a fixed point is never reached."""

    name = "always_changes"

    def __init__(self) -> None:
        self.calls = 0

    def run(self, graph: Graph, context: PassContext) -> Graph:
        self.calls += 1
        return graph.with_nodes(graph.nodes)


# -- logging ---------------------------------------------------------------------------------------------
def test_logging_prints_counts_and_graph_when_enabled(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(mycelia._config, "jit_logs", lambda: frozenset({"passes"}), raising=False)
    result = PassManager([DeadCodeElimination(), AlgebraicSimplification()]).run(small_graph())
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert lines[0] == "[mycelia.passes] dead_code: 4 -> 3 nodes"
    assert "[mycelia.passes] algebraic: 3 -> 2 nodes" in lines
    # each header is followed by the printed graph
    assert err.count("graph @small(") == 2
    assert err.endswith(str(result))


def test_logging_topic_all_and_other_topics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mycelia._config, "jit_logs", lambda: frozenset({"all"}), raising=False)
    assert jit_log_enabled("passes")
    monkeypatch.setattr(mycelia._config, "jit_logs", lambda: frozenset({"graph_breaks"}), raising=False)
    assert not jit_log_enabled("passes")


def test_logging_off_by_default_and_without_the_config_switch(monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delattr(mycelia._config, "jit_logs", raising=False)
    assert not jit_log_enabled("passes")
    PassManager([DeadCodeElimination()]).run(small_graph())
    assert capsys.readouterr() == ("", "")


def test_logging_follows_the_patched_helper_and_the_context_switch(monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(pass_manager_module, "jit_log_enabled", lambda topic: topic == "passes")
    PassManager([DeadCodeElimination()]).run(small_graph())
    assert "[mycelia.passes] dead_code: 4 -> 3 nodes" in capsys.readouterr().err
    PassManager([DeadCodeElimination()], context=PassContext(log=False)).run(small_graph())
    assert capsys.readouterr().err == ""


def test_repeat_logs_each_round(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(pass_manager_module, "jit_log_enabled", lambda topic: True)
    PassManager([Repeat([AlgebraicSimplification(), DeadCodeElimination()])]).run(small_graph())
    headers = [line for line in capsys.readouterr().err.splitlines() if line.startswith("[mycelia.passes]")]
    assert headers == ["[mycelia.passes] algebraic: 4 -> 3 nodes", "[mycelia.passes] dead_code: 3 -> 1 nodes",
                       "[mycelia.passes] algebraic: 1 -> 1 nodes", "[mycelia.passes] dead_code: 1 -> 1 nodes"]


# -- verification ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("broken", [BreakOutputType(), DropUsedNode()], ids=lambda p: p.name)
def test_verification_catches_a_broken_pass(broken: Pass) -> None:
    manager = PassManager([DeadCodeElimination(), broken], verify=True)
    with pytest.raises(PassVerificationError, match=f"pass '{broken.name}' produced an invalid graph"):
        manager.run(small_graph())
    # Without debug verification the broken graph goes through unnoticed.
    PassManager([broken]).run(small_graph())


def test_verification_rejects_an_invalid_input_graph() -> None:
    broken = DropUsedNode().run(small_graph(), PassContext())
    with pytest.raises(PassVerificationError, match="given to the pass manager"):
        PassManager([DeadCodeElimination()], verify=True).run(broken)


def test_pass_manager_rejects_non_passes_and_non_graph_results() -> None:
    with pytest.raises(TypeError, match="is not a pass"):
        PassManager([object()])  # type: ignore[list-item]

    class ReturnsNone:
        name = "returns_none"

        def run(self, graph: Graph, context: PassContext) -> Graph:
            return None  # type: ignore[return-value]

    with pytest.raises(TypeError, match="returns_none"):
        PassManager([ReturnsNone()]).run(small_graph())


def test_repeat_stops_at_a_fixed_point_and_is_bounded() -> None:
    graph = small_graph()
    spinning = AlwaysChanges()
    PassManager([Repeat([spinning], max_rounds=3)]).run(graph)
    assert spinning.calls == 3
    counting = AlwaysChanges()
    result = PassManager([Repeat([DeadCodeElimination()]), counting]).run(graph)
    assert counting.calls == 1 and len(result.nodes) == 3
    with pytest.raises(ValueError):
        Repeat([], max_rounds=0)
    # Repeat is a pass on its own as well
    assert len(Repeat([AlgebraicSimplification(), DeadCodeElimination()]).run(graph, PassContext()).nodes) == 1


def test_every_pass_returns_the_same_graph_when_nothing_changes() -> None:
    b = GraphBuilder("clean")
    x = b.input("x", dt.float32, [2, 3])
    graph = b.build(b.op("relu", b.op("exp", x)))
    for item in (ConstantFolding(), AlgebraicSimplification(), CommonSubexpressionElimination(),
                 DeadCodeElimination(), AutoMixedPrecision("O1")):
        assert item.run(graph, PassContext()) is graph, item.name


# -- context and pipeline --------------------------------------------------------------------------------
def test_pass_context_validates() -> None:
    with pytest.raises(ValueError, match="amp_level"):
        PassContext(amp_level="O4")
    with pytest.raises(ValueError, match="low_dtype"):
        PassContext(low_dtype=dt.int8)
    context = PassContext(capabilities=Capabilities(dtypes=frozenset({"float32"}), ops=frozenset({"add"})))
    assert context.supports_dtype(dt.float32) and not context.supports_dtype(dt.float16)
    assert context.supports_op("add") and not context.supports_op("matmul")
    assert PassContext().supports_dtype(dt.bfloat16) and PassContext().supports_op("matmul")


def test_default_pipeline_order_and_hooks() -> None:
    assert default_pipeline().names == ["constant_folding", "repeat(algebraic, common_subexpressions, dead_code)"]
    spinning = AlwaysChanges()
    manager = default_pipeline(amp_level="O2", extra_passes=[spinning])
    assert manager.names == ["constant_folding", "repeat(algebraic, common_subexpressions, dead_code)", "amp",
                             "constant_folding", "repeat(algebraic, common_subexpressions, dead_code)",
                             "always_changes"]
    assert manager.context.amp_level == "O2"
    manager.run(small_graph())
    assert spinning.calls == 1


def test_default_pipeline_preserves_results() -> None:
    graph = small_graph()
    result = default_pipeline(verify=True).run(graph)
    assert len(result.nodes) == 1
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    np.testing.assert_array_equal(interpret(result, x)[0].asnumpy(), interpret(graph, x)[0].asnumpy())


def test_amp_does_nothing_when_the_target_lacks_the_low_dtype_or_the_op() -> None:
    b = GraphBuilder("mm")
    x = b.input("x", dt.float32, [2, 3])
    w = b.input("w", dt.float32, [3, 4])
    graph = b.build(b.op("matmul", x, w))
    no_f16 = PassContext(amp_level="O1", capabilities=Capabilities(dtypes=frozenset({"float32"})))
    assert AutoMixedPrecision().run(graph, no_f16) is graph
    no_matmul = PassContext(amp_level="O3", capabilities=Capabilities(dtypes=frozenset({"float16", "float32"}),
                                                                      ops=frozenset({"add", "cast"})))
    assert AutoMixedPrecision().run(graph, no_matmul) is graph
    assert AutoMixedPrecision().run(graph, PassContext(amp_level="O0")) is graph
    assert len(AutoMixedPrecision("O1").run(graph, PassContext()).nodes) == 4


def test_constant_folding_cap_is_configurable() -> None:
    b = GraphBuilder("ones")
    x = b.input("x", dt.float32, [4, 4])
    graph = b.build(b.op("add", x, b.op("ones", size=(4, 4), dtype=dt.float32)))
    assert ConstantFolding(max_elements=8).run(graph, PassContext()) is graph
    assert ConstantFolding().run(graph, PassContext()).nodes[-2].op == "constant"


def test_entry_point_is_declared_and_is_a_zero_argument_factory() -> None:
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    target = pyproject["project"]["entry-points"]["mycelia.optimizer"]["default"]
    module, _, attribute = target.partition(":")
    assert module == "mycelia_optimizer"
    factory = getattr(mycelia_optimizer, attribute)
    assert isinstance(factory(), PassManager)


def test_public_names_are_exported() -> None:
    for name in mycelia_optimizer.__all__:
        assert hasattr(mycelia_optimizer, name), name


# -- helpers ---------------------------------------------------------------------------------------------
def test_rewrite_graph_rejects_a_replacement_of_another_type() -> None:
    graph = small_graph()

    def visit(rewriter: object, node: Node) -> dict[Value, Value] | None:
        return {node.output: graph.inputs[0]} if node.op == "add" else None

    b = GraphBuilder("sum")
    x = b.input("x", dt.float32, [2, 3])
    summed = b.build(b.op("sum", x))
    with pytest.raises(IRError, match="cannot replace"):
        rewrite_graph(summed, lambda rewriter, node: {node.output: summed.inputs[0]})
    assert len(rewrite_graph(graph, visit).outputs) == 1


@pytest.mark.parametrize(("source", "target", "exact"), [
    (dt.float16, dt.float32, True), (dt.bfloat16, dt.float32, True), (dt.float32, dt.float64, True),
    (dt.float32, dt.float16, False), (dt.float16, dt.bfloat16, False), (dt.bfloat16, dt.float16, False),
    (dt.int32, dt.float32, False), (dt.int32, dt.float64, True), (dt.int16, dt.float32, True),
    (dt.uint8, dt.bfloat16, True), (dt.int8, dt.uint8, False), (dt.uint8, dt.int16, True),
    (dt.bool_, dt.int8, True), (dt.int8, dt.bool_, False), (dt.float32, dt.int64, False),
    (dt.int64, dt.float64, False),
])
def test_exactly_representable(source: dt.DType, target: dt.DType, exact: bool) -> None:
    assert exactly_representable(source, target) is exact
