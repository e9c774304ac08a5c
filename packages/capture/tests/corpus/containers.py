"""Tuples, lists, dicts, sets: build, index, slice, unpack, common methods; comprehensions."""

from __future__ import annotations

from differential import a23, registrar

CASES: list = []
case = registrar(CASES, "containers")
X0, X1, Y0, Y1 = a23(0), a23(1), a23(2), a23(3)
TABLE = {"a": 1, "b": 2}


@case(())
def tuple_build_index():
    t = (1, 2, 3, 4)
    return t[0], t[-1], t[1:3], t[::-1], len(t), t + (5,), t * 2, 3 in t, t.index(3), t.count(2)  # noqa: RUF005


@case(())
def tuple_unpack():
    a, b, c = (1, 2, 3)
    d, *rest = [4, 5, 6]
    *init, last = "xyz"
    (e, f), g = (7, 8), 9
    return a, b, c, d, rest, init, last, e, f, g


@case(())
def swap():
    a, b = 1, 2
    a, b = b, a
    return a, b


@case(())
def list_build_index_slice():
    xs = [5, 3, 8, 1]
    return xs[1], xs[-2], xs[1:], xs[:-1], xs[::2], xs[3:0:-1], len(xs)


@case(())
def list_local_mutation():
    xs = [3, 1, 2]
    xs.append(4)
    xs.extend([0, 9])
    xs.insert(1, 7)
    popped = xs.pop()
    xs.remove(7)
    xs.sort()
    xs.reverse()
    return xs, popped


@case(())
def list_item_slice_store():
    xs = [0, 1, 2, 3, 4]
    xs[0] = 10
    xs[1:3] = [20, 30, 40]
    del xs[-1]
    del xs[0:1]
    return xs


@case(())
def list_methods_misc():
    xs = [1, 2, 2, 3]
    ys = xs.copy()
    ys.clear()
    return xs.index(2), xs.count(2), ys, xs + [4], xs * 2, sorted(xs, reverse=True), list(reversed(xs))  # noqa: RUF005


@case(())
def list_comparisons():
    return [1, 2] < [1, 3], [1, 2] == [1, 2], [] == [], [[1]] == [[1]], (1, [2]) == (1, [2])


@case(([1, 2, 3],), ([1, 2, 3],))
def list_arg_read(xs):
    return sum(xs), xs[0] * xs[-1], len(xs)


@case(([1, 2, 3],), ([1, 2, 3],), state=None)
def list_arg_copied_and_mutated(xs):
    ys = list(xs)
    ys.append(4)
    return ys, xs


@case(())
def dict_build_index():
    d = {"a": 1, "b": 2}
    d["c"] = 3
    e = dict(x=1, y=2)
    f = dict([("k", 0)])
    return d, d["b"], len(d), "a" in d, "z" not in d, e, f


@case(())
def dict_methods():
    d = {"a": 1, "b": 2, "c": 3}
    keys = list(d.keys())
    values = list(d.values())
    items = list(d.items())
    got = d.get("a"), d.get("z"), d.get("z", 0)
    popped = d.pop("b")
    d.setdefault("e", 5)
    d.update({"a": 10}, f=6)
    return keys, values, items, got, popped, d


@case(())
def dict_del_and_order():
    d = {"z": 1, "a": 2, "m": 3}
    del d["a"]
    d["a"] = 4
    return list(d), d


@case(())
def dict_merge_ops():
    a = {"x": 1}
    b = {"y": 2, "x": 3}
    return a | b, {**a, **b}, dict(a, **b)


@case(())
def dict_global_read():
    return TABLE["a"] + TABLE["b"], sorted(TABLE.items())


@case(({"w": 2, "b": 1},), ({"w": 2, "b": 1},))
def dict_arg_read(d):
    return d["w"] * 3 + d["b"], list(d)


@case(())
def dict_of_lists():
    d = {"a": [1], "b": []}
    d["a"].append(2)
    d["b"] += [3]
    return d


@case(())
def set_build_ops():
    s = {3, 1, 2}
    t = set([2, 3, 4])
    return sorted(s | t), sorted(s & t), sorted(s - t), sorted(s ^ t), 2 in s, len(s), s <= {1, 2, 3, 5}


@case(())
def set_methods():
    s = {1, 2}
    s.add(3)
    s.discard(1)
    s.update([7, 8])
    s.remove(8)
    return sorted(s), frozenset({1, 2}) == frozenset([2, 1])


@case(())
def list_comprehension():
    return [i * i for i in range(5)], [i for i in range(10) if i % 3 == 0]


@case(())
def nested_comprehension():
    return [(i, j) for i in range(3) for j in range(i)], [[j for j in range(i)] for i in range(3)]


@case(())
def dict_set_comprehension():
    return {k: v * 2 for k, v in TABLE.items()}, sorted({c for c in "banana"})


@case(())
def comprehension_variable_does_not_leak():
    i = "outer"
    squares = [i * i for i in range(3)]
    return i, squares


@case(())
def comprehension_captures_local():
    scale = 3
    return [scale * v for v in (1, 2)], {v: scale for v in "ab"}


@case(())
def generator_expression_consumed():
    return sum(i for i in range(5)), max(v * 2 for v in [3, 1]), tuple(c for c in "ab"), list(x for x in ())


@case(())
def any_all_generators():
    xs = [1, 0, 3]
    return any(x > 2 for x in xs), all(x >= 0 for x in xs), any([]), all([])


@case((X0,), (X1,))
def comprehension_over_tensor_rows(x):
    return [x[i] * (i + 1) for i in range(2)]


@case((X0,), (X1,))
def comprehension_of_tensors_summed(x):
    parts = [x * k for k in (1, 2, 3)]
    total = parts[0]
    for p in parts[1:]:
        total = total + p
    return total


@case((X0, Y0), (X1, Y1))
def tuple_of_tensors_unpack(x, y):
    pair = (x, y)
    a, b = pair
    return b, a, pair[0] - pair[1]


@case(([X0, Y0],), ([X1, Y1],))
def list_of_tensor_args(xs):
    return xs[0] + xs[1], len(xs)


@case(({"x": X0, "y": Y0},), ({"x": X1, "y": Y1},))
def dict_of_tensor_args(d):
    return {"sum": d["x"] + d["y"], "keys": list(d)}


@case((X0,), (X1,))
def return_dict_of_tensors(x):
    return {"double": x * 2, "neg": -x, "n": 3}


@case((X0,), (X1,))
def return_list_mixed(x):
    return [x, 1, "a", None, (x + 1, 2.5)]


@case(())
def empty_containers():
    return (), [], {}, set(), tuple(), list(), dict()


@case((), compiles=None)
def index_error_raises():
    xs = [1, 2]
    return xs[5]


@case((), compiles=None)
def key_error_raises():
    d = {"a": 1}
    return d["missing"]


@case((), compiles=None)
def unpack_error_raises():
    a, b = [1, 2, 3]
    return a, b


@case(())
def slice_objects():
    s = slice(1, None, 2)
    xs = list(range(8))
    return xs[s], s.start, s.stop, s.step


@case(())
def list_in_list_aliasing():
    inner = [1]
    outer = [inner, inner]
    outer[0].append(2)
    return outer, outer[0] is outer[1]


@case(())
def star_unpack_in_literals():
    a = [1, 2]
    b = (3,)
    return [*a, *b], (*b, *a), {*a}, {**{"k": 1}, "j": 2}
