"""Timing: validate each variant against numpy, calibrate, then sample all variants round-robin.

Round-robin (one sample of every variant per repetition, the order rotated each time) spreads machine
noise over all frameworks alike. A sample times ``inner`` back-to-back calls with the garbage collector
off (as ``timeit`` does) and is stored per call (per op for W1). A *fresh* workload (W6) times single
cold calls instead; for jit variants the validation run is the first sample.
"""

from __future__ import annotations

import gc
import io
import statistics
from collections.abc import Callable
from contextlib import nullcontext, redirect_stdout
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any, Protocol

import numpy as np

from benchmarks.frameworks import Env, to_numpy
from benchmarks.workloads import Case, Unsupported, Workload

MAX_INNER = 1_000_000


@dataclass(frozen=True)
class Settings:
    reps: int = 30  # samples per variant
    sample_s: float = 0.025  # target duration of one sample
    warmup_s: float = 0.15  # warm-up (and calibration) time per variant
    fresh_reps: int = 5  # samples per variant of a fresh (cold-start) workload
    quick: bool = False
    compile: bool = False


class Progress(Protocol):
    def update(self, n: int = 1) -> Any: ...


class _Sink(io.TextIOBase):
    """Swallows what a workload prints (W7)."""

    def write(self, s: str) -> int:
        return len(s)


@dataclass
class _Active:
    variant: str
    case: Case
    inner: int
    first_call_s: float
    samples: list[float] = field(default_factory=list)


def _time(fn: Callable[[], Any], inner: int) -> float:
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = perf_counter()
        for _ in range(inner):
            fn()
        return perf_counter() - start
    finally:
        if enabled:
            gc.enable()


def _calibrate(fn: Callable[[], Any], s: Settings) -> int:
    """Warm up for ``s.warmup_s`` (at least two calls) and pick the calls per sample."""
    calls, start = 0, perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = perf_counter() - start
        if (elapsed >= s.warmup_s and calls >= 2) or calls >= MAX_INNER:
            break
    return max(1, min(MAX_INNER, round(s.sample_s / (elapsed / calls))))


def _check(out: Any, ref: np.ndarray, rtol: float) -> None:
    got = to_numpy(out)
    if got.shape != ref.shape:
        raise Unsupported(f"wrong result: shape {got.shape}, numpy gives {ref.shape}")
    atol = rtol * max(1.0, float(np.abs(ref).max(initial=0.0)))
    if not np.allclose(got.astype(np.float64), ref.astype(np.float64), rtol=rtol, atol=atol):
        err = float(np.nanmax(np.abs(got.astype(np.float64) - ref)))
        raise Unsupported(f"wrong result: max abs error {err:.3g} against numpy")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, Unsupported):
        return str(exc)
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = " ".join(lines[:2])  # e.g. torch's "backend='inductor' raised:" is followed by the real error
    return f"error: {type(exc).__name__}: {text}"[:240]


def summarize(samples: list[float], scale: float) -> dict[str, float | int]:
    xs = sorted(v * scale for v in samples)
    med = statistics.median(xs)
    q1, _, q3 = statistics.quantiles(xs, n=4, method="inclusive") if len(xs) > 1 else (med, med, med)
    return {"median": med, "q1": q1, "q3": q3, "min": xs[0], "max": xs[-1], "samples": len(xs)}


def steps(w: Workload, s: Settings) -> int:
    return s.fresh_reps if w.fresh else s.reps


def run_workload(w: Workload, variants: list[str], env: Env, s: Settings, progress: Progress) -> dict[str, Any]:
    """Results per variant: ``{"status": "ok", "median": ...}`` or ``{"status": "n/a", "reason": ...}``."""
    results: dict[str, Any] = {}
    with redirect_stdout(_Sink()) if w.quiet else nullcontext():
        ref = to_numpy(w.builders["numpy"](env).fn()).astype(np.float64)
        active: list[_Active] = []
        for variant in variants:
            if variant not in w.builders:
                continue
            try:
                case = w.builders[variant](env)
                start = perf_counter()
                out = case.fn()
                first = perf_counter() - start
                _check(out, ref, w.rtol)
                if w.fresh:
                    inner = 1
                    if case.reset is None:
                        case.fn()  # warm-up of an eager variant
                else:
                    inner = _calibrate(case.fn, s)
            except Exception as exc:  # a variant that cannot run is reported, never a crash
                results[variant] = {"status": "n/a", "reason": _reason(exc)}
                continue
            a = _Active(variant, case, inner, first)
            if w.fresh and case.reset is not None:
                a.samples.append(first)  # the validation run was cold
            active.append(a)

        reps = steps(w, s)
        for rep in range(reps):
            k = rep % len(active) if active else 0
            for a in active[k:] + active[:k]:
                if a.variant in results or variant_done(a, reps):
                    continue
                try:
                    if w.fresh and a.case.reset is not None:
                        a.case.reset()
                    a.samples.append(_time(a.case.fn, a.inner) / a.inner / a.case.ops_per_call)
                except Exception as exc:
                    results[a.variant] = {"status": "n/a", "reason": _reason(exc)}
            progress.update(1)

        for a in active:
            if a.variant in results:
                continue
            entry: dict[str, Any] = {"status": "ok", **summarize(a.samples, w.scale)}
            entry["calls_per_sample"] = a.inner
            entry["first_call_ms"] = a.first_call_s * 1e3
            if w.count_label is not None:
                entry[w.count_label] = a.case.count() if a.case.count is not None else None
            if a.case.note:
                entry["note"] = a.case.note
            results[a.variant] = entry
    _ratios(results)
    return {v: results[v] for v in variants if v in results}


def variant_done(a: _Active, reps: int) -> bool:
    return len(a.samples) >= min(reps, a.case.max_reps or reps)


def _ratios(results: dict[str, Any]) -> None:
    for base in ("numpy", "torch"):
        ref = results.get(base, {})
        for entry in results.values():
            if entry["status"] == "ok":
                ok = ref.get("status") == "ok" and ref["median"] > 0
                entry[f"ratio_vs_{base}"] = entry["median"] / ref["median"] if ok else None
