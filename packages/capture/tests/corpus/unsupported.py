"""Unsupported code (``unsupported=True``): in this issue the whole function runs eagerly, with
``eager_reason`` set and no compile, and results, prints and side effects exactly as eager. The next
issue turns these into graph breaks (``differential.UNSUPPORTED_MODE = "break"``)."""

from __future__ import annotations

import types

from differential import a23, registrar

import mycelia as ms

CASES: list = []
case = registrar(CASES, "unsupported")
ops = ms.ops
X0, X1, N0, P0 = a23(0), a23(1), -abs(a23(2)) - 0.1, abs(a23(3)) + 0.1
REPLAY_PRINTS = {"jit_config": {"print_breaks": False}}  # prints replayed after the graph (no break)
LOG: list = []
TABLE: dict = {}
COUNTER = 0
OBJ = types.SimpleNamespace(value=0, seen=[])


def _reset():
    global COUNTER
    LOG.clear()
    TABLE.clear()
    COUNTER = 0
    OBJ.value = 0
    OBJ.seen = []


def _state():
    return list(LOG), dict(TABLE), globals().get("COUNTER", "<deleted>"), OBJ.value, list(OBJ.seen)


def unsupported(*calls, supported=False, breaks=False, **fields):
    """Register with ``unsupported=True`` (or, with ``supported=True``, as code whose side effects are
    replayed after the graph), a factory that resets the module state and ``_state``."""
    def register(fn):
        def factory():
            _reset()
            return types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
        factory.__name__ = fn.__name__
        if breaks:
            fields["graph_break"] = True
            fields["compiles"] = None
        return case(*calls, made=True, unsupported=not supported and not breaks, state=_state, **fields)(factory) and fn
    return register


def _log_helper(v):
    LOG.append(v)
    return v


@unsupported((X0,), (X1,))
def generator_function(x):
    for i in range(3):
        yield x * i


@unsupported((X0,), (X1,))
def generator_with_return_value(x):
    total = yield x
    yield total
    return "done"


@unsupported((X0,), (X1,), supported=True, compiles=1, jit_kwargs=REPLAY_PRINTS)  # replayed after the graph
def print_python_values(x):
    print("start", 1, 2.5, [1, "a"])
    y = x * 2
    print("end", sep="|")
    return y


@unsupported((X0,), (X1,), supported=True, compiles=1, jit_kwargs=REPLAY_PRINTS)  # replayed after the graph
def print_tensor_and_shape(x):
    y = x + 1
    print(y.shape, y.dtype)
    print(y)
    return y


@unsupported((X0,), (X1,), supported=True, compiles=1, jit_kwargs=REPLAY_PRINTS)  # replayed after the graph
def print_inside_helper(x):
    def show(t):
        print(f"helper sees ndim={t.ndim}")
        return t * 3
    return show(x) + 1


@unsupported((X0,), (X1,), supported=True, compiles=None)  # side effects replayed after the graph
def global_list_append(x):
    LOG.append("called")
    LOG.append(x.shape)
    return x * len(LOG)


@unsupported((X0,), (X1,), supported=True, compiles=None)  # side effects replayed after the graph
def global_list_append_in_callee(x):
    _log_helper(1)
    return _log_helper(x) * 2


@unsupported((X0,), (X1,))
def global_dict_store(x):
    TABLE["last"] = x.sum()
    TABLE[len(TABLE)] = "n"
    return x


@unsupported((X0,), (X1,))
def global_list_extend_and_pop(x):
    LOG.extend([1, 2, 3])
    LOG.pop(0)
    return x - LOG[0]


@unsupported((X0,), (X1,), supported=True, compiles=None)  # side effects replayed after the graph
def attribute_store_on_preexisting_object(x):
    OBJ.value = OBJ.value + 1
    return x * OBJ.value


@unsupported((X0,), (X1,))
def attribute_list_mutation_on_preexisting_object(x):
    OBJ.seen.append(x.ndim)
    return x + len(OBJ.seen)


@unsupported((X0,), (X1,), supported=True, compiles=None)  # side effects replayed after the graph
def setattr_builtin_on_preexisting_object(x):
    setattr(OBJ, "value", 7)  # noqa: B010
    return x * OBJ.value


@unsupported((X0,), (X1,), supported=True, compiles=None)  # side effects replayed after the graph
def global_write(x):
    global COUNTER
    COUNTER += 1
    return x + COUNTER


@unsupported((X0,), (X1,), supported=True, compiles=None)  # side effects replayed after the graph
def global_write_tensor(x):
    global COUNTER
    COUNTER = 10
    return x * COUNTER


@unsupported((X0,), (N0,), breaks=True)  # a graph break: the rest resumes in its own graph
def tensor_dependent_if(x):
    if x.sum() > 0:
        return x * 2
    return x - 2


@unsupported((X0,), (N0,), breaks=True)  # a graph break: the rest resumes in its own graph
def tensor_dependent_if_on_max(x):
    y = x + 1
    if y.max() < 1.0:
        y = y * 0
    return y


@unsupported((X0,), (N0,), breaks=True, expect_breaks=1)  # a graph break: the rest resumes in its own graph
def tensor_dependent_while(x):
    n = 0
    while (x * (n + 1)).sum() < 1.0 and n < 5:
        n += 1
    return x * n, n


@unsupported((P0,), (N0,), breaks=True)  # a graph break: the rest resumes in its own graph
def tensor_bool_in_helper(x):
    def positive(t):
        return bool((t > 0).all())
    return x * 2 if positive(x) else -x


@unsupported((X0,), (X1,), breaks=True, expect_breaks=2)  # two breaks: the host read, then Python using its value
def asnumpy_use(x):
    a = x.asnumpy()
    return x * float(a.sum()), a.shape


@unsupported((X0,), (X1,), breaks=True)  # a graph break: the rest resumes in its own graph
def item_use(x):
    v = x.sum().item()
    return x + v, type(v).__name__


@unsupported((X0,), (X1,), breaks=True)  # a graph break: the rest resumes in its own graph
def float_of_tensor(x):
    s = float(x.mean())
    return x * s, round(s, 3)


@unsupported((X0,), (X1,), breaks=True)  # a graph break: the rest resumes in its own graph
def int_of_tensor(x):
    n = int((x > 0).sum())
    return x[:, :1] * n, n


@unsupported((X0,), (X1,), breaks=True, expect_breaks=1)  # a graph break: the rest resumes in its own graph
def tolist_use(x):
    return x.tolist(), len(x.tolist())


@unsupported((X0,), (X1,), breaks=True, expect_breaks=2)  # two breaks: the host read, then Python using its value
def tensor_as_python_index(x):
    i = int(ops.argmax(x.sum(axis=1), 0))
    return x[i]


@unsupported((X0, [1]), (X1, [1]))
def argument_list_mutation(x, xs):
    xs.append(2)
    return x * len(xs), xs


@unsupported((X0, {"n": 1}), (X1, {"n": 1}))
def argument_dict_mutation(x, d):
    d["n"] += 1
    d["seen"] = True
    return x * d["n"], d


@unsupported((X0,), (X1,), jit_kwargs=REPLAY_PRINTS)
def print_and_global_append_in_order(x):
    print("a")
    LOG.append("b")
    print("c", len(LOG))
    return x


@unsupported((X0,), (X1,), supported=True, compiles=None)  # side effects replayed after the graph
def exception_after_side_effect(x):
    LOG.append("before")
    if x.ndim == 2:
        raise ValueError(f"side effect done, ndim={x.ndim}")
    return x


@unsupported((X0,), (X1,), supported=True, compiles=None)  # side effects replayed after the graph
def del_global(x):
    global COUNTER
    COUNTER = 3
    y = x * COUNTER
    del COUNTER
    try:
        return y, COUNTER
    except NameError as e:
        return y, str(e)
