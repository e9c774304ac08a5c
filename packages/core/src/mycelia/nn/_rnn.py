"""LSTM with MindSpore 2.x's signature and parameter names (``weight_ih_l0``, ``bias_hh_l1_reverse``...).

Gates are ordered (input, forget, cell, output) as in MindSpore and PyTorch. All parameters start
uniform in [-1/sqrt(hidden_size), 1/sqrt(hidden_size)], drawn from the framework's random stream.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia import ops
from mycelia._tensor import Parameter, Tensor
from mycelia.common.initializer import Uniform
from mycelia.nn._basic import Dropout
from mycelia.nn._cell import Cell, ParameterTuple
from mycelia.nn._layer_utils import check_bool, check_float, check_int, linear, make_parameter

__all__ = ["LSTM"]


class LSTM(Cell):
    """Stacked (optionally bidirectional) LSTM.

    Inputs: ``x`` (seq_len, batch, input_size), or (batch, seq_len, input_size) with ``batch_first``;
    ``hx`` = (h_0, c_0), each (num_directions * num_layers, batch, hidden_size), zeros when None;
    ``seq_length`` (batch,) int lengths: steps past a sequence's length keep its state and output zeros.
    Returns ``(output, (h_n, c_n))``; output (seq_len, batch, num_directions * hidden_size) (batch first with
    ``batch_first``). ``dropout`` applies to the outputs of every layer but the last, in training.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, has_bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 dtype: dt.DType = dt.float32) -> None:
        super().__init__()
        cell = "LSTM"
        self.input_size = check_int(input_size, "input_size", cell)
        self.hidden_size = check_int(hidden_size, "hidden_size", cell)
        self.num_layers = check_int(num_layers, "num_layers", cell)
        self.has_bias = check_bool(has_bias, "has_bias", cell)
        self.batch_first = check_bool(batch_first, "batch_first", cell)
        self.dropout = check_float(dropout, "dropout", cell, 0.0, 1.0, include_maximum=False)
        self.bidirectional = check_bool(bidirectional, "bidirectional", cell)
        self.num_directions = 2 if self.bidirectional else 1
        self.dropout_op = Dropout(p=self.dropout)
        gate_size, bound = 4 * self.hidden_size, 1 / math.sqrt(self.hidden_size)
        names: list[tuple[str, ...]] = []
        for layer in range(self.num_layers):
            layer_input = self.input_size if layer == 0 else self.hidden_size * self.num_directions
            for direction in range(self.num_directions):
                suffix = f"l{layer}{'_reverse' if direction else ''}"
                shapes: list[tuple[str, tuple[int, ...]]] = [
                    (f"weight_ih_{suffix}", (gate_size, layer_input)),
                    (f"weight_hh_{suffix}", (gate_size, self.hidden_size))]
                if self.has_bias:
                    shapes += [(f"bias_ih_{suffix}", (gate_size,)), (f"bias_hh_{suffix}", (gate_size,))]
                for name, shape in shapes:
                    setattr(self, name, make_parameter(Uniform(bound), shape, dtype, name))
                names.append(tuple(name for name, _ in shapes))
        self._names = names

    # MindSpore keeps the parameters in ParameterTuples; these views give the same access.
    def _stacked(self, position: int) -> ParameterTuple:
        return ParameterTuple(self._params[names[position]] for names in self._names if len(names) > position)

    @property
    def w_ih_list(self) -> ParameterTuple:
        return self._stacked(0)

    @property
    def w_hh_list(self) -> ParameterTuple:
        return self._stacked(1)

    @property
    def b_ih_list(self) -> ParameterTuple:
        return self._stacked(2)

    @property
    def b_hh_list(self) -> ParameterTuple:
        return self._stacked(3)

    def _initial_state(self, x: Any, hx: Any, batch: int) -> tuple[Any, Any]:
        shape = (self.num_layers * self.num_directions, batch, self.hidden_size)
        if hx is None:
            zeros = ops.zeros(shape, x.dtype)
            return zeros, zeros
        if not isinstance(hx, (tuple, list)) or len(hx) != 2 or not all(isinstance(t, Tensor) for t in hx):
            raise TypeError("For 'LSTM', hx must be a tuple (h_0, c_0) of two Tensors")
        for name, state in zip(("h_0", "c_0"), hx):
            if tuple(state.shape) != shape:
                raise ValueError(f"For 'LSTM', {name} must have shape {list(shape)}, got {list(state.shape)}")
        return hx[0], hx[1]

    def construct(self, x: Any, hx: Any = None, seq_length: Any = None) -> Any:
        if not isinstance(x, Tensor) or x.ndim != 3:
            raise ValueError(f"For 'LSTM', x must be a 3-D Tensor, got {getattr(x, 'shape', type(x).__name__)}")
        if self.batch_first:
            x = ops.swapaxes(x, 0, 1)
        steps, batch = x.shape[0], x.shape[1]
        if x.shape[2] != self.input_size:
            raise ValueError(f"For 'LSTM', x must have {self.input_size} features, got shape {list(x.shape)}")
        h_0, c_0 = self._initial_state(x, hx, batch)
        lengths = None if seq_length is None else self._lengths(seq_length, steps, batch)
        mask = None if lengths is None else Tensor(np.arange(steps)[:, None, None] < lengths[None, :, None])
        layer_input, h_n, c_n = x, [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self.num_directions):
                index = layer * self.num_directions + direction
                params = [self._params[name] for name in self._names[index]]
                sequence = layer_input if direction == 0 else self._reverse(layer_input, lengths)
                output, h, c = self._run(sequence, h_0[index], c_0[index], params, mask)
                outputs.append(output if direction == 0 else self._reverse(output, lengths))
                h_n.append(h)
                c_n.append(c)
            layer_input = outputs[0] if len(outputs) == 1 else ops.concat(outputs, axis=2)
            if layer < self.num_layers - 1:
                layer_input = self.dropout_op(layer_input)
        output = ops.swapaxes(layer_input, 0, 1) if self.batch_first else layer_input
        return output, (ops.stack(h_n, 0), ops.stack(c_n, 0))

    @staticmethod
    def _lengths(seq_length: Any, steps: int, batch: int) -> np.ndarray:
        if not isinstance(seq_length, Tensor) or not seq_length.dtype.is_integer or tuple(seq_length.shape) != (batch,):
            raise TypeError(f"For 'LSTM', seq_length must be an int Tensor of shape ({batch},)")
        lengths = np.asarray(seq_length.asnumpy(), dtype=np.int64)
        if (lengths < 0).any() or (lengths > steps).any():
            raise ValueError(f"For 'LSTM', seq_length values must be in [0, {steps}], got {lengths.tolist()}")
        return lengths

    @staticmethod
    def _reverse(sequence: Any, lengths: np.ndarray | None) -> Any:
        """Reverse the time axis; with lengths, reverse each sequence within its own length only."""
        if lengths is None:
            return ops.flip(sequence, (0,))
        steps = sequence.shape[0]
        time = np.arange(steps)[:, None]
        order = np.where(time < lengths[None, :], lengths[None, :] - 1 - time, time)
        index = np.broadcast_to(order[:, :, None], tuple(sequence.shape)).astype(np.int64)
        return ops.gather_elements(sequence, 0, Tensor(np.ascontiguousarray(index)))

    def _run(self, sequence: Any, h: Any, c: Any, params: list[Parameter], mask: Any) -> tuple[Any, Any, Any]:
        """One direction of one layer over all steps."""
        w_ih, w_hh = params[0], params[1]
        bias = ops.add(params[2], params[3]) if len(params) == 4 else None
        inputs = linear(sequence, w_ih, bias)  # all steps at once: (T, N, 4H)
        w_hh_t = ops.transpose(w_hh, (1, 0))
        hidden = self.hidden_size
        outputs = []
        for step in range(sequence.shape[0]):
            gates = inputs[step] + ops.matmul(h, w_hh_t)
            i, f, g, o = ops.split(gates, hidden, axis=1)
            c_new = ops.sigmoid(f) * c + ops.sigmoid(i) * ops.tanh(g)
            h_new = ops.sigmoid(o) * ops.tanh(c_new)
            if mask is None:
                h, c = h_new, c_new
                outputs.append(h)
            else:
                valid = mask[step]
                h, c = ops.where(valid, h_new, h), ops.where(valid, c_new, c)
                outputs.append(ops.where(valid, h_new, 0.0))
        if not outputs:
            return ops.zeros((0, h.shape[0], hidden), h.dtype), h, c
        return ops.stack(outputs, 0), h, c

    def extend_repr(self) -> str:
        return (f"input_size={self.input_size}, hidden_size={self.hidden_size}, num_layers={self.num_layers}, "
                f"batch_first={self.batch_first}, bidirectional={self.bidirectional}")
