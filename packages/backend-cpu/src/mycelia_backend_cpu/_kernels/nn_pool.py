"""CPU kernels: pooling. Each window offset is one strided view of the (padded) input, so a pool is
kernel-size passes of whole-array numpy ops."""

from __future__ import annotations

import numpy as np

from mycelia.backends import Kernel
from mycelia_backend_cpu._kernels.nn_conv import work

__all__ = ["KERNELS"]



def _window_sizes(out_shape: tuple[int, int], in_shape: tuple[int, int], kernel: tuple[int, int],
                  stride: tuple[int, int], padding: tuple[int, int, int, int], count_include_pad: bool) -> np.ndarray:
    """Elements each average-pooling window divides by: (out_h, out_w), padding counted or not."""
    (out_h, out_w), (height, width), (kh, kw), (sh, sw) = out_shape, in_shape, kernel, stride
    top, bottom, left, right = padding
    h0 = np.arange(out_h) * sh - top
    w0 = np.arange(out_w) * sw - left
    h1 = np.minimum(h0 + kh, height + bottom)
    w1 = np.minimum(w0 + kw, width + right)
    if not count_include_pad:
        h0, w0 = np.maximum(h0, 0), np.maximum(w0, 0)
        h1, w1 = np.minimum(h1, height), np.minimum(w1, width)
    return (h1 - h0)[:, None] * (w1 - w0)[None, :]

def _out_size(size: int, kernel: int, stride: int, before: int, after: int, dilation: int, ceil_mode: bool) -> int:
    span = size + before + after - dilation * (kernel - 1) - 1
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + before:
        out -= 1
    return out


def _pad(x: np.ndarray, top: int, bottom: int, left: int, right: int, fill: float | int) -> np.ndarray:
    if not (top or bottom or left or right):
        return x
    n, c, h, w = x.shape
    out = np.full((n, c, top + h + bottom, left + w + right), fill, dtype=x.dtype)
    out[:, :, top:top + h, left:left + w] = x
    return out


def _max_pool2d(x: np.ndarray, *, kernel_size: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int],
                dilation: tuple[int, int], ceil_mode: bool,
                return_indices: bool) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    unbatched = x.ndim == 3
    x = work(x[None] if unbatched else x)
    height, width = x.shape[2:]
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_size, stride, padding, dilation
    out_h = _out_size(height, kh, sh, ph, ph, dh, ceil_mode)
    out_w = _out_size(width, kw, sw, pw, pw, dw, ceil_mode)
    bottom = max((out_h - 1) * sh + dh * (kh - 1) + 1 - ph - height, 0)
    right = max((out_w - 1) * sw + dw * (kw - 1) + 1 - pw - width, 0)
    fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    xp = _pad(x, ph, bottom, pw, right, fill)
    views = [xp[:, :, i * dh:i * dh + sh * (out_h - 1) + 1:sh, j * dw:j * dw + sw * (out_w - 1) + 1:sw]
             for i in range(kh) for j in range(kw)]
    if not return_indices:
        best = np.array(views[0])
        for view in views[1:]:
            np.maximum(best, view, out=best)  # propagates NaN
        return best[0] if unbatched else best
    windows = np.stack(views, axis=-1)  # (N, C, H_out, W_out, kH * kW)
    arg = windows.argmax(axis=-1)  # first maximum; the first NaN if any (np.argmax treats NaN as largest)
    best = np.take_along_axis(windows, arg[..., None], axis=-1)[..., 0]
    rows = (np.arange(out_h, dtype=np.int64) * sh - ph)[:, None] + (arg // kw) * dh
    cols = (np.arange(out_w, dtype=np.int64) * sw - pw)[None, :] + (arg % kw) * dw
    indices = rows * width + cols
    return (best[0], indices[0]) if unbatched else (best, indices)


def _avg_pool2d(x: np.ndarray, *, kernel_size: tuple[int, int], stride: tuple[int, int],
                padding: tuple[int, int, int, int], ceil_mode: bool, count_include_pad: bool,
                divisor_override: int) -> np.ndarray:
    unbatched = x.ndim == 3
    x = work(x[None] if unbatched else x)
    height, width = x.shape[2:]
    (kh, kw), (sh, sw) = kernel_size, stride
    top, bottom, left, right = padding
    out_h = _out_size(height, kh, sh, top, bottom, 1, ceil_mode)
    out_w = _out_size(width, kw, sw, left, right, 1, ceil_mode)
    extra_h = max(bottom, (out_h - 1) * sh + kh - top - height)
    extra_w = max(right, (out_w - 1) * sw + kw - left - width)
    xp = _pad(x, top, extra_h, left, extra_w, 0)
    total = None
    for i in range(kh):
        for j in range(kw):
            view = xp[:, :, i:i + sh * (out_h - 1) + 1:sh, j:j + sw * (out_w - 1) + 1:sw]
            if total is None:
                total = np.array(view)
            else:
                total += view
    assert total is not None
    if divisor_override:
        total /= divisor_override
    else:
        total /= _window_sizes((out_h, out_w), (height, width), (kh, kw), (sh, sw), (top, bottom, left, right),
                               count_include_pad).astype(total.dtype)
    return total[0] if unbatched else total


def _adaptive_avg_pool2d(x: np.ndarray, *, output_size: tuple[int, int]) -> np.ndarray:
    x = work(x)
    height, width = x.shape[-2:]
    out_h, out_w = output_size
    lead = x.shape[:-2]
    if height % out_h == 0 and width % out_w == 0:
        blocks = x.reshape(*lead, out_h, height // out_h, out_w, width // out_w)
        return blocks.mean(axis=(-3, -1))  # type: ignore[no-any-return]
    # separable: average the column ranges, then the row ranges
    columns = np.empty((*lead, height, out_w), dtype=x.dtype)
    for j in range(out_w):
        w0, w1 = (j * width) // out_w, -((-(j + 1) * width) // out_w)
        np.mean(x[..., w0:w1], axis=-1, out=columns[..., j])
    out = np.empty((*lead, out_h, out_w), dtype=x.dtype)
    for i in range(out_h):
        h0, h1 = (i * height) // out_h, -((-(i + 1) * height) // out_h)
        np.mean(columns[..., h0:h1, :], axis=-2, out=out[..., i, :])
    return out


def _max_pool2d_backward(g: np.ndarray, indices: np.ndarray, *, input_size: tuple[int, int]) -> np.ndarray:
    g = work(g)
    lead = g.shape[:-2]
    planes = int(np.prod(lead, dtype=np.int64))
    area = input_size[0] * input_size[1]
    # one bincount over (plane, flat index) keys sums colliding windows' gradients
    keys = indices.reshape(planes, g.shape[-2] * g.shape[-1]).astype(np.intp, copy=False)
    keys = keys + (np.arange(planes, dtype=np.intp) * area)[:, None]
    out = np.bincount(keys.reshape(-1), weights=g.reshape(-1), minlength=planes * area)
    return out.astype(g.dtype, copy=False).reshape(*lead, *input_size)


def _avg_pool2d_backward(g: np.ndarray, *, input_size: tuple[int, int], kernel_size: tuple[int, int],
                         stride: tuple[int, int], padding: tuple[int, int, int, int], ceil_mode: bool,
                         count_include_pad: bool, divisor_override: int) -> np.ndarray:
    unbatched = g.ndim == 3
    g = work(g[None] if unbatched else g)
    height, width = input_size
    (kh, kw), (sh, sw) = kernel_size, stride
    top, bottom, left, right = padding
    out_h, out_w = g.shape[2:]
    if divisor_override:
        scaled = g / divisor_override
    else:
        scaled = g / _window_sizes((out_h, out_w), (height, width), (kh, kw), (sh, sw), (top, bottom, left, right),
                                   count_include_pad).astype(g.dtype)
    extra_h = max(bottom, (out_h - 1) * sh + kh - top - height)
    extra_w = max(right, (out_w - 1) * sw + kw - left - width)
    full = np.zeros((*g.shape[:2], top + height + extra_h, left + width + extra_w), dtype=g.dtype)
    for i in range(kh):
        for j in range(kw):
            full[:, :, i:i + sh * (out_h - 1) + 1:sh, j:j + sw * (out_w - 1) + 1:sw] += scaled
    out = np.ascontiguousarray(full[:, :, top:top + height, left:left + width])
    return out[0] if unbatched else out


KERNELS: dict[str, Kernel] = {
    "adaptive_avg_pool2d": _adaptive_avg_pool2d,
    "avg_pool2d": _avg_pool2d,
    "avg_pool2d_backward": _avg_pool2d_backward,
    "max_pool2d": _max_pool2d,
    "max_pool2d_backward": _max_pool2d_backward,
}
