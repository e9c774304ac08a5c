"""A backend shipped outside this repo (tests/example_backend, pybind11) plugs into core.

It is found only through its ``mycelia.backends`` entry point, so these tests need the package
installed (``pip install --no-deps ./tests/example_backend``); without it they skip.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator

import numpy as np
import pytest

if importlib.util.find_spec("mycelia_example_backend") is None:
    pytest.skip("mycelia_example_backend is not installed: pip install --no-deps ./tests/example_backend",
                allow_module_level=True)

# Imported only after the check, so that an installed package whose compiled module fails to load
# is an error here rather than a silent skip.
import mycelia
import mycelia_example_backend
from mycelia import Tensor, ops
from mycelia._context import reset_context
from mycelia.backends import API_VERSION, get_backend, installed_backends, reset_discovery


@pytest.fixture(autouse=True)
def fresh_backend_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No selection or plugin settings from the environment, and no context left behind."""
    for variable in ("MYCELIA_BACKEND", "MYCELIA_PLUGIN_AUTOLOAD", "MYCELIA_DISABLE_PLUGINS"):
        monkeypatch.delenv(variable, raising=False)
    reset_discovery()
    reset_context()
    yield
    reset_context()
    reset_discovery()


def test_discovered_through_entry_point() -> None:
    assert "example" in installed_backends()
    backend = get_backend("example")
    assert isinstance(backend, mycelia_example_backend.ExampleBackend)
    assert backend.api_version == API_VERSION


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_add_runs_the_compiled_kernel(dtype: type[np.floating]) -> None:
    mycelia.set_context(device_target="example")
    calls_before = mycelia_example_backend.calls()
    left = np.arange(6, dtype=dtype).reshape(2, 3)
    result = ops.add(Tensor(np.ones((2, 3), dtype)), Tensor(left))
    np.testing.assert_array_equal(result.asnumpy(), left + 1)
    assert result.asnumpy().dtype == dtype
    # At least one: dispatch may call a kernel once more to probe its result dtype on first use.
    assert mycelia_example_backend.calls() > calls_before


def test_add_broadcasts_scalars_and_shapes() -> None:
    mycelia.set_context(device_target="example")
    column = np.arange(4, dtype=np.float32).reshape(4, 1)
    row = np.arange(3, dtype=np.float32)
    # A Python scalar reaches the kernel as a 0-d array: the compiled single-element path.
    np.testing.assert_array_equal(ops.add(Tensor(column), 2.0).asnumpy(), column + 2)
    # A general broadcast is expanded in Python, then added by the same compiled loop.
    np.testing.assert_array_equal(ops.add(Tensor(column), Tensor(row)).asnumpy(), column + row)


def test_mul_kernel_and_unsupported_dtype() -> None:
    backend = get_backend("example")
    multiply = backend.kernel("mul")
    assert multiply is not None
    np.testing.assert_array_equal(multiply(np.full((2, 2), 3.0), np.full((), 2.0)), np.full((2, 2), 6.0))
    assert backend.kernel("matmul") is None
    with pytest.raises(TypeError, match="int32"):
        multiply(np.ones(2, np.int32), np.ones(2, np.int32))


def test_tensors_report_the_example_backend() -> None:
    mycelia.set_context(device_target="example")
    assert mycelia.get_context("device_target") == "example"
    tensor = Tensor(np.ones((2, 3), np.float32))
    # Tensor has no public device accessor yet; the backend it holds is what dispatch uses.
    assert tensor._backend is get_backend("example")
    assert ops.add(tensor, tensor)._backend is get_backend("example")


def test_listed_as_available() -> None:
    rows = {row.name: row for row in mycelia.list_backends()}
    row = rows["example"]
    assert (row.loaded, row.available, row.reason, row.priority) == (True, True, "", 10)
    assert (row.distribution, row.version) == ("mycelia-example-backend", "0.1.0")
    capabilities = get_backend("example").capabilities()
    assert capabilities.dtypes == {"float32", "float64"}
    assert capabilities.ops == {"add", "mul"}
    assert (capabilities.device_count, capabilities.compiles_graphs) == (1, False)
