"""Calls: user functions (inlined, one helper from several sites), defaults, keyword-only arguments,
``*args``/``**kwargs``, lambdas, recursion, and builtins on Python values."""

from __future__ import annotations

import functools
import operator

from differential import a23, kw, registrar

CASES: list = []
case = registrar(CASES, "calls")
X0, X1, Y0, Y1 = a23(0), a23(1), a23(2), a23(3)


def helper(t, k=1.0):
    return t * k + 1


def two_results(t):
    return t + 1, t - 1


def apply(f, v):
    return f(v)


def depth(n):
    return 0 if n == 0 else 1 + depth(n - 1)


def varargs_sum(*args):
    total = 0
    for a in args:
        total = total + a
    return total


def kwargs_keys(**kwargs):
    return sorted(kwargs), len(kwargs)


@case((X0,), (X1,))
def call_helper(x):
    return helper(x)


@case((X0, Y0), (X1, Y1))
def helper_from_several_sites(x, y):
    return helper(x), helper(y, 2.0), helper(helper(x), k=0.5)


@case((X0,), (X1,))
def nested_helper_calls(x):
    a, b = two_results(x)
    return helper(a) * helper(b)


@case((X0,), (X1,))
def higher_order(x):
    return apply(helper, x), apply(lambda v: v * 3, x)


@case((X0,), (X1,))
def lambda_local(x):
    f = lambda v, s=2: v * s  # noqa: E731
    return f(x), f(x, 5)


@case((X0,), (X1,))
def recursion_on_python_int(x):
    return x * depth(4)


@case((X0,), kw(X1, scale=3.0), compiles=2)
def defaults(x, scale=2.0, shift=1):
    return x * scale + shift


@case(kw(X0, scale=0.5), kw(X1, scale=0.5))
def keyword_only(x, *, scale, bias=0.0):
    return x * scale + bias


@case(kw(x=X0, y=Y0), kw(y=Y1, x=X1))
def all_by_keyword(x, y):
    return x - y


@case((X0, Y0), (X1, Y1))
def star_args_to_varargs(x, y):
    return varargs_sum(x, y, 1.0), varargs_sum(*[x, y]), varargs_sum()


@case((X0, 1, 2), (X1, 1, 2))
def varargs_signature(x, *rest):
    return x * len(rest) + sum(rest), rest


@case(kw(X0, a=1, b=2), kw(X1, a=1, b=2))
def kwargs_signature(x, **options):
    return x * options["a"] + options.get("b", 0), sorted(options)


@case(())
def kwargs_forwarding():
    opts = {"k": 1, "j": 2}
    return kwargs_keys(**opts), kwargs_keys(z=0, **opts), kwargs_keys()


@case((X0,), (X1,))
def star_star_into_helper(x):
    opts = {"k": 4.0}
    return helper(x, **opts), helper(*(x,), **{"k": 0.0})


@case(kw(X0, 1, 2, c=3), kw(X1, 1, 2, c=3))
def mixed_signature(x, a, b=0, *args, c, d=4, **kw_):
    return x * (a + b + c + d), args, kw_


@case((X0,), (X1,))
def functools_partial(x):
    f = functools.partial(helper, k=10.0)
    return f(x)


@case((X0, Y0), (X1, Y1))
def operator_module(x, y):
    return operator.add(x, y), operator.mul(x, 2), operator.neg(y), operator.itemgetter(1)([4, 5])


@case(())
def functools_reduce():
    return functools.reduce(lambda a, b: a * b, [1, 2, 3, 4], 1)


@case(())
def builtin_len_range_enumerate_zip():
    xs = ["a", "b", "c"]
    return len(xs), list(range(2, 8, 3)), list(enumerate(xs)), list(zip(xs, range(3))), list(zip(*[(1, 2), (3, 4)]))


@case(())
def builtin_sorted_reversed():
    data = [(2, "b"), (1, "z"), (2, "a")]
    return sorted(data), sorted(data, key=lambda p: p[1]), list(reversed(data)), sorted("cab", reverse=True)


@case(())
def builtin_map_filter():
    return list(map(lambda v: v + 1, [1, 2])), list(filter(None, [0, 1, "", "a"])), list(map(str, (1, 2)))


@case(())
def builtin_isinstance_issubclass():
    return isinstance(1, int), isinstance(True, int), isinstance(1.0, (int, str)), issubclass(bool, int), \
        int is int, callable(len), callable(3)


@case((), unsupported=True)  # defines a class inside the function: runs eagerly
def builtin_getattr_hasattr():
    class Box:
        size = 3

    b = Box()
    return getattr(b, "size"), getattr(b, "missing", -1)  # noqa: B009, hasattr(b, "size"), hasattr(b, "nope")


@case((X0,), (X1,))
def builtin_getattr_on_tensor(x):
    return getattr(x, "shape"), hasattr(x, "dtype"), getattr(x, "ndim") + 1  # noqa: B009


@case(())
def builtin_divmod_pow_abs():
    return divmod(17, 5), divmod(-7.5, 2), pow(2, 10), pow(3, 4, 5), abs(-7)


@case(())
def builtin_any_all_min_max_sum():
    xs = [4, -2, 9]
    return any(xs), all(xs), min(xs), max(xs), sum(xs), max(xs, key=abs), min("bca")


@case(())
def builtin_iter_next():
    it = iter([1, 2, 3])
    first = next(it)
    rest = list(it)
    return first, rest, next(iter([]), "empty")


@case((), compiles=None, graph_break=True, expect_breaks=1)  # each id() call breaks the graph (runs for real)
def builtin_type_and_id_equality():
    a = [1]
    b = a
    return id(a) == id(b), type(a).__name__, type(a)([2])


@case(())
def builtin_hash_and_bool():
    return hash("x") == hash("x"), bool(None), bool(0.0), bool((0,)), len({1: 2})


@case((), compiles=None)
def call_unknown_builtin_error():
    return len(5)


@case((), compiles=None)
def wrong_argument_count():
    return helper()


@case((X0,), (X1,))
def decorated_helper(x):
    def twice(f):
        @functools.wraps(f)
        def inner(v):
            return f(f(v))
        return inner

    @twice
    def inc(v):
        return v + 1

    return inc(x), inc.__name__


@case((X0,), (X1,), compiles=None)
def user_function_raises_value_error(x):
    def check(t, limit):
        if t.ndim > limit:
            raise ValueError(f"rank {t.ndim} exceeds {limit}")
        return t

    return check(x, 1)


@case((X0,), (X1,))
def returns_none(x):
    y = x + 1
    del y


@case((X0,), (X1,))
def returns_none_explicit(x):
    _ = x * 2
    return None


@case((X0,), (X1,))
def call_through_dict_of_functions(x):
    table = {"h": helper, "t": two_results}
    return table["h"](x), table["t"](x)[1]


@case((X0,), (X1,))
def builtin_min_max_of_shape(x):
    return max(x.shape), min(x.shape), sum(x.shape), x.reshape(min(x.shape), max(x.shape))
