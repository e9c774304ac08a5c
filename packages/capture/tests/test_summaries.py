"""Per-signature summaries: a helper is traced once per argument signature, spliced at later sites."""

from __future__ import annotations

import numpy as np
import pytest

import mycelia as ms
from mycelia_capture import _summaries

SCALE = 2.0
CALLS: list[int] = []
BIAS: ms.Tensor | None = None  # made per test: a context reset elsewhere may change the backend object


def _block(x, w):
    return ms.ops.tanh(x @ w) * SCALE + x


def _noisy_block(x, w):
    CALLS.append(1)
    return x @ w


def _block_with_global_tensor(x, w):
    return x @ w + BIAS


def _stack(block, x, w, depth=6):
    for _ in range(depth):
        x = block(x, w)
    return x


def _inputs() -> tuple[ms.Tensor, ms.Tensor]:
    rng = np.random.default_rng(5)
    return (ms.Tensor(rng.standard_normal((4, 8)).astype(np.float32)),
            ms.Tensor(rng.standard_normal((8, 8)).astype(np.float32) * 0.1))


@pytest.fixture(autouse=True)
def _fresh_summaries() -> None:
    global BIAS
    _summaries._summaries.clear()
    CALLS.clear()
    BIAS = ms.Tensor(np.ones((4, 8), np.float32))


def test_a_helper_is_traced_once_and_spliced_at_every_later_site(monkeypatch: pytest.MonkeyPatch) -> None:
    traced = []
    original = _summaries.summarize

    def counting(tracer, function, args):  # type: ignore[no-untyped-def]
        traced.append(function.__name__ if _summaries.signature_key(function, args) not in _summaries._summaries
                      else None)
        return original(tracer, function, args)

    monkeypatch.setattr("mycelia_capture._calls.summarize", counting)
    jitted = ms.jit(lambda x, w: _stack(_block, x, w))
    x, w = _inputs()
    np.testing.assert_allclose(jitted(x, w).asnumpy(), _stack(_block, x, w).asnumpy(), rtol=1e-5, atol=1e-6)
    assert [name for name in traced if name == "_block"] == ["_block"]  # made once, reused five times
    assert ms.jit_info(jitted).graphs[0].count("tanh") == 6


def test_a_summary_is_retraced_when_what_it_read_changes() -> None:
    global SCALE
    jitted = ms.jit(lambda x, w: _stack(_block, x, w))
    x, w = _inputs()
    try:
        for scale in (2.0, 3.0, 2.0):
            SCALE = scale
            np.testing.assert_allclose(jitted(x, w).asnumpy(), _stack(_block, x, w).asnumpy(), rtol=1e-5, atol=1e-6)
    finally:
        SCALE = 2.0
    assert ms.jit_info(jitted).compile_count == 2
    assert "SCALE'] == 2.0" in ms.jit_info(jitted).guards


@pytest.mark.parametrize("block", [_noisy_block, _block_with_global_tensor])
def test_helpers_with_effects_or_outside_tensors_are_inlined_instead(block: object) -> None:
    jitted = ms.jit(lambda x, w: _stack(block, x, w, depth=3))
    x, w = _inputs()
    expected = _stack(block, x, w, depth=3).asnumpy()
    CALLS.clear()
    np.testing.assert_allclose(jitted(x, w).asnumpy(), expected, rtol=1e-5, atol=1e-6)
    key = next(k for k in _summaries._summaries if k[0] is block)
    assert _summaries._summaries[key] is None  # known not to be summarisable
    assert CALLS == ([1, 1, 1] if block is _noisy_block else [])


def test_summaries_can_be_switched_off() -> None:
    jitted = ms.jit(lambda x, w: _stack(_block, x, w), jit_config={"helper_summaries": False})
    x, w = _inputs()
    jitted(x, w)
    assert not any(k[0] is _block for k in _summaries._summaries)
