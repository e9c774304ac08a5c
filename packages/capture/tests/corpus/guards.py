"""Guards: what a cache entry assumed is re-checked on every call. Each case counts compiles across calls:
a changed guarded value gives one recompile, changing it back reuses the old entry."""

from __future__ import annotations

import types

import numpy as np
from differential import a23, a44, arr, registrar

import mycelia as ms

CASES: list = []
case = registrar(CASES, "guards")
nn = ms.nn
X0, X1, X2, X3 = a23(0), a23(1), a23(2), a23(3)
M0 = a44(0)
I0 = arr(2, 3, seed=8, dtype=np.int32)
D0 = arr(2, 3, seed=9, dtype=np.float64)
S: dict = {}
G_INT = 1
G_FLOAT = 0.5
G_TENSOR = None
G_LIST = [1.0, 2.0]
G_DICT = {"k": 1.0}
G_FN = None
CONFIG = types.ModuleType("user_config")  # a user module object with a math.pi-like constant
CONFIG.PI = 3.14


def _set(name, values):
    """between(i): module global ``name`` = values[i]."""
    def between(i):
        globals()[name] = values[i]
    return between


def _double(v):
    return v * 2


def _negate(v):
    return -v


# --- globals -----------------------------------------------------------------------------------------
def _reset_int():
    global G_INT
    G_INT = 1
    return lambda x: x * G_INT


@case((X0,), (X1,), (X2,), made=True, compiles=2, between=_set("G_INT", [1, 2, 1]), expect_call_count=2)
def global_int_rebound_and_back():
    return _reset_int()


@case((X0,), (X1,), (X2,), (X3,), made=True, compiles=3, between=_set("G_FLOAT", [0.5, 1.5, 2.5, 0.5]))
def global_float_three_values():
    global G_FLOAT
    G_FLOAT = 0.5
    return lambda x: x + G_FLOAT


@case((X0,), (X1,), made=True, compiles=1, between=_set("G_INT", [4, 4]), expect_call_count=2)
def global_int_same_value_reused():
    return _reset_int()


def _global_tensors(i):
    global G_TENSOR
    G_TENSOR = ms.Tensor(a23(40 + i))


@case((X0,), (X0,), (X0,), made=True, compiles=None, between=_global_tensors)
def global_tensor_replaced_same_shape():
    _global_tensors(0)
    return lambda x: x + G_TENSOR


def _global_list(i):
    G_LIST[0] = [1.0, 3.0, 1.0][i]


@case((X0,), (X1,), (X2,), made=True, compiles=2, between=_global_list)
def global_list_item_changed():
    G_LIST[:] = [1.0, 2.0]
    return lambda x: x * G_LIST[0] + G_LIST[1]


def _global_dict(i):
    G_DICT["k"] = [1.0, 2.0, 2.0][i]
    if i == 2:
        G_DICT["new"] = 5.0


@case((X0,), (X1,), (X2,), made=True, compiles=3, between=_global_dict)
def global_dict_value_changed_and_key_added():
    G_DICT.clear()
    G_DICT["k"] = 1.0
    return lambda x: x * G_DICT["k"] + G_DICT.get("new", 0.0)


@case((X0,), (X1,), (X2,), made=True, compiles=2, between=_set("G_FN", [_double, _negate, _double]))
def global_function_rebound():
    global G_FN
    G_FN = _double
    return lambda x: G_FN(x) + 1


def _module_attr(i):
    CONFIG.PI = [3.14, 3.0, 3.14][i]


@case((X0,), (X1,), (X2,), made=True, compiles=2, between=_module_attr)
def user_module_attribute_changed():
    CONFIG.PI = 3.14
    return lambda x: x * CONFIG.PI


# --- closures, attributes, Cells -----------------------------------------------------------------------
@case((X0,), (X1,), (X2,), made=True, compiles=2, between=lambda i: S["set_k"]([2.0, 5.0, 2.0][i]))
def closure_cell_mutated():
    k = 2.0

    def set_k(v):
        nonlocal k
        k = v

    S["set_k"] = set_k
    return lambda x: x * k


def _make_scaled():
    class Scaled(nn.Cell):
        def __init__(self):
            super().__init__()
            self.fc = nn.Dense(3, 2, weight_init=ms.Tensor(arr(2, 3, seed=50)), bias_init=ms.Tensor(arr(2, seed=51)))
            self.scale = 2.0

        def construct(self, x):
            return self.fc(x) * self.scale

    S["cell"] = Scaled()
    return S["cell"]


def _cell_scale(i):
    S["cell"].scale = [2.0, 3.0, 2.0][i]


@case((X0,), (X1,), (X2,), made=True, compiles=2, between=_cell_scale)
def cell_float_attribute_changed():
    return _make_scaled()


def _cell_submodule(i):
    if i == 1:
        S["cell"].fc = nn.Dense(3, 2, weight_init=ms.Tensor(arr(2, 3, seed=52)), bias_init=ms.Tensor(arr(2, seed=53)))


@case((X0,), (X1,), made=True, compiles=None, between=_cell_submodule)
def cell_submodule_replaced():
    return _make_scaled()


def _cell_weight(i):
    if i == 1:
        ms.ops.assign(S["cell"].fc.weight, ms.Tensor(arr(2, 3, seed=54)))


@case((X0,), (X0,), made=True, compiles=1, between=_cell_weight)
def cell_parameter_value_changed_no_recompile():
    return _make_scaled()


@case((X0,), (X1,), (X2,), made=True, compiles=2,
      between=lambda i: setattr(S["obj"], "w", [1.0, 4.0, 1.0][i]))
def plain_object_attribute_changed():
    S["obj"] = obj = types.SimpleNamespace(w=1.0)
    return lambda x: x * obj.w


# --- arguments ---------------------------------------------------------------------------------------
_L = [1.0, 2.0]


@case((X0, _L, _L), (X1, [1.0, 2.0], [1.0, 2.0]), compiles=1)
def aliased_lists_then_equal_distinct(x, a, b):
    return x * sum(a) + len(b) + b[0]


@case((X0, [1.0, 2.0], [1.0, 2.0]), (X1, _L, _L), compiles=1)
def equal_distinct_lists_then_aliased(x, a, b):
    return x * sum(a) - b[1]


@case((X0, [1, 2]), (X1, [1, 3]), compiles=2)
def list_argument_new_contents(x, xs):
    return x * xs[1]


@case((X0, [1, 2]), (X1, [1, 2, 3]), compiles=2)
def list_argument_new_length(x, xs):
    return x * len(xs)


@case((X0, _double), (X1, _negate), (X2, _double), compiles=2)
def function_argument_swapped_and_back(x, f):
    return f(x)


@case((X0, 2), (X1, 3), (X2, 4), (X3, 2), compiles=3, expect_call_count=2)
def scalar_argument_values(x, n):
    return x * n


@case((X0, 2), (X1, 2), (X2, 2), compiles=1, expect_call_count=3)
def scalar_argument_equal_reuses(x, n):
    return x + n


@case((X0, True), (X1, False), (X2, True), compiles=2)
def bool_argument_flip(x, flag):
    return x * 2 if flag else x - 2


@case((X0, "a"), (X1, "b"), compiles=2)
def string_argument_changed(x, mode):
    return x * (1.0 if mode == "a" else 3.0)


@case((X0, None), (X1, X2), (X2, None), compiles=2)
def none_then_tensor_argument(x, bias):
    return x if bias is None else x + bias


@case((X0,), (M0,), compiles=2)
def tensor_new_shape_recompiles(x):
    return x * 2 + x.shape[0]


@case((X0,), (X1,), (X2,), (X3,), compiles=1, expect_call_count=4)
def tensor_same_shape_new_values(x):
    return ms.ops.tanh(x) * 3


@case((X0,), (D0,), compiles=2)
def tensor_new_dtype_recompiles(x):
    return x * 2


@case((X0,), (I0,), (X1,), compiles=2)
def tensor_int_then_back_to_float(x):
    return x + 1


@case((X0, 1), (X1, 2), (X2, 3), (X3, 4), compiles=2, jit_kwargs={"jit_config": {"recompile_limit": 2}},
      expect_eager_reason=True)
def recompile_limit_then_eager(x, n):
    return x * n


@case((X0, 1), (X1, 2), (X2, 3), (X3, 1), compiles=3)
def values_within_default_limit(x, n):
    return x - n


@case((X0, 1.5), (X1, 1.5), compiles=1)
def float_argument_equal_reuses(x, s):
    return x * s


@case((X0, (1, 2)), (X1, (1, 2)), (X2, (2, 1)), compiles=2)
def tuple_argument_value_guard(x, t):
    return x * t[0] + t[1]


@case((X0, {"a": 1.0}), (X1, {"a": 2.0}), compiles=2)
def dict_argument_value_guard(x, d):
    return x * d["a"]


@case((X0,), (X1,), made=True, compiles=None, between=lambda i: S["store"].__setitem__("unused", i))
def unrelated_global_change_no_recompile():
    S["store"] = {"used": 2.0}
    store = S["store"]
    return lambda x: x * store["used"]
