"""Closures (reading cells built by a factory), ``nonlocal`` inside the jitted function, nested
functions and lambdas capturing tensors, default-argument capture, mutable defaults."""

from __future__ import annotations

from differential import a23, registrar

CASES: list = []
case = registrar(CASES, "closures")
X0, X1, Y0, Y1 = a23(0), a23(1), a23(2), a23(3)
S: dict = {}


@case((X0,), (X1,), made=True)
def reads_int_cell():
    k = 3

    def f(x):
        return x * k

    return f


@case((X0,), (X1,), made=True)
def reads_float_and_string_cells():
    scale, tag = 0.25, "s"

    def f(x):
        return x * scale, tag + "!"

    return f


@case((X0,), (X1,), made=True)
def reads_tensor_cell():
    import mycelia as ms

    bias = ms.Tensor(a23(7))

    def f(x):
        return x + bias

    return f


@case((X0,), (X1,), made=True)
def reads_list_cell():
    coeffs = [1.0, -2.0, 0.5]

    def f(x):
        return [x * c for c in coeffs]

    return f


@case((X0,), (X1,), made=True)
def reads_function_cell():
    def act(v):
        return v * v

    def f(x):
        return act(x) + 1

    return f


@case((X0,), (X1,), made=True)
def two_level_closure():
    a = 2

    def middle():
        b = 3

        def f(x):
            return x * a + b

        return f

    return middle()


@case((X0,), (X1,))
def nested_function_defined_inside(x):
    k = 4

    def inner(v):
        return v * k

    return inner(x) + inner(1)


@case((X0,), (X1,))
def nonlocal_inside_jitted(x):
    total = 0

    def add(v):
        nonlocal total
        total += v

    add(2)
    add(3)
    return x * total, total


@case((X0,), (X1,))
def nonlocal_counter_inner_closure(x):
    calls = 0

    def step(t):
        nonlocal calls
        calls += 1
        return t * 2

    y = step(step(x))
    return y, calls


@case((X0,), (X1,))
def closure_captures_tensor_local(x):
    y = x * 2

    def f():
        return y + 1

    return f()


@case((X0,), (X1,))
def lambda_capturing_tensor(x):
    f = lambda v: v + x  # noqa: E731
    return f(1.0), f(x)


@case((X0,), (X1,))
def closure_late_binding(x):
    fs = [lambda: i for i in range(3)]  # noqa: B023 - late binding is the point
    gs = [lambda i=i: i for i in range(3)]
    return [f() for f in fs], [g() for g in gs], x * fs[0]()


@case((X0,), (X1,))
def cell_rebound_after_closure_created(x):
    k = 1

    def f():
        return k

    k = 5
    return x * f()


@case((X0,), (X1,))
def comprehension_in_closure(x):
    ks = [1, 2]

    def f(t):
        return [t * k for k in ks]

    return f(x)


@case((X0,), (X1,), made=True, compiles=None, state=lambda: S["read"]())
def nonlocal_write_to_preexisting_cell():
    count = 0

    def f(x):
        nonlocal count
        count += 1
        return x * count

    S["read"] = lambda: count
    return f


@case((X0,), (X1,), made=True)
def closure_over_dict():
    table = {"w": 2.0, "b": -1.0}

    def f(x):
        return x * table["w"] + table["b"]

    return f


@case((X0,), (X1,), made=True)
def closure_over_class_instance():
    class Affine:
        def __init__(self):
            self.w, self.b = 3.0, 0.5

    aff = Affine()

    def f(x):
        return x * aff.w + aff.b

    return f


@case((X0,), (X1,))
def recursive_inner_function(x):
    def fact(n):
        return 1 if n <= 1 else n * fact(n - 1)

    return x * fact(4)


@case((X0, Y0), (X1, Y1), made=True)
def closure_with_defaults_and_kwonly():
    base = 2.0

    def f(x, y, w=0.5, *, shift=1.0):
        return (x * w + y) * base + shift

    return f


@case(([1],), ([1],), made=True, unsupported=True, state=lambda: S["defaults"][0])
def mutable_default_created_per_factory():
    def f(xs, acc=[]):  # noqa: B006 - the mutable default is the point
        acc.append(len(xs))
        return list(acc)

    S["defaults"] = f.__defaults__
    return f


@case((X0,), (X1,))
def generator_expression_over_closure(x):
    ws = (1.0, 2.0, 3.0)
    return sum(x * w for w in ws)


@case((X0,), (X1,))
def closure_returned_and_called(x):
    def make(k):
        return lambda v: v * k

    double, triple = make(2), make(3)
    return double(x) + triple(x)


@case((X0,), (X1,))
def nonlocal_list_mutation_inner(x):
    log = []

    def rec(v):
        log.append(v)
        return v

    rec(1)
    rec("a")
    return x, log


@case((X0,), (X1,))
def closure_shadowing(x):
    v = 1

    def f():
        v = 10
        return v

    return x * (f() + v)
