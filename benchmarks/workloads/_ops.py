"""One op table per framework, so that every workload is written once and runs the same ops everywhere.

A workload is a plain function of an ``Ops`` table: ``chain(o, x, y)`` calls ``o.mul``, ``o.sin`` ...
For mycelia and MindSpore the table maps to ``<module>.ops.<name>`` with MindSpore's signatures; an op the
module lacks makes ``require`` raise ``Unsupported("missing op ms.ops.layer_norm")``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

Fn = Callable[..., Any]


class Unsupported(Exception):
    """A framework cannot run a workload; the message is the reason shown in the table."""


@dataclass(frozen=True)
class Ops:
    name: str
    tensor: Fn  # numpy array -> framework array (always a copy)
    add: Fn
    sub: Fn
    mul: Fn
    neg: Fn
    sin: Fn
    cos: Fn
    exp: Fn
    tanh: Fn
    matmul: Fn
    relu: Fn
    softmax: Fn  # over the last axis
    layer_norm: Fn  # (x, gamma, beta, eps) over the last axis
    reshape: Fn  # (x, shape)
    transpose: Fn  # (x, perm)
    missing: tuple[str, ...] = ()

    def require(self, *names: str) -> None:
        lacking = [n for n in names if n in self.missing]
        if lacking:
            word = "op" if len(lacking) == 1 else "ops"
            raise Unsupported(f"missing {word} " + ", ".join(f"{self.name}.ops.{n}" for n in lacking))


def _np_softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)  # type: ignore[no-any-return]


def _np_layer_norm(x: np.ndarray, g: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    xc = x - x.mean(axis=-1, keepdims=True)
    var = (xc * xc).mean(axis=-1, keepdims=True)
    return xc / np.sqrt(var + eps) * g + b  # type: ignore[no-any-return]


def numpy_ops() -> Ops:
    return Ops(
        name="numpy", tensor=lambda a: np.array(a, copy=True), add=np.add, sub=np.subtract, mul=np.multiply,
        neg=np.negative, sin=np.sin, cos=np.cos, exp=np.exp, tanh=np.tanh, matmul=np.matmul,
        relu=lambda x: np.maximum(x, 0), softmax=_np_softmax, layer_norm=_np_layer_norm, reshape=np.reshape,
        transpose=np.transpose,
    )


def torch_ops(torch: Any) -> Ops:
    f = torch.nn.functional
    return Ops(
        name="torch", tensor=lambda a: torch.tensor(a), add=torch.add, sub=torch.sub, mul=torch.mul,
        neg=torch.neg, sin=torch.sin, cos=torch.cos, exp=torch.exp, tanh=torch.tanh, matmul=torch.matmul,
        relu=torch.relu, softmax=lambda x: torch.softmax(x, -1),
        layer_norm=lambda x, g, b, eps: f.layer_norm(x, (x.shape[-1],), g, b, eps),
        reshape=torch.reshape, transpose=torch.permute,
    )


def jax_ops(jax: Any) -> Ops:
    jnp = jax.numpy

    def layer_norm(x: Any, g: Any, b: Any, eps: float) -> Any:
        xc = x - x.mean(axis=-1, keepdims=True)
        return xc / jnp.sqrt((xc * xc).mean(axis=-1, keepdims=True) + eps) * g + b

    return Ops(
        name="jax", tensor=lambda a: jnp.array(a, copy=True), add=jnp.add, sub=jnp.subtract, mul=jnp.multiply,
        neg=jnp.negative, sin=jnp.sin, cos=jnp.cos, exp=jnp.exp, tanh=jnp.tanh, matmul=jnp.matmul,
        relu=jax.nn.relu, softmax=lambda x: jax.nn.softmax(x, axis=-1), layer_norm=layer_norm,
        reshape=jnp.reshape, transpose=jnp.transpose,
    )


def mindspore_style_ops(mod: Any, alias: str) -> Ops:
    """mycelia (alias ``ms``) or MindSpore itself: ``mod.ops.<name>`` with MindSpore's signatures."""
    ops = mod.ops
    missing: list[str] = []

    def op(name: str) -> Fn:
        fn = getattr(ops, name, None)
        if fn is None:
            missing.append(name)

            def absent(*args: Any, **kwargs: Any) -> Any:
                raise Unsupported(f"missing op {alias}.ops.{name}")

            return absent
        return fn  # type: ignore[no-any-return]

    softmax, layer_norm, reshape, transpose = op("softmax"), op("layer_norm"), op("reshape"), op("transpose")
    return Ops(
        name=alias, tensor=lambda a: mod.Tensor(np.array(a, copy=True)), add=op("add"), sub=op("sub"),
        mul=op("mul"), neg=op("neg"), sin=op("sin"), cos=op("cos"), exp=op("exp"), tanh=op("tanh"),
        matmul=op("matmul"), relu=op("relu"), softmax=lambda x: softmax(x, -1),
        layer_norm=lambda x, g, b, eps: layer_norm(x, (x.shape[-1],), g, b, eps),
        reshape=lambda x, shape: reshape(x, shape), transpose=lambda x, perm: transpose(x, perm),
        missing=tuple(missing),
    )


ALIASES = {"mycelia": "ms", "mindspore": "mindspore"}


def ops_for(variant_framework: str, module: Any) -> Ops:
    if variant_framework == "numpy":
        return numpy_ops()
    if variant_framework == "torch":
        return torch_ops(module)
    if variant_framework == "jax":
        return jax_ops(module)
    return mindspore_style_ops(module, ALIASES[variant_framework])


def require_module_ops(mod: Any, alias: str, *names: str) -> None:
    """For ops outside the ``Ops`` table (cross_entropy, assign ...)."""
    lacking = [n for n in names if not hasattr(mod.ops, n)]
    if lacking:
        word = "op" if len(lacking) == 1 else "ops"
        raise Unsupported(f"missing {word} " + ", ".join(f"{alias}.ops.{n}" for n in lacking))
