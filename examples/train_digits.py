"""Train an MLP or a LeNet-style CNN on the bundled 8x8 digits in PyNative mode.

    python examples/train_digits.py --model mlp      # about 97% test accuracy
    python examples/train_digits.py --model lenet    # about 98% test accuracy

A tqdm bar shows loss and accuracy; the trained weights are saved as a checkpoint.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

import mycelia as ms
from mycelia import nn
from mycelia.dataset import load_digits, train_test_split


def build_mlp() -> nn.Cell:
    return nn.SequentialCell([
        nn.Flatten(),
        nn.Dense(64, 128), nn.ReLU(),
        nn.Dense(128, 10),
    ])


def build_lenet() -> nn.Cell:
    # 1x8x8 -> 16x8x8 -> 16x4x4 -> 32x4x4 -> 32x2x2 -> 128 -> 64 -> 10
    return nn.SequentialCell([
        nn.Conv2d(1, 16, 3, pad_mode="same", has_bias=True), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(16, 32, 3, pad_mode="same", has_bias=True), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Flatten(),
        nn.Dense(128, 64), nn.ReLU(),
        nn.Dense(64, 10),
    ])


MODELS = {"mlp": build_mlp, "lenet": build_lenet}


def accuracy(net: nn.Cell, images: np.ndarray, labels: np.ndarray) -> float:
    net.set_train(False)
    logits = net(ms.Tensor(images))
    return float((logits.asnumpy().argmax(axis=1) == labels).mean())


def train(model: str = "mlp", epochs: int = 15, batch_size: int = 32, learning_rate: float = 3e-3, seed: int = 0,
          checkpoint: str | None = None, show_progress: bool = True) -> dict[str, Any]:
    """Train and return {'test_accuracy', 'final_loss', 'seconds', 'checkpoint'}."""
    ms.set_seed(seed)
    images, labels = load_digits()
    images = images[:, None, :, :]  # NCHW with one channel
    train_x, train_y, test_x, test_y = train_test_split(images, labels, test_fraction=0.2, seed=seed)
    net = MODELS[model]()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = nn.Adam(net.trainable_params(), learning_rate=learning_rate)

    def forward(x: Any, y: Any) -> Any:
        return loss_fn(net(x), y)

    grad_fn = ms.value_and_grad(forward, None, optimizer.parameters)
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    steps_per_epoch = (len(train_x) + batch_size - 1) // batch_size
    bar = tqdm(total=epochs * steps_per_epoch, desc=f"digits/{model}", disable=not show_progress, unit="step")
    loss_value = float("nan")
    for _ in range(epochs):
        net.set_train(True)
        order = rng.permutation(len(train_x))
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            loss, grads = grad_fn(ms.Tensor(train_x[batch]), ms.Tensor(train_y[batch]))
            optimizer(grads)
            loss_value = loss.item()
            bar.update(1)
            bar.set_postfix(loss=f"{loss_value:.4f}")
        bar.set_postfix(loss=f"{loss_value:.4f}", test_acc=f"{accuracy(net, test_x, test_y):.3f}")
    bar.close()
    result: dict[str, Any] = {"test_accuracy": accuracy(net, test_x, test_y), "final_loss": loss_value,
                              "seconds": time.perf_counter() - started, "checkpoint": None}
    if checkpoint:
        Path(checkpoint).parent.mkdir(parents=True, exist_ok=True)
        ms.save_checkpoint(net, checkpoint)
        result["checkpoint"] = checkpoint
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=sorted(MODELS), default="mlp")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint", default=None, help="where to save the weights (default: digits_<model>.ckpt)")
    args = parser.parse_args()
    checkpoint = args.checkpoint or f"digits_{args.model}.ckpt"
    result = train(args.model, args.epochs, args.batch_size, args.learning_rate, args.seed, checkpoint)
    print(f"{args.model}: test accuracy {result['test_accuracy']:.2%}, final loss {result['final_loss']:.4f}, "
          f"{result['seconds']:.1f} s; checkpoint saved to {result['checkpoint']}")


if __name__ == "__main__":
    main()
