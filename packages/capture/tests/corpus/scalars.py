"""Constants, arithmetic on Python scalars, builtins on Python values, ``math`` on constants."""

from __future__ import annotations

import math

from differential import a23, registrar

CASES: list = []
case = registrar(CASES, "scalars")
X0, X1 = a23(0), a23(1)
K = 3
F = 0.5


@case(())
def const_int():
    return 42


@case(())
def const_float_expr():
    return 1.5 * 4 - 2 / 8


@case((7, 2), (7, 2))
def int_ops(a, b):
    return a + b, a - b, a * b, a / b, a // b, a % b, a ** b, -a, +b


@case((-7, 2))
def negative_floor_mod(a, b):
    return a // b, a % b, divmod(a, b), divmod(-a, -b)


@case((2.5, 0.5))
def float_ops(a, b):
    return a + b, a - b, a * b, a / b, a // b, a % b, a ** b


@case((6, 3))
def bit_ops(a, b):
    return a & b, a | b, a ^ b, ~a, a << b, a >> 1


@case((3, 4.0))
def mixed_int_float(a, b):
    return a + b, a * b, a / 2, type(a + b).__name__


@case((3, 5))
def comparisons(a, b):
    return a < b, a <= b, a > b, a >= b, a == b, a != b, 1 < a < b, a < b < 4


@case((True, False))
def bool_ops(a, b):
    return a and b, a or b, not a, a + b, a & b, a | b, a ^ b


@case((0, 7))
def and_or_values(a, b):
    return a or b, a and b, b or a, b and a, None or a


@case(())
def global_constants():
    return K * F, K + 1, F * 2


@case((X0,), (X1,))
def global_scalar_times_tensor(x):
    return x * K + F


@case((X0, 2), (X1, 2))
def scalar_arg_times_tensor(x, n):
    return x * n - n / 4


@case((X0, 1.5), (X1, 1.5))
def float_arg_arith_then_tensor(x, s):
    c = (s + 1) * 2 - s ** 2
    return x * c, c


@case(())
def math_constants():
    return math.pi * 2, math.e, math.inf > 1e308, math.tau / 2 == math.pi


@case((X0,), (X1,))
def math_functions_on_constants(x):
    c = math.sqrt(16.0) + math.log(math.e) + math.floor(2.7) + math.ceil(0.2) + math.cos(0.0)
    return x * c + math.exp(0.0), c


@case((9,))
def math_on_int_arg(n):
    return math.sqrt(n), math.isqrt(n), math.gcd(n, 6), math.factorial(4), math.fabs(-n)


@case((3.7,))
def round_builtin(v):
    return round(v), round(v, 1), round(2.5), round(3.5), round(-0.5), int(v), int(-v)


@case(())
def abs_min_max():
    return abs(-3), abs(-2.5), min(3, 1, 2), max(3, 1, 2), min([4, 5]), max((1.0, 2)), min(3, 1, key=lambda v: -v)


@case(())
def sum_builtin():
    return sum([1, 2, 3]), sum((0.5, 0.25)), sum(range(5), 10), sum([[1], [2]], [])  # noqa: RUF017


@case(())
def conversions():
    return int("12"), int(3.9), float(2), float("1.5"), bool(0), bool([]), bool("x"), str(12), str(1.5), int(True)


@case(())
def int_base_and_hex():
    return int("ff", 16), int("0b101", 0), hex(255), oct(8), bin(5), chr(65), ord("a")


@case((10,))
def augmented_assign(n):
    a = n
    a += 2
    a *= 3
    a -= 1
    a //= 2
    a **= 2
    a %= 100
    a <<= 1
    a |= 1
    return a


@case((X0, 4), (X1, 4))
def augmented_assign_tensor(x, n):
    y = x
    y += n
    y *= 2
    y -= 1
    y /= 4
    return y


@case(())
def float_special_values():
    inf = float("inf")
    return inf > 1e300, -inf < 0, math.isnan(float("nan")), math.isinf(inf), 1e308 * 10 == inf


@case(())
def int_big():
    return 2 ** 70, (2 ** 70) // 3, -(2 ** 65) % 7


@case(())
def chained_ternary():
    a = 5
    b = "big" if a > 3 else "small"
    c = 1 if a < 0 else 2 if a < 4 else 3
    return b, c


@case((X0, 2.0), (X1, 2.0))
def ternary_on_scalar_arg(x, s):
    y = x * s if s > 1 else x - s
    return y


@case((), compiles=None)
def divide_by_zero_raises():
    a = 1
    b = a - 1
    return a / b


@case(())
def int_float_equality():
    return 1 == 1.0, hash(1) == hash(1.0), 0.1 + 0.2 == 0.3, abs(0.1 + 0.2 - 0.3) < 1e-9


@case(())
def complex_numbers():
    z = complex(1, 2)
    return z * z, z.real, z.imag, abs(3 + 4j)


@case((X0,), (X1,))
def tensor_plus_python_float_sum(x):
    total = 0.0
    for v in (0.5, 1.5, 2.0):
        total += v
    return x + total


@case(())
def walrus():
    values = [1, 2, 3, 4]
    if (n := len(values)) > 3:
        return n * 2
    return n


@case(())
def none_comparisons():
    a = None
    return a is None, a is not None, a == None, [a] == [None]  # noqa: E711


@case(())
def identity_of_small_constants():
    a = (1, 2)
    b = a
    return a is b, type(a) is tuple, isinstance(a, tuple)
