"""nn layers against PyTorch with the same weights (skipped when torch is not installed)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import mycelia as ms
from mycelia import nn

torch = pytest.importorskip("torch", reason="torch is not installed: the PyTorch comparisons need it")

RNG = np.random.default_rng(1)


def randn(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def tt(array: Any) -> Any:
    return torch.tensor(np.asarray(array))


def close(actual: Any, expected: Any, tol: float = 2e-5) -> None:
    expected = expected.detach().numpy() if hasattr(expected, "detach") else expected
    np.testing.assert_allclose(actual.asnumpy(), expected, rtol=tol, atol=tol)


def copy_attention(ours: nn.MultiheadAttention, theirs: Any) -> None:
    with torch.no_grad():
        theirs.in_proj_weight.copy_(tt(ours.in_proj_weight.asnumpy()))
        theirs.in_proj_bias.copy_(tt(ours.in_proj_bias.asnumpy()))
        theirs.out_proj.weight.copy_(tt(ours.out_proj.weight.asnumpy()))
        theirs.out_proj.bias.copy_(tt(ours.out_proj.bias.asnumpy()))


def copy_encoder_layer(ours: nn.TransformerEncoderLayer, theirs: Any) -> None:
    copy_attention(ours.self_attn, theirs.self_attn)
    pairs = [(ours.dense1.weight, theirs.linear1.weight), (ours.dense1.bias, theirs.linear1.bias),
             (ours.dense2.weight, theirs.linear2.weight), (ours.dense2.bias, theirs.linear2.bias),
             (ours.norm1.gamma, theirs.norm1.weight), (ours.norm1.beta, theirs.norm1.bias),
             (ours.norm2.gamma, theirs.norm2.weight), (ours.norm2.beta, theirs.norm2.bias)]
    with torch.no_grad():
        for mine, other in pairs:
            other.copy_(tt(mine.asnumpy()))


@pytest.mark.parametrize("batch_first", [False, True])
def test_multihead_attention_matches_torch(batch_first: bool) -> None:
    ours = nn.MultiheadAttention(12, 3, batch_first=batch_first)
    theirs = torch.nn.MultiheadAttention(12, 3, batch_first=batch_first).eval()
    copy_attention(ours, theirs)
    query = randn(2, 5, 12) if batch_first else randn(5, 2, 12)
    memory = randn(2, 7, 12) if batch_first else randn(7, 2, 12)
    causal = np.triu(np.ones((5, 7), bool), 1)
    padding = np.zeros((2, 7), bool)
    padding[0, -3:] = True
    out, weights = ours(ms.Tensor(query), ms.Tensor(memory), ms.Tensor(memory), key_padding_mask=ms.Tensor(padding),
                        attn_mask=ms.Tensor(causal))
    expected, expected_weights = theirs(tt(query), tt(memory), tt(memory), key_padding_mask=tt(padding),
                                        attn_mask=tt(causal))
    close(out, expected)
    close(weights, expected_weights)
    self_out, per_head = ours(ms.Tensor(query), ms.Tensor(query), ms.Tensor(query), average_attn_weights=False)
    self_expected, per_head_expected = theirs(tt(query), tt(query), tt(query), average_attn_weights=False)
    close(self_out, self_expected)
    close(per_head, per_head_expected)


@pytest.mark.parametrize("norm_first, activation, batch_first", [
    (False, "relu", False), (True, "gelu", True), (False, "gelu", True)])
def test_transformer_encoder_layer_matches_torch(norm_first: bool, activation: str, batch_first: bool) -> None:
    ours = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.1, activation=activation, batch_first=batch_first,
                                      norm_first=norm_first)
    theirs = torch.nn.TransformerEncoderLayer(16, 4, 32, dropout=0.1, activation=activation, batch_first=batch_first,
                                              norm_first=norm_first).eval()
    copy_encoder_layer(ours, theirs)
    src = randn(3, 6, 16)
    mask = np.zeros((3, 6), bool)
    mask[1, -2:] = True
    with torch.no_grad():
        expected = theirs(tt(src), src_key_padding_mask=tt(mask) if batch_first else None)
    out = ours(ms.Tensor(src), src_key_padding_mask=ms.Tensor(mask) if batch_first else None)
    close(out, expected, 1e-4)


def test_transformer_encoder_matches_torch() -> None:
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)
    ours = nn.TransformerEncoder(layer, 3, norm=nn.LayerNorm((8,), epsilon=1e-5))
    their_layer = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)
    theirs = torch.nn.TransformerEncoder(their_layer, 3, norm=torch.nn.LayerNorm(8), enable_nested_tensor=False).eval()
    for mine, other in zip(ours.layers, theirs.layers):
        copy_encoder_layer(mine, other)
    src = randn(5, 2, 8)
    with torch.no_grad():
        expected = theirs(tt(src))
    close(ours(ms.Tensor(src)), expected, 1e-4)


@pytest.mark.parametrize("num_layers, bidirectional, batch_first", [(1, False, False), (2, False, True),
                                                                   (2, True, True), (3, True, False)])
def test_lstm_matches_torch(num_layers: int, bidirectional: bool, batch_first: bool) -> None:
    ours = nn.LSTM(5, 6, num_layers=num_layers, batch_first=batch_first, bidirectional=bidirectional)
    theirs = torch.nn.LSTM(5, 6, num_layers=num_layers, batch_first=batch_first, bidirectional=bidirectional)
    their_names = [name for name, _ in theirs.named_parameters()]
    assert [name for name, _ in ours.parameters_and_names()] == their_names  # the same names, in the same order
    with torch.no_grad():
        for name, param in ours.parameters_and_names():
            getattr(theirs, name).copy_(tt(param.asnumpy()))
    directions = 2 if bidirectional else 1
    x = randn(3, 4, 5) if batch_first else randn(4, 3, 5)
    h0, c0 = randn(num_layers * directions, 3, 6), randn(num_layers * directions, 3, 6)
    out, (h_n, c_n) = ours(ms.Tensor(x), (ms.Tensor(h0), ms.Tensor(c0)))
    with torch.no_grad():
        expected, (expected_h, expected_c) = theirs(tt(x), (tt(h0), tt(c0)))
    close(out, expected)
    close(h_n, expected_h)
    close(c_n, expected_c)


def test_lstm_seq_length_matches_packed_torch() -> None:
    ours = nn.LSTM(3, 4, bidirectional=True, batch_first=True)
    theirs = torch.nn.LSTM(3, 4, bidirectional=True, batch_first=True)
    with torch.no_grad():
        for name, param in ours.parameters_and_names():
            getattr(theirs, name).copy_(tt(param.asnumpy()))
    x, lengths = randn(3, 5, 3), np.array([5, 2, 4])
    out, (h_n, c_n) = ours(ms.Tensor(x), seq_length=ms.Tensor(lengths.astype(np.int32)))
    packed = torch.nn.utils.rnn.pack_padded_sequence(tt(x), tt(lengths), batch_first=True, enforce_sorted=False)
    with torch.no_grad():
        packed_out, (expected_h, expected_c) = theirs(packed)
    expected, _ = torch.nn.utils.rnn.pad_packed_sequence(packed_out, batch_first=True, total_length=5)
    close(out, expected)
    close(h_n, expected_h)
    close(c_n, expected_c)


@pytest.mark.parametrize("stride, padding, output_padding, dilation, group", [
    (2, 1, 1, 1, 1), (3, 2, 0, 2, 1), (1, 0, 0, 1, 2), (2, 0, 1, 1, 3)])
def test_conv2d_transpose_pad_mode_matches_torch(stride: int, padding: int, output_padding: int, dilation: int,
                                                 group: int) -> None:
    ours = nn.Conv2dTranspose(6, 3 * group, 3, stride=stride, pad_mode="pad", padding=padding,
                              output_padding=output_padding, dilation=dilation, group=group, has_bias=True)
    x = randn(2, 6, 4, 5)
    expected = torch.nn.functional.conv_transpose2d(tt(x), tt(ours.weight.asnumpy()), tt(ours.bias.asnumpy()),
                                                    stride=stride, padding=padding, output_padding=output_padding,
                                                    groups=group, dilation=dilation)
    close(ours(ms.Tensor(x)), expected, 1e-4)


def test_conv_and_pool_layers_match_torch() -> None:
    x = randn(2, 4, 9, 8)
    conv = nn.Conv2d(4, 6, (3, 2), stride=2, pad_mode="pad", padding=(1, 1, 2, 2), dilation=(1, 2), group=2,
                     has_bias=True)
    expected = torch.nn.functional.conv2d(tt(x), tt(conv.weight.asnumpy()), tt(conv.bias.asnumpy()), stride=2,
                                          padding=(1, 2), dilation=(1, 2), groups=2)
    close(conv(ms.Tensor(x)), expected, 1e-4)
    conv1d = nn.Conv1d(4, 2, 3, stride=2, pad_mode="pad", padding=1, has_bias=True)
    x1 = randn(2, 4, 11)
    expected = torch.nn.functional.conv1d(tt(x1), tt(conv1d.weight.asnumpy()[:, :, 0]), tt(conv1d.bias.asnumpy()),
                                          stride=2, padding=1)
    close(conv1d(ms.Tensor(x1)), expected, 1e-4)
    pool = nn.MaxPool2d(3, 2, pad_mode="pad", padding=1, ceil_mode=True)
    close(pool(ms.Tensor(x)), torch.nn.functional.max_pool2d(tt(x), 3, 2, 1, ceil_mode=True))
    avg = nn.AvgPool2d(3, 2, pad_mode="pad", padding=1, count_include_pad=False)
    close(avg(ms.Tensor(x)), torch.nn.functional.avg_pool2d(tt(x), 3, 2, 1, count_include_pad=False))
    close(nn.AdaptiveAvgPool2d((4, 3))(ms.Tensor(x)), torch.nn.functional.adaptive_avg_pool2d(tt(x), (4, 3)))
    gn = nn.GroupNorm(2, 4, gamma_init=ms.Tensor(randn(4)), beta_init=ms.Tensor(randn(4)))
    expected = torch.nn.functional.group_norm(tt(x), 2, tt(gn.gamma.asnumpy()), tt(gn.beta.asnumpy()))
    close(gn(ms.Tensor(x)), expected, 1e-4)


def test_gradients_match_torch() -> None:
    """Weight gradients through an encoder layer and a bidirectional LSTM equal PyTorch's."""
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True, norm_first=True)
    their_layer = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True, norm_first=True)
    copy_encoder_layer(layer, their_layer)
    lstm = nn.LSTM(8, 3, bidirectional=True, batch_first=True)
    their_lstm = torch.nn.LSTM(8, 3, bidirectional=True, batch_first=True)
    with torch.no_grad():
        for name, param in lstm.parameters_and_names():
            getattr(their_lstm, name).copy_(tt(param.asnumpy()))
    src = randn(2, 5, 8)
    weights = layer.trainable_params() + lstm.trainable_params()
    try:
        grads = ms.grad(lambda x: (lstm(layer(x))[0] ** 2).sum(), grad_position=None, weights=weights)(
            ms.Tensor(src))
    except NotImplementedError as error:
        pytest.skip(f"an op on this path has no vjp yet: {error}")
    (their_lstm(their_layer(tt(src)))[0] ** 2).sum().backward()
    theirs = dict(their_layer.named_parameters())
    renamed = {"dense1": "linear1", "dense2": "linear2", "gamma": "weight", "beta": "bias"}
    for param, grad in zip(weights, grads):
        name = ".".join(renamed.get(part, part) for part in param.name.split("."))
        other = theirs[name] if name in theirs else getattr(their_lstm, name)
        close(grad, other.grad, 1e-4)
