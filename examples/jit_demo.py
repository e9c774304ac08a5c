"""mycelia.jit on a plain training step: one compiled graph, what it guards, and a graph break."""

from __future__ import annotations

import numpy as np

import mycelia as ms
from mycelia import nn

LEARNING_RATE = 0.1


def loss_fn(x, labels, w1, b1, w2, b2):
    hidden = ms.ops.relu(x @ w1 + b1)
    return ms.ops.cross_entropy(hidden @ w2 + b2, labels)


@ms.jit
def train_step(x, labels, *params):
    """Forward, gradients and the SGD update: captured as one graph from this unchanged Python."""
    loss, grads = ms.value_and_grad(loss_fn, grad_position=(2, 3, 4, 5))(x, labels, *params)
    return loss, [p - LEARNING_RATE * g for p, g in zip(params, grads)]


@ms.jit
def report(x):
    print("mean:", x.mean())  # a graph break: the text appears here, as eagerly (print_breaks=False replays it)
    scale = float(x.max().asnumpy())  # a host read: a graph break; the rest resumes in a second graph
    return x * scale


def main() -> None:
    rng = np.random.default_rng(0)
    x = ms.Tensor(rng.standard_normal((32, 16)).astype(np.float32))
    labels = ms.Tensor(rng.integers(0, 4, 32).astype(np.int32))
    params = [ms.Tensor(rng.standard_normal((16, 32)).astype(np.float32) * 0.3), ms.Tensor(np.zeros(32, np.float32)),
              ms.Tensor(rng.standard_normal((32, 4)).astype(np.float32) * 0.3), ms.Tensor(np.zeros(4, np.float32))]
    losses = []
    for _ in range(50):
        loss, params = train_step(x, labels, *params)
        losses.append(float(loss))
    print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f} in 50 jitted steps")
    info = ms.jit_info(train_step)
    print(f"jit_info(train_step): state={info.state} compile_count={info.compile_count} "
          f"break_count={info.break_count} call_count={info.call_count}")
    print("guards:\n  " + info.guards.replace("\n", "\n  "))
    print(f"graph: {info.graphs[0].count(chr(10)) - 1} lines, starting with\n  "
          + "\n  ".join(info.graphs[0].splitlines()[:4]))

    net = nn.SequentialCell([nn.Dense(16, 8), nn.ReLU(), nn.Dense(8, 4)])
    compiled = ms.jit(net)
    np.testing.assert_allclose(compiled(x).asnumpy(), net(x).asnumpy(), rtol=1e-5, atol=1e-6)
    for batch in range(1, 9):  # a batch size that changes is made symbolic on the second compile
        compiled(ms.Tensor(rng.standard_normal((batch, 16)).astype(np.float32)))
    print(f"jit(net) over batch sizes 32, 1..8: {ms.jit_info(compiled).compile_count} compiles")

    report(x)
    info = ms.jit_info(report)
    print(f"jit_info(report): compile_count={info.compile_count} break_count={info.break_count}")
    for file, line, reason in info.breaks:
        print(f"  break at {file.rsplit('/', 1)[-1]}:{line}: {reason}")


if __name__ == "__main__":
    main()
