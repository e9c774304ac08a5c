"""User classes: methods (inlined), classmethods, staticmethods, properties, ``super()``, class
attributes, dunder operators, namedtuples, dataclasses; ``jit`` on a bound method."""

from __future__ import annotations

import dataclasses
from collections import namedtuple
from typing import NamedTuple

from differential import a23, registrar

CASES: list = []
case = registrar(CASES, "classes")
X0, X1, Y0, Y1 = a23(0), a23(1), a23(2), a23(3)
Point = namedtuple("Point", ["x", "y"])


class Pair(NamedTuple):
    first: object
    second: object = 0


@dataclasses.dataclass
class Config:
    scale: float = 2.0
    shift: float = 0.5
    name: str = "cfg"


@dataclasses.dataclass(frozen=True)
class Frozen:
    a: int
    b: int = 3


class Scaler:
    factor = 3.0

    def __init__(self, k):
        self.k = k

    def apply(self, x):
        return x * self.k + self.factor

    def twice(self, x):
        return self.apply(self.apply(x))

    @classmethod
    def make(cls, k):
        return cls(k)

    @staticmethod
    def offset(x):
        return x - 1

    @property
    def double_k(self):
        return self.k * 2


class Shifted(Scaler):
    factor = 10.0

    def apply(self, x):
        return super().apply(x) - 1

    def parent_apply(self, x):
        return super(Shifted, self).apply(x)  # noqa: UP008 - the two-argument form is the point


class Vec:
    def __init__(self, v):
        self.v = v

    def __add__(self, other):
        return Vec(self.v + other.v)

    def __mul__(self, s):
        return Vec(self.v * s)

    def __len__(self):
        return 2

    def __getitem__(self, i):
        return self.v if i == 0 else -self.v

    def __eq__(self, other):
        return isinstance(other, Vec) and self.v == other.v

    def __call__(self, x):
        return x + self.v


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self, a, b):
        self.a, self.b = a, b


class Base:
    def describe(self):
        return f"{type(self).__name__}:{self.kind()}"

    def kind(self):
        return "base"


class Child(Base):
    def kind(self):
        return "child+" + super().kind()


SCALER = Scaler(2.0)


@case((X0,), (X1,))
def method_on_object_built_inside(x):
    s = Scaler(2.0)
    return s.apply(x), s.twice(x)


@case((X0,), (X1,))
def method_on_global_object(x):
    return SCALER.apply(x)


@case((X0,), (X1,))
def classmethod_and_staticmethod(x):
    s = Scaler.make(0.5)
    return s.apply(x), Scaler.offset(x), s.offset(x), Scaler.make.__name__


@case((X0,), (X1,))
def property_read(x):
    s = Scaler(1.5)
    return x * s.double_k


@case((X0,), (X1,))
def class_attribute_read(x):
    return x + Scaler.factor, Shifted.factor


@case((X0,), (X1,))
def super_call(x):
    s = Shifted(2.0)
    return s.apply(x), s.parent_apply(x), s.twice(x)


@case(())
def super_chain_strings():
    return Child().describe(), Base().describe()


@case(())
def isinstance_on_user_classes():
    s = Shifted(1.0)
    return isinstance(s, Scaler), isinstance(s, Shifted), type(s) is Scaler, issubclass(Shifted, Scaler)


@case(())
def dunder_operators():
    a, b = Vec(1), Vec(2)
    c = a + b * 3
    return c.v, len(c), c[0], c[1], a == Vec(1), a != b, c(5)


@case((X0,), (X1,))
def callable_object_on_tensor(x):
    v = Vec(2.0)
    return v(x)


@case((X0,), (X1,))
def object_attribute_store_on_new_object(x):
    s = Scaler(1.0)
    s.k = 4.0
    s.extra = "e"
    return s.apply(x), s.extra


@case(())
def slots_object():
    o = Slotted(1, 2)
    o.a = 5
    return o.a + o.b


@case(())
def namedtuple_build_access():
    p = Point(1, y=2)
    q = p._replace(x=5)
    return p.x + p.y, p[0], q, tuple(q), q._asdict(), Point._fields


@case((X0, Y0), (X1, Y1))
def namedtuple_of_tensors(x, y):
    p = Point(x, y)
    a, b = p
    return Point(p.y, a + b)


@case((X0,), (X1,))
def typing_namedtuple(x):
    p = Pair(x)
    return p.first * 2, p.second, p


@case(())
def dataclass_build_and_fields():
    c = Config(scale=3.0)
    return c.scale * c.shift, c.name, c == Config(3.0), dataclasses.asdict(c), dataclasses.replace(c, name="n")


@case((X0,), (X1,))
def dataclass_used_on_tensor(x):
    c = Config()
    return x * c.scale + c.shift


@case(())
def frozen_dataclass_hash_and_error():
    f = Frozen(1)
    h = hash(f) == hash(Frozen(1, 3))
    try:
        f.a = 2
    except dataclasses.FrozenInstanceError:
        return h, "frozen"
    return h, "mutable"


@case((Config(4.0),), (Config(4.0),))
def dataclass_argument(c):
    return c.scale + c.shift, c.name


@case((Point(1, 2),), (Point(1, 2),))
def namedtuple_argument(p):
    return p.x * 10 + p.y


@case((), unsupported=True)  # a class statement inside the jitted function runs eagerly
def class_defined_inside():
    class Local:
        v = 7

        def get(self):
            return self.v

    return Local().get(), Local.__name__


@case(())
def object_returned_compared_by_attributes():
    s = Scaler(3.0)
    s.note = "n"
    return s


def _method_wrap(jit, obj):
    jitted = jit(obj.apply)
    return jitted, jitted


@case((X0,), (X1,), made=True, wrap=_method_wrap)
def jit_bound_method():
    return Scaler(1.25)


def _twice_wrap(jit, obj):
    jitted = jit(obj.twice)
    return jitted, jitted


@case((X0,), (X1,), made=True, wrap=_twice_wrap)
def jit_bound_method_with_super():
    return Shifted(1.5)


@case((X0,), (X1,))
def getattr_default_on_object(x):
    s = Scaler(2.0)
    return x * getattr(s, "k"), getattr(s, "missing", None)  # noqa: B009, hasattr(s, "apply")


@case((X0,), (X1,))
def method_via_getattr_string(x):
    s = Scaler(2.0)
    m = getattr(s, "apply")  # noqa: B009
    return m(x)


@case((), unsupported=True)  # a class statement inside the jitted function runs eagerly
def user_exception_class():
    class ShapeError(ValueError):
        pass

    try:
        raise ShapeError("bad")
    except ValueError as e:
        return type(e).__name__, str(e), isinstance(e, ShapeError)


@case((), compiles=None)
def raise_user_exception():
    class ConfigError(Exception):
        pass

    raise ConfigError("missing key " + repr("lr"))
