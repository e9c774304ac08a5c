"""CPU kernels: convolutions via im2col + one batched BLAS matmul (float16/bfloat16 run in float32)."""

from __future__ import annotations

import numpy as np

from mycelia.backends import Kernel

__all__ = ["KERNELS", "compute_dtype", "work"]

_LOW_PRECISION = {np.dtype(np.float16), np.dtype("bfloat16")}


def work(array: np.ndarray) -> np.ndarray:
    """The array in its compute dtype: float16/bfloat16 as float32, others unchanged (no copy)."""
    return array.astype(np.float32) if array.dtype in _LOW_PRECISION else array


def compute_dtype(dtype: np.dtype) -> np.dtype:
    return np.dtype(np.float32) if dtype in _LOW_PRECISION else dtype


def _same(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def _padded(x: np.ndarray, top: int, bottom: int, left: int, right: int) -> np.ndarray:
    if not (top or bottom or left or right):
        return x
    n, c, h, w = x.shape
    out = np.zeros((n, c, h + top + bottom, w + left + right), dtype=x.dtype)
    out[:, :, top:top + h, left:left + w] = x
    return out


_COLUMN_BYTES = 64 << 20  # im2col buffer budget: larger batches are processed in chunks of samples


def _conv2d_nchw(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: tuple[int, ...],
                 pads: tuple[int, ...], dilation: tuple[int, ...], groups: int) -> np.ndarray:
    n, channels, height, width = x.shape
    out_channels, per_group, kh, kw = w.shape
    sh, sw = stride
    dh, dw = dilation
    top, bottom, left, right = pads
    out_h = (height + top + bottom - dh * (kh - 1) - 1) // sh + 1
    out_w = (width + left + right - dw * (kw - 1) - 1) // sw + 1
    size = per_group * kh * kw
    weight = w.reshape(groups, out_channels // groups, size)
    dtype = np.result_type(x.dtype, w.dtype)
    if kh == kw == 1 and sh == sw == 1 and not any(pads):
        # 1x1: the input already is the column matrix
        out: np.ndarray = np.matmul(weight, x.reshape(n, groups, size, out_h * out_w))
    else:
        out = np.empty((n, groups, out_channels // groups, out_h * out_w), dtype=dtype)
        chunk = max(1, _COLUMN_BYTES // max(1, channels * kh * kw * out_h * out_w * x.itemsize))
        cols6 = np.empty((min(chunk, n), channels, kh, kw, out_h, out_w), dtype=x.dtype)
        for start in range(0, n, chunk):
            part = x[start:start + chunk]
            count = part.shape[0]
            xp = _padded(part, top, bottom, left, right)
            cols = cols6[:count]
            for i in range(kh):
                for j in range(kw):
                    cols[:, :, i, j] = xp[:, :, i * dh:i * dh + sh * (out_h - 1) + 1:sh,
                                          j * dw:j * dw + sw * (out_w - 1) + 1:sw]
            np.matmul(weight, cols.reshape(count, groups, size, out_h * out_w), out=out[start:start + count])
    out = out.reshape(n, out_channels, out_h, out_w)
    if b is not None:
        out += b.reshape(out_channels, 1, 1)
    return out


def _conv2d(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, *, stride: tuple[int, int],
            padding: tuple[int, ...], dilation: tuple[int, int], groups: int, pad_mode: str) -> np.ndarray:
    unbatched = x.ndim == 3
    x, w = work(x[None] if unbatched else x), work(w)
    if pad_mode == "same":
        padding = (*_same(x.shape[2], w.shape[2], stride[0], dilation[0]),
                   *_same(x.shape[3], w.shape[3], stride[1], dilation[1]))
    out = _conv2d_nchw(x, w, None if b is None else work(b), stride, padding, dilation, groups)
    return out[0] if unbatched else out


def _conv1d(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, *, stride: tuple[int], padding: tuple[int, int],
            dilation: tuple[int], groups: int, pad_mode: str) -> np.ndarray:
    unbatched = x.ndim == 2
    x, w = work(x[None] if unbatched else x), work(w)
    if pad_mode == "same":
        padding = _same(x.shape[2], w.shape[2], stride[0], dilation[0])
    out = _conv2d_nchw(x[:, :, None, :], w[:, :, None, :], None if b is None else work(b), (1, stride[0]),
                       (0, 0, *padding), (1, dilation[0]), groups)[:, :, 0, :]
    return out[0] if unbatched else out


def _conv_transpose2d(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, *, stride: tuple[int, int],
                      padding: tuple[int, int], output_padding: tuple[int, int], groups: int,
                      dilation: tuple[int, int]) -> np.ndarray:
    unbatched = x.ndim == 3
    x, w = work(x[None] if unbatched else x), work(w)
    n, in_channels, height, width = x.shape
    per_group_out, kh, kw = w.shape[1:]
    out_channels = per_group_out * groups
    sh, sw = stride
    dh, dw = dilation
    # columns = W^T x per group: (N, G, C_out/G * kH * kW, H * W), then scatter-add (col2im)
    wt = w.reshape(groups, in_channels // groups, per_group_out * kh * kw).transpose(0, 2, 1)
    cols = np.matmul(wt, x.reshape(n, groups, in_channels // groups, height * width))
    cols = cols.reshape(n, out_channels, kh, kw, height, width)
    full_h = (height - 1) * sh + dh * (kh - 1) + 1 + output_padding[0]
    full_w = (width - 1) * sw + dw * (kw - 1) + 1 + output_padding[1]
    full = np.zeros((n, out_channels, full_h, full_w), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            full[:, :, i * dh:i * dh + sh * (height - 1) + 1:sh, j * dw:j * dw + sw * (width - 1) + 1:sw] += \
                cols[:, :, i, j]
    ph, pw = padding
    out = full if not (ph or pw) else np.ascontiguousarray(full[:, :, ph:full_h - ph, pw:full_w - pw])
    if b is not None:
        out += work(b).reshape(out_channels, 1, 1)
    return out[0] if unbatched else out


KERNELS: dict[str, Kernel] = {
    "conv1d": _conv1d,
    "conv2d": _conv2d,
    "conv_transpose2d": _conv_transpose2d,
}
