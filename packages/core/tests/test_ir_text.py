"""The IR's text form: golden files round-trip byte for byte, GraphBuilder reproduces them, and the
parser's errors name the offending line."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from mycelia import dtype as dt
from mycelia import ir
from mycelia.ir import GraphBuilder, IRError, SourceLocation, Symbol, TensorType

GOLDEN = Path(__file__).parent / "golden" / "ir"


def build_mlp() -> ir.Graph:
    b = GraphBuilder("mlp")
    x = b.input("x", dt.float32, ["B", 784])
    w1 = b.input("w1", dt.float32, [784, 512])
    b1 = b.input("b1", dt.float32, [512])
    b.relation("at_least", "B", 1)
    b.location = SourceLocation("model.py", 12)
    hidden = b.op("add", b.op("matmul", x, w1), b1)
    b.location = SourceLocation("model.py", 13)
    return b.build(b.op("relu", hidden))


def build_multi_output() -> ir.Graph:
    b = GraphBuilder("multi_output")
    x = b.input("x", dt.float32, [4, 8])
    values, indices = b.op("topk", x, k=3)
    largest, where = b.op("max", x, axis=1)
    return b.build(values, indices, largest, where)


def build_constants() -> ir.Graph:
    b = GraphBuilder("constants")
    scalar = b.constant(2.5, dt.float32)
    table = b.constant(np.arange(40, dtype=np.float32).reshape(5, 8))  # > 32 elements: hex
    special = b.constant(np.array([1.0, np.inf, np.nan], dtype=np.float32))  # not finite: hex
    counts = b.constant(np.array([[-3, 0], [7, 2**40]], dtype=np.int64))
    mask = b.constant(np.array([True, False]))
    return b.build(b.op("mul", table, scalar), special, counts, mask)


def build_attributes() -> ir.Graph:
    b = GraphBuilder("attributes")
    x = b.input("x", dt.float32, [2, 3, 4])
    outputs = (
        b.op("getitem", x, index=(Ellipsis, ("slice", 1, None, None), None)),
        b.op("nan_to_num", x, nan=math.nan, posinf=math.inf, neginf=-math.inf),
        b.op("leaky_relu", x, alpha=-0.5),
        b.op("cast", x, dtype=dt.float16),
        b.op("pad", x, padding=(1, 1), mode="reflect"),
        b.op("sum", x, axis=(0, 2), keepdims=True),
        b.op("reshape", x, shape=(24,)),
    )
    return b.build(*outputs)


def build_fused_region() -> ir.Graph:
    body = GraphBuilder("body")
    a = body.input("a", dt.float32, ["N"])
    c = body.input("c", dt.float32, ["N"])
    body.location = SourceLocation("layers.py", 7)
    region = body.build(body.op("relu", body.op("mul", a, c)))
    b = GraphBuilder("fusion")
    x = b.input("x", dt.float32, ["N"])
    y = b.input("y", dt.float32, ["N"])
    (fused,) = b.node("fused", [x, y], [TensorType(dt.float32, (Symbol("N"),))],
                      attrs=(("kind", "elementwise"), ("window", slice(0, None, -2))), region=region,
                      location=SourceLocation("layers.py", 7))
    b.location = SourceLocation("a_rather_long_file_name_for_alignment.py", 123)
    return b.build(b.op("add", fused, 1.0))


GOLDEN_BUILDERS = {
    "mlp": build_mlp,
    "multi_output": build_multi_output,
    "constants": build_constants,
    "attributes": build_attributes,
    "fused_region": build_fused_region,
}


def _golden(name: str) -> str:
    return (GOLDEN / f"{name}.mir").read_text()


@pytest.mark.parametrize("name", sorted(GOLDEN_BUILDERS))
def test_golden_parse_print_is_byte_identical(name: str) -> None:
    text = _golden(name)
    graph = ir.verify(ir.parse(text))
    assert ir.print_graph(graph) == text


@pytest.mark.parametrize("name", sorted(GOLDEN_BUILDERS))
def test_builder_prints_the_golden_file(name: str) -> None:
    graph = ir.verify(GOLDEN_BUILDERS[name]())
    assert str(graph) == _golden(name)


def test_golden_files_have_the_listed_features() -> None:
    assert "where B >= 1" in _golden("mlp") and "# model.py:13" in _golden("mlp")
    assert re.search(r"%0: f32\[4,3\], %1: i\d+\[4,3\] = topk", _golden("multi_output"))
    constants = _golden("constants")
    assert constants.startswith("graph @constants() -> (")
    assert "dense<f32[]: 2.5>" in constants and "dense<f32[5,8]: 0x" in constants
    assert "dense<f32[3]: 0x" in constants
    attributes = _golden("attributes")
    for piece in ("Ellipsis", "None", '"reflect"', "dtype=f16", "alpha=-0.5", "nan=nan", "neginf=-inf"):
        assert piece in attributes
    assert "window=slice(0, None, -2)" in _golden("fused_region")


def test_parsed_constants_keep_their_bits() -> None:
    graph = ir.parse(_golden("constants"))
    values = [node.attribute("value") for node in graph.nodes if node.op == "constant"]
    np.testing.assert_array_equal(values[1].array, np.arange(40, dtype=np.float32).reshape(5, 8))
    special = values[2].array
    assert special[1] == np.inf and np.isnan(special[2])
    assert values[3].array.dtype == np.int64 and values[3].array[1, 1] == 2**40
    assert values[4].array.dtype == np.bool_


def test_parsed_attributes_have_python_types() -> None:
    graph = ir.parse(_golden("attributes"))
    index = graph.nodes[0].attribute("index")
    assert index == (Ellipsis, ("slice", 1, None, None), None)
    nan_node = graph.nodes[1]
    assert math.isnan(nan_node.attribute("nan")) and nan_node.attribute("neginf") == -math.inf
    assert graph.nodes[3].attribute("dtype") is dt.float16
    fused = ir.parse(_golden("fused_region")).nodes[0]
    assert fused.attribute("window") == slice(0, None, -2) and fused.region is not None
    assert fused.location == SourceLocation("layers.py", 7)


def test_parse_fills_default_attributes() -> None:
    graph = ir.parse(_golden("multi_output"))
    assert graph.nodes[0].attrs == (("k", 3), ("dim", -1), ("largest", True), ("sorted", True))


def test_several_relations_round_trip() -> None:
    text = ("graph @g(%x: f32[B,T], %y: f32[M]) -> (f32[B,T]) where B >= 1, M = B*T, T = 4 {\n"
            "  return %x\n}\n")
    graph = ir.parse(text)
    assert [r.kind for r in graph.relations] == ["at_least", "product", "equal"]
    assert ir.print_graph(graph) == text


@pytest.mark.parametrize("value", [(), (1,), ((1, 2), "a\"b\\é#}"), -0.0, 1e-05, 1e300, -7, True, None,
                                   Ellipsis, slice(None, 3, None), dt.bfloat16])
def test_attribute_literals_round_trip(value: object) -> None:
    b = GraphBuilder("g")
    x = b.input("x", dt.float32, [1])
    b.node("fused", [x], [x.type], attrs=(("v", value),))
    text = str(b.build(x))
    parsed = ir.parse(text).nodes[0].attribute("v")
    assert parsed == value and type(parsed) is type(value)
    if isinstance(value, float):
        assert math.copysign(1, parsed) == math.copysign(1, value)


# -- parser errors -------------------------------------------------------------------------------------
HEADER = "graph @g(%x: f32[2]) -> (f32[2]) {\n"

PARSE_ERRORS = {
    "undefined value": (HEADER + "  %0: f32[2] = relu %y\n  return %0\n}\n", 2, "%y"),
    "redefined value": (HEADER + "  %0: f32[2] = relu %x\n  %0: f32[2] = relu %x\n  return %0\n}\n", 3, "twice"),
    "redefined input": (HEADER + "  %x: f32[2] = relu %x\n  return %x\n}\n", 2, "twice"),
    "unknown op": (HEADER + "  %0: f32[2] = frobnicate %x\n  return %0\n}\n", 2, "frobnicate"),
    "unknown dtype": ("graph @g(%x: f33[2]) -> (f32[2]) {\n  return %x\n}\n", 1, "f33"),
    "bad dim": ("graph @g(%x: f32[2.5]) -> (f32[2]) {\n  return %x\n}\n", 1, "2.5"),
    "negative dim": ("graph @g(%x: f32[-2]) -> (f32[2]) {\n  return %x\n}\n", 1, "-2"),
    "missing return": (HEADER + "  %0: f32[2] = relu %x\n}\n", 3, "return"),
    "garbage characters": (HEADER + "  %0: f32[2] = relu %x $$\n  return %0\n}\n", 2, "$"),
    "bad comment": (HEADER + "  %0: f32[2] = relu %x  # not a location\n  return %0\n}\n", 2, "location"),
    "constant shape": ("graph @g() -> (f32[3]) {\n  %0: f32[3] = constant {value=dense<f32[3]: [1.0, 2.0]>}\n"
                       "  return %0\n}\n", 2, "shape"),
    "constant bytes": ("graph @g() -> (f32[]) {\n  %0: f32[] = constant {value=dense<f32[]: 0x0000>}\n"
                       "  return %0\n}\n", 2, "data"),
    "text after graph": (HEADER + "  return %x\n}\n}\n", 4, "after"),
}

LINELESS_ERRORS = {  # each is an IRError today, but its message does not name the line
    "header/return type mismatch": (HEADER + "  %0: f32[2] = relu %x\n  return %0, %x\n}\n", 3, "header"),
    "unknown attribute": (HEADER + "  %0: f32[2] = relu %x {foo=1}\n  return %0\n}\n", 2, "foo"),
    "missing closing brace": (HEADER + "  %0: f32[2] = relu %x\n", 2, "}"),
    "non-int relation bound": ("graph @g(%x: f32[B]) -> (f32[B]) where B >= 1.5 {\n  return %x\n}\n", 1, "1.5"),
    "odd hex digits": ("graph @g() -> (u8[]) {\n  %0: u8[] = constant {value=dense<u8[]: 0x123>}\n"
                       "  return %0\n}\n", 2, "0x123"),
}


@pytest.mark.parametrize("case", sorted(PARSE_ERRORS))
def test_parse_error_names_the_line(case: str) -> None:
    text, line, fragment = PARSE_ERRORS[case]
    with pytest.raises(IRError) as caught:
        ir.parse(text)
    message = str(caught.value)
    assert f"line {line}" in message and fragment in message, message


@pytest.mark.parametrize("case", sorted(LINELESS_ERRORS))
def test_parse_error_names_the_line_everywhere(case: str) -> None:
    text, line, fragment = LINELESS_ERRORS[case]
    with pytest.raises(IRError) as caught:
        ir.parse(text)
    message = str(caught.value)
    assert type(caught.value) is IRError and f"line {line}" in message and fragment in message, message


def test_header_return_mismatch_is_rejected() -> None:
    with pytest.raises(IRError, match="header"):
        ir.parse(HEADER + "  %0: f32[2] = relu %x\n  return %0, %x\n}\n")


def test_tokens_after_closing_brace_are_rejected() -> None:
    with pytest.raises(IRError, match="line 3"):
        ir.parse(HEADER + "  return %x\n} junk\n")


def test_graph_without_inputs_or_outputs_round_trips() -> None:
    text = "graph @empty() -> () {\n  return\n}\n"
    graph = ir.verify(ir.parse(text))
    assert (graph.inputs, graph.nodes, graph.outputs) == ((), (), ())
    assert str(graph) == text
