"""One capture: trace a call into a graph, compile it, and generate the code that rebuilds the
function's result from the graph's outputs (one cache entry)."""

from __future__ import annotations

import time
import types
from collections.abc import Callable
from typing import Any

from mycelia import ir
from mycelia._tensor import Tensor
from mycelia.ir import GraphBuilder, TracedArray, recording
from mycelia.ops import get_op
from mycelia_capture._breaks import RUNNING_ITERATORS, IteratorState, Resume, flatten
from mycelia_capture._guards import AsArray, Attr, Computed, Constant, Item, Local, Source, attribute_code
from mycelia_capture._provenance import SCALARS, Bound
from mycelia_capture._tracer import Tracer, canonical
from mycelia_capture._values import NULL, Dynamic, DynamicTuple, Unsupported, Var

__all__ = ["Capture", "capture"]


class _Miss:
    def __repr__(self) -> str:
        return "MISS"


MISS = _Miss()  # what an entry returns when its guards do not hold


class Capture:
    """A compiled cache entry: ``call(*bound)`` returns the function's result, or MISS when a guard fails.

    ``call`` is one generated function: the guards (each shared source read once), the compiled
    schedule on the input arrays, and the result rebuilt around the graph's outputs."""

    def __init__(self, call: Callable[..., Any], guard_text: str, compiled: Any, compile_ms: float,
                 bytecode: str, source: str) -> None:
        self.call = call
        self.guard_text = guard_text
        self.graph_text = str(compiled.graph) if compiled is not None else ""
        self.compiled = compiled
        self.compile_ms = compile_ms
        self.bytecode = bytecode
        self.source = source

    def failure_hint(self, bound: tuple[Any, ...]) -> str:
        return f"guards were: {self.guard_text.splitlines()[0] if self.guard_text else '(none)'} …"

    def describe(self) -> str:
        return (f"[mycelia.jit] captured bytecode:\n{self.bytecode}\n[mycelia.jit] guards:\n{self.guard_text}\n"
                f"[mycelia.jit] graph:\n{self.graph_text or '(no tensor work)'}")


def _runner(compiled: Any) -> tuple[Callable[..., Any], Any, bool]:
    """(run on arrays, lock or None, returns arrays): the backend's fastest way to run the graph."""
    executable = compiled.executable
    if compiled.graph.symbols() and hasattr(executable, "run_arrays"):
        return executable.run_arrays, None, True  # picks the schedule for each call's shapes
    if hasattr(executable, "runner"):
        runner = executable.runner(tuple(tuple(v.shape) for v in compiled.graph.inputs))
        lock = executable._lock if runner.plan.slot_sizes else None  # shared buffers need the lock
        return runner.run, lock, True
    return compiled, None, False


def _source_code(source: Source, namespace: dict[str, Any]) -> str:
    if isinstance(source, Local):
        return f"a{source.index}"
    if isinstance(source, Constant):
        key = f"k{id(source.value)}"
        namespace[key] = source.value
        return key
    if isinstance(source, Attr):
        return attribute_code(_source_code(source.base, namespace), source.name)
    if isinstance(source, Item):
        return f"{_source_code(source.base, namespace)}[{source.key!r}]"
    if isinstance(source, Computed):
        return source.spell(lambda base: _source_code(base, namespace), namespace)
    raise TypeError(f"unknown source {source!r}")


class _Rebuilder:
    """Generates ``rebuild(outputs, *bound)`` for the traced result."""

    def __init__(self, tracer: Tracer, builder: GraphBuilder) -> None:
        self.tracer = tracer
        self.builder = builder
        self.outputs: list[ir.Value] = []
        self.namespace: dict[str, Any] = {"NEW": object.__new__, "TENSOR": Tensor}
        self.prelude: list[str] = []  # statements building shared mutable objects once (aliasing kept)
        self.memo: dict[int, str] = {}

    def expression(self, value: Any, var: Var | None = None) -> str:
        if type(value) is Dynamic:  # a host number: computed from the entry's arguments, never a constant
            return _source_code(value.source, self.namespace)
        if type(value) is DynamicTuple and value.exposed:  # specialized, maybe changed by real code
            return self.expression(value.raw)
        if type(value) is DynamicTuple:
            items = "".join(self.expression(item) + ", " for item in value.items)
            if type(value.raw) is list:
                if id(value.raw) in self.memo:
                    return self.memo[id(value.raw)]
                return self.shared(value.raw, f"[{items}]")
            return f"({items})"
        if isinstance(value, Var):
            return self.expression(value.value, value)
        if value is NULL:
            return self.constant(NULL)
        if isinstance(value, Bound):  # a user method bound to a traced receiver
            self.namespace["METHOD"] = types.MethodType
            return f"METHOD({self.constant(value.function)}, {self.expression(value.receiver)})"
        if (isinstance(value, types.MethodType) and not isinstance(value.__func__, types.FunctionType)) \
                or (isinstance(value, types.BuiltinMethodType) and not isinstance(value.__self__, types.ModuleType)):
            return f"getattr({self.expression(value.__self__)}, {value.__name__!r})"
        if isinstance(value, types.MethodType):
            self.namespace["METHOD"] = types.MethodType
            return f"METHOD({self.constant(value.__func__)}, {self.expression(value.__self__)})"
        if isinstance(value, StateIterator):  # a saved loop's iterator: what it has not handed out yet
            self.namespace["ITERSTATE"] = IteratorState
            return f"ITERSTATE({_source_code(value.source, self.namespace)}[{value.position}:])"
        if isinstance(value, RUNNING_ITERATORS):  # an iterator a loop is running: its remaining items
            remaining = list(value)
            self.namespace["ITERSTATE"] = IteratorState
            return f"ITERSTATE([{', '.join(self.expression(item) for item in remaining)}])"
        if isinstance(value, BaseException):  # the exception an `except` block handles: a fresh copy per call
            self.namespace["EXCEPTION"] = _copy_exception
            return f"EXCEPTION({self.constant(value)})"
        if id(value) in self.memo:
            return self.memo[id(value)]
        if isinstance(value, Tensor):
            data = value._data
            source = self.tracer.input_source(value)
            if source is not None:  # an input returned unchanged: the caller's own object (a Parameter stays one)
                return _source_code(source, self.namespace)
            if not isinstance(data, TracedArray) or data.builder is not self.builder:
                raise Unsupported("returns a tensor that is not computed by the function's graph")
            if data.value in self.outputs:
                index = self.outputs.index(data.value)
            else:
                index = len(self.outputs)
                self.outputs.append(data.value)
            self.namespace[f"d{index}"] = value._dtype
            return f"t{index}"
        if isinstance(value, SCALARS):
            return self.constant(value)
        known = var if var is not None and var.source is not None else self.tracer.known.get(id(value))
        if known is not None and known.source is not None and not isinstance(value, SCALARS):
            return _source_code(known.source, self.namespace)
        if isinstance(value, (types.FunctionType, types.BuiltinFunctionType, type, types.ModuleType)):
            return self.constant(value)
        if isinstance(value, (tuple, list, dict, set)):
            if isinstance(value, tuple) and hasattr(value, "_fields"):
                return f"{self.constant(type(value))}({', '.join(self.expression(v) for v in value)})"
            if isinstance(value, tuple):
                return "(" + "".join(self.expression(v) + ", " for v in value) + ")"
            if isinstance(value, list):
                return self.shared(value, "[" + ", ".join(self.expression(v) for v in value) + "]")
            if isinstance(value, dict):
                items = ", ".join(f"{self.expression(k)}: {self.expression(v)}" for k, v in value.items())
                return self.shared(value, "{" + items + "}")
            if isinstance(value, set):
                items = ", ".join(self.expression(v) for v in value)
                return self.shared(value, "{" + items + "}" if value else "set()")
        if type(value).__module__ == "mycelia.dtype" or isinstance(value, slice):
            return self.constant(value)
        if (id(value) in self.tracer.created_ids or hasattr(value, "__dataclass_fields__")) \
                and hasattr(value, "__dict__") and not isinstance(value, Tensor):
            # An object made inside the function: a new one per call, with its attributes rebuilt.
            self.namespace["MAKE"] = _make_object
            fields = ", ".join(f"{name!r}: {self.expression(item)}" for name, item in vars(value).items())
            return self.shared(value, f"MAKE({self.constant(type(value))}, {{{fields}}})")
        raise Unsupported(f"returns a {type(value).__name__} it cannot rebuild outside the trace")

    def shared(self, value: Any, code: str) -> str:
        """A mutable object built once per call, so every reference to it gets the same object."""
        name = f"m{len(self.memo)}"
        self.memo[id(value)] = name
        self.prelude.append(f"{name} = {code}")
        self.tracer.keep.append(value)
        return name

    def constant(self, value: Any) -> str:
        key = f"c{len(self.namespace)}"
        self.namespace[key] = value
        return key

    def body(self, result: Var) -> str:
        return self.expression(result)

    def effects(self, effects: list[Any]) -> list[str]:
        """Statements replaying the recorded side effects in program order (after the graph ran)."""
        self.namespace["PRINT"] = print
        lines = []
        for effect in effects:
            values = [self.expression(v) for v in effect.values]
            keywords = [f"{k}={self.expression(v)}" for k, v in (effect.keywords or {}).items()]
            target = _source_code(effect.target, self.namespace) if effect.target is not None else ""
            if effect.kind == "method":
                lines.append(f"{target}.{effect.name}({', '.join([*values, *keywords])})")
            elif effect.kind == "setattr":
                lines.append(f"setattr({target}, {effect.name!r}, {values[0]})")
            elif effect.kind == "delattr":
                lines.append(f"delattr({target}, {effect.name!r})")
            elif effect.kind == "setglobal":
                lines.append(f"{target}[{effect.name!r}] = {values[0]}")
            elif effect.kind == "delglobal":
                lines.append(f"del {target}[{effect.name!r}]")
            elif effect.kind == "setcell":
                lines.append(f"{_source_code(effect.target.base, self.namespace)}.cell_contents = {values[0]}")
            elif effect.kind == "print":
                lines.append(f"PRINT({', '.join([*values, *keywords])})")
            elif effect.kind == "assign":
                lines.append(f"{target}._data = {values[0]}._data")
        return lines


class StateIterator:
    """A loop's iterator saved at a graph break, in the segment that resumes it: each item is loaded
    (guarded) only when the loop takes it, and the end only when it is reached (``len == position``).
    A break on the next iteration saves ``items[position:]``, so one segment serves every iteration
    instead of one per remaining length."""

    def __init__(self, tracer: Tracer, source: Source, items: list[Any], volatile: bool) -> None:
        self.tracer = tracer
        self.source = source
        self.items = items
        self.volatile = volatile
        self.position = 0

    def __iter__(self) -> StateIterator:
        return self

    def __next__(self) -> Var:
        if self.position >= len(self.items):
            self.tracer.guards.add(self.source, "len", self.position)
            raise StopIteration
        item = self.tracer.load_state(self.items[self.position], Item(self.source, self.position), self.volatile)
        self.position += 1
        return item


def _copy_exception(error: BaseException) -> BaseException:
    copy = type(error)(*error.args)
    copy.__dict__.update(getattr(error, "__dict__", {}))
    return copy


def _make_object(klass: type, fields: dict[str, Any]) -> Any:
    made = klass.__new__(klass)
    made.__dict__.update(fields)
    return made


def capture(function: types.FunctionType, bound: tuple[Any, ...], names: tuple[str, ...], config: Any,
            global_state: list[tuple[str, str, dict[str, Any], Any]],
            dynamic_dims: dict[tuple[int, ...], set[int]] | None = None, registry: Any = None) -> Capture:
    """Trace ``function`` for the call with ``bound`` arguments; raise Unsupported or CaptureAbort.
    ``dynamic_dims`` (argument index -> dims) are traced as symbols: one entry serves every size.
    With a ``registry`` (the jitted function's continuations), an untraceable instruction is a graph
    break instead of a reason to run the whole function eagerly."""

    def start(tracer: Tracer) -> Var:
        tracer.dynamic_dims = dynamic_dims or {}
        local_values = {name: tracer.load(value, Local(name, index)) for index, (name, value) in
                        enumerate(zip(names, bound))}
        return tracer.enter(function, local_values, Constant(function, function.__qualname__))

    return _capture(start, len(names), config, global_state, registry, function)


def capture_segment(states: list[Any], values: list[Any], config: Any,
                    global_state: list[tuple[str, str, dict[str, Any], Any]], registry: Any,
                    volatile: tuple[int, ...] = ()) -> Capture:
    """Trace the frames saved at a graph break, from right after the instruction that broke (their
    values are the entry's arguments, guarded like a function's; numbers are not specialized, and the
    ones at ``volatile`` -- what the breaking instruction made -- are never frozen)."""
    from mycelia_capture._breaks import drive
    from mycelia_capture._tracer import Frame

    def start(tracer: Tracer) -> Var:
        def slot(index: int, value: Any) -> Any:
            if value is NULL:
                return NULL
            source = Local(f"state{index}", index)
            if isinstance(value, IteratorState):  # a running loop: its remaining items, read as consumed
                tracer.load(value, source)
                items = Attr(source, "items")
                tracer.guards.add(items, "type", list)
                return Var(StateIterator(tracer, items, value.items, index in volatile))
            return tracer.load_state(value, source, index in volatile)

        slots = iter([slot(i, value) for i, value in enumerate(values)])
        frames = []
        for position, state in enumerate(states):
            function_source = Constant(state.function, state.function.__qualname__)
            frame = Frame(state.function, state.code, {name: next(slots) for name in state.locals}, function_source)
            frame.index = state.index
            frame.stack = [next(slots) for _ in state.stack]
            frame.handled = state.handled
            closure = state.function.__closure__ or ()
            for name, value in state.cells.items():
                if value is None:
                    index = state.code.freevars.index(name)
                    frame.cells[name] = ("outer", closure[index],
                                         Attr(Item(Attr(function_source, "__closure__"), index), "cell_contents"))
                else:
                    cell = types.CellType()
                    content = next(slots)
                    if content is not NULL:
                        cell.cell_contents = content
                    frame.cells[name] = ("local", cell, None)
            if position:
                frame.entered_by_call = True
            if position < len(states) - 1:
                frame.after_call = (frame.index, list(frame.stack))
            frames.append(frame)
        return drive(tracer, frames)

    first = states[0].function
    return _capture(start, len(values), config, global_state, registry, first)


def _capture(start: Callable[[Tracer], Var], argument_count: int, config: Any,
             global_state: list[tuple[str, str, dict[str, Any], Any]], registry: Any,
             function: types.FunctionType) -> Capture:
    from mycelia_capture._breaks import GraphBreak

    started = time.perf_counter()
    builder = GraphBuilder(function.__name__ if function.__name__.isidentifier() else "jitted")
    tracer = Tracer(config, builder)
    tracer.breaks_allowed = registry is not None and not config.fullgraph
    for label, expression, values, expected in global_state:
        tracer.guards.add_global_state(label, expression, values, expected)
    with recording(builder, random_outside=True):
        try:
            result: Any = start(tracer)
        except GraphBreak as broken:
            result = broken
        for source, traced in list(tracer.lifted.items()):
            if traced._data is not tracer.input_data.get(id(traced)):  # ops.assign, x[i] = …: write it back
                tracer.record("assign", source, "", (traced,))
        rebuilder = _Rebuilder(tracer, builder)
        if isinstance(result, GraphBreak):
            continuation = registry.continuation(result)
            rebuilder.namespace["RESUME"] = Resume
            rebuilder.namespace["CONTINUATION"] = continuation
            slots = [rebuilder.expression(value) for value in flatten(result.frames)]
            result_code = f"RESUME(CONTINUATION, ({''.join(s + ', ' for s in slots)}))"
        else:
            result_code = rebuilder.body(result)
        effect_lines = rebuilder.effects(tracer.effects)
    namespace = rebuilder.namespace
    namespace["MISS"] = MISS
    guard_lines, inputs, guard_text = tracer.guards.code(namespace)
    run_lines: list[str] = []
    compiled = None
    if rebuilder.outputs:
        graph = ir.remove_unused(builder.build(*rebuilder.outputs))
        input_sources = list(tracer.guards.tensor_inputs)
        used = {value for node in graph.nodes for value in node.inputs} | set(graph.outputs)
        kept = [position for position, value in enumerate(graph.inputs) if value in used]
        if len(kept) < len(graph.inputs):  # tensors the graph does not read are not passed to it
            graph = ir.Graph(graph.name, tuple(graph.inputs[p] for p in kept), graph.nodes, graph.outputs,
                             graph.relations)
            inputs = [inputs[p] for p in kept]
            input_sources = [input_sources[p] for p in kept]
        for node in graph.walk():
            if node.op not in ir.IR_ONLY_OPS and {"seed", "offset"} <= {n for n, _ in get_op(node.op).attrs}:
                raise Unsupported(f"calls the random op {node.op} (its stream must advance per call)",
                                  function.__code__.co_filename)
        compiled = ir.compile_graph(graph, optimize=config.optimize)
        namespace["B"] = compiled.backend
        run, lock, on_arrays = _runner(compiled)
        namespace["RUN"] = run
        scalars = {p for p, source in enumerate(input_sources) if isinstance(source, AsArray)}
        if scalars and not on_arrays:
            namespace["TENSOR_OF"] = Tensor
        arguments = ", ".join((i if p in scalars else f"{i}._data") if on_arrays else
                              (f"TENSOR_OF({i})" if p in scalars else i) for p, i in enumerate(inputs))
        call = f"RUN({arguments})" if on_arrays else f"[t._data for t in RUN({arguments})]"
        if lock is not None:
            namespace["LOCK"] = lock
            run_lines = ["with LOCK:", f"    o = {call}"]
        else:
            run_lines = [f"o = {call}"]
        for index in range(len(rebuilder.outputs)):  # the result tensors, built inline (no call)
            run_lines.append(f"t{index} = NEW(TENSOR); t{index}._data = o[{index}]; t{index}._dtype = d{index}; "
                             f"t{index}._backend = B; t{index}._autograd = None")
    parameters = ", ".join(f"a{i}" for i in range(argument_count))
    guard_body = "\n".join(f"        {line}" for line in guard_lines) or "        pass"
    run_body = "\n".join(f"    {line}" for line in [*run_lines, *rebuilder.prelude, *effect_lines])
    source = (f"def entry({parameters}):\n    try:\n{guard_body}\n"
              "    except (AttributeError, KeyError, IndexError, TypeError):\n        return MISS\n"
              f"{run_body}\n    return {result_code}\n")
    try:
        exec(compile(source, f"<mycelia entry {function.__qualname__}>", "exec"), namespace)
    except SyntaxError as error:  # a source this generator cannot spell: a bug, reported with the code
        raise Unsupported(f"internal error generating the entry ({error}):\n{source}") from None
    bytecode = "\n".join(f"  {instruction}" for instruction in canonical(function.__code__).instructions)
    return Capture(namespace["entry"], guard_text, compiled, (time.perf_counter() - started) * 1e3, bytecode,
                   source)
