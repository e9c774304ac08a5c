"""Shape inference for einsum equations (numpy's rules), the sublist form of the arguments, and the
gradient rule: the gradient of operand i is an einsum of the upstream gradient with the other operands."""

from __future__ import annotations

from collections import Counter
from typing import Any

from mycelia._errors import OpError
from mycelia._types import Dim, Shape
from mycelia.ops._shapes import broadcast_shapes

__all__ = ["einsum_operand_grads", "einsum_shape", "explicit_terms", "sublist_equation"]

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


# -- gradient ----------------------------------------------------------------------------------------
def explicit_terms(equation: str) -> tuple[list[str], str]:
    """(operand subscripts, output subscripts) of an equation already checked by :func:`einsum_shape`;
    an implicit output is numpy's: '...' then the labels used once, in alphabetical order."""
    lhs, arrow, rhs = equation.partition("->")
    terms = lhs.split(",")
    if arrow:
        return terms, rhs
    counts = Counter(label for term in terms for label in term.replace("...", ""))
    once = "".join(sorted(label for label, count in counts.items() if count == 1))
    return terms, ("..." if any("..." in term for term in terms) else "") + once


def _entries(term: str) -> list[str]:
    """Subscripts as a list of labels, with '...' as one entry."""
    before, ellipsis, after = term.partition("...")
    return [*before, *(["..."] if ellipsis else []), *after]


def einsum_operand_grads(equation: str, operands: list[Any], grad: Any) -> list[Any]:
    """Gradient of each operand of ``einsum(equation, *operands)`` given the output gradient ``grad``."""
    terms, output = explicit_terms(equation)
    output_entries = _entries(output)
    broadcast_rank = grad.ndim - len([e for e in output_entries if e != "..."])
    grads: list[Any] = []
    for index, operand in enumerate(operands):
        if not operand.dtype.is_floating_point:
            grads.append(None)
            continue
        others = [(term, x) for j, (term, x) in enumerate(zip(terms, operands)) if j != index]
        available = set(output_entries).union(*(_entries(term) for term, _ in others))
        grads.append(_operand_grad(terms[index], operand, output, grad, others, available, broadcast_rank))
    return grads


def _operand_grad(term: str, x: Any, output: str, grad: Any, others: list[tuple[str, Any]],
                  available: set[str], broadcast_rank: int) -> Any:
    from mycelia import ops

    entries = _entries(term)
    own_rank = x.ndim - len([e for e in entries if e != "..."])  # dims '...' stands for in x
    sizes: dict[str, Any] = {}  # label -> size in x; '...' -> the tuple of its dims in x
    axis = 0
    for entry in entries:
        width = own_rank if entry == "..." else 1
        if entry not in sizes:
            sizes[entry] = tuple(x.shape[axis:axis + width]) if entry == "..." else x.shape[axis]
        axis += width
    unique = list(dict.fromkeys(entries))  # first occurrences, in order
    kept = [e for e in unique if (broadcast_rank > 0 if e == "..." else e in available)]
    equation = ",".join([output, *(t for t, _ in others)]) + "->" + "".join(kept)
    g = ops.einsum(equation, grad, *(t for _, t in others))
    if "..." in kept and broadcast_rank > own_rank:  # '...' dims x was broadcast along
        start = kept.index("...")
        g = ops.sum(g, tuple(range(start, start + broadcast_rank - own_rank)), keepdim=False)
    # Lay the gradient out as x's distinct labels: a label only x has (summed over in the forward
    # pass) or one of size 1 elsewhere gets size 1 and is broadcast to x's size.
    current = list(g.shape)
    layout: list[Any] = []
    wanted: list[Any] = []
    for entry in unique:
        if entry == "...":
            dims = list(sizes["..."]) if "..." in kept else []
            layout += current[:len(dims)]
            del current[:len(dims)]
            wanted += dims
        else:
            layout.append(current.pop(0) if entry in kept else 1)
            wanted.append(sizes[entry])
    if tuple(layout) != tuple(g.shape):
        g = ops.reshape(g, tuple(layout))
    full = [want if have == 1 else have for have, want in zip(layout, wanted)]
    if full != layout:
        g = ops.broadcast_to(g, tuple(full))
    # Labels (and '...' dims) of size 1 in x that broadcast against larger ones.
    reduce = tuple(i for i, (have, want) in enumerate(zip(full, wanted)) if want == 1 and have != 1)
    if reduce:
        g = ops.sum(g, reduce, keepdim=True)
    if len(entries) == len(unique):
        return g
    # A label repeated in x (a diagonal): place the gradient on the diagonal.
    positions: dict[str, int] = {}
    shape: list[Any] = []
    repeats: list[tuple[int, int, Any]] = []
    for entry in entries:
        width = own_rank if entry == "..." else 1
        if entry in positions:
            repeats.append((positions[entry], len(shape), sizes[entry]))
            shape.append(1)
            continue
        positions[entry] = len(shape)
        shape += list(sizes[entry]) if entry == "..." else [sizes[entry]] * width
    g = ops.reshape(g, tuple(shape))
    for first, repeat, size in repeats:
        line = [1] * len(shape)
        line[first] = line[repeat] = size
        g = g * ops.reshape(ops.eye(size, size, g.dtype), tuple(line))
    return g
