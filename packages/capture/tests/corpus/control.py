"""Control flow on static values: loops over range/lists/dict items/zip/enumerate, ``if`` on constants,
break/continue/else, while with a Python counter, try/except on Python exceptions, ``match``."""

from __future__ import annotations

from differential import a23, a44, registrar

CASES: list = []
case = registrar(CASES, "control")
X0, X1, Y0, Y1 = a23(0), a23(1), a23(2), a23(3)
M0, M1 = a44(0), a44(1)
DEBUG = False
WEIGHTS = [0.5, 1.5, -1.0]
CONFIG = {"a": 1.0, "b": 2.0}


@case((X0,), (X1,))
def for_range_accumulate(x):
    y = x
    for i in range(4):
        y = y + i
    return y


@case((X0,), (X1,))
def for_range_step_negative(x):
    out = []
    for i in range(6, 0, -2):
        out.append(x * i)
    return out


@case((X0,), (X1,))
def for_list_global(x):
    y = x * 0
    for w in WEIGHTS:
        y = y + x * w
    return y


@case((X0,), (X1,))
def for_dict_items(x):
    out = {}
    for k, v in CONFIG.items():
        out[k] = x * v
    return out


@case((X0, Y0), (X1, Y1))
def for_zip(x, y):
    total = x * 0
    for a, b in zip([x, y], [1.0, 2.0]):
        total = total + a * b
    return total


@case((X0,), (X1,))
def for_enumerate(x):
    out = x
    for i, s in enumerate([2.0, 3.0], start=1):
        out = out + s * i
    return out


@case((X0,), (X1,))
def for_break_continue_else(x):
    y = x
    for i in range(10):
        if i % 2 == 0:
            continue
        if i > 6:
            break
        y = y * 1.0 + i
    else:
        y = y * 100
    return y


@case((X0,), (X1,))
def for_else_runs(x):
    for i in range(3):
        if i == 7:
            break
    else:
        x = x - 1
    return x


@case((X0,), (X1,))
def nested_loops(x):
    y = x
    for i in range(3):
        for j in range(i):
            y = y + (i * j)
    return y


@case((X0,), (X1,))
def while_python_counter(x):
    i = 0
    y = x
    while i < 5:
        y = y * 0.5 + 1
        i += 1
    return y, i


@case((X0,), (X1,))
def while_true_break(x):
    n = 0
    while True:
        n += 3
        if n > 10:
            break
    return x + n


@case((X0,), (X1,))
def if_on_global_constant(x):
    if DEBUG:
        return x * 0
    return x + 1


@case((X0,), (X1,))
def if_on_shape(x):
    if x.shape[0] == 2:
        return x * 2
    return x


@case((M0,), (M1,))
def if_on_ndim_and_shape_square(x):
    if x.ndim == 2 and x.shape[0] == x.shape[1]:
        return x @ x
    return x


@case((X0, None), (X1, None))
def if_on_none_arg(x, bias):
    if bias is None:
        return x
    return x + bias


@case((X0, True), (X1, True))
def if_on_bool_arg(x, flag):
    if flag:
        return x.sum()
    return x.mean()


@case((X0,), (X1,))
def elif_chain(x):
    mode = 2
    if mode == 0:
        return x
    elif mode == 1:
        return -x
    elif mode == 2:
        return x * x
    else:
        return x + 1


@case((X0,), (X1,))
def isinstance_dispatch(x):
    for v in (1, 2.0, "s", None):
        if isinstance(v, int):
            x = x + v
        elif isinstance(v, float):
            x = x * v
    return x


@case((X0,), (X1,))
def loop_over_tensor_shape(x):
    total = 0
    for d in x.shape:
        total += d
    return x * total


@case((X0,), (X1,))
def loop_building_list_of_tensors(x):
    acc = []
    for i in range(3):
        acc.append(x[:, i])
    return acc


@case((X0,), (X1,))
def loop_over_reversed_sorted(x):
    out = []
    for v in reversed(sorted([3, 1, 2])):
        out.append(v)
    return x * out[0], out


@case((X0,), (X1,))
def try_except_python_error(x):
    try:
        v = {"a": 1}["b"]
    except KeyError:
        v = 2
    return x * v


@case((X0,), (X1,))
def try_else_finally(x):
    log = []
    try:
        y = x + 1
    except ValueError:
        log.append("except")
        y = x
    else:
        log.append("else")
    finally:
        log.append("finally")
    return y, log


@case((X0,), (X1,))
def try_except_as_message(x):
    try:
        int("nope")
    except ValueError as e:
        msg = str(e)
    return x, msg


@case((X0,), (X1,))
def try_finally_return(x):
    try:
        return x * 2
    finally:
        pass


@case((), compiles=None)
def raise_from_loop():
    for i in range(5):
        if i == 3:
            raise RuntimeError(f"stopped at {i}")
    return 0


@case((X0, "mul"), (X1, "mul"))
def match_on_string(x, op):
    match op:
        case "add":
            return x + 1
        case "mul":
            return x * 3
        case _:
            return x


@case((X0, (2, 3)), (X1, (2, 3)))
def match_on_tuple(x, spec):
    match spec:
        case (a, b):
            return x.reshape(b, a)
        case _:
            return x


class _Scale:
    __match_args__ = ("factor", "shift")

    def __init__(self, factor, shift=0.0):
        self.factor = factor
        self.shift = shift


@case((X0, _Scale(2.0)), (X1, _Scale(3.0, 1.0)), (X1, "other"), compiles=3)
def match_class_pattern(x, spec):
    match spec:
        case _Scale(f, shift=0.0):
            return x * f
        case _Scale(f, s):
            return x * f + s
        case str() as name:
            return x, name
        case _:
            return x


@case((X0, {"op": "scale", "by": 2.0}), (X1, {"op": "shift", "by": 1.0, "extra": 0}), (X1, {"op": "none"}), compiles=3)
def match_mapping_pattern(x, spec):
    match spec:
        case {"op": "scale", "by": factor}:
            return x * factor
        case {"op": "shift", "by": b, **rest}:
            return x + b, sorted(rest)
        case {"op": op}:
            return x, op


@case((X0, 3), (X1, 2.5), (X1, "s"), compiles=3)
def match_builtin_class_patterns(x, value):
    match value:
        case int(n) if n > 2:
            return x * n
        case float(v):
            return x + v
        case str():
            return x
        case _:
            return x - 1


@case((X0,), (X1,))
def with_nullcontext(x):
    import contextlib

    with contextlib.nullcontext(5) as v:
        y = x + v
    return y


@case((X0,), (X1,))
def assert_passes(x):
    assert x.shape == (2, 3), "bad shape"
    return x - 1


@case((X0,), (X1,), compiles=None)
def assert_fails(x):
    assert x.ndim == 3, f"expected 3 dims, got {x.ndim}"
    return x


@case((X0,), (X1,))
def del_local(x):
    y = x * 2
    z = y + 1
    del y
    return z


@case((X0,), (X1,))
def unroll_range_len(x):
    vals = [1, 2, 3, 4]
    for i in range(len(vals)):
        x = x + vals[i]
    return x
