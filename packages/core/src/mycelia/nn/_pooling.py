"""MaxPool2d, AvgPool2d and AdaptiveAvgPool2d with MindSpore 2.x signatures (pad_mode 'valid' by default).

'same' gives ceil(H / stride) outputs with the padding split as TensorFlow does (the extra row/column at the
bottom/right); padded cells never win a max and are left out of an average.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mycelia import ops
from mycelia.nn._cell import Cell
from mycelia.nn._layer_utils import int_tuple

__all__ = ["AdaptiveAvgPool2d", "AvgPool2d", "MaxPool2d"]


def _same_pads(x: Any, kernel: tuple[int, ...], stride: tuple[int, ...],
               dilation: tuple[int, ...] = (1, 1)) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) padding that makes the output ceil(size / stride)."""
    pads: list[int] = []
    for axis in range(2):
        size = x.shape[x.ndim - 2 + axis]
        out = -(-size // stride[axis])
        total = max((out - 1) * stride[axis] + (kernel[axis] - 1) * dilation[axis] + 1 - size, 0)
        pads += [total // 2, total - total // 2]
    return pads[0], pads[1], pads[2], pads[3]


def _check_mode(pad_mode: Any, cell: str) -> str:
    mode = pad_mode.lower() if isinstance(pad_mode, str) else pad_mode
    if mode not in ("valid", "same", "pad"):
        raise ValueError(f"For '{cell}', 'pad_mode' must be 'valid', 'same' or 'pad', got {pad_mode!r}")
    return str(mode)


def _check_format(data_format: str, cell: str) -> None:
    if data_format != "NCHW":
        raise ValueError(f"For '{cell}', only data_format 'NCHW' is supported, got {data_format!r}")


class MaxPool2d(Cell):
    """2-D max pooling over (N, C, H, W) or (C, H, W). ``padding``, ``dilation``, ``return_indices`` and
    ``ceil_mode`` need pad_mode 'pad' (as MindSpore)."""

    def __init__(self, kernel_size: Any = 1, stride: Any = 1, pad_mode: str = "valid", padding: Any = 0,
                 dilation: Any = 1, return_indices: bool = False, ceil_mode: bool = False,
                 data_format: str = "NCHW") -> None:
        super().__init__()
        _check_format(data_format, "MaxPool2d")
        self.kernel_size = int_tuple(kernel_size, 2, "kernel_size", "MaxPool2d")
        self.stride = int_tuple(stride, 2, "stride", "MaxPool2d")
        self.pad_mode = _check_mode(pad_mode, "MaxPool2d")
        self.padding = int_tuple(padding, 2, "padding", "MaxPool2d", minimum=0)
        self.dilation = int_tuple(dilation, 2, "dilation", "MaxPool2d")
        self.return_indices = bool(return_indices)
        self.ceil_mode = bool(ceil_mode)
        defaults = self.padding == (0, 0) and self.dilation == (1, 1) and not return_indices and not ceil_mode
        if self.pad_mode != "pad" and not defaults:
            raise ValueError("For 'MaxPool2d', 'padding', 'dilation', 'return_indices' and 'ceil_mode' need "
                             f"pad_mode 'pad', got pad_mode {self.pad_mode!r}")

    def construct(self, x: Any) -> Any:
        if self.pad_mode == "same":
            top, bottom, left, right = _same_pads(x, self.kernel_size, self.stride)
            if top or bottom or left or right:
                low = -np.inf if x.dtype.is_floating_point else int(np.iinfo(x.dtype.numpy).min)
                x = ops.pad(x, (left, right, top, bottom), value=low)
        return ops.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                              return_indices=self.return_indices, ceil_mode=self.ceil_mode)

    def extend_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, pad_mode={self.pad_mode}"


class AvgPool2d(Cell):
    """2-D average pooling over (N, C, H, W) or (C, H, W). ``padding`` (pad_mode 'pad' only): an int,
    (pad_h, pad_w) or (top, bottom, left, right); ``divisor_override`` replaces the window size."""

    def __init__(self, kernel_size: Any = 1, stride: Any = 1, pad_mode: str = "valid", padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True, divisor_override: int | None = None,
                 data_format: str = "NCHW") -> None:
        super().__init__()
        _check_format(data_format, "AvgPool2d")
        self.kernel_size = int_tuple(kernel_size, 2, "kernel_size", "AvgPool2d")
        self.stride = int_tuple(stride, 2, "stride", "AvgPool2d")
        self.pad_mode = _check_mode(pad_mode, "AvgPool2d")
        pads = int_tuple(padding, 4, "padding", "AvgPool2d", minimum=0, lengths=(2,))
        self.padding = pads if len(pads) == 4 else (pads[0], pads[0], pads[1], pads[1])
        self.ceil_mode = bool(ceil_mode)
        self.count_include_pad = bool(count_include_pad)
        self.divisor_override = divisor_override
        defaults = not any(self.padding) and not ceil_mode and divisor_override in (None, 0)
        if self.pad_mode != "pad" and not defaults:
            raise ValueError("For 'AvgPool2d', 'padding', 'ceil_mode' and 'divisor_override' need pad_mode 'pad', "
                             f"got pad_mode {self.pad_mode!r}")

    def construct(self, x: Any) -> Any:
        if self.pad_mode == "same":
            pads = _same_pads(x, self.kernel_size, self.stride)
            return ops.avg_pool2d(x, self.kernel_size, self.stride, pads, count_include_pad=False)
        return ops.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                              self.divisor_override)

    def extend_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, pad_mode={self.pad_mode}"


class AdaptiveAvgPool2d(Cell):
    """Average pooling to a fixed ``output_size``: an int, or (H_out, W_out) where None keeps the input size."""

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def construct(self, x: Any) -> Any:
        return ops.adaptive_avg_pool2d(x, self.output_size)

    def extend_repr(self) -> str:
        return f"output_size={self.output_size}"
