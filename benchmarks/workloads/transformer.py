"""W8: a post-LN transformer encoder block forward (d_model 128, 4 heads, seq 64, batch 8, FFN 512, ReLU)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from benchmarks.workloads._base import Workload, normal
from benchmarks.workloads._build import standard
from benchmarks.workloads._ops import Ops

BATCH, SEQ, D_MODEL, HEADS, FFN = 8, 64, 128, 4, 512
HEAD_DIM = D_MODEL // HEADS
EPS = 1e-5
W8_NEEDS = ("matmul", "add", "mul", "relu", "softmax", "layer_norm", "reshape", "transpose")

# Parameter order of `encoder_block` after x.
_SHAPES: list[tuple[int, ...]] = [
    (D_MODEL, D_MODEL), (D_MODEL,),  # wq, bq
    (D_MODEL, D_MODEL), (D_MODEL,),  # wk, bk
    (D_MODEL, D_MODEL), (D_MODEL,),  # wv, bv
    (D_MODEL, D_MODEL), (D_MODEL,),  # wo, bo
    (D_MODEL,), (D_MODEL,),  # ln1 gamma, beta
    (D_MODEL, FFN), (FFN,),  # w1, b1
    (FFN, D_MODEL), (D_MODEL,),  # w2, b2
    (D_MODEL,), (D_MODEL,),  # ln2 gamma, beta
]


def _w8_inputs() -> list[np.ndarray]:
    arrays = [normal((BATCH, SEQ, D_MODEL), 80)]
    for i, shape in enumerate(_SHAPES):
        if len(shape) == 2:
            arrays.append(normal(shape, 81 + i, 1.0 / math.sqrt(shape[0])))
        else:
            arrays.append(normal(shape, 81 + i, 0.02))
    arrays[9] = arrays[9] + np.float32(1.0)  # layer-norm gammas around 1
    arrays[15] = arrays[15] + np.float32(1.0)
    return arrays


def _heads(o: Ops, t: Any) -> Any:
    """(B, S, D) -> (B, H, S, hd)."""
    return o.transpose(o.reshape(t, (BATCH, SEQ, HEADS, HEAD_DIM)), (0, 2, 1, 3))


def encoder_block(
    o: Ops, x: Any, wq: Any, bq: Any, wk: Any, bk: Any, wv: Any, bv: Any, wo: Any, bo: Any,
    g1: Any, be1: Any, w1: Any, b1: Any, w2: Any, b2: Any, g2: Any, be2: Any,
) -> Any:
    q = _heads(o, o.add(o.matmul(x, wq), bq))  # (B, H, S, hd)
    k = _heads(o, o.add(o.matmul(x, wk), bk))
    v = _heads(o, o.add(o.matmul(x, wv), bv))
    # k^T as its own transpose: torch 2.13 inductor's attention fusion fails on a single (0, 2, 3, 1) permute
    scores = o.matmul(q, o.transpose(k, (0, 1, 3, 2)))  # (B, H, S, S)
    p = o.softmax(o.mul(scores, 1.0 / math.sqrt(HEAD_DIM)))
    ctx = o.reshape(o.transpose(o.matmul(p, v), (0, 2, 1, 3)), (BATCH, SEQ, D_MODEL))
    x = o.layer_norm(o.add(x, o.add(o.matmul(ctx, wo), bo)), g1, be1, EPS)
    ff = o.add(o.matmul(o.relu(o.add(o.matmul(x, w1), b1)), w2), b2)
    return o.layer_norm(o.add(x, ff), g2, be2, EPS)


WORKLOADS = [
    Workload(
        "W8", "transformer block", "µs", 1e6,
        "post-LN encoder block forward: d_model 128, 4 heads, seq 64, batch 8, FFN 512, ReLU, no mask/dropout",
        builders=standard(encoder_block, _w8_inputs, W8_NEEDS),
    ),
]
