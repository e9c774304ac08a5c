"""Graph-break resumes (issue 7): the generated step that runs the breaking instruction, host numbers
that are never frozen into a graph, and the locals a resume keeps."""

from __future__ import annotations

import contextlib
import io
import sys
import traceback

import numpy as np
import pytest

import mycelia as ms

RNG = np.random.default_rng(7)


def _inputs(count: int, shape: tuple[int, ...] = (2, 3), dtype: type = np.float32) -> list[ms.Tensor]:
    return [ms.Tensor((RNG.random(shape) - 0.4).astype(dtype)) for _ in range(count)]


def _same(eager: object, jitted: object, exact: bool = True) -> None:
    """Equal results; tensors bit for bit (``exact``) or to 1e-6 (fused transcendentals use libmvec)."""
    if isinstance(eager, tuple):
        assert isinstance(jitted, tuple) and len(eager) == len(jitted)
        for a, b in zip(eager, jitted):
            _same(a, b, exact)
    elif isinstance(eager, ms.Tensor):
        assert isinstance(jitted, ms.Tensor) and eager.dtype == jitted.dtype
        a, b = eager.asnumpy(), jitted.asnumpy()
        assert a.shape == b.shape
        if exact:
            assert np.array_equal(a.view(np.uint8), b.view(np.uint8)), (a, b)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    else:
        assert type(eager) is type(jitted) and eager == jitted, (eager, jitted)


def _agree(function, inputs, exact=True):
    """Run ``function`` eagerly and jitted on every input: same results, same printed text."""
    jitted = ms.jit(function)
    for x in inputs:
        eager_out, jit_out = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(eager_out):
            expected = function(x)
        with contextlib.redirect_stdout(jit_out):
            got = jitted(x)
        _same(expected, got, exact)
        assert eager_out.getvalue() == jit_out.getvalue()
    return jitted


def _steps(jitted) -> list[object]:
    return [continuation.step for continuation in jitted._state.continuations.values()]


# --- the generated step, per kind of breaking instruction -------------------------------------------------
def call_method(x):
    return x * x.sum().item()


def call_keywords(x):
    return x + float(np.round(x.sum().asnumpy(), decimals=2))


def branch_on_tensor(x):
    if x.sum() > 0:
        return x * 2
    return x - 1


def truth_of_tensor(x):
    if x.sum():
        return x * 2
    return x - 1


def not_of_tensor(x):
    flag = not x.max() > 0.5
    return x * 3 if flag else x


def and_or_on_tensors(x):
    return (x.sum() > 0 and x.max() < 0.5) or x.min() > -0.1, x + 1


def unpack_host_array(x):
    a, b = x.sum(axis=1).asnumpy()
    return x * float(a - b)


def iterate_host_array(x):
    total = 0.0
    for v in x.sum(axis=0).asnumpy():
        total = total + float(v)
    return x * total


def subscript_with_host_int(x):
    i = int(x.sum(axis=1).argmax())
    return x[i] * 2


@pytest.mark.parametrize("function", [call_method, call_keywords, branch_on_tensor, truth_of_tensor, not_of_tensor,
                                      and_or_on_tensors, unpack_host_array, iterate_host_array,
                                      subscript_with_host_int], ids=lambda f: f.__name__)
def test_each_break_kind_runs_a_generated_step(function):
    jitted = _agree(function, _inputs(12))
    info = ms.jit_info(jitted)
    assert info.break_count >= 1 and info.eager_reason is None
    steps = _steps(jitted)
    assert steps and all(step is not None for step in steps), "a break fell back to the interpreted path"


def test_an_exception_raised_by_the_step_points_at_the_users_line():
    def convert(x):
        y = x * 2
        return float(y)  # the line the traceback must show

    jitted = ms.jit(convert)
    assert jitted(ms.Tensor(np.ones((1,), np.float32))) == 2.0  # compiles the break
    bad = ms.Tensor(np.ones((2, 3), np.float32))
    with pytest.raises(Exception) as eager:
        convert(bad)
    with pytest.raises(type(eager.value)) as caught:
        jitted(bad)
    assert str(caught.value) == str(eager.value)
    line = convert.__code__.co_firstlineno + 2
    frames = [(f.filename, f.lineno) for f in traceback.extract_tb(caught.value.__traceback__)]
    assert (__file__, line) in frames, frames


def test_an_exception_raised_by_the_step_is_handled_by_the_functions_own_try():
    def safe_float(x):
        before = x + 1  # read only by the handler: live across the break through the exception edge
        try:
            value = float(x)
        except (TypeError, ValueError) as error:
            return before, type(error).__name__
        return x * value, "ok"

    jitted = ms.jit(safe_float)
    for x in [ms.Tensor(np.full((1,), 3.0, np.float32)), ms.Tensor(np.ones((2, 3), np.float32)),
              ms.Tensor(np.full((1,), -1.5, np.float32))]:
        _same(safe_float(x), jitted(x))


def test_a_saved_iterator_operand_takes_the_general_path():
    def tagged(x):
        it = iter([1.0, 2.0, 3.0])
        first = next(it)
        tag = id(it) > 0  # id() cannot be traced: a break whose operand is a running iterator
        return x * first, tag, list(it)

    _agree(tagged, _inputs(3))


# --- host numbers read at a break ---------------------------------------------------------------------------
def test_a_host_read_that_changes_every_call_compiles_twice():
    def scaled(x):
        s = x.sum().item()
        return x * s, s

    jitted = _agree(scaled, _inputs(20))
    info = ms.jit_info(jitted)
    assert info.compile_count == 2 and info.break_count == 1
    segment_guards = [c.guard_text for c in jitted._state._captures()[1:]]
    assert segment_guards and all("== " not in text.split("gradient")[0] for text in segment_guards), segment_guards


def test_arithmetic_formatting_and_prints_of_host_numbers_stay_symbolic():
    def report(x):
        loss = x.sum().item()
        total = loss * 2 + 1
        print(f"loss {loss:.3f} total {total!r}", round(loss, 2), abs(loss), -loss)
        return x / total, str(total), type(loss).__name__

    jitted = _agree(report, _inputs(15))
    assert ms.jit_info(jitted).compile_count == 3  # the host read, then the print: two breaks


def test_a_comparison_of_a_host_number_is_guarded_as_a_bool():
    def gate(x):
        v = x.max().item()
        if v > 0.3:
            return x * 2
        return x - 1

    jitted = _agree(gate, _inputs(20))
    info = ms.jit_info(jitted)
    assert info.break_count == 1 and info.compile_count <= 3


def test_python_code_needing_the_value_breaks_instead_of_freezing_it():
    def pick(x):
        i = int(x.sum(axis=1).argmax())
        return x[i], list(range(i + 1))

    jitted = _agree(pick, _inputs(20))
    info = ms.jit_info(jitted)
    assert info.break_count == 2 and info.compile_count <= 4 and info.eager_reason is None


@pytest.mark.parametrize("dtype", [ms.float16, ms.bfloat16, ms.float32, ms.float64], ids=str)
def test_a_host_number_in_tensor_arithmetic_rounds_like_eager(dtype):
    def mixed(x):
        s = x.mean().item()
        return x * s - s / 3 + (2 - x) / s

    # Unfused (each op rounds to the dtype, as eager does): the fused kernel keeps half-precision
    # intermediates in f32, which is a separate, known difference from eager.
    jitted = ms.jit(mixed, jit_config={"optimize": False})
    for x in [x.astype(dtype) for x in _inputs(6)]:
        _same(mixed(x), jitted(x))
    assert ms.jit_info(jitted).compile_count == 2


def test_an_integer_tensor_with_a_host_float_matches_eager():
    def promote(x):
        s = x.sum().item() / 7
        return x * s

    _agree(promote, [ms.Tensor(RNG.integers(1, 9, (2, 3)).astype(np.int32)) for _ in range(5)])


def test_a_host_divisor_that_becomes_zero_raises_like_eager():
    def inverse(x):
        s = x.sum().item()
        return x * (1.0 / s)

    jitted = ms.jit(inverse)
    _same(inverse(ms.Tensor(np.ones((2, 2), np.float32))), jitted(ms.Tensor(np.ones((2, 2), np.float32))))
    zero = ms.Tensor(np.array([[1.0, -1.0], [2.0, -2.0]], np.float32))
    with pytest.raises(ZeroDivisionError):
        inverse(zero)
    with pytest.raises(ZeroDivisionError):
        jitted(zero)


def test_host_arrays_become_graph_inputs():
    def rebuilt(x):
        a = x.asnumpy() * 2
        return ms.Tensor(a) + x

    jitted = _agree(rebuilt, _inputs(10))
    assert ms.jit_info(jitted).compile_count == 2


@pytest.mark.skipif(sys.version_info < (3, 12), reason="before 3.12 a comprehension is its own frame: no resume")
def test_a_comprehension_over_host_numbers_stays_symbolic():
    def rows(x):
        values = [x[i].sum().item() for i in range(2)]
        return x * values[0] - values[1], [round(v, 4) for v in values]

    jitted = _agree(rows, _inputs(12))
    assert ms.jit_info(jitted).compile_count <= 4
    assert ms.jit_info(jitted).eager_reason is None


# --- what a resume keeps ----------------------------------------------------------------------------------------
def test_dead_locals_are_not_saved_at_a_break():
    def chain(x):
        big = x * 2
        y = big + 1
        s = y.sum().item()
        return y * s

    jitted = _agree(chain, _inputs(3))
    (continuation,) = jitted._state.continuations.values()
    assert set(continuation.layouts[0].locals) == {"y"}


def test_code_reading_its_frame_after_a_break_runs_eagerly():
    def with_locals(x):
        a = x + 1
        s = a.sum().item()
        return sorted(locals()), x * s

    jitted = _agree(with_locals, _inputs(3))  # the right names: the interpreted frame's, not a resume's
    (continuation,) = jitted._state.continuations.values()
    assert continuation.eager  # what follows the break is not captured


def test_a_with_block_around_a_break_compiles_once_per_segment():
    log = []

    class Recorder:
        def __enter__(self):
            log.append("enter")
            return self

        def __exit__(self, *exc):
            log.append("exit")
            return False

    def guarded(x):
        with Recorder():
            v = x.sum().item()
            y = x * v
        return y

    jitted = _agree(guarded, _inputs(10))
    assert ms.jit_info(jitted).compile_count == 2
    assert log == ["enter", "exit"] * 20


@pytest.mark.skipif(sys.version_info < (3, 10), reason="3.10+")
def test_graph_break_logs_name_each_break(capsys, monkeypatch):
    monkeypatch.setenv("MYCELIA_JIT_LOGS", "graph_break")

    def logged(x):
        return x * x.sum().item()

    ms.jit(logged)(_inputs(1)[0])
    assert "graph break in" in capsys.readouterr().err


# --- print is a graph break (jit_config print_breaks, on by default) ----------------------------------------
def _w7(x):
    t = ms.ops.tanh(ms.ops.sin(x * x + x) - x)
    print("halfway")
    return ms.ops.exp(-(ms.ops.cos(t) * x + x))


def test_print_between_ops_is_exactly_one_break_and_two_graphs():
    jitted = _agree(_w7, _inputs(4, (4, 4)), exact=False)
    info = ms.jit_info(jitted)
    assert (info.break_count, info.compile_count, len(info.graphs)) == (1, 2, 2)
    assert "print()" in info.breaks[0][2]


def test_print_text_appears_before_the_rest_of_the_computation_runs():
    seen = []

    class Probe:
        def __init__(self, out):
            self.out = out

        def __mul__(self, other):  # runs as Python after the print: the text must already be there
            seen.append(self.out.getvalue())
            return other

    def show(x, probe):
        print("before", x.sum())
        return probe * (x + 1)

    jitted = ms.jit(show)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        jitted(_inputs(1)[0], Probe(out))
    assert seen and seen[0].startswith("before")


@pytest.mark.parametrize("config", [{"print_breaks": False}, {"fullgraph": True}], ids=["replayed", "fullgraph"])
def test_prints_are_replayed_after_the_graph_without_a_break(config):
    jitted = ms.jit(_w7, jit_config=config)
    for x in _inputs(3, (4, 4)):
        eager_out, jit_out = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(eager_out):
            expected = _w7(x)
        with contextlib.redirect_stdout(jit_out):
            got = jitted(x)
        _same(expected, got, exact=False)
        assert eager_out.getvalue() == jit_out.getvalue() == "halfway\n"
    info = ms.jit_info(jitted)
    assert (info.break_count, info.compile_count) == (0, 1)


def test_sys_exc_info_in_a_traced_handler_is_the_handled_exception():
    def handler(x):
        try:
            raise KeyError("k")
        except KeyError:
            kind, value, _ = sys.exc_info()
            return x + 1, kind.__name__, str(value), sys.exc_info()[0] is None

    _agree(handler, _inputs(2))


def test_with_on_an_object_that_is_not_a_context_manager_raises_like_python():
    class Half:
        def __enter__(self):
            return self

    def use(x):
        with Half():
            return x + 1

    jitted = ms.jit(use)
    with pytest.raises(Exception) as eager:
        use(_inputs(1)[0])
    with pytest.raises(type(eager.value), match=str(eager.value).replace("(", r"\(").replace(")", r"\)")):
        jitted(_inputs(1)[0])


def test_a_break_in_every_loop_iteration_compiles_a_bounded_number_of_segments():
    def counted(x):
        for i in range(20):
            print(i)  # a break in every iteration
            x = x * 2 + i
        return x

    jitted = _agree(counted, _inputs(3))
    info = ms.jit_info(jitted)
    # the entry, one segment per iteration (the loop's remaining items are read as taken), the exit
    assert info.compile_count == 3 and info.eager_reason is None


def _untraceable(value):
    return id(value) > 0  # id() cannot be traced: the call is a graph break


def call_in_try(x):
    try:
        flag = _untraceable(x)
    except ValueError:
        flag = None
    return x + 1, flag


def call_in_else(x):
    try:
        y = x * 2
    except ValueError:
        y = x
    else:
        y = y + _untraceable(x)
    return y


def call_in_finally(x):
    log = []
    try:
        y = x - 1
    finally:
        log.append(_untraceable(x))
    return y, log


@pytest.mark.parametrize("function", [call_in_try, call_in_else, call_in_finally], ids=lambda f: f.__name__)
def test_one_unsupported_call_in_a_try_else_or_finally_block_is_one_entry_and_one_break(function):
    jitted = _agree(function, _inputs(4))
    info = ms.jit_info(jitted)
    assert (info.entries, info.break_count, info.eager_reason) == (1, 1, None)


def test_a_framework_context_manager_inside_is_traced_with_its_state_switched():
    from mycelia import _autograd

    def scaled(x):
        with _autograd.no_grad():
            y = x * 2 + 1
        return y, _autograd.state.enabled

    jitted = _agree(scaled, _inputs(3))
    info = ms.jit_info(jitted)
    assert (info.compile_count, info.eager_reason) == (1, None)
    assert _autograd.state.enabled  # switched back after the call
