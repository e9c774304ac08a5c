"""Train a small TransformerEncoder classifier on a synthetic sequence task (PyNative mode).

Task: a sequence of 16 tokens from a vocabulary of 12; the label is whether token 1 occurs more
often than token 2. The loss falls from ln(2) toward 0 as the model learns to count.

    python examples/train_transformer.py
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
from tqdm import tqdm

import mycelia as ms
from mycelia import nn, ops

VOCAB, LENGTH, D_MODEL = 12, 16, 32


def make_data(count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    tokens = rng.integers(0, VOCAB, size=(count, LENGTH)).astype(np.int32)
    labels = ((tokens == 1).sum(axis=1) > (tokens == 2).sum(axis=1)).astype(np.int32)
    return tokens, labels


class Classifier(nn.Cell):
    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, D_MODEL)
        layer = nn.TransformerEncoderLayer(D_MODEL, nhead=4, dim_feedforward=64, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2)
        self.head = nn.Dense(D_MODEL, 2)

    def construct(self, tokens: Any) -> Any:
        hidden = self.encoder(self.embedding(tokens))
        return self.head(ops.mean(hidden, axis=1))


def train(steps: int = 200, batch_size: int = 32, learning_rate: float = 2e-3, seed: int = 0,
          show_progress: bool = True) -> dict[str, Any]:
    """Train; returns {'losses': per-step losses, 'accuracy': on fresh data, 'seconds'}."""
    ms.set_seed(seed)
    rng = np.random.default_rng(seed)
    net = Classifier()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = nn.Adam(net.trainable_params(), learning_rate=learning_rate)
    grad_fn = ms.value_and_grad(lambda x, y: loss_fn(net(x), y), None, optimizer.parameters)
    losses = []
    started = time.perf_counter()
    net.set_train(True)
    with tqdm(range(steps), desc="transformer", disable=not show_progress, unit="step") as bar:
        for _ in bar:
            tokens, labels = make_data(batch_size, rng)
            loss, grads = grad_fn(ms.Tensor(tokens), ms.Tensor(labels))
            optimizer(grads)
            losses.append(loss.item())
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.4f}")
    net.set_train(False)
    tokens, labels = make_data(512, rng)
    predictions = net(ms.Tensor(tokens)).asnumpy().argmax(axis=1)
    return {"losses": losses, "accuracy": float((predictions == labels).mean()),
            "seconds": time.perf_counter() - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    result = train(args.steps, seed=args.seed)
    losses = result["losses"]
    print(f"loss {np.mean(losses[:20]):.4f} (first 20 steps) -> {np.mean(losses[-20:]):.4f} (last 20); "
          f"accuracy on fresh data {result['accuracy']:.2%}; {result['seconds']:.1f} s")


if __name__ == "__main__":
    main()
