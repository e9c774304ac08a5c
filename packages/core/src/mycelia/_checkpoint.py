"""``save_checkpoint``, ``load_checkpoint`` and ``load_param_into_net`` (MindSpore's names and signatures).

Files use the safetensors layout (see :mod:`mycelia._safetensors`): a JSON header and raw little-endian
bytes, so loading never executes code. Every dtype Mycelia has round-trips, bfloat16 and bool included.
Python ``str`` values of ``append_dict`` travel in the header's ``__metadata__``.

Loading into a network checks every parameter (names with ``strict_load``, shapes, dtypes) before changing
any: on an error the network is unchanged and the message names the parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mycelia import dtype as dt
from mycelia._safetensors import CheckpointError, read_safetensors, write_safetensors
from mycelia._tensor import Parameter, Tensor, tensor_from_host

__all__ = ["CheckpointError", "load_checkpoint", "load_param_into_net", "save_checkpoint"]

_SUFFIXES = (".ckpt", ".safetensors")
_STRING_PREFIX = "mycelia.str:"  # metadata key prefix of append_dict strings


def _host(name: str, value: Any) -> np.ndarray:
    if isinstance(value, Tensor):
        return np.asarray(value.asnumpy())
    if isinstance(value, np.ndarray):
        dt.from_numpy(value.dtype)  # a clear error for dtypes Mycelia has no name for
        return value
    if isinstance(value, (bool, int, float)):
        return np.asarray(Tensor(value).asnumpy())
    raise TypeError(f"save_checkpoint: {name!r} must be a Tensor, Parameter, numpy array or number, "
                    f"got {type(value).__name__}")


def _items(save_obj: Any) -> list[tuple[str, Any]]:
    from mycelia.nn._cell import Cell

    if isinstance(save_obj, Cell):
        return [(param.name, param) for param in save_obj.get_parameters()]
    if isinstance(save_obj, dict):
        for key in save_obj:
            if not isinstance(key, str):
                raise TypeError(f"save_checkpoint: dict keys must be parameter names (str), got {key!r}")
        return list(save_obj.items())
    if isinstance(save_obj, (list, tuple)):
        items = []
        for index, entry in enumerate(save_obj):
            if not isinstance(entry, dict) or "name" not in entry or "data" not in entry:
                raise TypeError(f"save_checkpoint: list item {index} must be a dict with 'name' and 'data'")
            if not isinstance(entry["name"], str):
                raise TypeError(f"save_checkpoint: list item {index} has a non-str name {entry['name']!r}")
            items.append((entry["name"], entry["data"]))
        return items
    raise TypeError(f"save_checkpoint: save_obj must be a Cell, a list of {{'name', 'data'}} dicts or a dict "
                    f"name -> Tensor, got {type(save_obj).__name__}")


def save_checkpoint(save_obj: Any, ckpt_file_name: str, integrated_save: bool = True, async_save: bool = False,
                    append_dict: dict[str, Any] | None = None, enc_key: Any = None, enc_mode: str = "AES-GCM",
                    choice_func: Callable[[str], bool] | None = None, **kwargs: Any) -> None:
    """Save a Cell's parameters (by ``Parameter.name``), a list of ``{'name', 'data'}`` dicts, or a dict name ->
    Tensor. ``.ckpt`` is appended to a file name ending in neither ``.ckpt`` nor ``.safetensors``.
    ``append_dict`` adds values (Tensors, numbers, strings); ``choice_func(name)`` picks parameters to save.
    ``integrated_save`` and ``async_save`` are accepted (saving is synchronous); encryption is not supported."""
    if enc_key is not None:
        raise NotImplementedError("save_checkpoint: encrypted checkpoints (enc_key) are not supported")
    unknown = set(kwargs) - {"format"}
    if unknown:
        raise TypeError(f"save_checkpoint: unexpected arguments {sorted(unknown)}")
    if not isinstance(ckpt_file_name, str) or not ckpt_file_name:
        raise TypeError(f"save_checkpoint: ckpt_file_name must be a non-empty str, got {ckpt_file_name!r}")
    if kwargs.get("format") == "safetensors" and not ckpt_file_name.endswith(".safetensors"):
        ckpt_file_name += ".safetensors"
    elif not ckpt_file_name.endswith(_SUFFIXES):
        ckpt_file_name += ".ckpt"
    items = _items(save_obj)
    if choice_func is not None:
        items = [(name, value) for name, value in items if choice_func(name)]
    metadata = {"format": "mycelia"}
    for name, value in (append_dict or {}).items():
        if not isinstance(name, str):
            raise TypeError(f"save_checkpoint: append_dict keys must be str, got {name!r}")
        if isinstance(value, str):
            metadata[_STRING_PREFIX + name] = value
        else:
            items.append((name, value))
    arrays: list[tuple[str, np.ndarray]] = []
    seen: set[str] = set()
    for name, value in items:
        if name in seen:
            raise ValueError(f"save_checkpoint: two entries are named {name!r}; checkpoint names must be unique")
        if name == "__metadata__":
            raise ValueError("save_checkpoint: '__metadata__' is reserved and cannot name a parameter")
        seen.add(name)
        arrays.append((name, _host(name, value)))
    write_safetensors(ckpt_file_name, arrays, metadata)


def _prefixes(argument: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    values = (value,) if isinstance(value, str) else tuple(value)
    if not values or not all(isinstance(v, str) and v for v in values):
        raise TypeError(f"load_checkpoint: {argument} must be a non-empty str or a list of them, got {value!r}")
    return values


def load_checkpoint(ckpt_file_name: str, net: Any = None, strict_load: bool = False, filter_prefix: Any = None,
                    dec_key: Any = None, dec_mode: str = "AES-GCM", specify_prefix: Any = None,
                    choice_func: Callable[[str], bool] | None = None, **kwargs: Any) -> dict[str, Any]:
    """Read a checkpoint as a dict name -> Parameter (``append_dict`` strings come back as str).
    ``filter_prefix`` drops names starting with it, ``specify_prefix`` keeps only those, ``choice_func(name)``
    keeps names it returns True for. With ``net``, the parameters are loaded into it (see
    :func:`load_param_into_net`)."""
    if dec_key is not None:
        raise NotImplementedError("load_checkpoint: encrypted checkpoints (dec_key) are not supported")
    unknown = set(kwargs) - {"format"}
    if unknown:
        raise TypeError(f"load_checkpoint: unexpected arguments {sorted(unknown)}")
    if not isinstance(ckpt_file_name, str):
        raise TypeError(f"load_checkpoint: ckpt_file_name must be a str, got {type(ckpt_file_name).__name__}")
    drop, keep = _prefixes("filter_prefix", filter_prefix), _prefixes("specify_prefix", specify_prefix)
    arrays, metadata = read_safetensors(ckpt_file_name)

    def wanted(name: str) -> bool:
        if drop and name.startswith(drop):
            return False
        if keep and not name.startswith(keep):
            return False
        return choice_func is None or bool(choice_func(name))

    result: dict[str, Any] = {}
    for name, array in arrays:
        if wanted(name):
            result[name] = Parameter(tensor_from_host(array), name=name)
    for key, value in metadata.items():
        if key.startswith(_STRING_PREFIX) and wanted(key[len(_STRING_PREFIX):]):
            result[key[len(_STRING_PREFIX):]] = value
    if net is not None:
        load_param_into_net(net, result, strict_load=strict_load)
    return result


def _converted(name: str, param: Parameter, value: Any, strict_load: bool) -> Any:
    """The backend array ``param`` should take from ``value``, or a CheckpointError naming ``name``."""
    if isinstance(value, np.ndarray):
        value = Tensor(value)
    if not isinstance(value, Tensor):
        raise CheckpointError(f"load_param_into_net: {name!r} in the checkpoint is a {type(value).__name__}, "
                              f"not a Tensor")
    if value.shape != param.shape:
        raise CheckpointError(f"load_param_into_net: {name!r} has shape {list(value.shape)} in the checkpoint, "
                              f"the network expects {list(param.shape)}")
    if value.dtype is not param.dtype:
        same_kind = (value.dtype.is_floating_point and param.dtype.is_floating_point) or (
            value.dtype.is_integer and param.dtype.is_integer)
        if strict_load or not same_kind:
            hint = "" if same_kind else "; only float<->float and int<->int values convert (without strict_load)"
            raise CheckpointError(f"load_param_into_net: {name!r} has dtype {value.dtype} in the checkpoint, the "
                                  f"network expects {param.dtype}{hint}")
        return param._backend.from_numpy(np.asarray(value.asnumpy()).astype(param.dtype.numpy))
    if value._backend is param._backend:
        return value._data
    return param._backend.from_numpy(np.array(value.asnumpy()))


def load_param_into_net(net: Any, parameter_dict: dict[str, Any], strict_load: bool = False,
                        remove_redundancy: bool = False) -> tuple[list[str], list[str]]:
    """Give each parameter of ``net`` (matched by ``Parameter.name``) its value from ``parameter_dict``.

    Returns ``(param_not_load, ckpt_not_load)``: network parameters the dict has no value for, and dict
    names no parameter used. Shapes must match; dtypes too, except that without ``strict_load`` a float
    value converts to another float dtype and an int to another int dtype. With ``strict_load`` a network
    parameter missing from the dict is an error. Everything is checked before anything is assigned."""
    from mycelia.nn._cell import Cell

    if not isinstance(net, Cell):
        raise TypeError(f"load_param_into_net: net must be a Cell, got {type(net).__name__}")
    if not isinstance(parameter_dict, dict):
        raise TypeError(f"load_param_into_net: parameter_dict must be a dict, got {type(parameter_dict).__name__}")
    updates: list[tuple[Parameter, Any]] = []
    param_not_load: list[str] = []
    used: set[str] = set()
    errors: list[str] = []
    for param in net.get_parameters():
        name = param.name
        if name not in parameter_dict:
            param_not_load.append(name)
            continue
        used.add(name)
        try:
            updates.append((param, _converted(name, param, parameter_dict[name], strict_load)))
        except CheckpointError as error:
            errors.append(str(error))
    if strict_load and param_not_load:
        errors.append(f"load_param_into_net(strict_load=True): the checkpoint has no value for "
                      f"{', '.join(repr(n) for n in param_not_load)}")
    if errors:
        raise CheckpointError("\n".join(errors) + "\n(the network was left unchanged)")
    for param, data in updates:
        param._data = data
    ckpt_not_load = [name for name in parameter_dict if name not in used]
    return param_not_load, ckpt_not_load
