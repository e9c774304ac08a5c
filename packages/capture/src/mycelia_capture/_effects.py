"""Side effects on the world outside the call, recorded while tracing and replayed after the graph in
program order (issue 7 item 2): mutating methods of lists/dicts/sets that existed before the call,
attribute stores, ``global`` and ``nonlocal`` writes and deletes, ``print``, and Parameter updates
(``ops.assign``). The trace sees its own writes (attributes, globals, cells are shadowed); reading a
container after mutating it in place is refused, so a replayed effect never has to be re-read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mycelia._tensor import Tensor
from mycelia.ops._dispatch import _make_tensor
from mycelia_capture._guards import Constant, Source
from mycelia_capture._values import CaptureAbort, Var

__all__ = ["DELETED", "Effect", "EffectsMixin"]


class _Deleted:
    def __repr__(self) -> str:
        return "DELETED"


DELETED = _Deleted()


@dataclass
class Effect:
    """``kind``: method (``target.name(*args)``), setattr, delattr, setglobal, delglobal, setcell,
    print, assign. ``target`` is the source of the object written; ``values`` the Vars replayed."""

    kind: str
    target: Source | None
    name: str = ""
    values: tuple[Any, ...] = ()
    keywords: dict[str, Any] | None = None


class EffectsMixin:
    """Mixed into the tracer next to the provenance and calls mixins (uses their tables)."""

    def init_effects(self) -> None:
        self.effects: list[Effect] = []
        self.mutated_ids: set[int] = set()
        self.attribute_stores: dict[tuple[int, str], Any] = {}
        self.global_stores: dict[tuple[int, str], Any] = {}
        self.cell_stores: dict[int, Any] = {}

    def outside_source(self, var: Var, what: str) -> Source:
        """Where a pre-existing object written by the call is found again at replay time."""
        if var.source is not None:
            return var.source
        known = self.known.get(id(var.value))  # type: ignore[attr-defined]
        if known is not None and known.source is not None:
            return known.source  # type: ignore[no-any-return]
        raise self.unsupported(f"{what} on an object it cannot reach from the arguments, globals or "  # type: ignore[attr-defined]
                               "closures")

    def snapshot(self, value: Any) -> Any:
        """A value as it is now (a traced tensor that ops.assign rebinds later keeps this value)."""
        if isinstance(value, Tensor):
            return _make_tensor(value._data, value._dtype, value._backend)
        return value

    def record(self, kind: str, target: Source | None, name: str = "", values: tuple[Any, ...] = (),
               keywords: dict[str, Any] | None = None) -> None:
        self.effects.append(Effect(kind, target, name, tuple(self.snapshot(v) for v in values),
                                   {k: self.snapshot(v) for k, v in (keywords or {}).items()} or None))

    def check_unmutated(self, value: Any) -> None:
        if id(value) in self.mutated_ids:
            raise self.unsupported("reads a list/dict/set after changing it in place "  # type: ignore[attr-defined]
                                   "(the change is replayed after the graph)")

    # -- the writes ------------------------------------------------------------------------------------
    def mutate_method(self, receiver: Any, name: str, args: list[Var], kwargs: dict[str, Var]) -> Var:
        var = self.known.get(id(receiver)) or Var(receiver)  # type: ignore[attr-defined]
        target = self.outside_source(var, f".{name}()")
        self.mutated_ids.add(id(receiver))
        self.record("method", target, name, tuple(self.effect_value(a) for a in args),  # type: ignore[attr-defined]
                    {k: self.effect_value(v) for k, v in kwargs.items()})  # type: ignore[attr-defined]
        if name == "pop" or name == "popitem" or name == "setdefault":
            raise self.unsupported(f".{name}() returns a value of an object that existed before the call")  # type: ignore[attr-defined]
        return Var(None)

    def store_attribute(self, owner: Var, name: str, value: Any) -> None:
        target = self.outside_source(owner, f"setting attribute {name!r}")
        self.attribute_stores[(id(owner.value), name)] = value
        self.record("setattr" if value is not DELETED else "delattr", target, name,
                    (self.effect_value(value),) if value is not DELETED else ())  # type: ignore[attr-defined]

    def stored_attribute(self, owner: Any, name: str) -> Any:
        value = self.attribute_stores.get((id(owner), name))
        if value is DELETED:
            raise CaptureAbort(AttributeError(f"'{type(owner).__name__}' object has no attribute '{name}'"))
        return value

    def store_global(self, namespace: dict[str, Any], label: str, name: str, value: Any) -> None:
        if value is DELETED and self.stored_global(namespace, name, check=False) is None and name not in namespace:
            raise CaptureAbort(NameError(f"name {name!r} is not defined"))
        self.global_stores[(id(namespace), name)] = value
        target = Constant(namespace, label)
        if value is DELETED:
            self.record("delglobal", target, name)
        else:
            self.record("setglobal", target, name, (self.effect_value(value),))  # type: ignore[attr-defined]

    def stored_global(self, namespace: dict[str, Any], name: str, check: bool = True) -> Any:
        value = self.global_stores.get((id(namespace), name))
        if value is DELETED and check:
            raise CaptureAbort(NameError(f"name {name!r} is not defined"))
        return value

    def store_outer_cell(self, cell: Any, source: Source, value: Var) -> None:
        self.cell_stores[id(cell)] = value
        self.record("setcell", source, "", (self.effect_value(value),))  # type: ignore[attr-defined]

    def record_print(self, args: list[Var], kwargs: dict[str, Var]) -> Var:
        self.record("print", None, "", tuple(self.effect_value(a) for a in args),  # type: ignore[attr-defined]
                    {k: self.effect_value(v) for k, v in kwargs.items()})  # type: ignore[attr-defined]
        return Var(None)
