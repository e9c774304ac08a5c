"""MultiheadAttention, TransformerEncoderLayer and TransformerEncoder (MindSpore 2.x signatures and names).

Attention runs batch-first inside (N, heads, L, head_dim); masks are turned into additive float masks
(True = not allowed, as MindSpore and PyTorch), so padding them for ``add_bias_kv``/``add_zero_attn`` is a
zero column.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from mycelia import dtype as dt
from mycelia import ops
from mycelia._tensor import Parameter, Tensor
from mycelia.common.initializer import XavierNormal, XavierUniform
from mycelia.nn._basic import Dense, Dropout
from mycelia.nn._cell import Cell
from mycelia.nn._containers import CellList
from mycelia.nn._layer_utils import check_bool, check_float, check_int, clone_cell, linear, make_parameter
from mycelia.nn._normalization import LayerNorm

__all__ = ["MultiheadAttention", "TransformerEncoder", "TransformerEncoderLayer"]


def _additive_mask(mask: Any, dtype: dt.DType, name: str) -> Any:
    """A bool mask (True = masked) as 0 / -inf in ``dtype``; a float mask as is."""
    if not isinstance(mask, Tensor):
        raise TypeError(f"For 'MultiheadAttention', '{name}' must be a Tensor, got {type(mask).__name__}")
    if mask.dtype is dt.bool_:
        return ops.masked_fill(ops.zeros(mask.shape, dtype), mask, float("-inf"))
    if not mask.dtype.is_floating_point:
        raise TypeError(f"For 'MultiheadAttention', '{name}' must be a bool or float Tensor, got {mask.dtype}")
    return mask


def _pad_last(mask: Any) -> Any:
    return None if mask is None else ops.pad(mask, (0, 1))


class MultiheadAttention(Cell):
    """Multi-head attention. Inputs (L, N, E) or, with ``batch_first``, (N, L, E); unbatched (L, E) too.

    Parameters: ``in_proj_weight`` (3E, E) (or ``q_proj_weight``/``k_proj_weight``/``v_proj_weight`` when
    kdim/vdim differ from E), ``in_proj_bias`` (3E), ``out_proj.weight``/``out_proj.bias``, and ``bias_k``/
    ``bias_v`` with ``add_bias_kv``. Returns ``(output, weights)``, weights averaged over heads unless
    ``average_attn_weights=False``; ``need_weights=False`` returns ``(output,)`` as MindSpore does.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, has_bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, dtype: dt.DType = dt.float32) -> None:
        super().__init__()
        cell = "MultiheadAttention"
        self.embed_dim = check_int(embed_dim, "embed_dim", cell)
        self.num_heads = check_int(num_heads, "num_heads", cell)
        self.kdim = self.embed_dim if kdim is None else check_int(kdim, "kdim", cell)
        self.vdim = self.embed_dim if vdim is None else check_int(vdim, "vdim", cell)
        self._qkv_same_embed_dim = self.kdim == self.embed_dim and self.vdim == self.embed_dim
        self.head_dim = self.embed_dim // self.num_heads
        if self.head_dim * self.num_heads != self.embed_dim:
            raise ValueError(f"For '{cell}', 'embed_dim' ({embed_dim}) must be divisible by 'num_heads' ({num_heads})")
        self.dropout = check_float(dropout, "dropout", cell, 0.0, 1.0)
        self.batch_first = check_bool(batch_first, "batch_first", cell)
        self.add_zero_attn = check_bool(add_zero_attn, "add_zero_attn", cell)
        self.dtype = dtype
        e = self.embed_dim
        self.in_proj_weight: Parameter | None = None
        self.q_proj_weight: Parameter | None = None
        self.k_proj_weight: Parameter | None = None
        self.v_proj_weight: Parameter | None = None
        if self._qkv_same_embed_dim:
            self.in_proj_weight = make_parameter(XavierUniform(), (3 * e, e), dtype, "in_proj_weight")
        else:
            self.q_proj_weight = make_parameter(XavierUniform(), (e, e), dtype, "q_proj_weight")
            self.k_proj_weight = make_parameter(XavierUniform(), (e, self.kdim), dtype, "k_proj_weight")
            self.v_proj_weight = make_parameter(XavierUniform(), (e, self.vdim), dtype, "v_proj_weight")
        self.in_proj_bias: Parameter | None = None
        if check_bool(has_bias, "has_bias", cell):
            self.in_proj_bias = make_parameter("zeros", (3 * e,), dtype, "in_proj_bias")
        self.out_proj = Dense(e, e, has_bias=has_bias, dtype=dtype)
        self.bias_k: Parameter | None = None
        self.bias_v: Parameter | None = None
        if check_bool(add_bias_kv, "add_bias_kv", cell):
            self.bias_k = make_parameter(XavierNormal(), (1, 1, e), dtype, "bias_k")
            self.bias_v = make_parameter(XavierNormal(), (1, 1, e), dtype, "bias_v")

    def _project(self, query: Any, key: Any, value: Any, same_qkv: bool, same_kv: bool) -> tuple[Any, Any, Any]:
        e, bias = self.embed_dim, self.in_proj_bias
        biases = (None, None, None) if bias is None else tuple(ops.split(bias, e))
        if not self._qkv_same_embed_dim:
            return (linear(query, self.q_proj_weight, biases[0]), linear(key, self.k_proj_weight, biases[1]),
                    linear(value, self.v_proj_weight, biases[2]))
        if same_qkv:  # self-attention: one matmul for q, k and v
            q, k, v = ops.split(linear(query, self.in_proj_weight, bias), e, axis=-1)
            return q, k, v
        w_q, w_k, w_v = ops.split(self.in_proj_weight, e)
        q = linear(query, w_q, biases[0])
        if same_kv:
            w_kv = ops.narrow(self.in_proj_weight, 0, e, 2 * e)
            b_kv = None if bias is None else ops.narrow(bias, 0, e, 2 * e)
            k, v = ops.split(linear(key, w_kv, b_kv), e, axis=-1)
            return q, k, v
        return q, linear(key, w_k, biases[1]), linear(value, w_v, biases[2])

    def construct(self, query: Any, key: Any, value: Any, key_padding_mask: Any = None, need_weights: bool = True,
                  attn_mask: Any = None, average_attn_weights: bool = True) -> Any:
        batched = query.ndim == 3
        same_qkv, same_kv = query is key and key is value, key is value
        if batched and not self.batch_first:
            query, key, value = (ops.swapaxes(t, 0, 1) for t in (query, key, value))
        elif not batched:
            query, key, value = (ops.expand_dims(t, 0) for t in (query, key, value))
        q, k, v = self._project(query, key, value, same_qkv, same_kv)
        batch, target, heads, head_dim = q.shape[0], q.shape[1], self.num_heads, self.head_dim
        if attn_mask is not None:
            attn_mask = _additive_mask(attn_mask, q.dtype, "attn_mask")
        if key_padding_mask is not None:
            key_padding_mask = _additive_mask(key_padding_mask, q.dtype, "key_padding_mask")
        if self.bias_k is not None and self.bias_v is not None:
            k = ops.concat([k, ops.broadcast_to(self.bias_k, (batch, 1, self.embed_dim))], axis=1)
            v = ops.concat([v, ops.broadcast_to(self.bias_v, (batch, 1, self.embed_dim))], axis=1)
            attn_mask, key_padding_mask = _pad_last(attn_mask), _pad_last(key_padding_mask)
        source = k.shape[1]
        q = ops.transpose(ops.reshape(q, (batch, target, heads, head_dim)), (0, 2, 1, 3))
        k = ops.transpose(ops.reshape(k, (batch, source, heads, head_dim)), (0, 2, 3, 1))
        v = ops.transpose(ops.reshape(v, (batch, source, heads, head_dim)), (0, 2, 1, 3))
        if self.add_zero_attn:
            k = ops.concat([k, ops.zeros((batch, heads, head_dim, 1), k.dtype)], axis=3)
            v = ops.concat([v, ops.zeros((batch, heads, 1, head_dim), v.dtype)], axis=2)
            attn_mask, key_padding_mask = _pad_last(attn_mask), _pad_last(key_padding_mask)
            source += 1
        scores = ops.matmul(q * (1.0 / math.sqrt(head_dim)), k)  # (N, heads, L, S)
        if attn_mask is not None:
            if attn_mask.ndim == 3:  # (N * heads, L, S)
                attn_mask = ops.reshape(attn_mask, (batch, heads, target, source))
            scores = scores + attn_mask
        if key_padding_mask is not None:
            scores = scores + ops.reshape(key_padding_mask, (batch, 1, 1, source))
        weights = ops.softmax(scores, -1)
        if self.training and self.dropout > 0.0:
            weights = ops.dropout(weights, p=self.dropout)
        out = ops.reshape(ops.transpose(ops.matmul(weights, v), (0, 2, 1, 3)), (batch, target, self.embed_dim))
        out = self.out_proj(out)
        if not batched:
            out = ops.squeeze(out, 0)
        elif not self.batch_first:
            out = ops.swapaxes(out, 0, 1)
        if not need_weights:
            return (out,)
        if average_attn_weights:
            weights = ops.mean(weights, 1)
        return out, (weights if batched else ops.squeeze(weights, 0))

    def extend_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, batch_first={self.batch_first}"


def _activation_fn(activation: Any) -> Callable[[Any], Any]:
    if isinstance(activation, str):
        functions: dict[str, Callable[[Any], Any]] = {"relu": ops.relu, "gelu": ops.gelu}
        if activation not in functions:
            raise ValueError(f"For 'TransformerEncoderLayer', activation must be 'relu' or 'gelu', got {activation!r}")
        return functions[activation]
    if isinstance(activation, Cell) or callable(activation):
        return activation  # type: ignore[no-any-return]
    raise ValueError(f"For 'TransformerEncoderLayer', activation must be a str, Cell or callable, got {activation!r}")


class TransformerEncoderLayer(Cell):
    """Self-attention plus a feed-forward block (``dense1`` -> activation -> ``dense2``), each with dropout, a
    residual connection and LayerNorm (``norm1``, ``norm2``); ``norm_first`` normalizes before each block."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: Any = "relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, dtype: dt.DType = dt.float32) -> None:
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=batch_first, dtype=dtype)
        self.dense1 = Dense(d_model, dim_feedforward, dtype=dtype)
        self.dropout = Dropout(p=dropout)
        self.dense2 = Dense(dim_feedforward, d_model, dtype=dtype)
        self.norm_first = check_bool(norm_first, "norm_first", "TransformerEncoderLayer")
        self.norm1 = LayerNorm((d_model,), epsilon=layer_norm_eps, dtype=dtype)
        self.norm2 = LayerNorm((d_model,), epsilon=layer_norm_eps, dtype=dtype)
        self.dropout1 = Dropout(p=dropout)
        self.dropout2 = Dropout(p=dropout)
        self.activation1 = activation
        self.activation = _activation_fn(activation)
        self.d_model, self.nhead, self.dim_feedforward = d_model, nhead, dim_feedforward
        self.dropout_num, self.layernorm_eps, self.batch_first, self.dtype = dropout, layer_norm_eps, batch_first, dtype

    def construct(self, src: Any, src_mask: Any = None, src_key_padding_mask: Any = None) -> Any:
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask))
        return self.norm2(x + self._ff_block(x))

    def _sa_block(self, x: Any, attn_mask: Any, key_padding_mask: Any) -> Any:
        out = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False)
        return self.dropout1(out[0])

    def _ff_block(self, x: Any) -> Any:
        return self.dropout2(self.dense2(self.dropout(self.activation(self.dense1(x)))))


class TransformerEncoder(Cell):
    """``num_layers`` copies of ``encoder_layer`` (independent parameters ``layers.0.*``, ``layers.1.*``...,
    starting equal to the given layer's), then ``norm`` when given."""

    def __init__(self, encoder_layer: Cell, num_layers: int, norm: Cell | None = None) -> None:
        super().__init__()
        if not isinstance(encoder_layer, Cell):
            raise TypeError(f"For 'TransformerEncoder', encoder_layer must be a Cell, got "
                            f"{type(encoder_layer).__name__}")
        self.num_layers = check_int(num_layers, "num_layers", "TransformerEncoder")
        self.layers = CellList([clone_cell(encoder_layer) for _ in range(self.num_layers)])
        self.norm = norm

    def construct(self, src: Any, src_mask: Any = None, src_key_padding_mask: Any = None) -> Any:
        output = src
        for layer in self.layers:
            output = layer(output, src_mask=src_mask, src_key_padding_mask=src_key_padding_mask)
        return output if self.norm is None else self.norm(output)
