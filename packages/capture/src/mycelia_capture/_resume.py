"""Generated resume steps (DESIGN §4.1 item 6): the instruction that broke the graph, run as plain Python.

A :class:`~._breaks.Continuation` holds the saved frames' layout. For the instructions that break in
practice -- a call (``.item()``, ``float(t)``, ``np.foo(t.asnumpy())``, a function it cannot trace), a
branch on a tensor, a comparison made a bool, ``not`` -- a small Python function is generated once per
continuation. It takes the flat state (the values of every saved frame's locals, stack and cells, as the
graph segment before it returned them), runs that one instruction on the state's slots, builds the state
after it by slicing, and calls the next segment's entry (guards, graph, effects) directly. Nothing is
interpreted and no frame is rebuilt, so a break costs a few tuple slices and one more guarded entry.

The generated code carries the user's file name and line, so a traceback or a mycelia error raised by
the instruction points at the user's source line. Anything unusual goes to the registry's general path
(the real-mode interpreter): an exception raised by the instruction (its handlers may be in the saved
frames), an operand that is a saved loop iterator, an instruction kind without a generated step.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

import numpy as np

from mycelia._tensor import Tensor
from mycelia_capture._breaks import Continuation, FrameState, IteratorState, saved_value
from mycelia_capture._tracer import BINARY_OPERATORS, COMPARE_OPERATORS, INPLACE_OPERATORS
from mycelia_capture._values import NULL
from mycelia_capture.bytecode import BinaryOp, Call, CompareOp, CondJump, ContainsOp, LoadMethod, Op

__all__ = ["generate_step", "moved", "stack_end", "width"]

_UNARY = {"TO_BOOL": "bool(", "UNARY_NOT": "not ", "UNARY_NEGATIVE": "-", "UNARY_POSITIVE": "+", "UNARY_INVERT": "~",
          "GET_ITER": "iter("}


# Step results that are never running iterators (anything else goes through saved_value).
_PLAIN = frozenset({int, float, bool, str, bytes, type(None), tuple, list, dict, set, np.ndarray, Tensor})


def width(state: FrameState) -> int:
    """How many flat slots a saved frame takes (see :func:`~._breaks.flatten`)."""
    return len(state.locals) + len(state.stack) + sum(1 for v in state.cells.values() if v is not None)


def stack_end(layouts: list[FrameState]) -> int:
    """The flat slot just past the innermost frame's stack (its local cells follow)."""
    inner = layouts[-1]
    return sum(width(state) for state in layouts[:-1]) + len(inner.locals) + len(inner.stack)


def moved(layouts: list[FrameState], index: int, depth: int) -> list[FrameState]:
    """``layouts`` with the innermost frame at ``index`` with a stack of ``depth`` slots."""
    inner = layouts[-1]
    after = FrameState(inner.function, inner.code, index, [None] * depth, inner.locals, inner.cells,
                       inner.pending_call, inner.handled)
    return [*layouts[:-1], after]


def generate_step(continuation: Continuation, registry: Any, miss: Any) -> Callable[[tuple[Any, ...]], Any] | None:
    """``step(state)`` for the continuation's instruction, or None when it has no generated form.
    ``registry`` provides ``run_general(continuation, state)``, ``run_raised(continuation, state, error)``
    and ``segment_missed(continuation, post_layouts, post_state, result_slots, tried)``."""
    layouts = continuation.layouts
    inner = layouts[-1]
    instruction = inner.code.instructions[inner.index]
    top = stack_end(layouts)
    namespace: dict[str, Any] = {
        "MISS": miss, "NULL": NULL, "ITERSTATE": IteratorState, "PLAIN": _PLAIN,
        "SAVED": saved_value,
        "GENERAL": lambda state: registry.run_general(continuation, state),
        "RAISED": lambda state, error: registry.run_raised(continuation, state, error),
    }
    outcomes = 0  # states after the instruction (a branch has two)

    def outcome(post_code: str, index: int, depth: int, result_slots: tuple[int, ...] = ()) -> str:
        """Code that builds the state after the instruction from ``s`` and ``r`` and runs its segment."""
        nonlocal outcomes
        position, outcomes = outcomes, outcomes + 1
        after = moved(layouts, index, depth)
        segments = continuation.segments.setdefault(tuple(state.layout() for state in after), [])
        namespace[f"SEGMENTS{position}"] = segments
        namespace[f"MISSED{position}"] = lambda post: registry.segment_missed(continuation, after, post, result_slots,
                                                                               tried=True)
        return (f"post = {post_code}\n"
                f"for c in SEGMENTS{position}:\n"
                f"    result = c.call(*post)\n"
                f"    if result is not MISS: return result\n"
                f"return MISSED{position}(post)\n")

    depth = len(inner.stack)
    kind = type(instruction)
    operands: list[str]
    if kind is Call:
        argc = instruction.argc
        count = len(instruction.kwnames)
        start = top - argc - (2 if instruction.has_self_or_null else 1)
        arguments = [f"s[{start + (2 if instruction.has_self_or_null else 1) + i}]" for i in range(argc)]
        spelled = [*arguments[:argc - count],
                   *(f"{name}={value}" for name, value in zip(instruction.kwnames, arguments[argc - count:]))]
        if instruction.has_self_or_null:
            operands = [f"s[{start}]", f"s[{start + 1}]", *arguments]
            first, second = operands[0], operands[1]
            plain = ", ".join(spelled)
            run = (f"if {first} is NULL: r = {second}({plain})\n"
                   f"elif {second} is NULL: r = {first}({plain})\n"
                   f"else: r = {first}({', '.join([second, *spelled])})\n")
        else:
            operands = [f"s[{start}]", *arguments]
            run = f"r = {operands[0]}({', '.join(spelled)})\n"
        run += "if type(r) not in PLAIN: r = SAVED(r)\n"
        body = _guarded(operands, run) + outcome(f"s[:{start}] + (r,) + s[{top}:]", inner.index + 1,
                                                 depth - (top - start) + 1, (start,))
    elif kind is CondJump and instruction.cond in ("true", "false"):
        operands = [f"s[{top - 1}]"]
        run = f"r = not {operands[0]}\n" if instruction.cond == "false" else f"r = bool({operands[0]})\n"
        popped = f"s[:{top - 1}] + s[{top}:]"
        taken = outcome(popped if instruction.pop else "s", instruction.target, depth - 1 if instruction.pop else depth)
        fallthrough = outcome(popped, inner.index + 1, depth - 1)
        body = _guarded(operands, run) + "if r:\n" + _indent(taken) + "else:\n" + _indent(fallthrough)
    else:
        operation = _stack_operation(instruction, namespace)
        if operation is None:
            return None
        popped_count, code, pushed = operation
        operands = [f"s[{top - popped_count + i}]" for i in range(popped_count)]
        for position, operand in enumerate(operands):
            code = code.replace(f"{{{position}}}", operand)
        results = "(r,)" if pushed == 1 else "r"
        base = top - popped_count
        body = _guarded(operands, code + "if type(r) not in PLAIN: r = SAVED(r)\n" if pushed == 1 else code) + \
            outcome(f"s[:{base}] + {results} + s[{top}:]", inner.index + 1, depth - popped_count + pushed,
                    tuple(range(base, base + pushed)))
    name = inner.function.__name__ if inner.function.__name__.isidentifier() else "resumed"
    source = f"def {name}(s):\n" + _indent(body)
    tree = ast.parse(source)
    line = instruction.lineno or inner.code.first_lineno or 1
    for node in ast.walk(tree):  # every line is the user's: tracebacks and mycelia errors point there
        if hasattr(node, "lineno"):
            node.lineno = node.end_lineno = line
    exec(compile(tree, inner.code.filename, "exec"), namespace)
    return namespace[name]  # type: ignore[no-any-return]


def _stack_operation(instruction: Any, namespace: dict[str, Any]) -> tuple[int, str, int] | None:
    """``(operands popped, code, results pushed)`` for an instruction that only works on the stack: the
    code reads the operands as ``{0}``, ``{1}`` … (deepest first) and sets ``r`` (a tuple of the pushed
    values, top last, when more than one)."""
    kind = type(instruction)
    if kind is CompareOp:
        function = COMPARE_OPERATORS[instruction.op]
        namespace[f"COMPARE_{function.__name__}"] = function
        bool_code = "r = bool(r)\n" if instruction.to_bool else ""
        return 2, f"r = COMPARE_{function.__name__}({{0}}, {{1}})\n{bool_code}", 1
    if kind is BinaryOp:
        function = (INPLACE_OPERATORS if instruction.inplace else BINARY_OPERATORS).get(instruction.op)
        if function is None:
            return None
        namespace[f"BINARY_{function.__name__}"] = function
        return 2, f"r = BINARY_{function.__name__}({{0}}, {{1}})\n", 1
    if kind is ContainsOp:
        return 2, f"r = {{0}} {'not in' if instruction.invert else 'in'} {{1}}\n", 1
    if kind is LoadMethod:  # canonical layout: the attribute, then NULL
        return 1, f"r = (getattr({{0}}, {instruction.name!r}), NULL)\n", 2
    if kind is not Op:
        return None
    name = instruction.name
    if name in _UNARY:
        return 1, f"r = {_UNARY[name]}{{0}}{')' if _UNARY[name].endswith('(') else ''}\n", 1
    if name == "LOAD_ATTR":
        return 1, f"r = getattr({{0}}, {instruction.arg!r})\n", 1
    if name == "BINARY_SUBSCR":
        return 2, "r = {0}[{1}]\n", 1
    if name == "UNPACK_SEQUENCE":  # Python's own unpacking: its errors and messages
        count = instruction.arg
        names = [f"u{i}" for i in range(count)]
        unpack = "".join(n + ", " for n in names)
        return 1, f"{unpack}= {{0}}\nr = ({''.join(n + ', ' for n in reversed(names))})\n", count
    return None


def _guarded(operands: list[str], run: str) -> str:
    """``run`` on the operands; a saved loop iterator among them, or an exception, takes the general path."""
    iterators = " or ".join(f"type({operand}) is ITERSTATE" for operand in operands)
    return (f"if {iterators}: return GENERAL(s)\n"
            "try:\n" + _indent(run) + "except BaseException as error:\n    return RAISED(s, error)\n")


def _indent(code: str) -> str:
    return "".join(f"    {line}\n" for line in code.splitlines())
