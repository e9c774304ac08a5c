"""``nn.Cell``: attributes, sub-cells, Parameters, a small Dense model; ``jit(cell)``, ``jit`` on a Cell
class, on ``construct``, and functions that use a Cell built before the call."""

from __future__ import annotations

import numpy as np
from differential import a23, arr, fresh, registrar

import mycelia as ms

CASES: list = []
case = registrar(CASES, "cells")
nn, ops = ms.nn, ms.ops
X0, X1 = a23(0), a23(1)
B0, B1 = arr(4, 3, seed=10), arr(4, 3, seed=11)
S: dict = {}


def dense(cin, cout, seed, **kwargs):
    return nn.Dense(cin, cout, weight_init=ms.Tensor(arr(cout, cin, seed=seed)),
                    bias_init=ms.Tensor(arr(cout, seed=seed + 1)), **kwargs)


class Affine(nn.Cell):
    def __init__(self):
        super().__init__()
        self.w = ms.Parameter(ms.Tensor(arr(3, seed=20)), name="w")
        self.b = ms.Parameter(ms.Tensor(arr(3, seed=21)), name="b")
        self.scale = 2.0

    def construct(self, x):
        return (x * self.w + self.b) * self.scale


class MLP(nn.Cell):
    def __init__(self):
        super().__init__()
        self.fc1 = dense(3, 4, 30)
        self.fc2 = dense(4, 2, 32)
        self.act = nn.ReLU()
        self.use_act = True

    def construct(self, x):
        h = self.fc1(x)
        if self.use_act:
            h = self.act(h)
        return self.fc2(h)


class Multi(nn.Cell):
    def __init__(self):
        super().__init__()
        self.fc = dense(3, 3, 40)
        self.layers = nn.CellList([dense(3, 3, 42), dense(3, 3, 44)])
        self.seq = nn.SequentialCell([dense(3, 2, 46), nn.Tanh()])
        self.names = ("a", "b")

    def construct(self, x, repeat=1):
        for _ in range(repeat):
            x = self.fc(x)
        for layer in self.layers:
            x = layer(x) + x
        return {self.names[0]: self.seq(x), self.names[1]: x.shape}


class WithHelper(nn.Cell):
    def __init__(self):
        super().__init__()
        self.fc = dense(3, 2, 50)
        self.eps = 1e-3

    def normalize(self, x):
        return x / (ops.sqrt((x * x).sum(axis=-1, keepdims=True)) + self.eps)

    def construct(self, x):
        return self.fc(self.normalize(x)), self.normalize(x)


class Tupled(nn.Cell):
    def __init__(self):
        super().__init__()
        self.enc = dense(3, 4, 60)
        self.heads = [dense(4, 1, 62), dense(4, 2, 64)]

    def construct(self, x, y=None):
        h = ops.tanh(self.enc(x))
        outs = tuple(head(h) for head in self.heads)
        if y is not None:
            return outs, (outs[0] - y).mean()
        return outs


def _fresh_class(obj):
    """A private subclass with its own ``construct``: ``jit(cls)`` may patch the class it is given, and the
    module's classes are shared by other cases."""
    cls = type(obj)
    return type(cls.__name__, (cls,), {"construct": fresh(cls.construct), "__qualname__": cls.__qualname__})


def _class_wrap(jit, obj):
    jitted_class = jit(_fresh_class(obj))
    return jitted_class(), jitted_class  # jit_info on what jit returned: the class


def _class_wrap_info_on_construct(jit, obj):
    instance = jit(_fresh_class(obj))()
    return instance, instance.construct


def _construct_wrap(jit, obj):
    jitted_construct = jit(type(obj).construct)
    sub = type("J" + type(obj).__name__, (type(obj),), {"construct": jitted_construct})
    return sub(), jitted_construct


@case((X0,), (X1,), made=True)
def jit_cell_parameters_and_scale():
    return Affine()


@case((X0,), (X1,), made=True)
def jit_cell_mlp():
    return MLP()


@case((B0,), (B1,), made=True)
def jit_cell_mlp_batch4():
    return MLP()


@case((X0,), (X1, 2), made=True, compiles=2)
def jit_cell_celllist_sequential(*_):
    return Multi()


@case((X0,), (X1,), made=True)
def jit_cell_method_helper():
    return WithHelper()


@case((X0,), (X1,), made=True)
def jit_cell_tuple_outputs():
    return Tupled()


@case((X0, arr(2, 1, seed=70)), (X1, arr(2, 1, seed=71)), made=True)
def jit_cell_optional_target():
    return Tupled()


@case((X0,), (X1,), made=True, wrap=_class_wrap)
def jit_cell_class():
    return Affine()


@case((X0,), (X1,), made=True, wrap=_class_wrap_info_on_construct)
def jit_cell_class_mlp():
    return MLP()


@case((X0,), (X1,), made=True, wrap=_construct_wrap)
def jit_construct_method():
    return MLP()


@case((X0,), (X1,), made=True)
def function_using_prebuilt_cell():
    net = MLP()

    def f(x):
        return net(x) * 2

    return f


@case((X0,), (X1,), made=True)
def function_reading_parameters_directly():
    net = Affine()

    def f(x):
        return x * net.w, net.b.shape, net.w.dtype, net.scale

    return f


@case((X0,), (X1,), made=True)
def dense_layer_only():
    return dense(3, 5, 80)


@case((X0,), (X1,), made=True)
def dense_with_activation():
    return dense(3, 2, 82, activation="relu")


@case((X0,), (X1,), made=True)
def builtin_cells_sequence():
    return nn.SequentialCell([dense(3, 4, 84), nn.Sigmoid(), dense(4, 4, 86), nn.LayerNorm((4,))])


@case((X0,), (X1,), made=True)
def cell_trainable_params_in_function():
    net = MLP()

    def f(x):
        total = x.sum() * 0
        for p in net.trainable_params():
            total = total + (p * p).sum()
        return total, len(net.trainable_params()), [p.name for p in net.trainable_params()]

    return f


@case((X0,), (X1,), made=True)
def cell_called_twice_shares_weights():
    net = Affine()

    def f(x):
        return net(net(x))

    return f


@case((X0,), (X1,), made=True)
def cell_returns_parameter_unchanged():
    net = Affine()

    def f(x):
        return net.w, x + 0

    return f


@case((X0,), (X1,), made=True)
def cell_training_flag_read():
    net = MLP()
    net.set_train(False)

    def f(x):
        return net(x), net.training

    return f


@case((X0,), (X1,), made=True)
def cell_loss_cell():
    net = dense(3, 1, 90)
    loss = nn.MSELoss()

    def f(x):
        return loss(net(x), ops.zeros((2, 1), ms.float32))

    return f


@case((X0,), (X1,), made=True, compiles=None)
def cell_wrong_input_shape_error():
    return dense(4, 2, 92)


@case((X0,), (X1,), made=True)
def cell_attribute_tuple_and_string():
    class Tagged(nn.Cell):
        def __init__(self):
            super().__init__()
            self.tag = "t"
            self.dims = (3, 2)
            self.fc = dense(3, 2, 94)

        def construct(self, x):
            return self.fc(x).reshape(self.dims[1], -1), self.tag * 2

    return Tagged()


@case((X0,), (X1,), made=True)
def cell_subclass_super_construct():
    class Scaled(Affine):
        def construct(self, x):
            return super().construct(x) - 1

    return Scaled()


@case((X0,), (X1,), made=True)
def cell_uses_numpy_constant_attribute():
    class WithConst(nn.Cell):
        def __init__(self):
            super().__init__()
            self.table = ms.Tensor(np.arange(3, dtype=np.float32))

        def construct(self, x):
            return x + self.table

    return WithConst()
