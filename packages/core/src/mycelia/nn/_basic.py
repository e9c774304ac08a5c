"""Dense, Dropout, Flatten and Embedding with MindSpore 2.x signatures, defaults and parameter names."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia import ops
from mycelia._tensor import Parameter, Tensor
from mycelia.common.initializer import HeUniform, Uniform, initializer
from mycelia.nn._activation import get_activation
from mycelia.nn._cell import Cell
from mycelia.nn._layer_utils import check_bool, check_float, check_int, linear, make_parameter

__all__ = ["Dense", "Dropout", "Embedding", "Flatten"]


def _check_init_shape(init: Any, shape: tuple[int, ...], name: str, cell: str) -> None:
    if isinstance(init, Tensor) and tuple(init.shape) != shape:
        raise ValueError(f"For '{cell}', {name} must have shape {list(shape)}, got {list(init.shape)}")


class Dense(Cell):
    """Fully connected layer: ``activation(x @ weight.T + bias)``; weight (out_channels, in_channels).

    Defaults as MindSpore 2.x: weight HeUniform(sqrt(5)) (i.e. U(-1/sqrt(in), 1/sqrt(in))), bias
    U(-1/sqrt(in), 1/sqrt(in)). ``activation``: a name (``'relu'``...), a Cell or a callable.
    """

    def __init__(self, in_channels: int, out_channels: int, weight_init: Any = None, bias_init: Any = None,
                 has_bias: bool = True, activation: Any = None, dtype: dt.DType = dt.float32) -> None:
        super().__init__()
        self.in_channels = check_int(in_channels, "in_channels", "Dense")
        self.out_channels = check_int(out_channels, "out_channels", "Dense")
        self.has_bias = check_bool(has_bias, "has_bias", "Dense")
        _check_init_shape(weight_init, (self.out_channels, self.in_channels), "weight_init", "Dense")
        self.weight = make_parameter(HeUniform(math.sqrt(5)) if weight_init is None else weight_init,
                                     (self.out_channels, self.in_channels), dtype, "weight")
        self.bias: Parameter | None = None
        if self.has_bias:
            _check_init_shape(bias_init, (self.out_channels,), "bias_init", "Dense")
            bound = 1 / math.sqrt(self.in_channels)
            self.bias = make_parameter(Uniform(bound) if bias_init is None else bias_init, (self.out_channels,),
                                       dtype, "bias")
        if activation is not None and not isinstance(activation, (str, Cell)) and not callable(activation):
            raise TypeError(f"For 'Dense', activation must be a str, Cell, callable or None, got {activation!r}")
        self.activation = get_activation(activation) if isinstance(activation, str) else activation
        self.activation_flag = self.activation is not None

    def construct(self, x: Any) -> Any:
        out = linear(x, self.weight, self.bias)
        if self.activation is not None:
            out = self.activation(out)
        return out

    def extend_repr(self) -> str:
        text = f"input_channels={self.in_channels}, output_channels={self.out_channels}, has_bias={self.has_bias}"
        return text + (f", activation={self.activation}" if self.activation_flag else "")


class Dropout(Cell):
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p), in training only.

    MindSpore 2.x: ``Dropout(p=0.2)``; the deprecated ``keep_prob`` (= 1 - p) wins when both are given;
    neither gives p = 0.5. The mask comes from the global random stream (``mycelia.set_seed``).
    """

    def __init__(self, keep_prob: float | None = None, p: float | None = None, dtype: dt.DType = dt.float32) -> None:
        super().__init__()
        if keep_prob is not None:
            keep = check_float(keep_prob, "keep_prob", "Dropout", 0.0, 1.0)
            if keep <= 0.0:
                raise ValueError(f"For 'Dropout', 'keep_prob' must be in (0, 1], got {keep_prob}")
            self.p = 1.0 - keep
        elif p is not None:
            self.p = check_float(p, "p", "Dropout", 0.0, 1.0, include_maximum=False)
        else:
            self.p = 0.5
        self.keep_prob = 1.0 - self.p
        self.dtype = dtype

    def construct(self, x: Any) -> Any:
        if not self.training or self.p == 0.0:
            return x
        return ops.dropout(x, p=self.p)

    def extend_repr(self) -> str:
        return f"p={self.p}"


class Flatten(Cell):
    """Flatten dims ``start_dim``..``end_dim`` into one (MindSpore 2.x defaults: 1 and -1)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = check_int(start_dim, "start_dim", "Flatten", minimum=-(1 << 31))
        self.end_dim = check_int(end_dim, "end_dim", "Flatten", minimum=-(1 << 31))

    def construct(self, x: Any) -> Any:
        return ops.flatten(x, start_dim=self.start_dim, end_dim=self.end_dim)

    def extend_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Embedding(Cell):
    """Lookup table ``embedding_table`` (vocab_size, embedding_size); output shape ``(*ids.shape, size)``.

    ``embedding_table`` initializes the table (default 'normal', i.e. N(0, 0.01**2)); the row ``padding_idx``
    starts at zero and gets no gradient. ``use_one_hot`` computes the lookup as one_hot(ids) @ table.
    ``dtype`` is the index dtype MindSpore expects (int32 by default); int64 indices work too.
    """

    def __init__(self, vocab_size: int, embedding_size: int, use_one_hot: bool = False,
                 embedding_table: Any = "normal", dtype: dt.DType = dt.int32, padding_idx: int | None = None) -> None:
        super().__init__()
        self.vocab_size = check_int(vocab_size, "vocab_size", "Embedding")
        self.embedding_size = check_int(embedding_size, "embedding_size", "Embedding")
        self.use_one_hot = check_bool(use_one_hot, "use_one_hot", "Embedding")
        self.dtype = dtype
        if padding_idx is not None:
            padding_idx = check_int(padding_idx, "padding_idx", "Embedding", minimum=0)
            if padding_idx >= self.vocab_size:
                raise ValueError(f"For 'Embedding', 'padding_idx' must be in [0, {self.vocab_size}), got {padding_idx}")
        self.padding_idx = padding_idx
        shape = (self.vocab_size, self.embedding_size)
        _check_init_shape(embedding_table, shape, "embedding_table", "Embedding")
        table = initializer(embedding_table, shape, dt.float32)
        if padding_idx is not None:
            values = np.array(table.asnumpy())
            values[padding_idx] = 0
            table = Tensor(values, dtype=table.dtype)
        self.embedding_table = Parameter(table, name="embedding_table")

    def construct(self, ids: Any) -> Any:
        if self.use_one_hot:
            flat = ops.reshape(ids, (-1,))
            one_hot = ops.one_hot(flat, self.vocab_size, 1.0, 0.0).astype(self.embedding_table.dtype)
            out = ops.matmul(one_hot, self.embedding_table)
            return ops.reshape(out, (*ids.shape, self.embedding_size))
        return ops.embedding(ids, self.embedding_table, padding_idx=self.padding_idx)

    def extend_repr(self) -> str:
        return f"vocab_size={self.vocab_size}, embedding_size={self.embedding_size}, use_one_hot={self.use_one_hot}"
