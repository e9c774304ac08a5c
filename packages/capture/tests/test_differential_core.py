"""The PIJit differential corpus: every case runs eagerly and under ``mycelia.jit``; both must agree
(results, exceptions, prints, side effects) and ``jit_info`` must report the expected compiles/breaks.

The first tests check the harness itself against the identity stand-in (``fake_jit``), so the harness
is known to catch differences before the real ``jit`` is judged by it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # differential.py and corpus/

import differential as diff
from corpus import ALL_CASES, counts

import mycelia as ms

BY_NAME = {c.name: c for c in ALL_CASES}


# --- the harness, against the stand-in ---------------------------------------------------------------
def test_corpus_size_and_categories() -> None:
    assert len(ALL_CASES) >= 300, counts()
    assert all(n >= 10 for n in counts().values()), counts()


@pytest.mark.parametrize("name", ["scalars.int_ops", "containers.dict_methods", "tensors.reductions",
                                  "closures.nonlocal_inside_jitted", "cells.jit_cell_mlp",
                                  "grads.training_step_returns_loss_and_new_weights",
                                  "guards.global_int_rebound_and_back", "classes.jit_bound_method",
                                  "control.try_else_finally", "tensors.shape_mismatch_error"])
def test_harness_accepts_identity_jit(name: str) -> None:
    case = BY_NAME[name]
    diff.assert_case(case, diff.fake_jit, diff.fake_jit_info, check=False)


def test_harness_checks_info_counters() -> None:
    case = BY_NAME["scalars.int_ops"]
    assert diff.run_case(case, diff.fake_jit, diff.fake_jit_info) == []  # fake: 1 compile, 0 breaks
    guard = BY_NAME["guards.scalar_argument_values"]  # expects 3 compiles, the fake says 1
    assert any("compile_count 1, expected 3" in p for p in diff.run_case(guard, diff.fake_jit, diff.fake_jit_info))
    eager = BY_NAME["unsupported.generator_function"]  # expects 0 compiles and a reason
    problems = diff.run_case(eager, diff.fake_jit, diff.fake_jit_info)
    assert any("compile_count 1, expected 0" in p for p in problems) and any("eager_reason" in p for p in problems)


def _bad_jit(change):
    def jit(fn=None, **_):
        return lambda *a, **k: change(fn(*a, **k))
    return jit


def test_harness_catches_wrong_results() -> None:
    case = BY_NAME["tensors.add_sub_mul_div"]
    problems = diff.run_case(case, _bad_jit(lambda r: (r[0] + 1e-3, *r[1:])), None)
    assert any("tensor values differ" in p for p in problems)
    problems = diff.run_case(case, _bad_jit(lambda r: (r[0].astype(ms.float64), *r[1:])), None)
    assert any("Float64" in p for p in problems)
    problems = diff.run_case(BY_NAME["scalars.int_ops"], _bad_jit(lambda r: (float(r[0]), *r[1:])), None)
    assert any("type int" in p for p in problems)
    problems = diff.run_case(BY_NAME["containers.dict_build_index"], _bad_jit(lambda r: r[:-1]), None)
    assert any("length" in p for p in problems)


def test_harness_catches_exceptions_prints_and_state() -> None:
    def raising_jit(fn=None, **_):
        def run(*a, **k):
            fn(*a, **k)
            raise TypeError("boom")
        return run

    problems = diff.run_case(BY_NAME["scalars.const_int"], raising_jit, None)
    assert any("raised" in p and "boom" in p for p in problems)
    problems = diff.run_case(BY_NAME["tensors.shape_mismatch_error"], _bad_jit(lambda r: r), None)
    assert problems == []  # same exception both ways

    def silent_jit(fn=None, **_):
        import contextlib
        import io

        def run(*a, **k):
            with contextlib.redirect_stdout(io.StringIO()):
                return fn(*a, **k)
        return run

    problems = diff.run_case(BY_NAME["unsupported.print_python_values"], silent_jit, None)
    assert any("stdout" in p for p in problems)

    def no_side_effect_jit(fn=None, **_):
        def run(*a, **k):
            saved = list(sys.modules["corpus.unsupported"].LOG)
            result = fn(*a, **k)
            sys.modules["corpus.unsupported"].LOG[:] = saved
            return result
        return run

    problems = diff.run_case(BY_NAME["unsupported.global_list_append"], no_side_effect_jit, None)
    assert any(p.startswith("state") for p in problems)


def test_harness_fresh_inputs_and_aliasing() -> None:
    import numpy as np

    a = np.ones((2, 3), np.float32)
    shared = [1]
    first, second = diff.materialize([(a, a, shared, shared)]), diff.materialize([(a, a, shared, shared)])
    (x, y, p, q), (x2, _, p2, _) = first[0].args, second[0].args
    assert x is y and p is q and x is not x2 and p is not p2 and p is not shared
    assert isinstance(x, ms.Tensor) and diff.materialize([diff.kw(a, k=a)])[0].kwargs["k"].shape == (2, 3)


def test_fake_jit_calling_forms() -> None:
    def f(x):
        return x + 1

    assert diff.fake_jit(f)(1) == 2
    assert diff.fake_jit(jit_config={"recompile_limit": 2})(f)(1) == 2
    assert diff.fake_jit_info(diff.fake_jit(capture_mode="bytecode", fullgraph=True)(f)).state == "callable"


# --- the corpus, against mycelia.jit -----------------------------------------------------------------
@pytest.mark.parametrize("case", ALL_CASES, ids=[c.name for c in ALL_CASES])
def test_corpus(case: diff.Case) -> None:
    if not hasattr(ms, "jit") or not hasattr(ms, "jit_info"):
        pytest.skip("mycelia.jit / mycelia.jit_info do not exist yet (PIJit not implemented)")
    diff.assert_case(case, ms.jit, ms.jit_info)
