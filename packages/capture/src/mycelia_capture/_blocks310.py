"""Python 3.10's exception machinery for the tracer: the block stack instead of 3.11's exception table.

On 3.10 ``try`` and ``with`` open blocks (``SETUP_FINALLY``, ``SETUP_WITH``) that ``POP_BLOCK`` closes. When
an instruction inside a block raises, the interpreter (ceval.c, ``exception_unwind``) pops blocks: an
``EXCEPT_HANDLER`` block (an ``except``/``finally`` body running) restores the exception it saved, a
finally block truncates the stack to its level, pushes the previous exception triple (traceback, value,
type) and the new one, makes the new exception the handled one, opens an ``EXCEPT_HANDLER`` block and
jumps to its handler. ``POP_EXCEPT`` closes that block and restores the saved exception.

The block stack is a static property of the instruction index (:func:`~.bytecode.stack.block_stacks`), so
the tracer needs no block stack of its own: a frame resumed at an index after a graph break is inside the
same blocks, and the six values of a running handler are ordinary stack slots (saved with the stack).

:func:`chain_context` (implicit exception chaining) is not version specific: the tracer uses it on every
version.
"""

from __future__ import annotations

from typing import Any

from mycelia_capture._values import CaptureAbort, Var
from mycelia_capture.bytecode import CanonicalCode, JumpIfNotExcMatch, SetupBlock
from mycelia_capture.bytecode.stack import Block, block_stacks

__all__ = ["OPS_310", "Blocks310Mixin", "blocks_at", "chain_context"]

#: the generic instructions whose 3.10 meaning differs from 3.11+ (handled by :meth:`Blocks310Mixin.step_op310`)
OPS_310 = frozenset({"POP_EXCEPT", "RERAISE", "WITH_EXCEPT_START", "MATCH_KEYS", "MATCH_CLASS",
                     "COPY_DICT_WITHOUT_KEYS"})
_CANNOT_CATCH = "catching classes that do not inherit from BaseException is not allowed"


def blocks_at(code: CanonicalCode, index: int) -> tuple[Block, ...]:
    """The blocks open before instruction ``index`` (outermost first), computed once per code."""
    stacks = code.__dict__.get("_block_stacks")
    if stacks is None:
        stacks = code.__dict__["_block_stacks"] = block_stacks(code)
    return stacks[index] or () if 0 <= index < len(stacks) else ()


def chain_context(error: BaseException, handled: BaseException | None) -> None:
    """Implicit chaining (every version; ceval's ``_PyErr_SetObject``): an exception raised while ``handled``
    is being handled gets it as ``__context__``, a cycle through ``error`` being cut. Called when the error
    reaches a frame's handlers, so a re-raised exception (``raise``, ``RERAISE``: the handled one, or one
    whose context is already set) is left as it is."""
    if not isinstance(handled, BaseException) or error is handled or error.__context__ is not None:
        return
    link, seen = handled, set()
    while (context := link.__context__) is not None and id(link) not in seen:
        seen.add(id(link))
        if context is error:
            link.__context__ = None
            break
        link = context
    error.__context__ = handled


def _triple(error: BaseException | None) -> list[Var]:
    """An exception as the interpreter pushes it: traceback, value, type (None, None, None for none). The
    traceback slot holds None: only ``WITH_EXCEPT_START`` passes it on, and it reads the value's own
    ``__traceback__`` (as 3.11+ does); a traceback object in the stack could not be saved at a graph break."""
    return [Var(None), Var(error), Var(type(error) if error is not None else None)]


class Blocks310Mixin:
    """Mixed into :class:`~._tracer.Tracer`: 3.10's block instructions and exception unwinding."""

    def step_block(self, frame: Any, instruction: Any) -> None:
        """``SetupBlock``, ``PopBlock`` (the blocks are static: nothing to record) and ``JumpIfNotExcMatch``."""
        stack = frame.stack
        if type(instruction) is JumpIfNotExcMatch:
            kinds, raised = self.real(stack.pop()), self.real(stack.pop())  # type: ignore[attr-defined]
            for candidate in kinds if isinstance(kinds, tuple) else (kinds,):
                if not (isinstance(candidate, type) and issubclass(candidate, BaseException)):
                    raise CaptureAbort(TypeError(_CANNOT_CATCH))
            if not issubclass(raised, kinds):
                frame.index = instruction.target
        elif type(instruction) is SetupBlock and instruction.kind != "finally":
            if instruction.kind != "with":
                raise self.unsupported("an `async with` block")  # type: ignore[attr-defined]
            self.setup_with(frame)

    def setup_with(self, frame: Any) -> None:
        """``SETUP_WITH``: ``__enter__`` and ``__exit__`` looked up on the manager's type (in that order), the
        manager replaced by the bound ``__exit__``, then the result of ``__enter__`` pushed (the finally block
        it opens starts after this instruction)."""
        stack = frame.stack
        manager = stack[-1]
        for name in ("__enter__", "__exit__"):
            if not hasattr(type(manager.value), name):
                raise CaptureAbort(AttributeError(name))
        enter = self.load_attribute(manager, "__enter__")  # type: ignore[attr-defined]
        stack[-1] = self.load_attribute(manager, "__exit__")  # type: ignore[attr-defined]
        stack.append(self.call(enter, [], {}))  # type: ignore[attr-defined]

    def step_op310(self, frame: Any, name: str, arg: Any) -> None:
        stack = frame.stack
        if name == "POP_EXCEPT":  # pops the saved triple: type, value, traceback
            frame.handled = stack[-2].value
            del stack[-3:]
        elif name == "RERAISE":  # pops the exception triple (the oparg only sets the traceback's line)
            error = stack[-2].value
            del stack[-3:]
            raise CaptureAbort(error)
        elif name == "WITH_EXCEPT_START":  # __exit__(type, value, traceback), __exit__ 7 below the top
            traceback = Var(stack[-2].value.__traceback__)
            stack.append(self.call(stack[-7], [stack[-1], stack[-2], traceback], {}))  # type: ignore[attr-defined]
        elif name == "MATCH_KEYS":  # 3.10 pushes the values (or None) and whether all keys matched
            keys, subject = self.real(stack[-1]), self.real(stack[-2])  # type: ignore[attr-defined]
            found = all(key in subject for key in keys)
            stack.append(self.created(tuple(subject[key] for key in keys)) if found else Var(None))  # type: ignore[attr-defined]
            stack.append(Var(found))
        elif name == "MATCH_CLASS":  # 3.10: attributes and True in place of the subject, or subject and False
            subject = stack[-3]
            self.match_class(frame, arg)  # type: ignore[attr-defined]
            attributes = stack.pop()
            matched = attributes.value is not None
            stack.extend((attributes if matched else subject, Var(matched)))
        elif name == "COPY_DICT_WITHOUT_KEYS":  # `**rest` in a mapping pattern: the subject less the keys
            rest = dict(self.materialize(stack[-2]))  # type: ignore[attr-defined]
            for key in self.real(stack[-1]):  # type: ignore[attr-defined]
                del rest[key]
            stack[-1] = self.created(rest)  # type: ignore[attr-defined]

    def handle_exception310(self, frame: Any, error: BaseException, index: int) -> bool:
        """Unwind the blocks open at ``index`` as ceval's ``exception_unwind`` does; False when none handles
        ``error`` (it leaves the frame)."""
        stack = frame.stack
        for kind, handler, level in reversed(blocks_at(frame.code, index)):
            if kind == "except":  # a handler's body raised: its saved exception is the handled one again
                frame.handled = stack[level + 1].value
                del stack[level:]
                continue
            del stack[level:]
            stack.extend((*_triple(frame.handled), *_triple(error)))
            frame.handled = error
            frame.index = handler
            return True
        return False
