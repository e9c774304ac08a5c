"""Shape inference for einsum equations (numpy's rules), and the sublist form of the arguments."""

from __future__ import annotations

from collections import Counter
from typing import Any

from mycelia._errors import OpError
from mycelia._types import Dim, Shape
from mycelia.ops._shapes import broadcast_shapes

__all__ = ["einsum_shape", "sublist_equation"]

_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _error(message: str) -> OpError:
    return OpError("einsum", message)


def _parse_term(term: str, shape: Shape, index: int) -> tuple[str, Shape, Shape | None]:
    """(labels, their dims, the dims the ellipsis stands for or None) of one operand."""
    if term.count("...") > 1 or "." in term.replace("...", ""):
        raise _error(f"subscripts {term!r} of operand {index} have a stray '.'; '...' may appear once per operand")
    if "..." in term:
        before, after = term.split("...")
        count = len(shape) - len(before) - len(after)
        if count < 0:
            raise _error(f"operand {index} has shape {list(shape)}, fewer dims than its subscripts {term!r} name")
        labels, dims = before + after, shape[:len(before)] + shape[len(before) + count:]
        ellipsis: Shape | None = shape[len(before):len(before) + count]
    else:
        if len(term) != len(shape):
            raise _error(f"operand {index} has shape {list(shape)} ({len(shape)} dims) but its subscripts {term!r} "
                         f"name {len(term)}")
        labels, dims, ellipsis = term, shape, None
    for label in labels:
        if label not in _LETTERS:
            raise _error(f"subscript {label!r} of operand {index} is not a letter; accepted: a-z, A-Z, ',', '...', "
                         f"'->'")
    return labels, dims, ellipsis


def einsum_shape(equation: str, shapes: tuple[Shape, ...]) -> Shape:
    """The result shape of ``einsum(equation, *operands_of(shapes))``; a clear OpError otherwise."""
    if equation.count("->") > 1:
        raise _error(f"equation {equation!r} has more than one '->'")
    lhs, arrow, rhs = equation.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise _error(f"equation {equation!r} names {len(terms)} operands, got {len(shapes)} tensors")
    sizes: dict[str, Dim] = {}
    counts: Counter[str] = Counter()
    ellipses = []
    for index, (term, shape) in enumerate(zip(terms, shapes)):
        labels, dims, ellipsis = _parse_term(term, shape, index)
        if ellipsis is not None:
            ellipses.append(ellipsis)
        for label, dim in zip(labels, dims):
            counts[label] += 1
            known = sizes.get(label)
            if known is None or known == 1:
                sizes[label] = dim
            elif dim not in (1, known):
                raise _error(f"subscript {label!r} stands for dims of size {known} and {dim} (operand {index}, "
                             f"shape {list(shape)}) in {equation!r}")
    broadcast = broadcast_shapes("einsum", *ellipses) if ellipses else ()
    if not arrow:  # implicit output: '...' dims, then the labels used once, in alphabetical order
        return broadcast + tuple(sizes[label] for label in sorted(c for c, n in counts.items() if n == 1))
    if rhs.count("...") > 1 or "." in rhs.replace("...", ""):
        raise _error(f"output subscripts {rhs!r} have a stray '.'")
    before, has_ellipsis, after = rhs.partition("...")
    if broadcast and not has_ellipsis:
        raise _error(f"'...' stands for dims {list(broadcast)} in {equation!r} but the output has no '...'")
    output = before + after
    for label in output:
        if label not in sizes:
            raise _error(f"output subscript {label!r} does not appear in any operand of {equation!r}")
        if output.count(label) > 1:
            raise _error(f"output subscript {label!r} appears twice in {equation!r}")
    return tuple(sizes[c] for c in before) + (broadcast if has_ellipsis else ()) + tuple(sizes[c] for c in after)


def _sublist(value: Any, position: int) -> str:
    if not isinstance(value, (list, tuple)):
        raise _error(f"argument {position} should be a sublist (a list of ints in [0, 52) and ...), got "
                     f"{type(value).__name__}")
    text = []
    for item in value:
        if item is Ellipsis:
            text.append("...")
        elif isinstance(item, int) and not isinstance(item, bool) and 0 <= item < 52:
            text.append(chr(ord("A") + item) if item < 26 else chr(ord("a") + item - 26))
        else:
            raise _error(f"sublist entries must be ints in [0, 52) or ..., got {item!r}")
    return "".join(text)


def sublist_equation(args: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
    """``(op1, sublist1, op2, sublist2, ..., [sublist_out])`` -> (equation, operands), numpy's labelling."""
    output = None
    if len(args) % 2 == 1:
        args, output = args[:-1], args[-1]
    operands = args[0::2]
    terms = [_sublist(sub, 2 * i + 1) for i, sub in enumerate(args[1::2])]
    equation = ",".join(terms)
    if output is not None:
        equation += "->" + _sublist(output, len(args))
    return equation, operands
