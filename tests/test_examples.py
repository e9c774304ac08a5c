"""The training examples reach their stated accuracy in a short configuration (PyNative mode)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("model", "epochs"), [("mlp", 15), ("lenet", 12)])
def test_digits_reaches_95_percent(model: str, epochs: int, tmp_path: Path) -> None:
    digits = _load("train_digits")
    checkpoint = tmp_path / f"{model}.ckpt"
    result = digits.train(model, epochs=epochs, checkpoint=str(checkpoint), show_progress=False)
    assert result["test_accuracy"] >= 0.95, result
    assert checkpoint.exists() and checkpoint.stat().st_size > 1000
    # The checkpoint loads back into a fresh network with the same predictions.
    import mycelia as ms

    fresh = digits.MODELS[model]()
    not_loaded, _ = ms.load_param_into_net(fresh, ms.load_checkpoint(str(checkpoint)))
    assert not not_loaded


def test_transformer_loss_falls() -> None:
    transformer = _load("train_transformer")
    result = transformer.train(steps=80, show_progress=False)
    losses = np.asarray(result["losses"])
    assert losses[-15:].mean() < 0.8 * losses[:15].mean(), losses


def test_jit_demo_trains_in_one_graph_and_reports_its_graph_break(capsys: pytest.CaptureFixture[str]) -> None:
    _load("jit_demo").main()
    out = capsys.readouterr().out
    assert "state=callable compile_count=1 break_count=0 call_count=50" in out
    first, last = (float(v) for v in out.split("loss ")[1].split(" in ")[0].split(" -> "))
    assert last < first / 2
    assert "jit(net) over batch sizes 32, 1..8: 3 compiles" in out
    assert "mean: " in out and "jit_info(report): compile_count=3 break_count=2" in out
    assert "break at jit_demo.py:28: reads a tensor's value on the host" in out
