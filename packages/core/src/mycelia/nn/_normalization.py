"""BatchNorm1d, BatchNorm2d, LayerNorm and GroupNorm with MindSpore 2.x signatures and parameter names.

BatchNorm keeps MindSpore's momentum convention: ``moving = momentum * moving + (1 - momentum) * batch``
(momentum 0.9 by default). Its parameters are ``gamma``, ``beta``, ``moving_mean`` and ``moving_variance``
(the last two not trainable), so a parent names them ``bn1.moving_mean`` as MindSpore checkpoints do.
"""

from __future__ import annotations

from typing import Any

from mycelia import dtype as dt
from mycelia import ops
from mycelia.nn._cell import Cell
from mycelia.nn._layer_utils import check_bool, check_float, check_int, make_parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "GroupNorm", "LayerNorm"]


class _BatchNorm(Cell):
    """Batch normalization over the channel dim (axis 1).

    ``use_batch_statistics``: None (default) uses the batch statistics and updates the moving ones in
    training (``set_train()``) and the moving statistics otherwise; True always uses and updates the batch
    statistics; False always uses the moving statistics.
    """

    _ranks: tuple[int, ...] = ()
    _layout = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.9, affine: bool = True,
                 gamma_init: Any = "ones", beta_init: Any = "zeros", moving_mean_init: Any = "zeros",
                 moving_var_init: Any = "ones", use_batch_statistics: bool | None = None,
                 dtype: dt.DType = dt.float32) -> None:
        super().__init__()
        cell = type(self).__name__
        self.num_features = check_int(num_features, "num_features", cell)
        self.eps = check_float(eps, "eps", cell, minimum=0.0)
        if self.eps == 0.0:
            raise ValueError(f"For '{cell}', 'eps' must be > 0, got {eps}")
        self.momentum = check_float(momentum, "momentum", cell, 0.0, 1.0)
        self.affine = check_bool(affine, "affine", cell)
        if use_batch_statistics is not None:
            use_batch_statistics = check_bool(use_batch_statistics, "use_batch_statistics", cell)
        self.use_batch_statistics = use_batch_statistics
        shape = (self.num_features,)
        self.moving_mean = make_parameter(moving_mean_init, shape, dtype, "moving_mean", requires_grad=False)
        self.moving_variance = make_parameter(moving_var_init, shape, dtype, "moving_variance", requires_grad=False)
        self.gamma = make_parameter(gamma_init, shape, dtype, "gamma", requires_grad=self.affine)
        self.beta = make_parameter(beta_init, shape, dtype, "beta", requires_grad=self.affine)

    def construct(self, x: Any) -> Any:
        if x.ndim not in self._ranks:
            raise ValueError(f"For '{type(self).__name__}', the input must be {self._layout}, got shape "
                             f"{list(x.shape)}")
        use_batch = self.training if self.use_batch_statistics is None else self.use_batch_statistics
        # ops.batch_norm takes PyTorch's momentum (weight of the batch statistic).
        return ops.batch_norm(x, self.moving_mean, self.moving_variance, self.gamma, self.beta, training=use_batch,
                              momentum=1.0 - self.momentum, eps=self.eps)

    def extend_repr(self) -> str:
        return f"num_features={self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) or (N, C, L) inputs."""

    _ranks = (2, 3)
    _layout = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalization of (N, C, H, W) inputs."""

    _ranks = (4,)
    _layout = "(N, C, H, W)"

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.9, affine: bool = True,
                 gamma_init: Any = "ones", beta_init: Any = "zeros", moving_mean_init: Any = "zeros",
                 moving_var_init: Any = "ones", use_batch_statistics: bool | None = None, data_format: str = "NCHW",
                 dtype: dt.DType = dt.float32) -> None:
        if data_format != "NCHW":
            raise ValueError(f"For 'BatchNorm2d', only data_format 'NCHW' is supported, got {data_format!r}")
        super().__init__(num_features, eps, momentum, affine, gamma_init, beta_init, moving_mean_init,
                         moving_var_init, use_batch_statistics, dtype)
        self.data_format = data_format


class LayerNorm(Cell):
    """Layer normalization over the dims from ``begin_norm_axis`` on; ``gamma``/``beta`` have shape
    ``normalized_shape`` and apply to the dims from ``begin_params_axis`` on (MindSpore's epsilon 1e-7)."""

    def __init__(self, normalized_shape: Any, begin_norm_axis: int = -1, begin_params_axis: int = -1,
                 gamma_init: Any = "ones", beta_init: Any = "zeros", epsilon: float = 1e-7,
                 dtype: dt.DType = dt.float32) -> None:
        super().__init__()
        if isinstance(normalized_shape, int) and not isinstance(normalized_shape, bool):
            normalized_shape = (normalized_shape,)
        if not isinstance(normalized_shape, (tuple, list)):
            raise TypeError(f"For 'LayerNorm', 'normalized_shape' must be a tuple or list of ints, got "
                            f"{normalized_shape!r}")
        self.normalized_shape = tuple(check_int(size, "normalized_shape", "LayerNorm") for size in normalized_shape)
        self.begin_norm_axis = check_int(begin_norm_axis, "begin_norm_axis", "LayerNorm", minimum=-(1 << 31))
        self.begin_params_axis = check_int(begin_params_axis, "begin_params_axis", "LayerNorm", minimum=-(1 << 31))
        self.epsilon = check_float(epsilon, "epsilon", "LayerNorm", minimum=0.0)
        self.gamma = make_parameter(gamma_init, self.normalized_shape, dtype, "gamma")
        self.beta = make_parameter(beta_init, self.normalized_shape, dtype, "beta")

    def construct(self, x: Any) -> Any:
        rank = x.ndim
        if not -rank <= self.begin_norm_axis < rank or not -rank <= self.begin_params_axis < rank:
            raise ValueError(f"For 'LayerNorm', begin_norm_axis ({self.begin_norm_axis}) and begin_params_axis "
                             f"({self.begin_params_axis}) must be in [{-rank}, {rank}) for input shape {list(x.shape)}")
        norm_axis, params_axis = self.begin_norm_axis % rank, self.begin_params_axis % rank
        norm_shape = tuple(x.shape[norm_axis:])
        if tuple(x.shape[params_axis:]) != self.normalized_shape:
            raise ValueError(f"For 'LayerNorm', the input dims from begin_params_axis {list(x.shape[params_axis:])} "
                             f"must equal normalized_shape {list(self.normalized_shape)}")
        if params_axis == norm_axis:
            return ops.layer_norm(x, norm_shape, self.gamma, self.beta, self.epsilon)
        return ops.layer_norm(x, norm_shape, None, None, self.epsilon) * self.gamma + self.beta

    def extend_repr(self) -> str:
        return (f"normalized_shape={self.normalized_shape}, begin_norm_axis={self.begin_norm_axis}, "
                f"begin_params_axis={self.begin_params_axis}")


class GroupNorm(Cell):
    """Group normalization of (N, C, *): statistics per sample and group of C / num_groups channels."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 gamma_init: Any = "ones", beta_init: Any = "zeros", dtype: dt.DType = dt.float32) -> None:
        super().__init__()
        self.num_groups = check_int(num_groups, "num_groups", "GroupNorm")
        self.num_channels = check_int(num_channels, "num_channels", "GroupNorm")
        if self.num_channels % self.num_groups:
            raise ValueError(f"For 'GroupNorm', 'num_channels' ({num_channels}) must be divisible by 'num_groups' "
                             f"({num_groups})")
        self.eps = check_float(eps, "eps", "GroupNorm", minimum=0.0)
        self.affine = check_bool(affine, "affine", "GroupNorm")
        self.gamma = make_parameter(gamma_init, (self.num_channels,), dtype, "gamma", requires_grad=self.affine)
        self.beta = make_parameter(beta_init, (self.num_channels,), dtype, "beta", requires_grad=self.affine)

    def construct(self, x: Any) -> Any:
        return ops.group_norm(x, self.num_groups, self.gamma, self.beta, self.eps)

    def extend_repr(self) -> str:
        return f"num_groups={self.num_groups}, num_channels={self.num_channels}"
