"""Cold compile latency: the first call of the jitted W3 MLP in a fresh process, for mycelia.jit and
jax.jit (and the in-process cost of building + optimising + compiling the MLP graph again).

    python benchmarks/cold_start.py [--runs 5]

Each run is a new interpreter with bytecode caches, as installed packages have: ``import`` of the
framework and the input tensors are made first and not timed; the timed part is the first call
(trace, optimise, compile, run), which for mycelia includes importing the capture, optimizer and
fused-kernel modules on first use.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_MYCELIA = """
import json, sys, time
sys.path.insert(0, {root!r})
import mycelia as ms
from mycelia import ir
from benchmarks.workloads.mlp import mlp, _w3_inputs
from benchmarks.workloads._ops import ops_for
o = ops_for("mycelia", ms)
arrays = _w3_inputs()
tensors = [ms.Tensor(a) for a in arrays]
tensors[0] + 1
start = time.perf_counter()
jitted = ms.jit(lambda *t: mlp(o, *t))
jitted(*tensors)
first = time.perf_counter() - start
types = [ir.TensorType(ms.float32, a.shape) for a in arrays]
warm = []
for _ in range(20):  # building + optimising + backend compile of the MLP graph, once everything is loaded
    start = time.perf_counter()
    compiled = ir.compile_graph(ir.trace(lambda *t: mlp(o, *t), types, "mlp"))
    compiled.executable.runner(tuple(a.shape for a in arrays))
    warm.append(time.perf_counter() - start)
print(json.dumps({{"first_call_ms": first * 1e3, "graph_compile_ms": sorted(warm)[len(warm) // 2] * 1e3}}))
"""

_JAX = """
import json, sys, time
sys.path.insert(0, {root!r})
import jax
from benchmarks.workloads.mlp import mlp, _w3_inputs
from benchmarks.workloads._ops import jax_ops
o = jax_ops(jax)
tensors = [jax.numpy.asarray(a) for a in _w3_inputs()]
(tensors[0] + 1).block_until_ready()
start = time.perf_counter()
jitted = jax.jit(lambda *t: mlp(o, *t))
jitted(*tensors).block_until_ready()
print(json.dumps({{"first_call_ms": (time.perf_counter() - start) * 1e3}}))
"""


def _run(script: str) -> dict[str, float] | None:
    # As installed packages run: with their .pyc files (pip writes them at install time). The first,
    # discarded run writes them for the source tree if PYTHONDONTWRITEBYTECODE had kept them away.
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run([sys.executable, "-c", script.format(root=str(ROOT))], capture_output=True, text=True,
                          check=False, env=environment)
    if done.returncode != 0:
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per framework (default 5)")
    args = parser.parse_args()
    for name, script in (("mycelia.jit", _MYCELIA), ("jax.jit", _JAX)):
        _run(script)  # writes the bytecode caches
        results = [r for r in (_run(script) for _ in range(args.runs)) if r is not None]
        if not results:
            print(f"{name}: not available")
            continue
        first = statistics.median(r["first_call_ms"] for r in results)
        line = f"{name}: first call of the jitted MLP in a fresh process, median {first:.1f} ms"
        if "graph_compile_ms" in results[0]:
            warm = statistics.median(r["graph_compile_ms"] for r in results)
            line += f"; MLP graph build + optimise + compile in a warm process {warm:.2f} ms"
        print(line + f" ({len(results)} runs)")


if __name__ == "__main__":
    main()
