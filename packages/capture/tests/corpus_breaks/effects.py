"""Side effects replayed after the graph, in program order: list/dict/set methods on objects that existed
before the call, attribute stores, ``global`` writes and ``del``, objects made inside and stored outside,
and exceptions raised after a side effect (the effects before the raise still happen)."""

from __future__ import annotations

import types

from corpus_breaks.common import N0, P0, X0, X1, X2, X3, registry

CASES: list = []
LOG: list = []
TABLE: dict = {}
SEEN: set = set()
COUNTER = 0
TENSOR = None
GONE = 1
OBJ = types.SimpleNamespace(n=0, name="", items=[])


class Rec:
    def __init__(self, value, tag="rec"):
        self.value = value
        self.tag = tag


class Plain:
    def __init__(self):
        self.n = 0
        self.last = None


PLAIN = Plain()


def _reset():
    global COUNTER, TENSOR, GONE
    LOG[:] = ["seed0", "seed1", "seed2"]
    TABLE.clear()
    TABLE.update(a=1, b=2)
    SEEN.clear()
    SEEN.update({1, 2})
    COUNTER, TENSOR, GONE = 0, None, 1
    OBJ.n, OBJ.name, OBJ.items = 0, "", []
    PLAIN.n, PLAIN.last = 0, None


def _state():
    return (list(LOG), dict(TABLE), sorted(SEEN, key=repr), globals().get("COUNTER", "<deleted>"), TENSOR,
            globals().get("GONE", "<deleted>"), OBJ.n, OBJ.name, list(OBJ.items), PLAIN.n, PLAIN.last)


reg = registry(CASES, "effects", _reset, _state)


# --- lists -------------------------------------------------------------------------------------------
@reg((X0,), (X1,))
def list_append_string(x):
    LOG.append("called")
    return x * 2


@reg((X0,), (X1,))
def list_append_tensor(x):
    LOG.append(x + 1)
    return x * 2


@reg((X0,), (X1,))
def list_append_shape_and_int(x):
    LOG.append(x.shape)
    LOG.append(x.ndim * 10)
    return x - 1


@reg((X0,), (X1,))
def list_extend_values(x):
    LOG.extend([1, 2, "three"])
    return x + 3


@reg((X0,), (X1,))
def list_extend_with_tensors(x):
    LOG.extend([x * 2, x.sum()])
    return x


@reg((X0,), (X1,))
def list_insert_front(x):
    LOG.insert(0, "front")
    return x * x


@reg((X0,), (X1,))
def list_insert_tensor_middle(x):
    LOG.insert(1, x.mean())
    return x + 0.5


@reg((X0,), (X1,))
def list_setitem(x):
    LOG[1] = "replaced"
    return x / 2


@reg((X0,), (X1,))
def list_setitem_tensor(x):
    LOG[-1] = x.max()
    return x


@reg((X0,), (X1,))
def list_delitem(x):
    del LOG[0]
    return x - 2


@reg((X0,), (X1,))
def list_delitem_slice(x):
    del LOG[1:]
    return x * 3


@reg((X0,), (X1,))
def list_remove_and_reverse(x):
    LOG.remove("seed1")
    LOG.reverse()
    return x + 1


@reg((X0,), (X1,))
def list_clear_then_append(x):
    LOG.clear()
    LOG.append(x.shape[1])
    return x


@reg((X0,), (X1,))
def list_many_ops_in_order(x):
    LOG.append("a")
    LOG.insert(0, "b")
    LOG[2] = "c"
    del LOG[1]
    LOG.extend(["d", "e"])
    return x * 4


@reg((X0,), (X1,))
def list_append_in_python_loop(x):
    for i in range(4):
        LOG.append(i * i)
        x = x + i
    return x


@reg((X0,), (X1,), eager=True)  # pop returns a value of an object from before the call: whole call eager
def list_pop_returns_value(x):
    v = LOG.pop()
    return x, v


@reg((X0,), (X1,), eager=True)
def list_read_after_append(x):
    LOG.append(1)
    return x * len(LOG)


@reg((X0,), (X1,))
def list_local_copy_mutated_freely(x):
    mine = list(LOG)
    mine.append("local")
    mine.pop(0)
    return x * len(mine), mine


@reg((X0,), (X1,))
def list_attribute_append(x):
    OBJ.items.append(x * 2)
    return x


# --- dicts and sets ----------------------------------------------------------------------------------
@reg((X0,), (X1,))
def dict_setitem(x):
    TABLE["c"] = 3
    return x + 1


@reg((X0,), (X1,))
def dict_setitem_tensor_value(x):
    TABLE["sum"] = x.sum()
    return x


@reg((X0,), (X1,))
def dict_overwrite_existing(x):
    TABLE["a"] = "new"
    return x * 2


@reg((X0,), (X1,))
def dict_update_kwargs_and_mapping(x):
    TABLE.update({"m": 1}, k=2)
    return x - 1


@reg((X0,), (X1,))
def dict_delitem(x):
    del TABLE["a"]
    return x


@reg((X0,), (X1,), eager=True)  # returns a value of an object from before the call
def dict_setdefault_returns_value(x):
    return x * TABLE.setdefault("z", 5)


@reg((X0,), (X1,), eager=True)
def dict_pop_key(x):
    return x + TABLE.pop("a")


@reg((X0,), (X1,), eager=True)
def dict_pop_missing_with_default(x):
    return x + TABLE.pop("missing", 10)


@reg((X0,), (X1,), eager=True)
def dict_popitem(x):
    k, v = TABLE.popitem()
    return x * v, k


@reg((X0,), (X1,))
def dict_clear(x):
    TABLE.clear()
    return x


@reg((X0,), (X1,))
def dict_set_many_keys(x):
    for i, name in enumerate(("p", "q", "r")):
        TABLE[name] = i
    TABLE[("t", 1)] = x.shape
    return x


@reg((X0,), (X1,))
def set_add(x):
    SEEN.add("new")
    return x + 2


@reg((X0,), (X1,))
def set_discard_present_and_missing(x):
    SEEN.discard(1)
    SEEN.discard(99)
    return x


@reg((X0,), (X1,))
def set_update_and_remove(x):
    SEEN.update([5, 6])
    SEEN.remove(2)
    return x * 2


@reg((X0,), (X1,))
def set_add_tensor_shape(x):
    SEEN.add(x.shape)
    return x


# --- attributes --------------------------------------------------------------------------------------
@reg((X0,), (X1,), compiles=None)
def attribute_increment(x):
    OBJ.n = OBJ.n + 1
    return x * OBJ.n


@reg((X0,), (X1,), (X0,), compiles=None)
def attribute_increment_three_calls(x):
    OBJ.n = OBJ.n + 1
    return x + OBJ.n


@reg((X0,), (X1,), compiles=None)
def attribute_augmented(x):
    PLAIN.n += 2
    return x - PLAIN.n


@reg((X0,), (X1,))
def attribute_store_string(x):
    OBJ.name = "visited"
    return x


@reg((X0,), (X1,))
def attribute_store_tensor(x):
    PLAIN.last = x * 3
    return x + 1


@reg((X0,), (X1,))
def attribute_store_then_read_back(x):
    PLAIN.last = x + 1
    return PLAIN.last * 2


@reg((X0,), (X1,))
def attribute_store_twice_last_wins(x):
    OBJ.name = "first"
    OBJ.name = "second"
    return x


@reg((X0,), (X1,))
def setattr_builtin(x):
    setattr(OBJ, "name", "via setattr")  # noqa: B010
    return x * 2


@reg((X0,), (X1,))
def attribute_on_object_made_inside(x):
    r = Rec(x.shape[0])
    r.value = r.value + 5
    return x * r.value


@reg((X0,), (X1,))
def object_made_inside_appended(x):
    LOG.append(Rec(x.shape[1], tag="inside"))
    return x


@reg((X0,), (X1,))
def object_with_tensor_made_inside_stored(x):
    r = Rec(x * 2)
    TABLE["rec"] = r
    return x


@reg((X0,), (X1,))
def namespace_made_inside_appended(x):
    LOG.append(types.SimpleNamespace(k=1, shape=x.shape))
    return x + 1


# --- globals -----------------------------------------------------------------------------------------
@reg((X0,), (X1,), compiles=None)
def global_int_increment(x):
    global COUNTER
    COUNTER += 1
    return x * COUNTER


@reg((X0,), (X1,), (X2,), compiles=None)
def global_int_rebound_constant(x):
    global COUNTER
    COUNTER = 7
    return x + COUNTER


@reg((X0,), (X1,))
def global_tensor_write(x):
    global TENSOR
    TENSOR = x * 2
    return x + 1


@reg((X0,), (X1,))
def global_tensor_write_then_use(x):
    global TENSOR
    TENSOR = x.sum()
    return x * TENSOR


@reg((X0,), (X1,), compiles=None)  # raises NameError every call
def del_global_then_read(x):
    global GONE
    del GONE
    return x * GONE  # noqa: F821 - deleted on purpose: NameError


@reg((X0,), (X1,))
def del_global_then_catch_nameerror(x):
    global GONE
    y = x * GONE
    del GONE
    try:
        return y, GONE
    except NameError as e:
        return y, str(e)


@reg((X0,), (X1,), compiles=None)
def global_write_then_delete(x):
    global COUNTER
    COUNTER = 5
    y = x * COUNTER
    del COUNTER
    return y


# --- exceptions after side effects -------------------------------------------------------------------
@reg((X0,), (X1,), compiles=None)
def raise_after_append(x):
    LOG.append("before raise")
    raise ValueError(f"after append ndim={x.ndim}")


@reg((X0,), (X1,), compiles=None)
def raise_after_attribute_and_global(x):
    global COUNTER
    OBJ.name = "set"
    COUNTER = 3
    raise RuntimeError("boom")


@reg((X0,), (X1,), compiles=None)
def raise_from_op_after_dict_store(x):
    TABLE["k"] = "stored"
    return x + x.reshape(3, 2)


@reg((X0,), (X1,), compiles=None)
def raise_key_error_after_set_add(x):
    SEEN.add("x")
    return x * TABLE["no such key"]


@reg((X0,), (X1,), compiles=None)
def raise_in_helper_after_effects(x):
    def helper(t):
        LOG.append("helper")
        raise TypeError("helper failed")

    LOG.append("outer")
    return helper(x)


# --- effects around breaks ---------------------------------------------------------------------------
@reg((X0,), (X1,), breaks=1)
def append_then_break(x):
    LOG.append("before")
    s = x.sum().item()
    LOG.append(round(s, 4))
    return x * s


@reg((X0,), (N0,), (P0,), breaks=1)
def dict_store_on_both_branches(x):
    if x.sum() > 0:
        TABLE["sign"] = "positive"
    else:
        TABLE["sign"] = "negative"
    return x


@reg((X0,), (X1,), breaks=1)
def global_increment_around_break(x):
    global COUNTER
    COUNTER += 1
    v = float(x.max())
    COUNTER += 10
    return x + v


@reg((X0,), (X3,), breaks=2)  # + a break where Python code uses the value read from the tensor
def raise_after_break_keeps_effects(x):
    LOG.append("start")
    v = x.sum().item()
    LOG.append("mid")
    if v > 1.0:
        raise ValueError(f"too big: {v:.3f}")
    return x
