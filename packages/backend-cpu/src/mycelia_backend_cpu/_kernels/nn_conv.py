"""CPU kernels: convolutions via im2col + BLAS (float16/bfloat16 run in float32), and their gradients from the
same columns: input gradient = W^T @ grad, then col2im (scatter-add); weight gradient = columns @ grad^T.

Two column layouts: batch-first (N, C, kh, kw, oh, ow) with one batched matmul, and, when the batch is at least
the output width (small images, e.g. 8x8 digits), batch-last (C, kh, kw, oh, ow, N) with one GEMM: every window
copy and scatter-add then runs over contiguous runs of N instead of short rows of ow."""

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


class _Geometry:
    """Kernel size, stride, dilation and output size of one 2-D convolution."""

    __slots__ = ("dh", "dw", "kh", "kw", "out_h", "out_w", "sh", "sw")

    def __init__(self, kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...],
                 out: tuple[int, ...]) -> None:
        (self.kh, self.kw), (self.sh, self.sw), (self.dh, self.dw), (self.out_h, self.out_w) = \
            kernel, stride, dilation, out

    def window(self, i: int, j: int, lead: int = 0) -> tuple[slice, ...]:
        """Where kernel offset (i, j) reads in the padded input, for every output position (after ``lead``
        whole axes)."""
        rows = slice(i * self.dh, i * self.dh + self.sh * (self.out_h - 1) + 1, self.sh)
        columns = slice(j * self.dw, j * self.dw + self.sw * (self.out_w - 1) + 1, self.sw)
        return tuple([slice(None)] * lead + [rows, columns])

    def span(self) -> tuple[int, int]:
        """The padded input size the windows cover."""
        return ((self.out_h - 1) * self.sh + self.dh * (self.kh - 1) + 1,
                (self.out_w - 1) * self.sw + self.dw * (self.kw - 1) + 1)

    def chunk(self, channels: int, itemsize: int) -> int:
        return max(1, _COLUMN_BYTES // max(1, channels * self.kh * self.kw * self.out_h * self.out_w * itemsize))

    def batch_last(self, count: int) -> bool:
        return count > 1 and count >= self.out_w


def _columns(x: np.ndarray, top: int, left: int, geometry: _Geometry, batch_last: bool) -> np.ndarray:
    """im2col of (n, C, H, W) with leading padding (top, left) and trailing zero padding as the windows need:
    (C, kh, kw, oh, ow, n) when batch_last, else (C, kh, kw, n, oh, ow) (each group's rows contiguous)."""
    n, channels, height, width = x.shape
    span_h, span_w = geometry.span()
    full_h, full_w = max(span_h, top + height), max(span_w, left + width)
    g = geometry
    if batch_last:
        padded = np.zeros((channels, full_h, full_w, n), dtype=x.dtype)
        padded[:, top:top + height, left:left + width] = x.transpose(1, 2, 3, 0)
        cols = np.empty((channels, g.kh, g.kw, g.out_h, g.out_w, n), dtype=x.dtype)
        for i in range(g.kh):
            for j in range(g.kw):
                cols[:, i, j] = padded[g.window(i, j, 1)]
        return cols
    padded = x
    if (full_h, full_w) != (height, width) or top or left:
        padded = np.zeros((n, channels, full_h, full_w), dtype=x.dtype)
        padded[:, :, top:top + height, left:left + width] = x
    cols = np.empty((channels, g.kh, g.kw, n, g.out_h, g.out_w), dtype=x.dtype)
    for i in range(g.kh):
        for j in range(g.kw):
            cols[:, i, j] = padded[g.window(i, j, 2)].transpose(1, 0, 2, 3)
    return cols


def _by_group(a: np.ndarray, groups: int, batch_last: bool) -> np.ndarray:
    """(n, C, oh, ow) as (G, C / G, n * L) in the column layout's order of positions."""
    moved = a.transpose(1, 2, 3, 0) if batch_last else a.transpose(1, 0, 2, 3)
    grouped: np.ndarray = moved.reshape(groups, a.shape[1] // groups, -1)
    return grouped


def _from_group(a: np.ndarray, n: int, out_h: int, out_w: int, batch_last: bool) -> np.ndarray:
    """(G, C / G, n * L) in the column layout's order as a (n, C, oh, ow) view."""
    channels = a.shape[0] * a.shape[1]
    view: np.ndarray = a.reshape(channels, out_h, out_w, n).transpose(3, 0, 1, 2) if batch_last else \
        a.reshape(channels, n, out_h, out_w).transpose(1, 0, 2, 3)
    return view


def _conv2d_nchw(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: tuple[int, ...],
                 pads: tuple[int, ...], dilation: tuple[int, ...], groups: int) -> np.ndarray:
    n, channels, height, width = x.shape
    out_channels, per_group, kh, kw = w.shape
    top, bottom, left, right = pads
    geometry = _Geometry((kh, kw), stride, dilation, ((height + top + bottom - dilation[0] * (kh - 1) - 1) //
                                                      stride[0] + 1,
                                                      (width + left + right - dilation[1] * (kw - 1) - 1) //
                                                      stride[1] + 1))
    out_h, out_w = geometry.out_h, geometry.out_w
    weight = w.reshape(groups, out_channels // groups, per_group * kh * kw)
    out = np.empty((n, out_channels, out_h, out_w), dtype=np.result_type(x.dtype, w.dtype))
    if kh == kw == 1 and stride == (1, 1) and not any(pads):  # 1x1: the input already is the column matrix
        np.matmul(weight, x.reshape(n, groups, per_group, out_h * out_w),
                  out=out.reshape(n, groups, out_channels // groups, out_h * out_w))
    else:
        chunk = geometry.chunk(channels, x.itemsize)
        for start in range(0, n, chunk):
            part = x[start:start + chunk]
            count = part.shape[0]
            last = geometry.batch_last(count)
            cols = _columns(part, top, left, geometry, last).reshape(groups, per_group * kh * kw, -1)
            out[start:start + count] = _from_group(np.matmul(weight, cols), count, out_h, out_w, last)
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


def _input_grad(g: np.ndarray, w: np.ndarray, size: tuple[int, int], stride: tuple[int, ...],
                pads: tuple[int, ...], dilation: tuple[int, ...], groups: int) -> np.ndarray:
    """The adjoint of the convolution (n, C_in, *size) -> g: columns W^T g, scatter-added (col2im), cropped."""
    n, out_channels, out_h, out_w = g.shape
    per_group, kh, kw = w.shape[1:]
    channels, (height, width), (top, left) = per_group * groups, size, pads
    geometry = _Geometry((kh, kw), stride, dilation, (out_h, out_w))
    wt = w.reshape(groups, out_channels // groups, per_group * kh * kw).transpose(0, 2, 1)
    dtype = np.result_type(g.dtype, w.dtype)
    out = np.empty((n, channels, height, width), dtype=dtype)
    if kh == kw == 1 and stride == (1, 1) and top == left == 0 and (out_h, out_w) == (height, width):
        np.matmul(wt, g.reshape(n, groups, out_channels // groups, height * width),
                  out=out.reshape(n, groups, per_group, height * width))
        return out
    span_h, span_w = geometry.span()
    full_h, full_w = max(span_h, top + height), max(span_w, left + width)
    chunk = geometry.chunk(channels, np.dtype(dtype).itemsize)
    for start in range(0, n, chunk):
        part = g[start:start + chunk]
        count = part.shape[0]
        last = geometry.batch_last(count)
        cols = np.matmul(wt, _by_group(part, groups, last))
        if last:
            cols = cols.reshape(channels, kh, kw, out_h, out_w, count)
            full = np.zeros((channels, full_h, full_w, count), dtype=dtype)
            for i in range(kh):
                for j in range(kw):
                    full[geometry.window(i, j, 1)] += cols[:, i, j]
            out[start:start + count] = full[:, top:top + height, left:left + width].transpose(3, 0, 1, 2)
        else:
            cols = cols.reshape(channels, kh, kw, count, out_h, out_w)
            full = np.zeros((count, channels, full_h, full_w), dtype=dtype)
            for i in range(kh):
                for j in range(kw):
                    full[geometry.window(i, j, 2)] += cols[:, i, j].transpose(1, 0, 2, 3)
            out[start:start + count] = full[:, :, top:top + height, left:left + width]
    return out


def _conv_transpose2d(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, *, stride: tuple[int, int],
                      padding: tuple[int, int], output_padding: tuple[int, int], groups: int,
                      dilation: tuple[int, int]) -> np.ndarray:
    # the adjoint of a convolution whose input has the output's size (output rows past the last window get 0)
    unbatched = x.ndim == 3
    x, w = work(x[None] if unbatched else x), work(w)
    size = tuple((x.shape[2 + a] - 1) * stride[a] - 2 * padding[a] + dilation[a] * (w.shape[2 + a] - 1)
                 + output_padding[a] + 1 for a in range(2))
    out = _input_grad(x, w, size, stride, padding, dilation, groups)  # type: ignore[arg-type]
    if b is not None:
        out += work(b).reshape(-1, 1, 1)
    return out[0] if unbatched else out


def _to_2d(nd: int, *values: tuple[int, ...]) -> list[tuple[int, ...]]:
    """1-D attributes as 2-D ones over a leading axis of size 1 (fill values: size 1, stride 1, pad 0, ...)."""
    if nd == 2:
        return list(values)
    return [(fill, *value) for value, fill in zip(values, (1, 1, 0, 1))]


def _finish(out: np.ndarray, nd: int, unbatched: bool) -> np.ndarray:
    out = out[:, :, 0] if nd == 1 else out
    return out[0] if unbatched else out


def _conv_backward_input(g: np.ndarray, w: np.ndarray, *, input_size: tuple[int, ...], stride: tuple[int, ...],
                         padding: tuple[int, ...], dilation: tuple[int, ...], groups: int) -> np.ndarray:
    nd = len(input_size)
    unbatched = g.ndim == nd + 1
    g, w = work(g[None] if unbatched else g), work(w)
    if nd == 1:
        g, w = g[:, :, None, :], w[:, :, None, :]
    size, strides, pads, dilations = _to_2d(nd, input_size, stride, padding, dilation)
    out = _input_grad(g, w, size, strides, pads, dilations, groups)  # type: ignore[arg-type]
    return _finish(out, nd, unbatched)


def _conv_backward_weight(x: np.ndarray, g: np.ndarray, *, weight_size: tuple[int, ...], stride: tuple[int, ...],
                          padding: tuple[int, ...], dilation: tuple[int, ...], groups: int) -> np.ndarray:
    nd = len(weight_size)
    if x.ndim == nd + 1:
        x, g = x[None], g[None]
    x, g = work(x), work(g)
    if nd == 1:
        x, g = x[:, :, None, :], g[:, :, None, :]
    (kh, kw), strides, (top, left), dilations = _to_2d(nd, weight_size, stride, padding, dilation)
    n, channels = x.shape[:2]
    out_channels, out_h, out_w = g.shape[1:]
    geometry = _Geometry((kh, kw), strides, dilations, (out_h, out_w))
    size = channels // groups * kh * kw
    out = np.zeros((groups, size, out_channels // groups), dtype=np.result_type(x.dtype, g.dtype))
    for start in range(0, n, geometry.chunk(channels, x.itemsize)):
        part = x[start:start + geometry.chunk(channels, x.itemsize)]
        last = geometry.batch_last(part.shape[0])
        cols = _columns(part, top, left, geometry, last).reshape(groups, size, -1)
        grads = _by_group(g[start:start + part.shape[0]], groups, last)
        # (size, n * L) @ (n * L, C_out / G): OpenBLAS is far slower with the few output channels as M
        out += np.matmul(cols, grads.transpose(0, 2, 1))
    weight: np.ndarray = out.transpose(0, 2, 1).reshape(out_channels, channels // groups, kh, kw)
    return weight[:, :, 0] if nd == 1 else weight


KERNELS: dict[str, Kernel] = {
    "conv1d": _conv1d,
    "conv2d": _conv2d,
    "conv_backward_input": _conv_backward_input,
    "conv_backward_weight": _conv_backward_weight,
    "conv_transpose2d": _conv_transpose2d,
}
