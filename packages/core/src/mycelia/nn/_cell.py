"""``nn.Cell``: MindSpore's module class (parameters, sub-cells, train/eval, hooks)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

from mycelia import _context
from mycelia import dtype as dt
from mycelia._tensor import Parameter, Tensor

__all__ = ["Cell", "ParameterTuple"]


class ParameterTuple(tuple):  # type: ignore[type-arg]
    """A tuple of Parameters (``net.trainable_params()`` returns a list; this is MindSpore's container)."""

    def __new__(cls, iterable: Any = ()) -> ParameterTuple:
        items = tuple(iterable)
        for item in items:
            if not isinstance(item, Parameter):
                raise TypeError(f"ParameterTuple holds Parameters, got {type(item).__name__}")
        return super().__new__(cls, items)


class Cell:
    """Base class of every network. Subclasses define ``construct``; calling the cell runs
    pre-hooks, ``construct`` and post-hooks. Assigning a Parameter or Cell attribute registers it."""

    _params: OrderedDict[str, Parameter]
    _cells: OrderedDict[str, Cell]
    training: bool
    _forward_pre_hooks: OrderedDict[int, Callable[..., Any]]
    _forward_hooks: OrderedDict[int, Callable[..., Any]]
    _hook_counter: int
    _auto_prefix: bool
    _compute_dtype: dt.DType | None

    def __init__(self, auto_prefix: bool = True, flags: dict[str, Any] | None = None) -> None:
        object.__setattr__(self, "_params", OrderedDict())
        object.__setattr__(self, "_cells", OrderedDict())
        object.__setattr__(self, "training", False)
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_hook_counter", 0)
        object.__setattr__(self, "_auto_prefix", auto_prefix)
        object.__setattr__(self, "_compute_dtype", None)

    # -- registration ---------------------------------------------------------------------
    def _require_init(self) -> None:
        if "_params" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}.__init__ must call super().__init__() before assigning "
                               f"Parameters or Cells")

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, Parameter):
            self._require_init()
            self._cells.pop(name, None)
            self.__dict__.pop(name, None)
            if value.name == "Parameter":
                value.name = name
            self._params[name] = value
        elif isinstance(value, Cell):
            self._require_init()
            self._params.pop(name, None)
            self.__dict__.pop(name, None)
            if self._auto_prefix:
                # MindSpore names parameters by their path from the outermost cell ("fc1.weight").
                for param in value.get_parameters():
                    param.name = f"{name}.{param.name}"
            self._cells[name] = value
        else:
            params = self.__dict__.get("_params")
            cells = self.__dict__.get("_cells")
            if params is not None and name in params:
                if value is not None:
                    raise TypeError(f"{type(self).__name__}.{name} is a Parameter; assign a Parameter, not "
                                    f"{type(value).__name__}")
                del params[name]
            if cells is not None and name in cells:
                del cells[name]
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: Parameters and Cells live in their registries.
        params = self.__dict__.get("_params")
        if params is not None and name in params:
            return params[name]
        cells = self.__dict__.get("_cells")
        if cells is not None and name in cells:
            return cells[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        if name in self._params:
            del self._params[name]
        elif name in self._cells:
            del self._cells[name]
        else:
            object.__delattr__(self, name)

    def insert_param_to_cell(self, param_name: str, param: Parameter, check_name_contain_dot: bool = True) -> None:
        if check_name_contain_dot and "." in param_name:
            raise KeyError(f"insert_param_to_cell: parameter name {param_name!r} must not contain '.'")
        setattr(self, param_name, param)

    def insert_child_to_cell(self, child_name: str, child_cell: Cell) -> None:
        if not isinstance(child_cell, Cell):
            raise TypeError(f"insert_child_to_cell: expected a Cell, got {type(child_cell).__name__}")
        if "." in child_name or not child_name:
            raise KeyError(f"insert_child_to_cell: invalid child name {child_name!r}")
        setattr(self, child_name, child_cell)

    # -- traversal ---------------------------------------------------------------------------
    def name_cells(self) -> OrderedDict[str, Cell]:
        return OrderedDict(self._cells)

    def cells(self) -> list[Cell]:
        return list(self._cells.values())

    def cells_and_names(self, cells: set[int] | None = None, name_prefix: str = "") -> Iterator[tuple[str, Cell]]:
        seen = cells if cells is not None else set()
        if id(self) in seen:
            return
        seen.add(id(self))
        yield name_prefix, self
        for name, cell in self._cells.items():
            prefix = f"{name_prefix}.{name}" if name_prefix else name
            yield from cell.cells_and_names(seen, prefix)

    def parameters_and_names(self, name_prefix: str = "", expand: bool = True) -> Iterator[tuple[str, Parameter]]:
        seen: set[int] = set()
        cells = self.cells_and_names(name_prefix=name_prefix) if expand else iter([(name_prefix, self)])
        for prefix, cell in cells:
            for name, param in cell._params.items():
                if id(param) in seen:
                    continue
                seen.add(id(param))
                yield (f"{prefix}.{name}" if prefix else name), param

    def get_parameters(self, expand: bool = True) -> Iterator[Parameter]:
        for _, param in self.parameters_and_names(expand=expand):
            yield param

    def trainable_params(self, recurse: bool = True) -> list[Parameter]:
        return [param for param in self.get_parameters(expand=recurse) if param.requires_grad]

    def untrainable_params(self, recurse: bool = True) -> list[Parameter]:
        return [param for param in self.get_parameters(expand=recurse) if not param.requires_grad]

    def parameters_dict(self, recurse: bool = True) -> OrderedDict[str, Parameter]:
        return OrderedDict(self.parameters_and_names(expand=recurse))

    def update_parameters_name(self, prefix: str = "", recurse: bool = True) -> None:
        for name, param in self.parameters_and_names(expand=recurse):
            param.name = f"{prefix}{name}"

    # -- modes and dtypes --------------------------------------------------------------------
    def set_train(self, mode: bool = True) -> Cell:
        for _, cell in self.cells_and_names():
            object.__setattr__(cell, "training", bool(mode))
        return self

    def to_float(self, dst_type: dt.DType) -> Cell:
        """Run this cell's computation in ``dst_type`` (inputs cast on entry), as MindSpore's to_float."""
        if dst_type not in (dt.float16, dt.bfloat16, dt.float32, dt.float64):
            raise ValueError(f"to_float: expected a float dtype, got {dst_type}")
        for _, cell in self.cells_and_names():
            object.__setattr__(cell, "_compute_dtype", dst_type)
        return self

    # -- hooks and calls ---------------------------------------------------------------------
    def _add_hook(self, registry: OrderedDict[int, Callable[..., Any]], hook: Callable[..., Any]) -> Any:
        handle_id = self._hook_counter
        object.__setattr__(self, "_hook_counter", handle_id + 1)
        registry[handle_id] = hook
        return _HookHandle(registry, handle_id)

    def register_forward_pre_hook(self, hook: Callable[..., Any]) -> Any:
        """``hook(cell, inputs)`` runs before construct; returning a value replaces the inputs."""
        return self._add_hook(self._forward_pre_hooks, hook)

    def register_forward_hook(self, hook: Callable[..., Any]) -> Any:
        """``hook(cell, inputs, output)`` runs after construct; returning a value replaces the output."""
        return self._add_hook(self._forward_hooks, hook)

    def construct(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define construct()")

    def _cast_inputs(self, args: tuple[Any, ...]) -> tuple[Any, ...]:
        target = self._compute_dtype
        return tuple(arg.astype(target) if isinstance(arg, Tensor) and arg.dtype.is_floating_point
                     and arg.dtype is not target else arg for arg in args)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        for hook in list(self._forward_pre_hooks.values()):
            replaced = hook(self, args)
            if replaced is not None:
                args = replaced if isinstance(replaced, tuple) else (replaced,)
        if self._compute_dtype is not None:
            args = self._cast_inputs(args)
        if _context._context.mode == _context.GRAPH_MODE:  # set_context(mode=GRAPH_MODE): compiled
            output = self._compiled_construct()(*args, **kwargs)
        else:
            output = self.construct(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            replaced = hook(self, args, output)
            if replaced is not None:
                output = replaced
        return output

    def _compiled_construct(self) -> Any:
        """``mycelia.jit`` of this cell's construct, made on first use in GRAPH_MODE."""
        compiled = self.__dict__.get("_graph_mode_construct")
        if compiled is None:
            from mycelia._jit import jit

            compiled = jit(self)
            object.__setattr__(self, "_graph_mode_construct", compiled)
        return compiled

    def extend_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}<{self.extend_repr()}>" if self.extend_repr() else f"{type(self).__name__}<>"]
        for name, cell in self._cells.items():
            child = repr(cell).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child}")
        return "\n".join(lines) if len(lines) == 1 else lines[0].rstrip(">") + "\n" + "\n".join(lines[1:]) + "\n  >"


class _HookHandle:
    def __init__(self, registry: OrderedDict[int, Callable[..., Any]], handle_id: int) -> None:
        self._registry = registry
        self._id = handle_id

    def remove(self) -> None:
        self._registry.pop(self._id, None)
