"""Checkpoints: safetensors layout, every dtype, corrupt files, mismatches, optimizer state round trips."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import ml_dtypes
import numpy as np
import pytest

import mycelia as ms
from mycelia import nn

RNG = np.random.default_rng(11)


def sample(dtype: Any, shape: tuple[int, ...]) -> np.ndarray:
    if dtype == np.bool_:
        return RNG.uniform(size=shape) > 0.5
    if np.dtype(dtype).kind in "iu":
        return RNG.integers(0, 100, size=shape).astype(dtype)
    return RNG.normal(size=shape).astype(dtype)


ALL_DTYPES = [np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64, np.float16, ml_dtypes.bfloat16, np.float32,
              np.float64]


class Block(nn.Cell):
    def __init__(self) -> None:
        super().__init__()
        self.weight = ms.Parameter(ms.Tensor(sample(np.float32, (3, 4))))
        self.bias = ms.Parameter(ms.Tensor(sample(np.float32, (4,))))
        self.count = ms.Parameter(ms.Tensor(np.zeros((1,), np.int32)), requires_grad=False)

    def construct(self, x: Any) -> Any:
        return ms.ops.matmul(x, self.weight) + self.bias


class Net(nn.Cell):
    def __init__(self) -> None:
        super().__init__()
        self.layer1 = Block()
        self.layer2 = Block()


def values(net: nn.Cell) -> dict[str, np.ndarray]:
    return {p.name: np.array(p.asnumpy()) for p in net.get_parameters()}


def assert_same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert list(a) == list(b)
    for name in a:
        assert a[name].dtype == b[name].dtype and a[name].shape == b[name].shape, name
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_every_dtype_round_trips_in_the_safetensors_layout(tmp_path: Path) -> None:
    arrays = {f"t_{np.dtype(d).name}": sample(d, (2, 3)) for d in ALL_DTYPES}
    arrays["scalar"] = np.array(1.5, np.float32)
    arrays["empty"] = np.zeros((0, 3), ml_dtypes.bfloat16)
    path = tmp_path / "all.ckpt"
    ms.save_checkpoint({name: ms.Tensor(a) for name, a in arrays.items()}, str(path))
    loaded = ms.load_checkpoint(str(path))
    assert list(loaded) == list(arrays)
    for name, array in arrays.items():
        param = loaded[name]
        assert isinstance(param, ms.Parameter) and param.name == name
        assert param.asnumpy().dtype == array.dtype and param.shape == array.shape
        np.testing.assert_array_equal(param.asnumpy(), array)
    # The layout per the safetensors spec: u64 LE header size, JSON header (8-byte aligned), raw LE bytes.
    raw = path.read_bytes()
    size = int.from_bytes(raw[:8], "little")
    assert size % 8 == 0
    header = json.loads(raw[8:8 + size])
    assert header["__metadata__"]["format"] == "mycelia"
    entry = header["t_bfloat16"]
    assert entry["dtype"] == "BF16" and entry["shape"] == [2, 3]
    begin, end = entry["data_offsets"]
    data = np.frombuffer(raw[8 + size + begin:8 + size + end], dtype="<u2").view(ml_dtypes.bfloat16).reshape(2, 3)
    np.testing.assert_array_equal(data, arrays["t_bfloat16"])
    assert {header[n]["dtype"] for n in header if n != "__metadata__"} >= {
        "BOOL", "U8", "I8", "I16", "I32", "I64", "F16", "BF16", "F32", "F64"}


def test_files_interchange_with_the_safetensors_package(tmp_path: Path) -> None:
    st = pytest.importorskip("safetensors.numpy")
    arrays = {f"t_{np.dtype(d).name}": sample(d, (2, 3)) for d in ALL_DTYPES}
    ours, theirs = str(tmp_path / "ours.safetensors"), str(tmp_path / "theirs.safetensors")
    ms.save_checkpoint({name: ms.Tensor(a) for name, a in arrays.items()}, ours)
    read = st.load_file(ours)
    st.save_file(arrays, theirs)
    loaded = ms.load_checkpoint(theirs)
    for name, array in arrays.items():
        assert read[name].dtype == array.dtype and loaded[name].asnumpy().dtype == array.dtype
        np.testing.assert_array_equal(read[name], array)
        np.testing.assert_array_equal(loaded[name].asnumpy(), array)


def test_cell_round_trip_and_save_options(tmp_path: Path) -> None:
    net, other = Net(), Net()
    ms.save_checkpoint(net, str(tmp_path / "net"), append_dict={"epoch_num": 3, "lr": 0.5, "tag": "best"})
    path = str(tmp_path / "net.ckpt")  # .ckpt is appended, as MindSpore does
    not_loaded, unused = ms.load_param_into_net(other, ms.load_checkpoint(path))
    assert not_loaded == [] and sorted(unused) == ["epoch_num", "lr", "tag"]
    assert_same(values(other), values(net))
    loaded = ms.load_checkpoint(path)
    assert int(loaded["epoch_num"].asnumpy()) == 3 and loaded["tag"] == "best"
    assert list(ms.load_checkpoint(path, filter_prefix=["layer1", "epoch"])) == [
        "layer2.weight", "layer2.bias", "layer2.count", "lr", "tag"]
    assert list(ms.load_checkpoint(path, specify_prefix="layer2.w")) == ["layer2.weight"]
    assert list(ms.load_checkpoint(path, choice_func=lambda n: n.endswith("bias"))) == ["layer1.bias", "layer2.bias"]
    ms.save_checkpoint(net, str(tmp_path / "some.ckpt"), choice_func=lambda n: "weight" in n)
    assert list(ms.load_checkpoint(str(tmp_path / "some.ckpt"))) == ["layer1.weight", "layer2.weight"]
    items = [{"name": "a", "data": ms.Tensor(np.ones(2, np.float32))}, {"name": "b", "data": np.arange(3)}]
    ms.save_checkpoint(items, str(tmp_path / "list.safetensors"))
    assert list(ms.load_checkpoint(str(tmp_path / "list.safetensors"))) == ["a", "b"]
    third = Net()
    ms.load_checkpoint(path, net=third)
    assert_same(values(third), values(net))


def test_save_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="two entries are named 'a'"):
        ms.save_checkpoint([{"name": "a", "data": np.ones(1)}, {"name": "a", "data": np.ones(1)}], str(tmp_path / "x"))
    with pytest.raises(TypeError, match="not supported"):
        ms.save_checkpoint({"c": np.ones(2, np.complex64)}, str(tmp_path / "x"))
    with pytest.raises(TypeError, match="save_obj must be"):
        ms.save_checkpoint(42, str(tmp_path / "x"))
    assert not list(tmp_path.iterdir())  # nothing half-written


def _valid_file(tmp_path: Path) -> tuple[Path, bytes]:
    path = tmp_path / "good.ckpt"
    ms.save_checkpoint(Net(), str(path))
    return path, path.read_bytes()


def _with_header(raw: bytes, edit: Any) -> bytes:
    size = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + size])
    edit(header)
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    return len(encoded).to_bytes(8, "little") + encoded + raw[8 + size:]


def _set(entry: str, key: str, value: Any) -> Any:
    return lambda header: header[entry].__setitem__(key, value)


CORRUPT = [
    ("empty", lambda raw: b"", "fewer than the 8-byte header length"),
    ("cut in header", lambda raw: raw[:20], "truncated"),
    ("cut in data", lambda raw: raw[:-5], "truncated: the tensors need"),
    ("trailing bytes", lambda raw: raw + b"\0" * 4, "bytes after the last tensor"),
    ("huge header length", lambda raw: (2 ** 62).to_bytes(8, "little") + raw[8:], "implausible"),
    ("not json", lambda raw: raw[:8] + b"\xff" * (len(raw) - 8), "not valid JSON"),
    ("pickle", lambda raw: pickle.dumps({"a": np.ones(3)}), "not a checkpoint"),
    ("unknown dtype", lambda raw: _with_header(raw, _set("layer1.weight", "dtype", "C64")),
     "'layer1.weight' has dtype 'C64'"),
    ("bad shape", lambda raw: _with_header(raw, _set("layer1.bias", "shape", [-4])), "shape of 'layer1.bias'"),
    ("wrong size", lambda raw: _with_header(raw, _set("layer1.bias", "shape", [5])), "'layer1.bias': data_offsets"),
    ("overlap", lambda raw: _with_header(raw, _set("layer2.count", "data_offsets", [0, 4])), "without gaps or overlap"),
    ("missing field", lambda raw: _with_header(raw, lambda h: h["layer1.bias"].pop("dtype")), "'layer1.bias' must"),
]


@pytest.mark.parametrize(("label", "corrupt", "message"), CORRUPT, ids=[c[0] for c in CORRUPT])
def test_corrupt_files_are_clear_errors_and_leave_the_net_unchanged(tmp_path: Path, label: str, corrupt: Any,
                                                                   message: str) -> None:
    path, raw = _valid_file(tmp_path)
    path.write_bytes(corrupt(raw))
    net = Net()
    before = values(net)
    with pytest.raises(ms.CheckpointError, match=message):
        ms.load_checkpoint(str(path), net=net)
    assert_same(values(net), before)


def test_bool_bytes_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "b.ckpt"
    ms.save_checkpoint({"flags": ms.Tensor(np.array([True, False]))}, str(path))
    raw = bytearray(path.read_bytes())
    raw[-1] = 7
    path.write_bytes(bytes(raw))
    with pytest.raises(ms.CheckpointError, match="'flags' is BOOL"):
        ms.load_checkpoint(str(path))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ms.load_checkpoint(str(tmp_path / "nope.ckpt"))
    with pytest.raises(ms.CheckpointError, match="not a file"):
        ms.load_checkpoint(str(tmp_path))


def test_mismatches_name_the_parameter_and_change_nothing(tmp_path: Path) -> None:
    source, net = Net(), Net()
    before = values(net)
    good = ms.load_checkpoint(_valid_file(tmp_path)[0].as_posix())
    cases = [
        ("layer2.bias", ms.Parameter(ms.Tensor(np.zeros((5,), np.float32))), r"'layer2.bias' has shape \[5\]"),
        ("layer2.weight", ms.Parameter(ms.Tensor(np.zeros((3, 4), np.int32))), "'layer2.weight' has dtype Int32"),
        ("layer2.count", ms.Parameter(ms.Tensor(np.zeros((1,), np.float32))), "'layer2.count' has dtype Float32"),
    ]
    for name, bad, message in cases:
        broken = {**good, name: bad}
        with pytest.raises(ms.CheckpointError, match=message):
            ms.load_param_into_net(net, broken)
        assert_same(values(net), before)  # layer1.* were valid but are not assigned either
    with pytest.raises(ms.CheckpointError, match="no value for 'layer1.weight'"):
        ms.load_param_into_net(net, {k: v for k, v in good.items() if k != "layer1.weight"}, strict_load=True)
    assert_same(values(net), before)
    wide = {k: ms.Parameter(ms.Tensor(v.asnumpy().astype(np.float64))) if v.dtype is ms.float32 else v
            for k, v in good.items()}
    with pytest.raises(ms.CheckpointError, match="has dtype Float64"):
        ms.load_param_into_net(net, wide, strict_load=True)
    not_loaded, unused = ms.load_param_into_net(net, {**wide, "extra": wide["layer1.bias"]})
    assert not_loaded == [] and unused == ["extra"]
    assert all(p.dtype is (ms.int32 if "count" in p.name else ms.float32) for p in net.get_parameters())
    np.testing.assert_allclose(net.layer1.weight.asnumpy(), good["layer1.weight"].asnumpy())
    partial = {k: v for k, v in good.items() if k.startswith("layer1")}
    assert ms.load_param_into_net(source, partial)[0] == ["layer2.weight", "layer2.bias", "layer2.count"]


def test_optimizer_state_round_trips(tmp_path: Path) -> None:
    def build() -> tuple[Net, nn.Optimizer]:
        net = Net()
        return net, nn.Adam(net.trainable_params(), learning_rate=nn.CosineDecayLR(0.001, 0.01, 10))

    grads = [tuple(ms.Tensor(sample(np.float32, p.shape)) for p in build()[0].trainable_params()) for _ in range(5)]
    net, optimizer = build()
    for step in range(3):
        optimizer(grads[step])
    ms.save_checkpoint(net, str(tmp_path / "net.ckpt"))
    ms.save_checkpoint(optimizer, str(tmp_path / "opt.ckpt"))
    state = ms.load_checkpoint(str(tmp_path / "opt.ckpt"))
    assert {"global_step", "beta1_power", "moment1.layer1.weight", "moment2.layer2.bias"} <= set(state)
    restored_net, restored = build()
    assert ms.load_param_into_net(restored_net, ms.load_checkpoint(str(tmp_path / "net.ckpt"))) == ([], [])
    assert ms.load_param_into_net(restored, state) == ([], [])
    assert int(restored.global_step.asnumpy()[0]) == 3
    np.testing.assert_allclose(float(restored.get_lr()), float(optimizer.get_lr()))
    for step in (3, 4):
        optimizer(grads[step])
        restored(grads[step])
    assert_same(values(restored_net), values(net))
    assert_same({p.name: p.asnumpy() for p in restored.get_parameters()},
                {p.name: p.asnumpy() for p in optimizer.get_parameters()})
