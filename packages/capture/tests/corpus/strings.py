"""Strings, f-strings and string methods (results are Python values, sometimes beside a tensor)."""

from __future__ import annotations

from differential import a23, registrar

CASES: list = []
case = registrar(CASES, "strings")
X0, X1 = a23(0), a23(1)
PREFIX = "layer"


@case(())
def concat_and_repeat():
    a = "ab"
    return a + "cd", a * 3, 2 * a, "" + a


@case(("mycelia",))
def index_and_slice(s):
    return s[0], s[-1], s[1:4], s[::-1], s[::2], len(s)


@case((3, 2.5))
def fstring_basic(n, v):
    return f"n={n} v={v}", f"{n:03d}|{v:.2f}|{v:>8}|{n!r}|{'q'!s}"


@case(("x",))
def fstring_nested_expr(name):
    items = [1, 2]
    return f"{name}:{len(items)}:{items[0] + items[1]}:{name.upper()}{{}}"


@case((X0,), (X1,))
def fstring_with_shape(x):
    return x * 2, f"shape={x.shape} ndim={x.ndim}"


@case(())
def fstring_global():
    return f"{PREFIX}_{1}", f"{PREFIX!r}"


@case(())
def percent_and_format():
    return "%d-%s-%.1f" % (3, "a", 1.25), "{}+{}={}".format(1, 2, 3), "{x}{y}".format(x="a", y="b")  # noqa: UP031, UP032


@case(("  Hello World  ",))
def methods_case_strip(s):
    t = s.strip()
    return t.lower(), t.upper(), t.title(), t.swapcase(), s.lstrip(), s.rstrip(), t.capitalize()


@case(("a,b,,c",))
def split_join(s):
    parts = s.split(",")
    return parts, "-".join(parts), s.split(",", 1), s.rsplit(",", 1), " x  y ".split(), "|".join(reversed(parts))


@case(("hello world",))
def find_replace(s):
    found = s.find("o"), s.rfind("o"), s.find("z"), s.index("w"), s.count("l")
    return found, s.replace("l", "L"), s.replace("l", "", 1)


@case(("prefix_body.py",))
def starts_ends(s):
    return s.startswith("prefix"), s.endswith(".py"), s.startswith(("a", "p")), s.removeprefix("prefix_"), \
        s.removesuffix(".py")


@case(("abc123",))
def predicates(s):
    return s.isalnum(), s.isalpha(), s[3:].isdigit(), s.islower(), " ".isspace(), "A".isupper()


@case(())
def comparison_and_membership():
    return "a" < "b", "abc" == "ab" + "c", "b" in "abc", "z" not in "abc", sorted(["b", "a", "C"])


@case(("3",))
def str_to_int_arith(s):
    return int(s) * 2 + 1, float(s) / 2, s.zfill(3), s.center(5, "*"), s.ljust(3, "."), s.rjust(3)


@case(())
def str_of_containers():
    return str([1, "a"]), repr((1,)), str({"k": 2}), repr("q"), str(None), str(True)


@case(())
def iterate_chars():
    out = []
    for ch in "abc":
        out.append(ch * 2)
    return out, list("xyz"), tuple("pq")


@case(())
def string_partition():
    return "k=v=w".partition("="), "k=v=w".rpartition("="), "a\nb\n".splitlines()


@case(())
def encode_bytes():
    b = "hé".encode()
    return b, len(b), b.decode("utf-8"), bytes([65, 66]), b"ab" + b"c"


@case(("key",))
def dict_keyed_by_strings(name):
    d = {name: 1, name + "2": 2}
    return d[name] + d["key2"], sorted(d)


@case(("relu",), ("relu",))
def dispatch_on_string(kind):
    if kind == "relu":
        return 1
    elif kind == "tanh":
        return 2
    return 0


@case((X0, "double"), (X1, "double"))
def tensor_op_chosen_by_string(x, mode):
    if mode == "double":
        return x * 2
    return x


@case((), compiles=None)
def string_raise_computed_message():
    name = "w"
    size = 3
    raise ValueError(f"parameter {name!r} has size {size}, expected {size + 1}")


@case(())
def str_methods_chain():
    return "  A-B-C ".strip().lower().replace("-", "_").split("_")


@case(())
def ord_chr_roundtrip():
    return "".join(chr(ord(c) + 1) for c in "HAL")


@case(("ab",))
def string_multiply_in_loop(s):
    out = ""
    for i in range(3):
        out += s[i % 2]
    return out
