"""Which frameworks are importable in this process, their versions, and a uniform way to read results back."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

FRAMEWORKS = ("mycelia", "numpy", "torch", "jax", "mindspore")

# Every column of the tables: variant name -> the framework it needs.
VARIANTS: dict[str, str] = {
    "mycelia": "mycelia",
    "mycelia graph": "mycelia",
    "mycelia.jit": "mycelia",
    "mycelia.jit (two functions)": "mycelia",
    "numpy": "numpy",
    "numpy (no temporaries)": "numpy",
    "torch": "torch",
    "torch.compile": "torch",
    "torch.compile (two functions)": "torch",
    "jax.jit": "jax",
    "mindspore": "mindspore",
}
COMPILE_VARIANTS = frozenset({"torch.compile", "torch.compile (two functions)"})


@dataclass
class Env:
    """The imported frameworks (None when not importable) and the options the builders need."""

    modules: dict[str, ModuleType | None] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def module(self, name: str) -> Any:
        mod = self.modules.get(name)
        if mod is None:
            raise RuntimeError(f"{name} is not importable here")
        return mod

    def available(self, name: str) -> bool:
        return self.modules.get(name) is not None


def _warm(name: str, mod: ModuleType) -> None:
    """First-use initialisation (thread pools, backend clients) so that no workload pays for it."""
    a = np.ones((4, 4), np.float32)
    if name == "torch":
        (mod.from_numpy(a) + 1).sum().item()
    elif name == "jax":
        mod.block_until_ready(mod.numpy.asarray(a) + 1)
    elif name in ("mycelia", "mindspore"):
        t = mod.Tensor(a)
        (t + t).asnumpy()


def load(names: tuple[str, ...]) -> Env:
    env = Env()
    for name in names:
        try:
            mod = importlib.import_module(name)
            if name == "jax":
                importlib.import_module("jax.numpy")
            _warm(name, mod)
        except Exception as exc:  # an unusable framework is a missing column, never a crash
            env.modules[name] = None
            env.errors[name] = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
            continue
        env.modules[name] = mod
        env.versions[name] = str(getattr(mod, "__version__", "unknown"))
    return env


def to_numpy(value: Any) -> np.ndarray:
    """A framework's result as a numpy array (tuples: the last element, e.g. the loss of a training step)."""
    if isinstance(value, (tuple, list)):
        value = value[-1]
    if hasattr(value, "asnumpy"):  # mycelia, MindSpore
        return np.asarray(value.asnumpy())
    if hasattr(value, "detach"):  # torch
        return np.asarray(value.detach().cpu().numpy())
    return np.asarray(value)
