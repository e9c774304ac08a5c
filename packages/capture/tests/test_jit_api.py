"""mycelia.jit's front door, configuration, introspection, logs, GRAPH_MODE and memory."""

from __future__ import annotations

import gc
import logging
import tracemalloc
import weakref

import numpy as np
import pytest

import mycelia as ms
from mycelia import nn

X = np.arange(6, dtype=np.float32).reshape(2, 3)


def _double(x):
    return x * 2


def test_decorator_forms_agree() -> None:
    x = ms.Tensor(X)
    forms = [ms.jit(_double), ms.jit()(_double), ms.jit(jit_config={"recompile_limit": 3})(_double),
             ms.jit(_double, capture_mode="bytecode"), ms.jit(_double, fullgraph=True)]
    for jitted in forms:
        np.testing.assert_array_equal(jitted(x).asnumpy(), X * 2)
        assert ms.jit_info(jitted).compile_count == 1


def test_bad_arguments_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="unknown key.*'recompile_limt'"):
        ms.jit(_double, jit_config={"recompile_limt": 2})
    with pytest.raises(ValueError, match="capture_mode must be 'bytecode' or 'ast'"):
        ms.jit(_double, capture_mode="graph")
    with pytest.raises(ValueError, match="mode must be 'PIJit' or 'PSJit'"):
        ms.jit(_double, mode="fast")
    with pytest.raises(ModuleNotFoundError, match="'psjit' frontend: pip install mycelia-capture"):
        ms.jit(_double, mode="PSJit")
    with pytest.raises(TypeError, match="jit_info expects a function returned by mycelia.jit"):
        ms.jit_info(_double)


def test_missing_frontend_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    from mycelia import _jit

    _jit._frontend.cache_clear()
    monkeypatch.setattr(_jit, "plugin_entries", lambda group: [])
    try:
        with pytest.raises(ModuleNotFoundError, match="pip install mycelia-capture"):
            ms.jit(_double)
    finally:
        _jit._frontend.cache_clear()


def test_state_moves_from_candidate_to_callable() -> None:
    jitted = ms.jit(_double)
    info = ms.jit_info(jitted)
    assert (info.state, info.compile_count, info.call_count, info.graphs) == ("candidate", 0, 0, [])
    jitted(ms.Tensor(X))
    jitted(ms.Tensor(X))
    info = ms.jit_info(jitted)
    assert (info.state, info.compile_count, info.break_count, info.call_count) == ("callable", 1, 0, 2)
    assert "x: Tensor f32[2, 3]" in info.guards and "mul" in info.graphs[0]


def _host_read(x):
    print("side effect")
    return x * float(x.sum().asnumpy())


def _class_statement(x):
    print("side effect")

    class Local:
        scale = 2

    return x * Local.scale


def test_unsupported_code_runs_eagerly_with_one_log_line(caplog: pytest.LogCaptureFixture,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    jitted = ms.jit(_class_statement)
    with caplog.at_level(logging.WARNING, logger="mycelia.jit"):
        for _ in range(3):
            np.testing.assert_array_equal(jitted(ms.Tensor(X)).asnumpy(), X * 2)
    assert capsys.readouterr().out == "side effect\n" * 3
    info = ms.jit_info(jitted)
    assert info.state == "never_compile" and info.compile_count == 0 and "LOAD_BUILD_CLASS" in info.eager_reason
    assert "test_jit_api.py" in info.eager_reason
    assert len([r for r in caplog.records if "runs eagerly" in r.getMessage()]) == 1


def test_a_host_read_breaks_the_graph_and_the_rest_resumes(capsys: pytest.CaptureFixture[str]) -> None:
    jitted = ms.jit(_host_read)
    for value in (1.0, 2.0, 1.0):
        x = np.full((2, 3), value, np.float32)
        np.testing.assert_array_equal(jitted(ms.Tensor(x)).asnumpy(), x * x.sum())
    assert capsys.readouterr().out == "side effect\n" * 3
    info = ms.jit_info(jitted)
    assert info.eager_reason is None and info.break_count == 2  # the print, and the host read
    _print, (file, line, reason) = info.breaks
    assert file.endswith("test_jit_api.py") and line == _host_read.__code__.co_firstlineno + 2 and "host" in reason


def _f3(x):
    return x * float(x.max().asnumpy())


def _f2(x):
    return _f3(x + 1) * 2


def _f1(x):
    y = x - 1
    return _f2(y) + y


def test_a_break_in_a_callee_is_one_break_of_the_caller() -> None:
    jitted = ms.jit(_f1)
    for value in (1.0, 3.0):
        x = ms.Tensor(np.full((2, 3), value, np.float32))
        np.testing.assert_allclose(jitted(x).asnumpy(), _f1(x).asnumpy())
    info = ms.jit_info(jitted)
    assert info.break_count == 1 and info.eager_reason is None and info.compile_count >= 2


def _loop_with_branch(x):
    for _ in range(4):
        x = x * 2
        if x.sum() > 50:
            x = x - 10
    return x


def test_a_branch_on_a_tensor_inside_a_loop_reuses_one_resume_point(monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MYCELIA_JIT_LOGS", "graph_break")
    jitted = ms.jit(_loop_with_branch)
    for value in (1.0, 5.0, 1.0):
        x = ms.Tensor(np.full((2, 3), value, np.float32))
        np.testing.assert_array_equal(jitted(x).asnumpy(), _loop_with_branch(x).asnumpy())
    info = ms.jit_info(jitted)
    assert info.break_count == 1 and info.eager_reason is None
    assert capsys.readouterr().err.count("graph break in _loop_with_branch") == 1


def test_fullgraph_turns_the_fallback_into_an_error_naming_the_line() -> None:
    with pytest.raises(RuntimeError, match=r"fullgraph=True.*host.*test_jit_api.py:\d+"):
        ms.jit(_host_read, fullgraph=True)(ms.Tensor(X))


LOG: list = []


def _effects(x, p):
    LOG.append(x.shape[0])
    print("sum:", x.sum())
    ms.ops.assign(p, p + x.sum())
    return x * 2


def test_side_effects_are_replayed_after_the_graph_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    jitted = ms.jit(_effects, jit_config={"print_breaks": False})
    p = ms.Parameter(ms.Tensor(np.zeros((), np.float32)), name="p")
    for _ in range(3):
        np.testing.assert_array_equal(jitted(ms.Tensor(X), p).asnumpy(), X * 2)
    assert LOG == [2, 2, 2] and float(p.asnumpy()) == 3 * X.sum()
    assert capsys.readouterr().out == f"sum: {ms.Tensor(np.float32(X.sum()))}\n" * 3
    info = ms.jit_info(jitted)
    assert (info.compile_count, info.call_count, info.eager_reason) == (1, 3, None)


def _scaled(x, k):
    return x * k


def test_recompile_limit_then_eager(caplog: pytest.LogCaptureFixture) -> None:
    jitted = ms.jit(_scaled, jit_config={"recompile_limit": 2})
    with caplog.at_level(logging.WARNING, logger="mycelia.jit"):
        results = [jitted(ms.Tensor(X), k).asnumpy() for k in (1, 2, 3, 4, 1)]
    for result, k in zip(results, (1, 2, 3, 4, 1)):
        np.testing.assert_array_equal(result, X * k)
    info = ms.jit_info(jitted)
    assert info.compile_count == 2 and "recompile limit of 2" in info.eager_reason
    assert sum("recompile limit" in r.getMessage() for r in caplog.records) == 1


@pytest.mark.parametrize("topic, expected", [("guard", "guards"), ("bytecode", "captured bytecode"),
                                             ("graph", "graph"), ("all", "guards")])
def test_logs_print_what_was_captured(topic: str, expected: str, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MYCELIA_JIT_LOGS", topic)
    ms.jit(_double)(ms.Tensor(X))
    assert f"[mycelia.jit] _double: {expected}" in capsys.readouterr().err


def test_print_after_all_prints_bytecode_guards_and_graph(capsys: pytest.CaptureFixture[str]) -> None:
    ms.jit(_double, jit_config={"print_after_all": True})(ms.Tensor(X))
    err = capsys.readouterr().err
    assert "captured bytecode" in err and "guards" in err and "= mul" in err


def test_recompiles_are_logged_with_the_failing_guard(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MYCELIA_JIT_LOGS", "recompiles")
    jitted = ms.jit(_scaled)
    jitted(ms.Tensor(X), 2)
    jitted(ms.Tensor(X), 3)
    assert "recompiling _scaled (entry 2)" in capsys.readouterr().err


def test_graph_mode_runs_cells_compiled() -> None:
    net = nn.SequentialCell([nn.Dense(3, 5), nn.ReLU(), nn.Dense(5, 2)])
    x = ms.Tensor(X)
    eager = net(x).asnumpy()
    ms.set_context(mode=ms.GRAPH_MODE)
    try:
        first, second = net(x).asnumpy(), net(x).asnumpy()
    finally:
        ms.set_context(mode=ms.PYNATIVE_MODE)
    np.testing.assert_allclose(first, eager, rtol=1e-6)
    np.testing.assert_allclose(second, eager, rtol=1e-6)
    info = ms.jit_info(net._graph_mode_construct)
    assert (info.compile_count, info.call_count) == (1, 2)


def test_tracked_inputs_run_eagerly_so_outer_gradients_flow() -> None:
    jitted = ms.jit(lambda x: (x * x).sum())
    x = ms.Tensor(X)
    jitted(x)  # compiled for untracked inputs
    grad = ms.grad(jitted)(x)
    np.testing.assert_allclose(grad.asnumpy(), 2 * X)


def _noisy(x):
    y = x * 2
    return y + ms.ops.rand((2, 3)) + ms.ops.dropout(y, p=0.5)


def test_random_ops_draw_for_real_with_the_eager_stream() -> None:
    jitted = ms.jit(_noisy)
    x = ms.Tensor(X)
    ms.set_seed(7)
    eager = [_noisy(x).asnumpy() for _ in range(3)]
    ms.set_seed(7)
    jit = [jitted(x).asnumpy() for _ in range(3)]
    for e, j in zip(eager, jit):
        np.testing.assert_array_equal(j, e)  # the same numbers as eager: the stream is not frozen
    assert not np.array_equal(jit[0], jit[1])
    info = ms.jit_info(jitted)
    assert info.eager_reason is None and info.break_count == 2 and "random stream" in info.breaks[0][2]


def test_entries_are_released_with_their_function() -> None:
    def make() -> object:
        def f(x):
            return x * 3 + 1
        return ms.jit(f)

    jitted = make()
    jitted(ms.Tensor(X))
    reference = weakref.ref(jitted)
    del jitted
    gc.collect()
    assert reference() is None


def test_no_memory_growth_over_100k_calls() -> None:
    jitted = ms.jit(lambda x: x + 1)
    x = ms.Tensor(np.ones((4, 4), np.float32))
    for _ in range(1000):
        jitted(x)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(100_000):
        jitted(x)
    gc.collect()
    growth = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert growth < 64 * 1024, growth
    assert ms.jit_info(jitted).call_count == 101_000


def _mlp(x, w, b):
    return ms.ops.relu(ms.ops.matmul(x, w) + b)


def _weights() -> list[ms.Tensor]:
    rng = np.random.default_rng(3)
    return [ms.Tensor(rng.standard_normal((8, 4)).astype(np.float32)), ms.Tensor(np.zeros(4, np.float32))]


def test_a_dim_that_changes_becomes_symbolic_on_the_second_compile() -> None:
    jitted, params = ms.jit(_mlp), _weights()
    for batch in range(1, 33):
        x = ms.Tensor(np.random.default_rng(batch).standard_normal((batch, 8)).astype(np.float32))
        np.testing.assert_allclose(jitted(x, *params).asnumpy(), _mlp(x, *params).asnumpy(), rtol=1e-6)
    info = ms.jit_info(jitted)
    assert info.compile_count == 2 and "s0>=2" in info.guards


def test_input_signature_none_dims_are_symbolic_from_the_first_compile() -> None:
    jitted, params = ms.jit(_mlp, input_signature=[(None, 8)]), _weights()
    for batch in (2, 5, 9):
        jitted(ms.Tensor(np.ones((batch, 8), np.float32)), *params)
    assert ms.jit_info(jitted).compile_count == 1


def _shape_arithmetic(x):
    return x.reshape(x.shape[0] * 2, -1)


def test_code_that_needs_static_sizes_falls_back_to_one_entry_per_size() -> None:
    jitted = ms.jit(_shape_arithmetic)
    for batch in (2, 4, 6):
        x = ms.Tensor(np.ones((batch, 4), np.float32))
        assert jitted(x).shape == (batch * 2, 2)
    info = ms.jit_info(jitted)
    assert info.compile_count == 3 and info.eager_reason is None


def test_dynamic_false_keeps_every_shape_static() -> None:
    jitted, params = ms.jit(_mlp, dynamic=False), _weights()
    for batch in (2, 3, 4):
        jitted(ms.Tensor(np.ones((batch, 8), np.float32)), *params)
    assert ms.jit_info(jitted).compile_count == 3
