"""The tape frees intermediates once backward has used them: repeated training steps on a deep
chain do not grow memory, and backward's peak stays below the forward activations plus a margin."""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any

import numpy as np

import mycelia as ms
from mycelia import ops

DEPTH, WIDTH = 60, 20_000  # 60 activations of 80 KB each


def _step(x: Any, weights: list[Any]) -> Any:
    def loss(*params: Any) -> Any:
        h = x
        for w in params:
            h = ops.tanh(h * w)
        return ops.sum(h)

    return ms.grad(loss, grad_position=tuple(range(len(weights))))(*weights)


def test_repeated_steps_do_not_grow_memory_and_backward_frees_as_it_goes() -> None:
    rng = np.random.default_rng(0)
    x = ms.Tensor(rng.standard_normal(WIDTH).astype(np.float32))
    weights = [ms.Tensor(np.full(WIDTH, 0.9, np.float32)) for _ in range(DEPTH)]
    _step(x, weights)  # warm caches (infer/plan caches, kernel lookups)
    gc.collect()
    tracemalloc.start()
    try:
        currents, peaks = [], []
        for _ in range(6):
            tracemalloc.reset_peak()
            grads = _step(x, weights)
            del grads
            gc.collect()
            current, peak = tracemalloc.get_traced_memory()
            currents.append(current)
            peaks.append(peak)
    finally:
        tracemalloc.stop()
    activation_bytes = DEPTH * WIDTH * 4
    assert currents[-1] <= currents[1] + 64 * 1024, currents  # nothing accumulates between steps
    assert max(peaks[2:]) <= peaks[1] * 1.05 + 64 * 1024, peaks  # the peak does not creep up
    # Forward keeps 2 arrays per layer (h*w and tanh): 2x. Backward frees them as it produces the
    # weight gradients (1x), so the peak stays near 2x; a tape that kept its inputs measured 3.06x.
    assert max(peaks) < 2.5 * activation_bytes, (max(peaks), activation_bytes)
