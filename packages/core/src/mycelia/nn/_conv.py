"""Conv1d, Conv2d and Conv2dTranspose with MindSpore 2.x signatures (pad_mode 'same' and no bias by default).

Weights: Conv2d (out, in / group, kh, kw); Conv1d (out, in / group, 1, k) as MindSpore stores it (so
checkpoints load unchanged); Conv2dTranspose (in, out / group, kh, kw). Default initialization as
MindSpore 2.x: weight HeUniform(sqrt(5)), bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
"""

from __future__ import annotations

import math
from typing import Any

from mycelia import dtype as dt
from mycelia import ops
from mycelia._tensor import Parameter, Tensor
from mycelia.common.initializer import HeUniform, Uniform, _calculate_fan_in_and_fan_out
from mycelia.nn._cell import Cell
from mycelia.nn._layer_utils import check_bool, check_int, int_tuple, make_parameter

__all__ = ["Conv1d", "Conv2d", "Conv2dTranspose"]

_PAD_MODES = ("same", "valid", "pad")


def _check_pad_mode(pad_mode: Any, padding: Any, cell: str) -> str:
    mode = pad_mode.lower() if isinstance(pad_mode, str) else pad_mode
    if mode not in _PAD_MODES:
        raise ValueError(f"For '{cell}', 'pad_mode' must be one of {list(_PAD_MODES)}, got {pad_mode!r}")
    nonzero = any(padding) if isinstance(padding, (tuple, list)) else padding != 0
    if mode != "pad" and nonzero:
        raise ValueError(f"For '{cell}', 'padding' must be 0 when 'pad_mode' is {mode!r}, got {padding!r}")
    return str(mode)


class _Conv(Cell):
    """Shared construction: argument checks, weight and bias Parameters."""

    def __init__(self, cell: str, in_channels: int, out_channels: int, kernel_size: tuple[int, ...],
                 stride: tuple[int, ...], pad_mode: str, padding: Any, dilation: tuple[int, ...], group: int,
                 has_bias: bool, weight_init: Any, bias_init: Any, dtype: dt.DType, transposed: bool = False) -> None:
        super().__init__()
        self.in_channels = check_int(in_channels, "in_channels", cell)
        self.out_channels = check_int(out_channels, "out_channels", cell)
        self.group = check_int(group, "group", cell)
        if self.in_channels % self.group or self.out_channels % self.group:
            raise ValueError(f"For '{cell}', 'in_channels' ({in_channels}) and 'out_channels' ({out_channels}) must "
                             f"be divisible by 'group' ({group})")
        self.kernel_size = kernel_size
        self.stride = stride
        self.dilation = dilation
        self.pad_mode = _check_pad_mode(pad_mode, padding, cell)
        self.padding = padding
        self.has_bias = check_bool(has_bias, "has_bias", cell)
        if transposed:
            shape = (self.in_channels, self.out_channels // self.group, *kernel_size)
        else:
            shape = (self.out_channels, self.in_channels // self.group, *kernel_size)
        if isinstance(weight_init, Tensor) and tuple(weight_init.shape) != shape:
            raise ValueError(f"For '{cell}', weight_init must have shape {list(shape)}, got {list(weight_init.shape)}")
        self.weight = make_parameter(HeUniform(math.sqrt(5)) if weight_init is None else weight_init, shape, dtype,
                                     "weight")
        self.bias: Parameter | None = None
        if self.has_bias:
            if bias_init is None:
                fan_in, _ = _calculate_fan_in_and_fan_out(shape)
                bias_init = Uniform(1 / math.sqrt(fan_in))
            self.bias = make_parameter(bias_init, (self.out_channels,), dtype, "bias")

    def extend_repr(self) -> str:
        return (f"input_channels={self.in_channels}, output_channels={self.out_channels}, "
                f"kernel_size={self.kernel_size}, stride={self.stride}, pad_mode={self.pad_mode}, "
                f"padding={self.padding}, dilation={self.dilation}, group={self.group}, has_bias={self.has_bias}")


def _check_format(data_format: str, cell: str) -> None:
    if data_format != "NCHW":
        raise ValueError(f"For '{cell}', only data_format 'NCHW' is supported, got {data_format!r}")


class Conv2d(_Conv):
    """2-D convolution over (N, C_in, H, W). ``padding`` (pad_mode 'pad' only): an int, (pad_h, pad_w) or
    (top, bottom, left, right). 'same' gives ceil(H / stride) with the extra padding at the bottom/right."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, pad_mode: str = "same",
                 padding: Any = 0, dilation: Any = 1, group: int = 1, has_bias: bool = False, weight_init: Any = None,
                 bias_init: Any = None, data_format: str = "NCHW", dtype: dt.DType = dt.float32) -> None:
        _check_format(data_format, "Conv2d")
        pads = int_tuple(padding, 1, "padding", "Conv2d", minimum=0, lengths=(2, 4))
        super().__init__("Conv2d", in_channels, out_channels, int_tuple(kernel_size, 2, "kernel_size", "Conv2d"),
                         int_tuple(stride, 2, "stride", "Conv2d"), pad_mode,
                         pads[0] if len(pads) == 1 else pads, int_tuple(dilation, 2, "dilation", "Conv2d"), group,
                         has_bias, weight_init, bias_init, dtype)
        self.data_format = data_format

    def construct(self, x: Any) -> Any:
        return ops.conv2d(x, self.weight, self.bias, self.stride, self.pad_mode, self.padding, self.dilation,
                          self.group)


class Conv1d(_Conv):
    """1-D convolution over (N, C_in, L). ``padding`` (pad_mode 'pad' only): an int or (left, right)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, pad_mode: str = "same",
                 padding: Any = 0, dilation: int = 1, group: int = 1, has_bias: bool = False, weight_init: Any = None,
                 bias_init: Any = None, dtype: dt.DType = dt.float32) -> None:
        kernel = check_int(kernel_size, "kernel_size", "Conv1d")
        pads = int_tuple(padding, 1, "padding", "Conv1d", minimum=0, lengths=(2,))
        if isinstance(weight_init, Tensor) and weight_init.ndim == 3:
            weight_init = ops.expand_dims(weight_init, 2)  # MindSpore accepts a 3-D weight and stores it 4-D
        super().__init__("Conv1d", in_channels, out_channels, (1, kernel), (1, check_int(stride, "stride", "Conv1d")),
                         pad_mode, pads[0] if len(pads) == 1 else pads,
                         (1, check_int(dilation, "dilation", "Conv1d")), group, has_bias, weight_init, bias_init, dtype)

    def construct(self, x: Any) -> Any:
        out_channels, per_group = self.weight.shape[:2]
        weight = ops.reshape(self.weight, (out_channels, per_group, self.kernel_size[1]))
        return ops.conv1d(x, weight, self.bias, self.stride[1], self.pad_mode, self.padding, self.dilation[1],
                          self.group)


class Conv2dTranspose(_Conv):
    """2-D transposed convolution over (N, C_in, H, W). Output height (width alike):

    * 'same': H * stride;
    * 'valid': (H - 1) * stride + dilation * (kh - 1) + 1 (at least H * stride);
    * 'pad': (H - 1) * stride - top - bottom + dilation * (kh - 1) + output_padding + 1.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, pad_mode: str = "same",
                 padding: Any = 0, output_padding: Any = 0, dilation: Any = 1, group: int = 1, has_bias: bool = False,
                 weight_init: Any = None, bias_init: Any = None, dtype: dt.DType = dt.float32) -> None:
        cell = "Conv2dTranspose"
        pads = int_tuple(padding, 4, "padding", cell, minimum=0, lengths=(2,))
        super().__init__(cell, in_channels, out_channels, int_tuple(kernel_size, 2, "kernel_size", cell),
                         int_tuple(stride, 2, "stride", cell), pad_mode, padding,
                         int_tuple(dilation, 2, "dilation", cell), group, has_bias, weight_init, bias_init, dtype,
                         transposed=True)
        self.pads = pads if len(pads) == 4 else (pads[0], pads[0], pads[1], pads[1])
        self.output_padding = int_tuple(output_padding, 2, "output_padding", cell, minimum=0)
        if self.output_padding != (0, 0) and self.pad_mode != "pad":
            raise ValueError(f"For '{cell}', 'output_padding' needs pad_mode 'pad', got pad_mode {self.pad_mode!r}")

    def _window(self, size: int, axis: int) -> tuple[int, int]:
        """(start, length) of the output inside the unpadded full result along spatial ``axis``."""
        stride, kernel, dilation = self.stride[axis], self.kernel_size[axis], self.dilation[axis]
        full = (size - 1) * stride + dilation * (kernel - 1) + 1
        if self.pad_mode == "valid":
            return 0, max(full, size * stride)
        if self.pad_mode == "same":
            return max(full - size * stride, 0) // 2, size * stride
        before, after = self.pads[2 * axis], self.pads[2 * axis + 1]
        return before, full - before - after + self.output_padding[axis]

    def construct(self, x: Any) -> Any:
        full = ops.conv_transpose2d(x, self.weight, None, self.stride, 0, 0, self.group, self.dilation)
        height, width = full.shape[-2:]
        (top, out_h), (left, out_w) = self._window(x.shape[-2], 0), self._window(x.shape[-1], 1)
        if out_h < 1 or out_w < 1:
            raise ValueError(f"For 'Conv2dTranspose', the output size would be ({out_h}, {out_w}) for input shape "
                             f"{list(x.shape)}; it must be positive")
        extra_h, extra_w = max(top + out_h - height, 0), max(left + out_w - width, 0)
        if extra_h or extra_w:
            full = ops.pad(full, (0, extra_w, 0, extra_h))
        if (top, out_h) != (0, full.shape[-2]):
            full = ops.narrow(full, full.ndim - 2, top, out_h)
        if (left, out_w) != (0, full.shape[-1]):
            full = ops.narrow(full, full.ndim - 1, left, out_w)
        if self.bias is not None:
            full = full + ops.reshape(self.bias, (self.out_channels, 1, 1))
        return full
